package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// The benchmarks of the Postgres adapter, each next to its baseline: the same
// rows written with plain pgx INSERTs into a table of the same shape
// (es_events' columns, defaults and indexes) without any event-store logic.
// Run: make bench BENCH=. PKGS=./eventstore/postgres/

var (
	benchData = json.RawMessage(`{"video_id":"5f0c6a52-1d7e-4d55-9a49-8f1f1d3c2e10","format":"mp4-1080p","at":"2026-11-28T10:00:00Z"}`)
	benchMeta = json.RawMessage(`{"actor":"bench","correlation_id":"c0ffee","client_ip":"127.0.0.1"}`)
)

func benchEvent() eventstore.EventData {
	return eventstore.EventData{ID: uuid.New(), Type: "VideoDownloaded.v1", Data: benchData, Metadata: benchMeta}
}

func benchStore(b *testing.B) (*postgres.Store, *pgxpool.Pool) {
	b.Helper()
	pool := pgtest.NewPool(b)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "CREATE TABLE bench_plain (LIKE es_events INCLUDING ALL)"); err != nil {
		b.Fatal(err)
	}
	s := postgres.New(ctx, pool, postgres.Options{})
	b.Cleanup(s.Close)
	return s, pool
}

func reportRate(b *testing.B, events int) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// writers runs b.N operations spread over n goroutines, each with its own
// stream and version counter.
func writers(b *testing.B, n int, op func(ctx context.Context, stream string, version int64) error) {
	b.Helper()
	var next atomic.Int64
	errs := make(chan error, n)
	b.ResetTimer()
	for w := range n {
		go func() {
			stream := fmt.Sprintf("bench-%d-%s", w, uuid.NewString())
			version := int64(-1)
			for next.Add(1) <= int64(b.N) {
				version++
				if err := op(context.Background(), stream, version); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
}

func BenchmarkAppendOneEvent(b *testing.B) {
	for _, n := range []int{1, 16} {
		b.Run(fmt.Sprintf("writers=%d", n), func(b *testing.B) {
			s, _ := benchStore(b)
			writers(b, n, func(ctx context.Context, stream string, version int64) error {
				expected := eventstore.NoStream
				if version > 0 {
					expected = eventstore.Exact(uint64(version - 1))
				}
				_, err := s.Append(ctx, stream, expected, benchEvent())
				return err
			})
			reportRate(b, b.N)
		})
	}
}

const plainInsert = `INSERT INTO bench_plain (event_id, stream_id, version, type, data, metadata) VALUES ($1, $2, $3, $4, $5, $6)`

func BenchmarkBaselinePlainInsertOneRow(b *testing.B) {
	for _, n := range []int{1, 16} {
		b.Run(fmt.Sprintf("writers=%d", n), func(b *testing.B) {
			_, pool := benchStore(b)
			writers(b, n, func(ctx context.Context, stream string, version int64) error {
				e := benchEvent()
				_, err := pool.Exec(ctx, plainInsert, [16]byte(e.ID), stream, version, e.Type, string(e.Data), string(e.Metadata))
				return err
			})
			reportRate(b, b.N)
		})
	}
}

func BenchmarkAppend100Events(b *testing.B) {
	s, _ := benchStore(b)
	writers(b, 1, func(ctx context.Context, stream string, version int64) error {
		batch := make([]eventstore.EventData, 100)
		for i := range batch {
			batch[i] = benchEvent()
		}
		expected := eventstore.NoStream
		if version > 0 {
			expected = eventstore.Exact(uint64(version*100 - 1))
		}
		_, err := s.Append(ctx, stream, expected, batch...)
		return err
	})
	reportRate(b, b.N*100)
}

func BenchmarkBaselinePlainInsert100RowsPerTx(b *testing.B) {
	_, pool := benchStore(b)
	writers(b, 1, func(ctx context.Context, stream string, version int64) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			batch := &pgx.Batch{}
			for i := range 100 {
				e := benchEvent()
				batch.Queue(plainInsert, [16]byte(e.ID), stream, version*100+int64(i), e.Type, string(e.Data), string(e.Metadata))
			}
			return tx.SendBatch(ctx, batch).Close()
		})
	})
	reportRate(b, b.N*100)
}

// BenchmarkSubscriptionCatchUp reads a pre-filled log of 200,000 events
// through Subscribe, b.N times.
func BenchmarkSubscriptionCatchUp(b *testing.B) {
	const total = 200_000
	s, _ := benchStore(b)
	ctx := context.Background()
	var last eventstore.AppendResult
	for i := 0; i < total; i += 1000 {
		batch := make([]eventstore.EventData, 1000)
		for j := range batch {
			batch[j] = benchEvent()
		}
		res, err := s.Append(ctx, fmt.Sprintf("fill-%d", i), eventstore.NoStream, batch...)
		if err != nil {
			b.Fatal(err)
		}
		last = res
	}
	b.ResetTimer()
	for range b.N {
		subCtx, stop := context.WithCancel(ctx)
		n := 0
		err := s.Subscribe(subCtx, eventstore.Start, eventstore.SubscribeOptions{MaxBatch: 5000}, func(_ context.Context, batch eventstore.Batch) error {
			n += len(batch)
			if !batch[len(batch)-1].Position.Less(last.Position) {
				stop()
			}
			return nil
		})
		stop()
		if n != total {
			b.Fatalf("caught up %d events, want %d (%v)", n, total, err)
		}
	}
	b.StopTimer()
	reportRate(b, b.N*total)
}
