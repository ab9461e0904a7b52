package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// benchAppend appends one command-sized event per iteration to a stream of
// its own with an exact version, as the account commands do: b.N/10
// streams of 10 events.
func benchAppend(b *testing.B, chained bool) {
	pool := pgtest.NewPool(b)
	raw := postgres.New(context.Background(), pool, postgres.Options{})
	b.Cleanup(raw.Close)
	var store eventstore.Store = raw
	if chained {
		store = audit.NewChainedStore(raw)
	}
	md := json.RawMessage(`{"actor":"anonymous","client_ip":"192.0.2.1","correlation_id":"c","causation_id":"c","occurred_at":"2026-11-28T15:00:00Z"}`)
	data := json.RawMessage(`{"account_id":"7d3f0c52-8a3b-4c43-9a54-0c2a4c4d2f11","at":"2026-11-28T15:00:00Z","session_id":"s"}`)
	ctx := context.Background()
	b.ResetTimer()
	stream := ""
	for i := range b.N {
		if i%10 == 0 {
			stream = "bench-" + uuid.NewString()
		}
		exp := eventstore.NoStream
		if i%10 > 0 {
			exp = eventstore.Exact(uint64(i%10 - 1))
		}
		if _, err := store.Append(ctx, stream, exp, eventstore.EventData{ID: uuid.New(), Type: "LoggedIn.v1", Data: data, Metadata: md}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendPlain(b *testing.B)   { benchAppend(b, false) }
func BenchmarkAppendChained(b *testing.B) { benchAppend(b, true) }

// BenchmarkVerifyAll walks a log of 20,000 chained events per iteration.
func BenchmarkVerifyAll(b *testing.B) {
	pool := pgtest.NewPool(b)
	raw := postgres.New(context.Background(), pool, postgres.Options{})
	b.Cleanup(raw.Close)
	store := audit.NewChainedStore(raw)
	ctx := context.Background()
	const streams, per = 500, 40
	var last eventstore.Position
	for s := range streams {
		batch := make([]eventstore.EventData, per)
		for i := range batch {
			batch[i] = eventstore.EventData{ID: uuid.New(), Type: "Tick.v1", Data: json.RawMessage(fmt.Sprintf(`{"s":%d,"i":%d,"at":"2026-11-28T15:00:00Z"}`, s, i)),
				Metadata: json.RawMessage(`{"actor":"anonymous","client_ip":"192.0.2.1","occurred_at":"2026-11-28T15:00:00Z"}`)}
		}
		res, err := store.Append(ctx, fmt.Sprintf("bench-%d", s), eventstore.NoStream, batch...)
		if err != nil {
			b.Fatal(err)
		}
		last = res.Position
	}
	waitForHead(b, store, last)
	b.ResetTimer()
	for range b.N {
		r, err := audit.VerifyAll(ctx, store, nil)
		if err != nil || !r.OK() || r.Events != streams*per {
			b.Fatalf("%+v %v", r, err)
		}
	}
	b.ReportMetric(float64(streams*per*b.N)/b.Elapsed().Seconds(), "events/s")
}
