package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// holdOpen begins a transaction on pool, runs stmt in it and leaves it open
// until the test ends.
func holdOpen(t *testing.T, pool *pgxpool.Pool, stmt string) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(ctx) })
	if _, err := tx.Exec(ctx, stmt); err != nil {
		t.Fatal(err)
	}
	return tx
}

func appendEvents(t *testing.T, store *postgres.Store, n int) eventstore.Position {
	t.Helper()
	var last eventstore.Position
	for range n {
		res, err := store.Append(context.Background(), "held-"+uuid.NewString(), eventstore.NoStream,
			eventstore.EventData{ID: uuid.New(), Type: "Held.v1", Data: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		last = res.Position
	}
	return last
}

// TestWhichTransactionsHoldTheHorizon measures what README says about
// stalls: only a transaction of the service's own database that has a
// transaction id (it wrote something, or asked for one) holds readers
// back, and CountAfter counts the events it holds back; a read-only
// transaction in the same database and a writing transaction in another
// database of the cluster hold nothing back.
func TestWhichTransactionsHoldTheHorizon(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	other := pgtest.NewPool(t) // another database of the same cluster
	store := postgres.New(ctx, pool, postgres.Options{})
	defer store.Close()
	start := appendEvents(t, store, 1)

	// check retries for up to 10 s: es_horizon() may dip for a moment
	// while another database's transaction cannot be placed (parallel
	// tests create databases; see TestCountAfter).
	check := func(what string, wantHeld bool) {
		t.Helper()
		appendEvents(t, store, 5)
		deadline := time.Now().Add(10 * time.Second)
		for {
			read, err := store.ReadAll(ctx, start, 100)
			if err != nil {
				t.Fatal(err)
			}
			n, _, err := store.CountAfter(ctx, start, 100)
			if err != nil {
				t.Fatal(err)
			}
			hold, held, err := store.HorizonHold(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ok := held == wantHeld && (wantHeld && len(read) < int(n) && hold.Waiting > 0 || !wantHeld && len(read) == int(n))
			if ok || time.Now().After(deadline) {
				t.Logf("%s: ReadAll sees %d events after the start, CountAfter counts %d, held=%v %+v", what, len(read), n, held, hold)
				if !ok {
					t.Errorf("%s: want held=%v with held-back events counted", what, wantHeld)
				}
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	check("nothing open", false)

	ro := holdOpen(t, pool, `SELECT count(*) FROM es_events`)
	check("a read-only transaction open in the service's database", false)
	_ = ro.Rollback(ctx)

	foreign := holdOpen(t, other, `CREATE TABLE held_elsewhere (id int)`)
	check("a writing transaction open in another database", false)
	_ = foreign.Rollback(ctx)

	w := holdOpen(t, pool, `CREATE TEMP TABLE held_here (id int)`)
	check("a writing transaction open in the service's database", true)
	_ = w.Rollback(ctx)
	check("after it ended", false)
}

// TestIdleInTransactionTimeoutEndsAHold measures the recommended bound: a
// session with idle_in_transaction_session_timeout = 1s that leaves a
// writing transaction open is ended by the server, and the events it held
// back become readable.
func TestIdleInTransactionTimeoutEndsAHold(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	store := postgres.New(ctx, pool, postgres.Options{})
	defer store.Close()
	start := appendEvents(t, store, 1)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET idle_in_transaction_session_timeout = '1s'`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `BEGIN; CREATE TEMP TABLE forgotten (id int)`); err != nil {
		t.Fatal(err)
	}
	held := time.Now()
	last := appendEvents(t, store, 5)
	if _, ok, err := store.HorizonHold(ctx); err != nil || !ok {
		t.Fatalf("no hold while the transaction is open: %v", err)
	}
	for {
		read, err := store.ReadAll(ctx, start, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(read) > 0 && read[len(read)-1].Position == last {
			break
		}
		if time.Since(held) > 15*time.Second {
			t.Fatal("the hold did not end within 15s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("the server ended the idle transaction; events readable %s after it began", time.Since(held).Round(10*time.Millisecond))
	conn.Conn().Close(ctx) //nolint:errcheck // the server has closed it
	conn.Hijack()
}
