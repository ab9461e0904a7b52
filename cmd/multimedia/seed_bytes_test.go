package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/eventstore/esdb"
	"github.com/multimedia-portal/multimedia/eventstore/esdb/esdbtestdouble"
)

// TestSeedBatchesByBytes: the seed splits a stream's events into appends
// under EventStoreDB's 1 MiB limit, counting the audit chain's hashes, not
// only into runs of 1,000 events: 1,500 events of about 2 kB each land on
// the EventStoreDB test double (which refuses appends over 1 MiB, as a
// node does) in order, with no stream then exact versions.
func TestSeedBatchesByBytes(t *testing.T) {
	srv, err := esdbtestdouble.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	inner, err := esdb.Open(srv.URL(), esdb.Options{Logger: slog.New(slog.DiscardHandler), MaxAppendBytes: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = inner.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	w := &seedWriter{store: audit.NewChainedStore(inner), now: time.Now(), progress: func(int) {}}
	blob, _ := json.Marshal(map[string]string{"note": strings.Repeat("x", 2000)})
	events := make([]encoded, 1500)
	for i := range events {
		events[i] = encoded{typ: "Seeded.v1", data: blob}
	}
	const stream = "video-6f1c1a52-3d0e-4c55-9d55-6b1de1d5e0a1"
	if err := w.write(ctx, stream, events); err != nil {
		t.Fatalf("seed write of %d bytes: %v", 1500*len(blob), err)
	}
	got, err := inner.ReadStream(ctx, stream, 0, 2000)
	if err != nil || len(got) != 1500 {
		t.Fatalf("stream holds %d events (%v), want 1500", len(got), err)
	}
	if n := w.appends.Load(); n < 4 {
		t.Fatalf("%d appends for about 3 MB, want at least 4", n)
	}
	if c := srv.AppendConditions(); c["any"]+c["stream_exists"] != 0 {
		t.Fatalf("appends by condition %v: want only no_stream and revision", c)
	}
}
