package projections_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/multimedia-portal/multimedia/eventstore/esdb"
	"github.com/multimedia-portal/multimedia/eventstore/esdb/esdbtestdouble"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/accounts"
)

// TestCheckpointTheStoreRefusesStopsTheProjection: a projection whose
// checkpoint was written on another store (here a Postgres position, after
// switching EVENT_STORE to EventStoreDB) is refused by the node with
// InvalidArgument. The projection stops with a dead letter at that
// checkpoint and a message saying why and what to do, instead of
// resubscribing forever; its status reports it stopped.
func TestCheckpointTheStoreRefusesStopsTheProjection(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	srv, err := esdbtestdouble.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	store, err := esdb.Open(srv.URL(), esdb.Options{Logger: slog.New(slog.DiscardHandler), MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	appendAccount(t, store)
	if _, err := pool.Exec(ctx, `INSERT INTO projection_checkpoints (name, commit_pos, prepare_pos) VALUES ($1, 912345, 17)`, accounts.Name); err != nil {
		t.Fatal(err)
	}

	startRuntime(t, projections.Config{Store: store, Pool: pool, Registerer: prometheus.NewRegistry(), Logger: quietLogger()})

	deadline := time.Now().Add(20 * time.Second)
	var dls []projections.DeadLetter
	for {
		dls, err = projections.DeadLetters(ctx, pool, accounts.Name, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(dls) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no dead letter 20 s after starting on a checkpoint the store refuses")
		}
		time.Sleep(20 * time.Millisecond)
	}
	dl := dls[0]
	if len(dls) != 1 || dl.Position.String() != "912345-17" || dl.EventID != uuid.Nil.String() ||
		!strings.Contains(dl.Error, "912345-17") || !strings.Contains(dl.Error, "invalid position") || !strings.Contains(dl.Error, "rebuilt from the start") {
		t.Fatalf("dead letters: %+v", dls)
	}
	sts, err := projections.Statuses(ctx, pool, store, []projections.Projection{accounts.New()})
	if err != nil {
		t.Fatal(err)
	}
	if sts[0].State != projections.StateStopped || !strings.Contains(sts[0].LastError, "refuses") {
		t.Fatalf("status: %+v", sts[0])
	}
	time.Sleep(300 * time.Millisecond) // the stopped projection must not add letters
	if again, _ := projections.DeadLetters(ctx, pool, accounts.Name, false); len(again) != 1 {
		t.Fatalf("%d dead letters, want 1", len(again))
	}
}
