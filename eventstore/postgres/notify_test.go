package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/eventstoretest"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// listeningPair returns two Stores on one database, both listening (a
// notification sent before LISTEN is lost, and the fallback poll would cover
// it), and the positions a subscriber of the reader receives. The reader's
// fallback poll is an hour, beyond any test's patience: only a NOTIFY wakes
// it.
func listeningPair(t *testing.T) (pool *pgxpool.Pool, writer, reader *postgres.Store, got <-chan eventstore.Position) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pool = pgtest.NewPool(t)
	writer = postgres.New(ctx, pool, postgres.Options{})
	t.Cleanup(writer.Close)
	reader = postgres.New(ctx, pool, postgres.Options{FallbackPoll: time.Hour})
	t.Cleanup(reader.Close)
	waitFor(t, "both stores to listen", func() bool {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN `+postgres.NotifyChannel+`'`).Scan(&n)
		return err == nil && n == 2
	})
	positions := make(chan eventstore.Position, 10)
	go func() {
		_ = reader.Subscribe(ctx, eventstore.Start, eventstore.SubscribeOptions{}, func(_ context.Context, batch eventstore.Batch) error {
			for _, e := range batch {
				positions <- e.Position
			}
			return nil
		})
	}()
	return pool, writer, reader, positions
}

// TestNotifyWakesOtherStores: a subscriber of another Store (as in another
// process) is woken by the NOTIFY an append sends, not by its fallback poll,
// which is set far beyond the test's patience here; the appending Store's
// own listener ignores its notifications (its subscribers were woken
// directly).
func TestNotifyWakesOtherStores(t *testing.T) {
	ctx := context.Background()
	_, writer, reader, got := listeningPair(t)
	for i := range 3 {
		time.Sleep(50 * time.Millisecond) // let the subscriber go idle
		res, err := writer.Append(ctx, "notified", eventstore.Any, eventstoretest.Event("T.v1", i))
		if err != nil {
			t.Fatal(err)
		}
		select {
		case pos := <-got:
			if pos != res.Position {
				t.Fatalf("subscriber of the other store got %v, want %v", pos, res.Position)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("append %d: the other store's subscriber was not woken", i)
		}
	}
	time.Sleep(200 * time.Millisecond) // the writer's listener got the same notifications
	if got := postgres.ListenerWakes(reader); got < 1 {
		t.Fatalf("the reader's listener acted on %d notifications, want at least 1", got)
	}
	if got := postgres.ListenerWakes(writer); got != 0 {
		t.Fatalf("the writer's listener acted on %d of its own notifications, want 0", got)
	}
}

// TestNotifyAfterAnUnseenCommit: an append whose reply was lost (its caller
// gave up, Postgres still committed) is announced by no one; the test writes
// such an event with plain SQL, since whether Postgres finishes a statement
// whose client cancelled it depends on timing (it made this test flaky).
// The retry that learns the outcome, an idempotent re-append, must wake the
// subscribers, here another Store's, whose fallback poll is beyond the
// test's patience.
func TestNotifyAfterAnUnseenCommit(t *testing.T) {
	ctx := context.Background()
	pool, writer, _, got := listeningPair(t)

	time.Sleep(100 * time.Millisecond) // let the subscriber go idle

	// An append whose reply was lost: it committed (here written with plain
	// SQL, as Postgres finishes a statement whose client went away), and
	// nothing announced it.
	e := eventstoretest.Event("T.v1", 0)
	if _, err := pool.Exec(ctx, `INSERT INTO es_events (event_id, stream_id, version, type, data, metadata) VALUES ($1, 'unseen', 0, $2, $3, $4)`,
		e.ID, e.Type, string(e.Data), string(e.Metadata)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the subscriber stays idle: no one announced it

	res, err := writer.Append(ctx, "unseen", eventstore.NoStream, e)
	if err != nil {
		t.Fatalf("retry of the append given up: %v", err)
	}
	select {
	case pos := <-got:
		if pos != res.Position {
			t.Fatalf("subscriber got %v, want %v", pos, res.Position)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the other store's subscriber was not woken for an event the retry found stored")
	}
}
