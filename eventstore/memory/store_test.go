package memory_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/eventstoretest"
	"github.com/multimedia-portal/multimedia/eventstore/memory"
)

func TestContract(t *testing.T) {
	eventstoretest.Run(t, func(t *testing.T) eventstoretest.Subject {
		return eventstoretest.Subject{Store: memory.New(memory.Options{})}
	})
}

// The rules below are the adapter's own choices where the port leaves
// room, so the contract suite does not pin them.

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// TestForeignPositionsAreRefused: a position this store never gave (from
// Postgres, EventStoreDB or past its head) is ErrInvalidPosition, not an
// empty read or a subscription that waits forever.
func TestForeignPositionsAreRefused(t *testing.T) {
	s := memory.New(memory.Options{})
	if _, err := s.Append(ctx(t), "s-1", eventstore.NoStream, eventstoretest.Event("Tested.v1", 1)); err != nil {
		t.Fatal(err)
	}
	for _, pos := range []eventstore.Position{{Commit: 2}, {Commit: 1, Prepare: 1}, {Commit: 912345, Prepare: 17}} {
		if _, err := s.ReadAll(ctx(t), pos, 10); !errors.Is(err, eventstore.ErrInvalidPosition) || !strings.Contains(err.Error(), pos.String()) {
			t.Errorf("ReadAll after %v: got %v, want ErrInvalidPosition naming it", pos, err)
		}
		err := s.Subscribe(ctx(t), pos, eventstore.SubscribeOptions{}, func(context.Context, eventstore.Batch) error { return nil })
		if !errors.Is(err, eventstore.ErrInvalidPosition) {
			t.Errorf("Subscribe after %v: got %v, want ErrInvalidPosition", pos, err)
		}
		if _, _, err := s.CountAfter(ctx(t), pos, 10); !errors.Is(err, eventstore.ErrInvalidPosition) {
			t.Errorf("CountAfter %v: got %v, want ErrInvalidPosition", pos, err)
		}
	}
	if got, err := s.ReadAll(ctx(t), eventstore.Position{Commit: 1}, 10); err != nil || len(got) != 0 {
		t.Fatalf("ReadAll after the head: got %d events, %v; want none and no error", len(got), err)
	}
}

// TestStoredBytesAreTheStoresOwn: changing an appended event's bytes, or
// those of an event read back, does not change the log.
func TestStoredBytesAreTheStoresOwn(t *testing.T) {
	s := memory.New(memory.Options{})
	e := eventstoretest.Event("Tested.v1", 1)
	want := string(e.Data)
	if _, err := s.Append(ctx(t), "s-1", eventstore.NoStream, e); err != nil {
		t.Fatal(err)
	}
	e.Data[2] = 'X'
	read, err := s.ReadStream(ctx(t), "s-1", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	read[0].Data[2] = 'Y'
	again, err := s.ReadAll(ctx(t), eventstore.Start, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(again[0].Data); got != want {
		t.Fatalf("stored data: got %s, want %s", got, want)
	}
}

// TestReappendRules: the Postgres adapter's rules. A batch whose ids all
// stand in the stream in order, from its first id on, answers the
// original result of its last event; one that adds a new id to stored
// ones is ErrDuplicateEvent and writes nothing.
func TestReappendRules(t *testing.T) {
	s := memory.New(memory.Options{})
	a, b, c := eventstoretest.Event("Tested.v1", 1), eventstoretest.Event("Tested.v1", 2), eventstoretest.Event("Tested.v1", 3)
	first, err := s.Append(ctx(t), "s-1", eventstore.NoStream, a, b)
	if err != nil {
		t.Fatal(err)
	}
	// The tail of the batch alone, as a retry of a later append would be.
	res, err := s.Append(ctx(t), "s-1", eventstore.Exact(0), b)
	if err != nil || res != first {
		t.Fatalf("re-append of the batch's last id: got %+v, %v; want %+v", res, err, first)
	}
	cases := []struct {
		name  string
		batch []eventstore.EventData
	}{
		{"a stored batch and a new id", []eventstore.EventData{a, b, c}},
		{"stored ids out of order", []eventstore.EventData{b, a}},
		{"a new id then a stored one", []eventstore.EventData{c, a}},
	}
	for _, tc := range cases {
		_, err := s.Append(ctx(t), "s-1", eventstore.Any, tc.batch...)
		if !errors.Is(err, eventstore.ErrDuplicateEvent) {
			t.Errorf("%s: got %v, want ErrDuplicateEvent", tc.name, err)
		}
	}
	if head, _ := s.Head(ctx(t)); head != first.Position {
		t.Fatalf("head after refused appends: got %v, want %v", head, first.Position)
	}
}

// TestRecordedTimeAndEmptyMetadata: RecordedAt comes from Options.Now, in
// UTC; metadata left empty reads back as {} (as from Postgres).
func TestRecordedTimeAndEmptyMetadata(t *testing.T) {
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	s := memory.New(memory.Options{Now: func() time.Time { return at }})
	e := eventstoretest.Event("Tested.v1", 1)
	e.Metadata = nil
	if _, err := s.Append(ctx(t), "s-1", eventstore.NoStream, e); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadStream(ctx(t), "s-1", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !got[0].RecordedAt.Equal(at) || got[0].RecordedAt.Location() != time.UTC {
		t.Errorf("recorded at: got %v, want %v in UTC", got[0].RecordedAt, at)
	}
	if string(got[0].Metadata) != "{}" {
		t.Errorf("metadata: got %q, want {}", got[0].Metadata)
	}
}

// TestCountAfter: the events after a position, capped, and the oldest
// one's recorded time; found through eventstore.AsCounter.
func TestCountAfter(t *testing.T) {
	clock := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	s := memory.New(memory.Options{Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
	for i := range 5 {
		if _, err := s.Append(ctx(t), fmt.Sprintf("s-%d", i), eventstore.NoStream, eventstoretest.Event("Tested.v1", i)); err != nil {
			t.Fatal(err)
		}
	}
	counter, ok := eventstore.AsCounter(s)
	if !ok {
		t.Fatal("the memory store is not found as a Counter")
	}
	cases := []struct {
		after eventstore.Position
		limit int64
		n     int64
		first time.Time
	}{
		{eventstore.Start, 100, 5, time.Date(2026, 11, 2, 10, 0, 1, 0, time.UTC)},
		{eventstore.Position{Commit: 3}, 100, 2, time.Date(2026, 11, 2, 10, 0, 4, 0, time.UTC)},
		{eventstore.Start, 2, 2, time.Date(2026, 11, 2, 10, 0, 1, 0, time.UTC)},
		{eventstore.Position{Commit: 5}, 100, 0, time.Time{}},
	}
	for _, c := range cases {
		n, first, err := counter.CountAfter(ctx(t), c.after, c.limit)
		if err != nil || n != c.n || !first.Equal(c.first) {
			t.Errorf("CountAfter(%v, %d): got %d, %v, %v; want %d, %v", c.after, c.limit, n, first, err, c.n, c.first)
		}
	}
	if _, _, err := counter.CountAfter(ctx(t), eventstore.Start, 0); !errors.Is(err, eventstore.ErrInvalidArgument) {
		t.Errorf("CountAfter with limit 0: got %v, want ErrInvalidArgument", err)
	}
}
