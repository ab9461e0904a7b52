package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/eventstoretest"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// TestReadAllAcrossTheFloor: ReadAll reads below the floor (a horizon an
// earlier read proved) without asking for the horizon, and above it only up
// to the current horizon: an event committed after an older transaction of
// this database that is still open stays hidden, also from a reader whose
// page starts below the floor.
func TestReadAllAcrossTheFloor(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	store := postgres.New(ctx, pool, postgres.Options{})
	defer store.Close()

	early, err := store.Append(ctx, "early", eventstore.NoStream, eventstoretest.Event("T.v1", 0), eventstoretest.Event("T.v1", 1), eventstoretest.Event("T.v1", 2))
	if err != nil {
		t.Fatal(err)
	}
	if !headReaches(t, store, early.Position, 5*time.Second) {
		t.Fatal("the first events never became readable")
	}
	if got := readAll(t, store, eventstore.Start, 10); len(got) != 3 {
		t.Fatalf("read %d events, want 3", len(got))
	}

	local, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = local.Rollback(ctx) }()
	if _, err := local.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
		t.Fatal(err)
	}
	late, err := store.Append(ctx, "late", eventstore.NoStream, eventstoretest.Event("T.v1", 3))
	if err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{1, 2, 3, 10} {
		var got []eventstore.RecordedEvent
		for pos := eventstore.Start; ; {
			page := readAll(t, store, pos, limit)
			got = append(got, page...)
			if len(page) < limit {
				break
			}
			pos = page[len(page)-1].Position
		}
		if len(got) != 3 || got[2].Position != early.Position {
			t.Fatalf("pages of %d while an older transaction is open: read %d events ending at %v, want the 3 early ones", limit, len(got), got[len(got)-1].Position)
		}
	}
	if err := local.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if !headReaches(t, store, late.Position, 5*time.Second) {
		t.Fatal("the late event stayed hidden after the older transaction ended")
	}
	got := readAll(t, store, eventstore.Start, 10)
	if len(got) != 4 || got[3].Position != late.Position {
		t.Fatalf("after the older transaction ended: read %d events, want 4 ending at %v", len(got), late.Position)
	}
	if got := readAll(t, store, got[1].Position, 10); len(got) != 2 || got[1].Position != late.Position {
		t.Fatalf("from the second event: read %d events, want the last 2", len(got))
	}
}

func readAll(t *testing.T, s *postgres.Store, after eventstore.Position, limit int) []eventstore.RecordedEvent {
	t.Helper()
	got, err := s.ReadAll(context.Background(), after, limit)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
