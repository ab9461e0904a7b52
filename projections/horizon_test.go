package projections_test

import (
	"bytes"
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
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

// syncBuffer collects log lines from the runtime's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// gaugeValue is the first series of a gauge, -1 before it is set.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) > 0 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

// eventually polls cond every 50 ms until it holds or d passes; it
// returns how long it took, or fails the test.
func eventually(t *testing.T, reg *prometheus.Registry, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			for _, n := range []string{"multimedia_projection_lag_events", "multimedia_event_store_horizon_held_seconds", "multimedia_event_store_horizon_held_pid"} {
				t.Logf("%s = %v", n, gaugeValue(t, reg, n))
			}
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// TestHeldHorizonShowsAsLag is issue 15's stall: a transaction that wrote
// something (here pg_current_xact_id(), which gives it a transaction id as
// any write does) is held open for 10 s in the service's database while
// accounts register. The lag gauge and the held-horizon gauge (with the
// holder's pid) show it within 2 s of the hold, Statuses marks the
// projection as held, a warning names the pid after 5 s, and everything
// returns to 0 once the transaction ends.
func TestHeldHorizonShowsAsLag(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	store := newStore(t, pool)
	reg := prometheus.NewRegistry()
	logs := &syncBuffer{}
	startRuntime(t, projections.Config{Store: store, Pool: pool, Registerer: reg,
		Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	w := projections.NewWaiter(ctx, pool, nil)
	defer w.Close()

	appendOne := func() eventstore.Position {
		id := uuid.New()
		res, err := store.Append(ctx, account.StreamID(id.String()), eventstore.NoStream, accountHistory(rnd(), id, time.Now())...)
		if err != nil {
			t.Error(err)
		}
		return res.Position
	}
	waitFor(t, w, appendOne(), 10*time.Second)

	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var pid int
	var xid string
	if err := tx.QueryRow(ctx, `SELECT pg_backend_pid(), pg_current_xact_id()::text /* held by the stall test */`).Scan(&pid, &xid); err != nil {
		t.Fatal(err)
	}
	held := time.Now()

	stop := make(chan struct{})
	var writers sync.WaitGroup
	writers.Add(1)
	go func() {
		defer writers.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				appendOne()
			}
		}
	}()
	defer func() { close(stop); writers.Wait() }()

	took := eventually(t, reg, 2*time.Second, "lag and held-horizon gauges", func() bool {
		return gaugeValue(t, reg, "multimedia_projection_lag_events") > 0 &&
			gaugeValue(t, reg, "multimedia_event_store_horizon_held_seconds") > 0 &&
			gaugeValue(t, reg, "multimedia_event_store_horizon_held_pid") == float64(pid)
	})
	t.Logf("lag %v events and the hold shown %s after the hold began",
		gaugeValue(t, reg, "multimedia_projection_lag_events"), took)

	sts, err := projections.Statuses(ctx, pool, store, []projections.Projection{accounts.New()})
	if err != nil {
		t.Fatal(err)
	}
	if sts[0].LagEvents == 0 || !sts[0].HeldByHorizon {
		t.Errorf("status during the hold = %+v, want lag and held_by_horizon", sts[0])
	}
	hold, err := projections.Horizon(ctx, store)
	if err != nil || hold == nil || hold.PID != pid || hold.Waiting == 0 || !strings.Contains(hold.Query, "SELECT pg_backend_pid(), pg_current_xact") {
		t.Errorf("Horizon during the hold = %+v, %v; want pid %d with waiting events and its query", hold, err, pid)
	}

	eventually(t, reg, 10*time.Second, "warning naming the pid", func() bool {
		return strings.Contains(logs.String(), `"pid":`+strconv.Itoa(pid)) && strings.Contains(logs.String(), "holds every projection back")
	})
	if since := time.Since(held); since < projections.HorizonWarnAfter {
		t.Errorf("warned after %s, before %s", since, projections.HorizonWarnAfter)
	}
	if d := 10*time.Second - time.Since(held); d > 0 {
		time.Sleep(d)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, reg, 10*time.Second, "gauges back to 0 after the hold", func() bool {
		return gaugeValue(t, reg, "multimedia_event_store_horizon_held_seconds") == 0 &&
			gaugeValue(t, reg, "multimedia_event_store_horizon_held_pid") == 0
	})
	close(stop)
	writers.Wait()
	stop = make(chan struct{})
	waitFor(t, w, appendOne(), 10*time.Second)
	eventually(t, reg, 10*time.Second, "lag back to 0", func() bool {
		return gaugeValue(t, reg, "multimedia_projection_lag_events") == 0
	})
}
