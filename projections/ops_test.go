package projections_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/accounts"
)

func appendAccount(t *testing.T, s eventstore.Store) (uuid.UUID, eventstore.Position) {
	t.Helper()
	id := uuid.New()
	res, err := s.Append(context.Background(), account.StreamID(id.String()), eventstore.NoStream, accountHistory(rnd(), id, time.Now())...)
	if err != nil {
		t.Fatal(err)
	}
	return id, res.Position
}

func TestPoisonEventStopsAndSkipResumes(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	store := newStore(t, pool)
	reg := prometheus.NewRegistry()
	w := projections.NewWaiter(ctx, pool, nil)
	defer w.Close()

	before, _ := appendAccount(t, store)
	poison := eventstore.EventData{ID: uuid.New(), Type: account.AccountRegisteredType,
		Data: json.RawMessage(`{"account_id": "not-a-uuid", "email": "x@example.com"}`)}
	pres, err := store.Append(ctx, "account-broken", eventstore.NoStream, poison)
	if err != nil {
		t.Fatal(err)
	}
	after, lastPos := appendAccount(t, store)

	startRuntime(t, projections.Config{Store: store, Pool: pool, Registerer: reg, MaxRetries: 2, RetryInterval: 5 * time.Millisecond})

	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err = w.WaitFor(wctx, pres.Position, accounts.Name)
	cancel()
	if !errors.Is(err, projections.ErrStopped) {
		t.Fatalf("WaitFor past the poison event: %v, want ErrStopped", err)
	}
	reader := accounts.NewReader(pool)
	if _, err := reader.Get(ctx, before.String()); err != nil {
		t.Fatalf("event before the poison one not applied: %v", err)
	}
	if _, err := reader.Get(ctx, after.String()); !errors.Is(err, projections.ErrNotFound) {
		t.Fatalf("event after the poison one applied while stopped: %v", err)
	}
	dls, err := projections.DeadLetters(ctx, pool, accounts.Name, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(dls) != 1 || dls[0].EventID != poison.ID.String() || dls[0].Position != pres.Position || !strings.Contains(dls[0].Error, "not-a-uuid") {
		t.Fatalf("dead letters: %+v", dls)
	}
	sts, err := projections.Statuses(ctx, pool, store, []projections.Projection{accounts.New()})
	if err != nil {
		t.Fatal(err)
	}
	if sts[0].State != projections.StateStopped || !strings.Contains(sts[0].LastError, "not-a-uuid") || sts[0].LagEvents == 0 {
		t.Fatalf("status: %+v", sts[0])
	}
	if err := projections.CheckReady(sts); !errors.Is(err, projections.ErrStopped) || !strings.Contains(err.Error(), "accounts") {
		t.Errorf("CheckReady: %v", err)
	}
	if err := projections.CheckStopped(ctx, pool, []projections.Projection{accounts.New()}); !errors.Is(err, projections.ErrStopped) || !strings.Contains(err.Error(), "not-a-uuid") {
		t.Errorf("CheckStopped: %v", err)
	}
	if v := metricValue(t, reg, "multimedia_projection_dead_letters_total"); v != 1 {
		t.Errorf("dead letters metric %v", v)
	}

	if _, err := projections.Retry(ctx, pool, accounts.Name); err != nil {
		t.Fatal(err)
	}
	wctx, cancel = context.WithTimeout(ctx, 10*time.Second)
	err = w.WaitFor(wctx, pres.Position, accounts.Name)
	cancel()
	if !errors.Is(err, projections.ErrStopped) {
		t.Fatalf("after retry of a still-broken event: %v, want ErrStopped", err)
	}

	dl, err := projections.Skip(ctx, pool, accounts.Name)
	if err != nil {
		t.Fatal(err)
	}
	if dl.EventID != poison.ID.String() {
		t.Fatalf("skipped %+v", dl)
	}
	waitFor(t, w, lastPos, 10*time.Second)
	if _, err := reader.Get(ctx, after.String()); err != nil {
		t.Fatalf("after skip: %v", err)
	}
	if _, err := projections.Skip(ctx, pool, accounts.Name); !errors.Is(err, projections.ErrNotStopped) {
		t.Fatalf("skip of a running projection: %v", err)
	}
	all, _ := projections.DeadLetters(ctx, pool, accounts.Name, true)
	if len(all) != 2 || all[0].Resolution != "skipped" || all[1].Resolution != "retried" {
		t.Fatalf("resolved dead letters: %+v", all)
	}
}

// TestQueriesDuringRebuild reads the live table all through a rebuild and
// checks that after the swap queries see the rebuilt table.
func TestQueriesDuringRebuild(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	store := newStore(t, pool)
	startRuntime(t, projections.Config{Store: store, Pool: pool})
	w := projections.NewWaiter(ctx, pool, nil)
	defer w.Close()
	benchInsert(t, pool, 8_500) // 51,000 events
	id, last := appendAccount(t, store)
	waitFor(t, w, last, 60*time.Second)
	// Tamper with the live row: only a rebuilt table has the true email.
	reader := accounts.NewReader(pool)
	want, err := reader.Get(ctx, id.String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "UPDATE rm_accounts SET email = 'tampered' WHERE id = $1", id); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var (
		reads  atomic.Int64
		failed atomic.Value
		wg     sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := reader.Get(ctx, id.String()); err != nil {
				failed.Store(err)
				return
			}
			reads.Add(1)
		}
	}()
	_, err = projections.Rebuild(ctx, projections.RebuildOptions{Pool: pool, Store: store, Projection: accounts.New(), BatchSize: 2000,
		Progress: func(int64, eventstore.Position) {
			// Also keep appending while rebuilding: the swap must take these too.
			appendAccount(t, store)
		}})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if e := failed.Load(); e != nil {
		t.Fatalf("query failed during the rebuild: %v", e)
	}
	if reads.Load() < 10 {
		t.Errorf("only %d reads during the rebuild", reads.Load())
	}
	got, err := reader.Get(ctx, id.String())
	if err != nil || got.Email != want.Email {
		t.Fatalf("after the swap: %+v, %v; want email %s", got, err, want.Email)
	}
	// Live work goes on in the swapped-in table and nothing is lost.
	_, last = appendAccount(t, store)
	waitFor(t, w, last, 10*time.Second)
	var applied, handled int64
	if err := pool.QueryRow(ctx, "SELECT applied_events FROM projection_checkpoints WHERE name = 'accounts'").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM es_events WHERE type = ANY($1)", accounts.New().EventTypes()).Scan(&handled); err != nil {
		t.Fatal(err)
	}
	rows, _ := reader.All(ctx)
	var registered int64
	_ = pool.QueryRow(ctx, "SELECT count(*) FROM es_events WHERE type = $1", account.AccountRegisteredType).Scan(&registered)
	if int64(len(rows)) != registered {
		t.Fatalf("%d rows for %d registrations", len(rows), registered)
	}
	t.Logf("%d reads during the rebuild; live applied %d of %d handled events", reads.Load(), applied, handled)
}
