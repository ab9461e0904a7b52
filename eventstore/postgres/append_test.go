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
