package postgres_test

import (
	"context"
	"errors"
	"testing"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/eventstoretest"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// TestReappendUnderEveryExpectedVersion: the fast path does not look up
// event ids; a re-append must still be answered with the original result,
// whatever expected version it carries, for one event and for several.
func TestReappendUnderEveryExpectedVersion(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	store := postgres.New(ctx, pool, postgres.Options{})
	defer store.Close()
	for _, n := range []int{1, 3} {
		batch := make([]eventstore.EventData, n)
		for i := range batch {
			batch[i] = eventstoretest.Event("T.v1", i)
		}
		name := "reappend-" + batch[0].ID.String()
		if _, err := store.Append(ctx, name, eventstore.NoStream, eventstoretest.Event("T.v1", 0)); err != nil {
			t.Fatal(err)
		}
		first, err := store.Append(ctx, name, eventstore.Exact(0), batch...)
		if err != nil {
			t.Fatal(err)
		}
		for _, exp := range []eventstore.ExpectedVersion{eventstore.Any, eventstore.StreamExists, eventstore.Exact(0), eventstore.NoStream, eventstore.Exact(uint64(n))} {
			again, err := store.Append(ctx, name, exp, batch...)
			if err != nil {
				t.Fatalf("%d events, re-append with %v: %v", n, exp, err)
			}
			if again != first {
				t.Fatalf("%d events, re-append with %v: got %+v, want the original %+v", n, exp, again, first)
			}
		}
		got, err := store.ReadStream(ctx, name, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n+1 {
			t.Fatalf("%d events: stream holds %d events after the re-appends, want %d", n, len(got), n+1)
		}
		// Part of the batch again with a new event: a duplicate, not a no-op.
		mixed := append([]eventstore.EventData{eventstoretest.Event("T.v1", 9)}, batch...)
		if _, err := store.Append(ctx, name, eventstore.Any, mixed...); !errors.Is(err, eventstore.ErrDuplicateEvent) {
			t.Fatalf("%d events: a new event followed by stored ones: got %v, want ErrDuplicateEvent", n, err)
		}
		// A wrong version with new ids still names the current version.
		_, err = store.Append(ctx, name, eventstore.Exact(0), eventstoretest.Event("T.v1", 10))
		var e *eventstore.Error
		if !errors.As(err, &e) || e.Code != eventstore.ErrorCodeWrongExpectedVersion || e.Actual != int64(n) {
			t.Fatalf("%d events: wrong version: got %v, want ErrWrongExpectedVersion at %d", n, err, n)
		}
	}
}

// TestKnownVersionIsNotTheLast: a Store that remembers version 2 of a stream
// appends "exactly 2" without looking the stream up; when another process
// has appended version 3 meanwhile, the append must still be refused with
// the stream's current version, for one event and for several, and a
// remembered stream whose memory was emptied is looked up again.
func TestKnownVersionIsNotTheLast(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	mine := postgres.New(ctx, pool, postgres.Options{KnownStreams: 2})
	defer mine.Close()
	other := postgres.New(ctx, pool, postgres.Options{})
	defer other.Close()
	for _, n := range []int{1, 3} {
		name := "known-" + eventstoretest.Event("T.v1", 0).ID.String()
		var batch []eventstore.EventData
		for i := range 3 {
			batch = append(batch, eventstoretest.Event("T.v1", i))
		}
		if _, err := mine.Append(ctx, name, eventstore.NoStream, batch...); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Append(ctx, name, eventstore.Exact(2), eventstoretest.Event("T.v1", 3)); err != nil {
			t.Fatal(err)
		}
		late := make([]eventstore.EventData, n)
		for i := range late {
			late[i] = eventstoretest.Event("T.v1", 10+i)
		}
		_, err := mine.Append(ctx, name, eventstore.Exact(2), late...)
		var e *eventstore.Error
		if !errors.As(err, &e) || e.Code != eventstore.ErrorCodeWrongExpectedVersion || e.Actual != 3 {
			t.Fatalf("%d events at a remembered but stale version: got %v, want ErrWrongExpectedVersion at 3", n, err)
		}
		// Far ahead of the stream: never remembered, so looked up, refused.
		_, err = mine.Append(ctx, name, eventstore.Exact(7), late...)
		if !errors.As(err, &e) || e.Code != eventstore.ErrorCodeWrongExpectedVersion || e.Actual != 3 {
			t.Fatalf("%d events ahead of the stream: got %v, want ErrWrongExpectedVersion at 3", n, err)
		}
		got, err := mine.Append(ctx, name, eventstore.Exact(3), late...)
		if err != nil {
			t.Fatal(err)
		}
		if want := uint64(3 + n); got.NextExpectedVersion != want {
			t.Fatalf("%d events after the stream's last: next expected version %d, want %d", n, got.NextExpectedVersion, want)
		}
		events, err := mine.ReadStream(ctx, name, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for i, ev := range events {
			if ev.Version != uint64(i) {
				t.Fatalf("%d events: event %d has version %d: a gap or a duplicate", n, i, ev.Version)
			}
		}
		if len(events) != 4+n {
			t.Fatalf("%d events: stream holds %d events, want %d", n, len(events), 4+n)
		}
	}
}
