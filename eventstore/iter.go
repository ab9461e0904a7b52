package eventstore

import (
	"context"
	"fmt"
	"iter"
)

// DefaultPage is how many events StreamEvents and AllEvents read per call
// to the store when the caller passes a page of 0.
const DefaultPage = 1000

// StreamEvents yields the events of stream with version >= from, in
// version order, reading them from s in pages of page events (DefaultPage
// when page is 0). It is the one way the service walks a stream, so that
// paging (where the next page starts, when the stream is done) is written
// once. An unknown stream yields nothing.
//
// A failed read yields the store's error, unchanged, with a zero event,
// and ends the sequence; the events yielded before it stay valid. A
// negative page yields an ErrInvalidArgument. Breaking out of the loop
// stops reading: no page after the current one is fetched. Pages are read
// lazily, one at a time, so a long stream costs one page of memory; each
// range over the sequence reads again from from.
func StreamEvents(ctx context.Context, s Store, stream string, from uint64, page int) iter.Seq2[RecordedEvent, error] {
	return paged(page, from,
		func(from uint64, limit int) ([]RecordedEvent, error) { return s.ReadStream(ctx, stream, from, limit) },
		func(last RecordedEvent) uint64 { return last.Version + 1 })
}

// AllEvents yields every event of the log strictly after position after, in
// global order, reading pages of page events (DefaultPage when page is 0)
// with ReadAll. It ends at the first short page: what ReadAll can return
// now. Errors are yielded as by StreamEvents.
func AllEvents(ctx context.Context, s Store, after Position, page int) iter.Seq2[RecordedEvent, error] {
	return paged(page, after,
		func(after Position, limit int) ([]RecordedEvent, error) { return s.ReadAll(ctx, after, limit) },
		func(last RecordedEvent) Position { return last.Position })
}

// paged yields the events of successive reads from start, moving the
// cursor on after each full page with next, until a short page or an
// error. Each range over the sequence starts again from start.
func paged[C any](page int, start C, read func(cursor C, limit int) ([]RecordedEvent, error), next func(last RecordedEvent) C) iter.Seq2[RecordedEvent, error] {
	return func(yield func(RecordedEvent, error) bool) {
		cursor := start
		page, err := pageSize(page)
		if err != nil {
			yield(RecordedEvent{}, err)
			return
		}
		for {
			events, err := read(cursor, page)
			if err != nil {
				yield(RecordedEvent{}, err)
				return
			}
			for _, e := range events {
				if !yield(e, nil) {
					return
				}
			}
			if len(events) < page {
				return
			}
			cursor = next(events[len(events)-1])
		}
	}
}

func pageSize(page int) (int, error) {
	switch {
	case page == 0:
		return DefaultPage, nil
	case page < 0:
		return 0, &Error{Code: ErrorCodeInvalidArgument, Message: fmt.Sprintf("page size %d is negative", page)}
	}
	return page, nil
}
