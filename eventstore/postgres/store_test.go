package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/eventstore"

	"github.com/multimedia-portal/multimedia/eventstore/eventstoretest"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

func TestContract(t *testing.T) {
	eventstoretest.Run(t, func(t *testing.T) eventstoretest.Subject {
		pool := pgtest.NewPool(t)
		store := postgres.New(context.Background(), pool, postgres.Options{})
		t.Cleanup(store.Close)
		return eventstoretest.Subject{
			Store: store,
			InUse: func() int { return int(pool.Stat().AcquiredConns()) },
		}
	})
}

// TestOrderIsNumericAcrossDigitBoundaries: transaction ids 9 and 10 sort as
// numbers. (Sorting by their text once delivered 10024 before 9986.)
func TestOrderIsNumericAcrossDigitBoundaries(t *testing.T) {
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	for _, tx := range []string{"10", "9", "100"} {
		if _, err := pool.Exec(ctx, `INSERT INTO es_events (transaction_id, event_id, stream_id, version, type, data)
VALUES ($1::text::xid8, gen_random_uuid(), 's-'||$1, 0, 'T.v1', '{}')`, tx); err != nil {
			t.Fatal(err)
		}
	}
	store := postgres.New(ctx, pool, postgres.Options{})
	defer store.Close()
	got, err := store.ReadAll(ctx, eventstore.Start, 10)
	if err != nil {
		t.Fatal(err)
	}
	var commits []uint64
	for _, e := range got {
		commits = append(commits, e.Position.Commit)
	}
	if want := []uint64{9, 10, 100}; !slices.Equal(commits, want) {
		t.Fatalf("transaction ids in read order: got %v, want %v", commits, want)
	}
	head, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head.Commit != 100 {
		t.Fatalf("head: got %v, want commit 100", head)
	}
}

// TestHorizonIgnoresOtherDatabases: an open transaction in another database
// does not hold readers back; one in this database does, until it ends.
func TestHorizonIgnoresOtherDatabases(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	other := pgtest.Connect(t, pgtest.NewDatabase(t), false)
	store := postgres.New(ctx, pool, postgres.Options{})
	defer store.Close()

	foreign, err := other.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = foreign.Rollback(ctx) }()
	if _, err := foreign.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
		t.Fatal(err)
	}
	res, err := store.Append(ctx, "s-1", eventstore.NoStream, eventstoretest.Event("T.v1", 1))
	if err != nil {
		t.Fatal(err)
	}
	if !headReaches(t, store, res.Position, 5*time.Second) {
		t.Fatal("a transaction in another database held this database's readers back")
	}

	local, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = local.Rollback(ctx) }()
	if _, err := local.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
		t.Fatal(err)
	}
	res, err = store.Append(ctx, "s-2", eventstore.NoStream, eventstoretest.Event("T.v1", 2))
	if err != nil {
		t.Fatal(err)
	}
	if headReaches(t, store, res.Position, 300*time.Millisecond) {
		t.Fatal("an event appended after an older, still open transaction of this database was readable: that transaction could still commit behind it")
	}
	if err := local.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !headReaches(t, store, res.Position, 5*time.Second) {
		t.Fatal("the event stayed hidden after the older transaction ended")
	}
}

func headReaches(t *testing.T, s *postgres.Store, pos eventstore.Position, within time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		head, err := s.Head(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !head.Less(pos) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}
