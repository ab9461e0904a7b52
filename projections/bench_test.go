package projections_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
	"github.com/multimedia-portal/multimedia/projections"
	"github.com/multimedia-portal/multimedia/projections/accounts"
)

// benchInsert appends n accounts of six events each (see
// pgtest.InsertAccounts) and analyses the table.
func benchInsert(tb testing.TB, pool *pgxpool.Pool, n int) {
	tb.Helper()
	pgtest.InsertAccounts(tb, pool, 1, n)
	if _, err := pool.Exec(context.Background(), "VACUUM ANALYZE es_events"); err != nil {
		tb.Fatal(err)
	}
}

func benchEvents() int {
	if v, err := strconv.Atoi(os.Getenv("PROJECTIONS_BENCH_EVENTS")); err == nil && v > 0 {
		return v
	}
	return 300_000
}

func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func benchReset(b *testing.B, pool *pgxpool.Pool) {
	b.Helper()
	if _, err := pool.Exec(context.Background(), "TRUNCATE rm_accounts; DELETE FROM projection_checkpoints"); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCatchUp projects a log of PROJECTIONS_BENCH_EVENTS events
// (default 300,000; six per account, four handled) from position 0: the
// runtime (Watermill, checkpoints, batching) beside a baseline that reads
// the same events with ReadAll and writes the same rows with plain pgx
// transactions and nothing else. Compare their events/s.
func BenchmarkCatchUp(b *testing.B) {
	pool := pgtest.NewPool(b)
	store := newStore(b, pool)
	n := benchEvents()
	benchInsert(b, pool, n/6)
	head, err := store.Head(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	total := (n / 6) * 6

	b.Run("runtime", func(b *testing.B) {
		w := projections.NewWaiter(context.Background(), pool, nil)
		defer w.Close()
		var elapsed time.Duration
		for range b.N {
			b.StopTimer()
			benchReset(b, pool)
			rt, err := projections.NewRuntime(projections.Config{Store: store, Pool: pool,
				Projections: []projections.Projection{accounts.New()}, Logger: quietLogger()})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			b.StartTimer()
			start := time.Now()
			go func() { done <- rt.Run(ctx) }()
			wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Minute)
			if err := w.WaitFor(wctx, head, accounts.Name); err != nil {
				b.Fatal(err)
			}
			wcancel()
			elapsed += time.Since(start)
			b.StopTimer()
			cancel()
			<-done
		}
		b.ReportMetric(float64(total*b.N)/elapsed.Seconds(), "events/s")
		b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
	})

	b.Run("baseline_plain_pgx", func(b *testing.B) {
		var elapsed time.Duration
		p := accounts.New()
		types := map[string]bool{}
		for _, t := range p.EventTypes() {
			types[t] = true
		}
		for range b.N {
			b.StopTimer()
			benchReset(b, pool)
			b.StartTimer()
			start := time.Now()
			pos := eventstore.Start
			for {
				events, err := store.ReadAll(context.Background(), pos, 2000)
				if err != nil {
					b.Fatal(err)
				}
				if len(events) == 0 {
					break
				}
				relevant := make([]eventstore.RecordedEvent, 0, len(events))
				for _, e := range events {
					if types[e.Type] {
						relevant = append(relevant, e)
					}
				}
				if err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
					return p.Apply(context.Background(), tx, relevant)
				}); err != nil {
					b.Fatal(err)
				}
				pos = events[len(events)-1].Position
			}
			elapsed += time.Since(start)
		}
		b.ReportMetric(float64(total*b.N)/elapsed.Seconds(), "events/s")
	})
}

// BenchmarkAppendToVisible appends one event every 5 ms (200 appends/s) to
// a running runtime and measures, per append, the time until WaitFor says
// the row is there; it reports p50 and p99 from the Append call (p50-ms,
// p99-ms: includes the append itself) and from Append's return, i.e. the
// commit (commit-p50-ms, commit-p99-ms: the projection's share).
func BenchmarkAppendToVisible(b *testing.B) {
	pool := pgtest.NewPool(b)
	store := newStore(b, pool)
	startRuntime(b, projections.Config{Store: store, Pool: pool, Logger: quietLogger()})
	w := projections.NewWaiter(context.Background(), pool, nil)
	defer w.Close()
	reader := accounts.NewReader(pool)
	const perIteration = 400 // 2 s at 200/s
	var (
		mu        sync.Mutex
		latencies []time.Duration // from the Append call
		afterAck  []time.Duration // from Append's return (the commit)
		wg        sync.WaitGroup
	)
	// One round at the target rate: appends spaced 5 ms apart, each
	// waiting until its row is visible.
	round := func(record bool) {
		tick := time.NewTicker(5 * time.Millisecond)
		for range perIteration {
			<-tick.C
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := uuid.New()
				typ, data, err := account.Encode(account.AccountRegistered{AccountID: id.String(), Email: "b@example.com", RegisteredAt: time.Now()})
				if err != nil {
					b.Error(err)
					return
				}
				start := time.Now()
				res, err := store.Append(context.Background(), account.StreamID(id.String()), eventstore.NoStream,
					eventstore.EventData{ID: uuid.New(), Type: typ, Data: data})
				if err != nil {
					b.Error(err)
					return
				}
				committed := time.Now()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := w.WaitFor(ctx, res.Position, accounts.Name); err != nil {
					b.Error(err)
					return
				}
				d, da := time.Since(start), time.Since(committed)
				if _, err := reader.Get(ctx, id.String()); err != nil {
					b.Error(err)
				}
				if !record {
					return
				}
				mu.Lock()
				latencies = append(latencies, d)
				afterAck = append(afterAck, da)
				mu.Unlock()
			}()
		}
		tick.Stop()
		wg.Wait()
	}
	// Warm up first: the pool opens its connections and each backend
	// compiles es_append on first use, costing a few hundred ms once; that
	// is start-up, not the steady state this measures.
	round(false)
	b.ResetTimer()
	for range b.N {
		round(true)
	}
	b.StopTimer()
	slices.Sort(latencies)
	slices.Sort(afterAck)
	if len(latencies) == 0 {
		return
	}
	q := func(ds []time.Duration, p float64) float64 {
		return float64(ds[min(len(ds)-1, int(p*float64(len(ds))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(latencies, 0.50), "p50-ms")
	b.ReportMetric(q(latencies, 0.99), "p99-ms")
	b.ReportMetric(q(afterAck, 0.50), "commit-p50-ms")
	b.ReportMetric(q(afterAck, 0.99), "commit-p99-ms")
	b.ReportMetric(float64(len(latencies)), "appends")
}
