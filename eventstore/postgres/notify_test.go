package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/eventstoretest"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// TestNotifyWakesOtherStores: a subscriber of another Store (as in another
// process) is woken by the NOTIFY an append sends, not by its fallback poll,
// which is set far beyond the test's patience here; the appending Store's
// own listener ignores its notifications (its subscribers were woken
// directly).
func TestNotifyWakesOtherStores(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool := pgtest.NewPool(t)
	writer := postgres.New(ctx, pool, postgres.Options{})
	defer writer.Close()
	reader := postgres.New(ctx, pool, postgres.Options{FallbackPoll: time.Hour})
	defer reader.Close()

	// A notification sent before the listeners' LISTEN is lost (the
	// fallback poll would cover it): wait for both.
	waitFor(t, "both stores to listen", func() bool {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN `+postgres.NotifyChannel+`'`).Scan(&n)
		return err == nil && n == 2
	})
	got := make(chan eventstore.Position, 10)
	go func() {
		_ = reader.Subscribe(ctx, eventstore.Start, eventstore.SubscribeOptions{}, func(_ context.Context, batch eventstore.Batch) error {
			for _, e := range batch {
				got <- e.Position
			}
			return nil
		})
	}()
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

// TestNotifyAfterAnUnseenCommit: an append whose caller gave up while it
// waited on a lock can commit after the call returned (pgx drops the
// connection; Postgres commits the statement it was running), and no one
// announces it. The retry that learns the outcome, an idempotent re-append,
// must wake the subscribers, here another Store's, whose fallback poll is
// beyond the test's patience.
func TestNotifyAfterAnUnseenCommit(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool := pgtest.NewPool(t)
	writer := postgres.New(ctx, pool, postgres.Options{})
	defer writer.Close()
	reader := postgres.New(ctx, pool, postgres.Options{FallbackPoll: time.Hour})
	defer reader.Close()
	waitFor(t, "both stores to listen", func() bool {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN `+postgres.NotifyChannel+`'`).Scan(&n)
		return err == nil && n == 2
	})
	got := make(chan eventstore.Position, 10)
	go func() {
		_ = reader.Subscribe(ctx, eventstore.Start, eventstore.SubscribeOptions{}, func(_ context.Context, batch eventstore.Batch) error {
			for _, e := range batch {
				got <- e.Position
			}
			return nil
		})
	}()

	time.Sleep(100 * time.Millisecond) // let the subscriber go idle

	// The append waits on version 0 of its stream, which another
	// transaction holds; its caller gives up.
	blocker, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = blocker.Rollback(ctx) }()
	if _, err := blocker.Exec(ctx, `INSERT INTO es_events (event_id, stream_id, version, type, data) VALUES (gen_random_uuid(), 'unseen', 0, 'T.v1', '{}')`); err != nil {
		t.Fatal(err)
	}
	e := eventstoretest.Event("T.v1", 0)
	appendCtx, giveUp := context.WithCancel(ctx)
	gaveUp := make(chan error, 1)
	go func() {
		_, err := writer.Append(appendCtx, "unseen", eventstore.NoStream, e)
		gaveUp <- err
	}()
	waitFor(t, "the append to wait on the lock", func() bool {
		var waiting bool
		err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock')`).Scan(&waiting)
		return err == nil && waiting
	})
	giveUp()
	if err := <-gaveUp; !errors.Is(err, eventstore.ErrUnavailable) {
		t.Fatalf("the append given up: got %v, want ErrUnavailable", err)
	}
	if err := blocker.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the append given up to commit", func() bool {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM es_events WHERE event_id = $1`, e.ID).Scan(&n)
		return err == nil && n == 1
	})
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
