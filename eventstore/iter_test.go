package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// pagingStore serves one stream of n events from memory and records every
// read, so the tests see exactly which pages the iterators asked for.
// Methods the iterators do not call are left to the nil embedded Store.
type pagingStore struct {
	eventstore.Store
	stream string
	events []eventstore.RecordedEvent
	reads  []string
	// failAt makes the read with this index (0-based) fail.
	failAt int
}

var errRead = errors.New("the store went away")

func newPagingStore(n int) *pagingStore {
	s := &pagingStore{stream: "test-" + uuid.NewString(), failAt: -1}
	for i := range n {
		s.events = append(s.events, eventstore.RecordedEvent{ID: uuid.New(), StreamID: s.stream,
			Version: uint64(i), Type: "Tested.v1", Position: eventstore.Position{Commit: uint64(10 + i), Prepare: 1}})
	}
	return s
}

func (s *pagingStore) read(desc string) error {
	s.reads = append(s.reads, desc)
	if len(s.reads)-1 == s.failAt {
		return &eventstore.Error{Code: eventstore.ErrorCodeUnavailable, Message: "read failed", Err: errRead}
	}
	return nil
}

func (s *pagingStore) ReadStream(_ context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if err := s.read(fmt.Sprintf("%d+%d", from, limit)); err != nil {
		return nil, err
	}
	if stream != s.stream || from >= uint64(len(s.events)) {
		return nil, nil
	}
	return slices.Clone(s.events[from:min(len(s.events), int(from)+limit)]), nil
}

func (s *pagingStore) ReadAll(_ context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	if err := s.read(fmt.Sprintf("%s+%d", after, limit)); err != nil {
		return nil, err
	}
	var out []eventstore.RecordedEvent
	for _, e := range s.events {
		if after.Less(e.Position) && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func versions(t *testing.T, seq iter.Seq2[eventstore.RecordedEvent, error]) ([]uint64, error) {
	t.Helper()
	var got []uint64
	for e, err := range seq {
		if err != nil {
			return got, err
		}
		got = append(got, e.Version)
	}
	return got, nil
}

func upTo(n int) []uint64 {
	out := []uint64{}
	for i := range n {
		out = append(out, uint64(i))
	}
	return out
}

// TestStreamEventsPages: every event once, in order, read page by page,
// stopping at the first short page (an exact multiple needs one empty read).
func TestStreamEventsPages(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name      string
		events    int
		from      uint64
		page      int
		want      []uint64
		wantReads []string
	}{
		{"short last page", 7, 0, 3, upTo(7), []string{"0+3", "3+3", "6+3"}},
		{"exact multiple", 6, 0, 3, upTo(6), []string{"0+3", "3+3", "6+3"}},
		{"from a version", 7, 5, 3, []uint64{5, 6}, []string{"5+3"}},
		{"unknown or empty stream", 0, 0, 3, []uint64{}, []string{"0+3"}},
		{"default page", 2, 0, 0, upTo(2), []string{fmt.Sprintf("0+%d", eventstore.DefaultPage)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newPagingStore(c.events)
			got, err := versions(t, eventstore.StreamEvents(ctx, s, s.stream, c.from, c.page))
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				got = []uint64{}
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("versions: got %v, want %v", got, c.want)
			}
			if !slices.Equal(s.reads, c.wantReads) {
				t.Fatalf("reads: got %v, want %v", s.reads, c.wantReads)
			}
		})
	}
}

// TestStreamEventsStopsReadingOnBreak: a consumer that has what it needs
// costs no further page.
func TestStreamEventsStopsReadingOnBreak(t *testing.T) {
	s := newPagingStore(10)
	n := 0
	for _, err := range eventstore.StreamEvents(context.Background(), s, s.stream, 0, 3) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 4 {
			break
		}
	}
	if want := []string{"0+3", "3+3"}; !slices.Equal(s.reads, want) {
		t.Fatalf("reads: got %v, want %v", s.reads, want)
	}
}

// TestStreamEventsYieldsTheErrorOnceAndStops: the events before a failed
// page arrive, then the store's own error (code and cause intact), then
// nothing.
func TestStreamEventsYieldsTheErrorOnceAndStops(t *testing.T) {
	s := newPagingStore(10)
	s.failAt = 1
	var got []uint64
	var errs []error
	for e, err := range eventstore.StreamEvents(context.Background(), s, s.stream, 0, 3) {
		if err != nil {
			errs = append(errs, err)
			continue // a careless consumer that goes on still gets nothing more
		}
		got = append(got, e.Version)
	}
	if want := upTo(3); !slices.Equal(got, want) {
		t.Fatalf("versions before the failure: got %v, want %v", got, want)
	}
	if len(errs) != 1 || !errors.Is(errs[0], eventstore.ErrUnavailable) || !errors.Is(errs[0], errRead) {
		t.Fatalf("errors: got %v, want one ErrUnavailable wrapping the cause", errs)
	}
	if got, want := len(s.reads), 2; got != want {
		t.Fatalf("reads: got %d, want %d", got, want)
	}
}

// TestIteratorsRefuseANegativePage: a clear error and no read.
func TestIteratorsRefuseANegativePage(t *testing.T) {
	s := newPagingStore(3)
	for name, seq := range map[string]iter.Seq2[eventstore.RecordedEvent, error]{
		"StreamEvents": eventstore.StreamEvents(context.Background(), s, s.stream, 0, -1),
		"AllEvents":    eventstore.AllEvents(context.Background(), s, eventstore.Start, -1),
	} {
		_, err := versions(t, seq)
		if !errors.Is(err, eventstore.ErrInvalidArgument) {
			t.Fatalf("%s with page -1: got %v, want ErrInvalidArgument", name, err)
		}
	}
	if len(s.reads) != 0 {
		t.Fatalf("reads: got %v, want none", s.reads)
	}
}

// TestIteratorsRestartOnEachRange: ranging twice over one sequence yields
// the same events twice (the cursor is not shared between ranges).
func TestIteratorsRestartOnEachRange(t *testing.T) {
	s := newPagingStore(5)
	for name, seq := range map[string]iter.Seq2[eventstore.RecordedEvent, error]{
		"StreamEvents": eventstore.StreamEvents(context.Background(), s, s.stream, 0, 2),
		"AllEvents":    eventstore.AllEvents(context.Background(), s, eventstore.Start, 2),
	} {
		for i := range 2 {
			got, err := versions(t, seq)
			if err != nil {
				t.Fatal(err)
			}
			if want := upTo(5); !slices.Equal(got, want) {
				t.Fatalf("%s, range %d: got %v, want %v", name, i, got, want)
			}
		}
	}
}

// TestAllEventsPagesByPosition: each page starts after the last position
// of the one before; the first after the given position.
func TestAllEventsPagesByPosition(t *testing.T) {
	s := newPagingStore(5)
	after := s.events[0].Position
	got, err := versions(t, eventstore.AllEvents(context.Background(), s, after, 2))
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint64{1, 2, 3, 4}; !slices.Equal(got, want) {
		t.Fatalf("versions: got %v, want %v", got, want)
	}
	want := []string{after.String() + "+2", s.events[2].Position.String() + "+2", s.events[4].Position.String() + "+2"}
	if !slices.Equal(s.reads, want) {
		t.Fatalf("reads: got %v, want %v", s.reads, want)
	}
}
