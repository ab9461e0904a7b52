package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// TestCountAfter: the count and first recorded time agree with ReadAll from
// every position, and the limit caps the count.
func TestCountAfter(t *testing.T) {
	ctx := context.Background()
	store := postgres.New(ctx, pgtest.NewPool(t), postgres.Options{})
	defer store.Close()
	for i := range 5 {
		events := make([]eventstore.EventData, i+1)
		for j := range events {
			events[j] = eventstore.EventData{ID: uuid.New(), Type: "Counted.v1", Data: []byte(`{}`)}
		}
		if _, err := store.Append(ctx, "counted-"+uuid.NewString(), eventstore.NoStream, events...); err != nil {
			t.Fatal(err)
		}
	}
	all := eventuallyReadAll(t, store, 15)
	if got, want := len(all), 15; got != want {
		t.Fatalf("events stored = %d, want %d", got, want)
	}
	// countAfter retries briefly while the horizon is held back: a
	// transaction in another database that es_horizon cannot place for a
	// moment (parallel tests create databases) holds every reader back,
	// so a count may dip transiently; it never skips an event.
	countAfter := func(after eventstore.Position, want int64) (int64, time.Time) {
		t.Helper()
		return eventuallyCount(t, store, after, 1000, want)
	}
	after := eventstore.Start
	for i := 0; i <= len(all); i++ {
		n, first := countAfter(after, int64(len(all)-i))
		if got, want := n, int64(len(all)-i); got != want {
			t.Errorf("CountAfter(%s) = %d, want %d", after, got, want)
		}
		if i < len(all) && !first.Equal(all[i].RecordedAt) {
			t.Errorf("CountAfter(%s) first = %v, want %v", after, first, all[i].RecordedAt)
		}
		if i == len(all) && !first.IsZero() {
			t.Errorf("CountAfter(head) first = %v, want zero", first)
		}
		if i < len(all) {
			after = all[i].Position
		}
	}
	if n, _ := countAfterLimit(t, store, 4); n != 4 {
		t.Errorf("CountAfter with limit 4 = %d; want 4", n)
	}
	if _, _, err := store.CountAfter(ctx, eventstore.Start, 0); !errors.Is(err, eventstore.ErrInvalidArgument) {
		t.Errorf("CountAfter with limit 0: %v, want ErrInvalidArgument", err)
	}
}

// decorated is a test double of a decorating store (as audit's chain is).
type decorated struct{ eventstore.Store }

func (d decorated) Unwrap() eventstore.Store { return d.Store }

// TestAsCounterLooksThroughDecorators: the Counter of a decorated Postgres
// store is found; a store without one is reported as such.
func TestAsCounterLooksThroughDecorators(t *testing.T) {
	store := postgres.New(context.Background(), pgtest.NewPool(t), postgres.Options{})
	defer store.Close()
	if _, ok := eventstore.AsCounter(decorated{decorated{store}}); !ok {
		t.Error("AsCounter did not find the Counter under two decorators")
	}
	if _, ok := eventstore.AsCounter(struct{ eventstore.Store }{store}); ok {
		t.Error("AsCounter found a Counter through a wrapper that is no Decorator")
	}
}

// eventuallyCount calls CountAfter until it returns want or 10 s pass (see
// TestCountAfter on why a count may dip for a moment).
func eventuallyCount(t *testing.T, store *postgres.Store, after eventstore.Position, limit, want int64) (int64, time.Time) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, first, err := store.CountAfter(context.Background(), after, limit)
		if err != nil {
			t.Fatal(err)
		}
		if n == want || time.Now().After(deadline) {
			return n, first
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// eventuallyReadAll reads the whole log until it holds want events, for
// at most 10 s: events just appended are read once the horizon passes
// them, which a transaction of a parallel test can hold back for a moment
// (never skipping one; see the package doc).
func eventuallyReadAll(t *testing.T, store *postgres.Store, want int) []eventstore.RecordedEvent {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		all, err := store.ReadAll(context.Background(), eventstore.Start, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) >= want || time.Now().After(deadline) {
			return all
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countAfterLimit(t *testing.T, store *postgres.Store, limit int64) (int64, time.Time) {
	t.Helper()
	return eventuallyCount(t, store, eventstore.Start, limit, limit)
}

// TestReadsDoNotGoBackwards: once a Store has read events, a dip of
// es_horizon() (simulated here by replacing it) does not hide them again
// from that Store's ReadAll, Head and CountAfter; a Store that has read
// nothing yet sees the dip.
func TestReadsDoNotGoBackwards(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	store := postgres.New(ctx, pool, postgres.Options{})
	defer store.Close()
	for range 3 {
		if _, err := store.Append(ctx, "dip-"+uuid.NewString(), eventstore.NoStream,
			eventstore.EventData{ID: uuid.New(), Type: "Dip.v1", Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	before := eventuallyReadAll(t, store, 3)
	if len(before) != 3 {
		t.Fatalf("ReadAll before the dip: %d events, want 3", len(before))
	}
	if _, err := pool.Exec(ctx, `CREATE OR REPLACE FUNCTION es_horizon() RETURNS xid8 LANGUAGE sql STABLE AS $$ SELECT '1'::xid8 $$`); err != nil {
		t.Fatal(err)
	}
	after, err := store.ReadAll(ctx, eventstore.Start, 10)
	if err != nil || len(after) != 3 {
		t.Errorf("ReadAll during the dip: %d events, %v; want 3", len(after), err)
	}
	if head, err := store.Head(ctx); err != nil || head != before[2].Position {
		t.Errorf("Head during the dip = %s, %v; want %s", head, err, before[2].Position)
	}
	if n, _, err := store.CountAfter(ctx, eventstore.Start, 100); err != nil || n != 3 {
		t.Errorf("CountAfter during the dip = %d, %v; want 3", n, err)
	}
	fresh := postgres.New(ctx, pool, postgres.Options{})
	defer fresh.Close()
	if got, err := fresh.ReadAll(ctx, eventstore.Start, 10); err != nil || len(got) != 0 {
		t.Errorf("a Store that read nothing before sees %d events during the dip (%v): the dip is not simulated", len(got), err)
	}
}
