package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// Options tunes a Store. The zero value is valid.
type Options struct {
	// Now stamps RecordedAt (default time.Now). Tests with a settable
	// clock pass theirs, so recorded times agree with the times they
	// decide on.
	Now func() time.Time
}

// Store is the in-memory event store. The zero value is not usable; call
// New. It is safe for concurrent use.
type Store struct {
	now func() time.Time

	mu sync.RWMutex
	// log holds every event in global order; event i has position i+1.
	log []eventstore.RecordedEvent
	// streams maps a stream to the log indexes of its events, in version
	// order (the index in the slice is the version).
	streams map[string][]int
	// ids maps every stored event id to its log index.
	ids map[uuid.UUID]int
	// appended is closed and replaced after every append, waking every
	// subscriber that waits for live events.
	appended chan struct{}
}

var (
	_ eventstore.Store   = (*Store)(nil)
	_ eventstore.Counter = (*Store)(nil)
)

// New returns an empty Store.
func New(opts Options) *Store {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Store{now: now, streams: map[string][]int{}, ids: map[uuid.UUID]int{}, appended: make(chan struct{})}
}

// Append implements eventstore.Store. The checks run in the order of the
// Postgres adapter: a batch whose first id is stored is a re-append (the
// original result) when all its ids stand in this stream, in order, from
// that event on, and ErrDuplicateEvent otherwise; an id stored anywhere
// else in the batch is ErrDuplicateEvent; then the expected version. A
// refused append writes nothing.
func (s *Store) Append(ctx context.Context, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	if err := eventstore.ValidateAppend(stream, events); err != nil {
		return eventstore.AppendResult{}, err
	}
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, ended(fmt.Sprintf("append to %q", stream), err)
	}
	s.mu.Lock()
	res, written, err := s.appendLocked(stream, expected, events)
	var wake chan struct{}
	if written {
		wake = s.appended
		s.appended = make(chan struct{})
	}
	s.mu.Unlock()
	if wake != nil {
		close(wake)
	}
	return res, err
}

// appendLocked appends under s.mu; written is false when nothing was
// written (a re-append or a refusal).
func (s *Store) appendLocked(stream string, expected eventstore.ExpectedVersion, events []eventstore.EventData) (eventstore.AppendResult, bool, error) {
	if i, ok := s.ids[events[0].ID]; ok {
		first := s.log[i]
		if first.StreamID == stream && s.storedInOrder(stream, first.Version, events) {
			last := s.log[s.streams[stream][first.Version+uint64(len(events))-1]]
			return eventstore.AppendResult{NextExpectedVersion: last.Version, Position: last.Position}, false, nil
		}
		return eventstore.AppendResult{}, false, duplicate(stream, events[0].ID)
	}
	for _, e := range events[1:] {
		if _, ok := s.ids[e.ID]; ok {
			return eventstore.AppendResult{}, false, duplicate(stream, e.ID)
		}
	}
	indexes := s.streams[stream]
	current := int64(len(indexes)) - 1
	if !expected.Matches(current) {
		return eventstore.AppendResult{}, false, wrongVersion(stream, expected, current)
	}
	at := s.now().UTC()
	for _, e := range events {
		meta := e.Metadata
		if len(meta) == 0 {
			meta = []byte("{}")
		}
		i := len(s.log)
		s.log = append(s.log, eventstore.RecordedEvent{
			ID:         e.ID,
			StreamID:   stream,
			Version:    uint64(len(indexes)),
			Type:       e.Type,
			Data:       slices.Clone(e.Data),
			Metadata:   slices.Clone(meta),
			Position:   eventstore.Position{Commit: uint64(i + 1)},
			RecordedAt: at,
		})
		indexes = append(indexes, i)
		s.ids[e.ID] = i
	}
	s.streams[stream] = indexes
	last := s.log[len(s.log)-1]
	return eventstore.AppendResult{NextExpectedVersion: last.Version, Position: last.Position}, true, nil
}

// storedInOrder reports whether events are stored in stream at versions
// from, from+1, … in the batch's order.
func (s *Store) storedInOrder(stream string, from uint64, events []eventstore.EventData) bool {
	indexes := s.streams[stream]
	if from+uint64(len(events)) > uint64(len(indexes)) {
		return false
	}
	for k, e := range events {
		if s.log[indexes[from+uint64(k)]].ID != e.ID {
			return false
		}
	}
	return true
}

// ReadStream implements eventstore.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if err := eventstore.ValidateStreamID(stream); err != nil {
		return nil, err
	}
	if err := checkLimit(limit); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, ended(fmt.Sprintf("read stream %q", stream), err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	indexes := s.streams[stream]
	if from >= uint64(len(indexes)) {
		return nil, nil
	}
	indexes = indexes[from:]
	out := make([]eventstore.RecordedEvent, 0, min(limit, len(indexes)))
	for _, i := range indexes[:min(limit, len(indexes))] {
		out = append(out, copyEvent(s.log[i]))
	}
	return out, nil
}

// ReadAll implements eventstore.Store. Every append is visible to readers
// when it returns, so there is no horizon to wait for.
func (s *Store) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	if err := checkLimit(limit); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, ended("read all", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.readAllLocked(after, limit)
}

func (s *Store) readAllLocked(after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	start, err := s.indexAfter(after)
	if err != nil {
		return nil, err
	}
	page := s.log[start:min(len(s.log), start+limit)]
	if len(page) == 0 {
		return nil, nil
	}
	out := make([]eventstore.RecordedEvent, len(page))
	for i, e := range page {
		out[i] = copyEvent(e)
	}
	return out, nil
}

// indexAfter is the log index of the first event after position after.
func (s *Store) indexAfter(after eventstore.Position) (int, error) {
	if after.Prepare != 0 || after.Commit > uint64(len(s.log)) {
		return 0, &eventstore.Error{Code: eventstore.ErrorCodeInvalidPosition,
			Message: fmt.Sprintf("position %s is not one of this in-memory store's (its head is %d-0)", after, len(s.log))}
	}
	return int(after.Commit), nil
}

// Subscribe implements eventstore.Store: it reads batches after the last
// event handled and, once caught up, waits for the next append.
func (s *Store) Subscribe(ctx context.Context, after eventstore.Position, opts eventstore.SubscribeOptions, handle eventstore.Handler) error {
	maxBatch := opts.MaxBatch
	if maxBatch <= 0 {
		maxBatch = 1000
	}
	pos := after
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		s.mu.RLock()
		woken := s.appended
		batch, err := s.readAllLocked(pos, maxBatch)
		s.mu.RUnlock()
		if err != nil {
			return err
		}
		if len(batch) > 0 {
			if err := handle(ctx, batch); err != nil {
				return err
			}
			pos = batch[len(batch)-1].Position
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-woken:
		}
	}
}

// Head implements eventstore.Store.
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.Position{}, ended("head", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return eventstore.Position{Commit: uint64(len(s.log))}, nil
}

// CountAfter implements eventstore.Counter.
func (s *Store) CountAfter(ctx context.Context, after eventstore.Position, limit int64) (int64, time.Time, error) {
	if limit < 1 {
		return 0, time.Time{}, &eventstore.Error{Code: eventstore.ErrorCodeInvalidArgument,
			Message: fmt.Sprintf("count limit must be at least 1, got %d", limit)}
	}
	if err := ctx.Err(); err != nil {
		return 0, time.Time{}, ended("count", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	start, err := s.indexAfter(after)
	if err != nil {
		return 0, time.Time{}, err
	}
	n := min(int64(len(s.log)-start), limit)
	if n == 0 {
		return 0, time.Time{}, nil
	}
	return n, s.log[start].RecordedAt, nil
}

// copyEvent returns e with data and metadata of its own, so that a caller
// that changes what it read cannot change the log.
func copyEvent(e eventstore.RecordedEvent) eventstore.RecordedEvent {
	e.Data = slices.Clone(e.Data)
	e.Metadata = slices.Clone(e.Metadata)
	return e
}

func checkLimit(limit int) error {
	if limit < 1 {
		return &eventstore.Error{Code: eventstore.ErrorCodeInvalidArgument,
			Message: fmt.Sprintf("limit must be at least 1, got %d", limit)}
	}
	return nil
}

// ended is the error of a call whose context ended before it ran: like a
// store that cannot be reached, with the context's error inside.
func ended(what string, err error) error {
	return &eventstore.Error{Code: eventstore.ErrorCodeUnavailable, Message: what, Err: err}
}

func duplicate(stream string, id uuid.UUID) error {
	return &eventstore.Error{Code: eventstore.ErrorCodeDuplicateEvent, Stream: stream,
		Message: fmt.Sprintf("append to %q: event id %s is already stored at another place", stream, id)}
}

func wrongVersion(stream string, expected eventstore.ExpectedVersion, actual int64) error {
	cur := "no stream"
	if actual >= 0 {
		cur = fmt.Sprintf("version %d", actual)
	}
	return &eventstore.Error{Code: eventstore.ErrorCodeWrongExpectedVersion, Stream: stream,
		Expected: expected, Actual: actual,
		Message: fmt.Sprintf("append to %q: expected %s, stream is at %s", stream, expected, cur)}
}
