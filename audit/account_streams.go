package audit

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/download"
	"github.com/multimedia-portal/multimedia/eventstore"
)

// An account's history is in more than one stream: "account-<id>" holds
// what the account's rules decide on, and its downloads have streams of
// their own, one per calendar month (domain/download). Downloads recorded
// before that split are on the account stream itself. The auditors' view
// merges them all in global order, so that an account's history still
// lists its downloads in order with everything else.

// accountStreams returns the streams of an account's history whose events
// may have happened up to until: its account stream, then its download
// streams from the month before the account's first event to the month
// after until (a month either side for clocks that disagree between
// instances). It returns nil when the account stream is empty.
func (s *Service) accountStreams(ctx context.Context, id string, until time.Time) ([]string, error) {
	stream := account.StreamID(id)
	first, err := s.store.ReadStream(ctx, stream, 0, 1)
	if err != nil {
		return nil, fmt.Errorf("audit: read %s: %w", stream, err)
	}
	if len(first) == 0 {
		return nil, nil
	}
	from := eventTime(first[0]).AddDate(0, -1, 0)
	return append([]string{stream}, download.StreamIDs(id, from, until.AddDate(0, 1, 0))...), nil
}

// mergePage is how many events each stream's cursor reads at a time.
const mergePage = 250

// walkMerged calls fn with the events of streams in global order (by
// position) until fn returns false or every stream is read: a merge of
// one eventstore.StreamEvents cursor per stream.
func walkMerged(ctx context.Context, store eventstore.Store, streams []string, fn func(eventstore.RecordedEvent) (bool, error)) error {
	type cursor struct {
		stream string
		next   func() (eventstore.RecordedEvent, error, bool)
		head   eventstore.RecordedEvent
		ok     bool
	}
	cursors := make([]*cursor, 0, len(streams))
	advance := func(c *cursor) error {
		e, err, ok := c.next()
		if err != nil {
			return fmt.Errorf("audit: read %s: %w", c.stream, err)
		}
		c.head, c.ok = e, ok
		return nil
	}
	for _, s := range streams {
		next, stop := iter.Pull2(eventstore.StreamEvents(ctx, store, s, 0, mergePage))
		defer stop()
		c := &cursor{stream: s, next: next}
		if err := advance(c); err != nil {
			return err
		}
		cursors = append(cursors, c)
	}
	for {
		var first *cursor
		for _, c := range cursors {
			if c.ok && (first == nil || c.head.Position.Less(first.head.Position)) {
				first = c
			}
		}
		if first == nil {
			return nil
		}
		more, err := fn(first.head)
		if err != nil || !more {
			return err
		}
		if err := advance(first); err != nil {
			return err
		}
	}
}
