package postgres_test

import (
	"context"
	"slices"
	"testing"

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
