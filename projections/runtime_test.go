package projections_test

import (
	"context"
	"errors"
	"reflect"
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

func TestConfigValidateJoinsEveryProblem(t *testing.T) {
	err := projections.Config{MaxBatch: -1}.Validate()
	if err == nil {
		t.Fatal("empty config validated")
	}
	for _, want := range []string{"Store", "Pool", "Projections", "negative"} {
		if !contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func contains(s, sub string) bool {
	return len(s) >= len(sub) && (s == sub || len(sub) == 0 || indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// TestLiveEqualsRebuilt projects 50,000+ events live (appended while the
// runtime runs), then rebuilds from position 0 while the runtime goes on,
// and compares the two row for row.
func TestLiveEqualsRebuilt(t *testing.T) {
	pool := pgtest.NewPool(t)
	store := newStore(t, pool)
	reg := prometheus.NewRegistry()
	startRuntime(t, projections.Config{Store: store, Pool: pool, Registerer: reg})
	w := projections.NewWaiter(context.Background(), pool, nil)
	defer w.Close()

	n, last := generate(t, store, 50_000, 1)
	waitFor(t, w, last, 60*time.Second)
	reader := accounts.NewReader(pool)
	live, err := reader.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(live) < n/15 {
		t.Fatalf("only %d accounts for %d events", len(live), n)
	}
	if got := metricValue(t, reg, "multimedia_projection_events_applied_total"); got < float64(len(live)) {
		t.Errorf("events applied metric %v < accounts %d", got, len(live))
	}

	pos, err := projections.Rebuild(context.Background(), projections.RebuildOptions{Pool: pool, Store: store, Projection: accounts.New()})
	if err != nil {
		t.Fatal(err)
	}
	if pos.Less(last) {
		t.Errorf("rebuilt to %s, before %s", pos, last)
	}
	rebuilt, err := reader.All(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(live, rebuilt) {
		t.Fatalf("live (%d rows) and rebuilt (%d rows) differ", len(live), len(rebuilt))
	}
	// The live projector goes on on the swapped-in table.
	id := uuid.New()
	res, err := store.Append(context.Background(), account.StreamID(id.String()), eventstore.NoStream, accountHistory(rnd(), id, time.Now())...)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, w, res.Position, 10*time.Second)
	if _, err := reader.Get(context.Background(), id.String()); err != nil {
		t.Fatalf("after the swap: %v", err)
	}
	t.Logf("%d events, %d accounts", n, len(live))
}

func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func TestWaitFor(t *testing.T) {
	pool := pgtest.NewPool(t)
	store := newStore(t, pool)
	w := projections.NewWaiter(context.Background(), pool, nil)
	defer w.Close()
	ctx := context.Background()

	// Nobody projects yet: not caught up when the deadline passes.
	id := uuid.New()
	res, err := store.Append(ctx, account.StreamID(id.String()), eventstore.NoStream, accountHistory(rnd(), id, time.Now())...)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	err = w.WaitFor(short, res.Position, accounts.Name)
	cancel()
	if !errors.Is(err, projections.ErrNotCaughtUp) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitFor without a projector: %v", err)
	}

	startRuntime(t, projections.Config{Store: store, Pool: pool})
	waitFor(t, w, res.Position, 10*time.Second)
	reader := accounts.NewReader(pool)
	for range 20 {
		id := uuid.New()
		res, err := store.Append(ctx, account.StreamID(id.String()), eventstore.NoStream, accountHistory(rnd(), id, time.Now())...)
		if err != nil {
			t.Fatal(err)
		}
		// How fast is measured by BenchmarkAppendToVisible; here only that
		// WaitFor returns once the row is there.
		waitFor(t, w, res.Position, 10*time.Second)
		a, err := reader.Get(ctx, id.String())
		if err != nil {
			t.Fatalf("right after WaitFor: %v", err)
		}
		if a.Email == "" || a.Status == "" {
			t.Fatalf("row %+v", a)
		}
	}
	if _, err := reader.Get(ctx, uuid.NewString()); !errors.Is(err, projections.ErrNotFound) {
		t.Fatalf("Get unknown: %v", err)
	}
}

// TestRuntimeStopsAtAnyMoment cancels runtimes at random moments of their
// start (connecting, taking the lock, recording the owner, subscribing):
// each returns cleanly and leaves no projection lock behind.
func TestRuntimeStopsAtAnyMoment(t *testing.T) {
	pool := pgtest.NewPool(t)
	store := newStore(t, pool)
	r := rnd()
	for i := range 40 {
		rt, err := projections.NewRuntime(projections.Config{Store: store, Pool: pool, Logger: quietLogger(),
			Projections: []projections.Projection{accounts.New()},
			Registerer:  prometheus.NewRegistry(), TakeoverInterval: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(r.IntN(30_000))*time.Microsecond)
		err = rt.Run(ctx)
		cancel()
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	// A closed connection's backend ends a moment after the client hangs
	// up, so its lock may show briefly; a leaked lock stays.
	var locks int
	for deadline := time.Now().Add(5 * time.Second); ; {
		err := pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&locks)
		if err != nil {
			t.Fatal(err)
		}
		if locks == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got, want := locks, 0; got != want {
		t.Errorf("advisory locks held 5s after every runtime stopped = %d, want %d", got, want)
	}
}
