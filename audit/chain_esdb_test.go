package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/esdb"
	"github.com/multimedia-portal/multimedia/eventstore/esdb/esdbtestdouble"
	"github.com/multimedia-portal/multimedia/eventstore/eventstoretest"
)

// newESDB starts an EventStoreDB test double and returns the adapter on it
// (unchained) and the server.
func newESDB(t *testing.T) (*esdb.Store, *esdbtestdouble.Server) {
	t.Helper()
	srv, err := esdbtestdouble.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	store, err := esdb.Open(srv.URL(), esdb.Options{Logger: quiet, MinBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store, srv
}

// TestContractChainedOnESDBDouble runs the event store contract suite over
// the chain wrapping the EventStoreDB adapter on its test double, as
// production wires an esdb:// EVENT_STORE.
func TestContractChainedOnESDBDouble(t *testing.T) {
	t.Parallel()
	eventstoretest.Run(t, func(t *testing.T) eventstoretest.Subject {
		store, srv := newESDB(t)
		return eventstoretest.Subject{
			Store:                   chainFieldsHidden{audit.NewChainedStore(store)},
			InUse:                   srv.InFlight,
			EventIDsUniquePerStream: true,
		}
	})
}

// TestChainedReappendOnESDBDouble: re-appending a stored batch with Any or
// StreamExists through the chain on EventStoreDB is a no-op answering the
// original result, also after other events followed it and from another
// process; a batch only partly stored is a duplicate. Each id stays in the
// stream once and the chain verifies.
func TestChainedReappendOnESDBDouble(t *testing.T) {
	t.Parallel()
	inner, srv := newESDB(t)
	// A node forgets ids for Any and StreamExists once its cache evicts
	// them: with none cached, the chain's repeats must still be no-ops.
	srv.SetIDCacheBytes(1)
	ctx := ctxT(t)
	store := audit.NewChainedStore(inner)
	const stream = "account-reappend"
	batch := []eventstore.EventData{testEvent(1), testEvent(2), testEvent(3)}
	exps := []eventstore.ExpectedVersion{eventstore.Any, eventstore.StreamExists}

	opening := testEvent(0)
	if _, err := store.Append(ctx, stream, eventstore.NoStream, opening); err != nil {
		t.Fatal(err)
	}
	first, err := store.Append(ctx, stream, eventstore.Any, batch...)
	if err != nil {
		t.Fatal(err)
	}
	if first.NextExpectedVersion != 3 || first.Position.IsZero() {
		t.Fatalf("first append: %+v, want version 3 and a position", first)
	}
	reappend := func(t *testing.T, s eventstore.Store, when string) {
		t.Helper()
		for _, exp := range exps {
			for range 2 {
				again, err := s.Append(ctx, stream, exp, batch...)
				if err != nil || again != first {
					t.Fatalf("re-append with %s %s: %+v, %v; want the original %+v", exp, when, again, err, first)
				}
			}
		}
	}
	reappend(t, store, "right after the append")

	// Another process appends after the batch; re-appends from this one, and
	// from a third one that has not seen the stream yet, still find it.
	other := audit.NewChainedStore(inner)
	if _, err := other.Append(ctx, stream, eventstore.StreamExists, testEvent(4), testEvent(5)); err != nil {
		t.Fatal(err)
	}
	reappend(t, store, "after another process appended")
	reappend(t, audit.NewChainedStore(inner), "from a fresh process")

	// The same ids in another order, or mixed with new ones, are not a
	// repeat: a duplicate, and nothing is written.
	for name, b := range map[string][]eventstore.EventData{
		"reordered":         {batch[1], batch[0], batch[2]},
		"with a new event":  {batch[0], batch[1], batch[2], testEvent(6)},
		"new event first":   {testEvent(7), batch[2]},
		"the batch's tail":  {batch[1], batch[2], testEvent(8)},
		"one id not first":  {testEvent(9), batch[1]},
		"opening and batch": {opening, batch[0], batch[2]},
	} {
		for _, exp := range exps {
			if _, err := store.Append(ctx, stream, exp, b...); !errors.Is(err, eventstore.ErrDuplicateEvent) {
				t.Fatalf("%s with %s: got %v, want ErrDuplicateEvent", name, exp, err)
			}
		}
	}

	events, err := store.ReadStream(ctx, stream, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 6 {
		t.Fatalf("stream holds %d events, want 6 (1 + the batch once + 2)", len(events))
	}
	seen := map[uuid.UUID]int{}
	for _, e := range events {
		seen[e.ID]++
	}
	for _, e := range append([]eventstore.EventData{opening}, batch...) {
		if seen[e.ID] != 1 {
			t.Fatalf("event %s is stored %d times, want once", e.ID, seen[e.ID])
		}
	}
	for i, e := range batch {
		if got := events[1+i]; got.ID != e.ID || got.Version != uint64(1+i) {
			t.Fatalf("version %d: id %s, want %s", 1+i, got.ID, e.ID)
		}
	}
	for _, s := range []string{stream, ""} {
		r, err := audit.Verify(ctx, store, s)
		if err != nil || !r.OK() || r.Events != 6 {
			t.Fatalf("verify %q: %+v, %v; want 6 intact events", s, r, err)
		}
	}
	// The chain turned every Any and StreamExists into NoStream or Exact.
	if c := srv.AppendConditions(); c["any"]+c["stream_exists"] != 0 {
		t.Fatalf("appends received by condition %v: want only no_stream and revision", c)
	}
}

// TestChainedConflictOnESDBDouble: a refused exact append through the chain
// on EventStoreDB reports the caller's condition and the stream's version.
func TestChainedConflictOnESDBDouble(t *testing.T) {
	t.Parallel()
	inner, _ := newESDB(t)
	ctx := ctxT(t)
	store := audit.NewChainedStore(inner)
	if _, err := store.Append(ctx, "s", eventstore.NoStream, testEvent(0), testEvent(1)); err != nil {
		t.Fatal(err)
	}
	_, err := store.Append(ctx, "s", eventstore.Exact(0), testEvent(2))
	var ee *eventstore.Error
	if !errors.As(err, &ee) || ee.Code != eventstore.ErrorCodeWrongExpectedVersion || ee.Actual != 1 || ee.Expected != eventstore.Exact(0) {
		t.Fatalf("stale exact append: %v", err)
	}
}

func testEvent(n int) eventstore.EventData {
	return eventstore.EventData{ID: uuid.New(), Type: "Tested.v1", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)),
		Metadata: json.RawMessage(`{"actor":"test"}`)}
}

// chainFieldsHidden shows a chained store's events with the chain's
// metadata fields removed, as the contract suite compares stored metadata
// with what it appended. A read event without its hash is an error: every
// event of the suite goes through the chain.
type chainFieldsHidden struct{ eventstore.Store }

func (s chainFieldsHidden) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]eventstore.RecordedEvent, error) {
	events, err := s.Store.ReadStream(ctx, stream, from, limit)
	if err != nil {
		return nil, err
	}
	return events, hideChainFields(events)
}

func (s chainFieldsHidden) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	events, err := s.Store.ReadAll(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	return events, hideChainFields(events)
}

func (s chainFieldsHidden) Subscribe(ctx context.Context, after eventstore.Position, opts eventstore.SubscribeOptions, handle eventstore.Handler) error {
	return s.Store.Subscribe(ctx, after, opts, func(ctx context.Context, b eventstore.Batch) error {
		if err := hideChainFields(b); err != nil {
			return err
		}
		return handle(ctx, b)
	})
}

func hideChainFields(events []eventstore.RecordedEvent) error {
	for i, e := range events {
		var md map[string]json.RawMessage
		if err := json.Unmarshal(e.Metadata, &md); err != nil {
			return fmt.Errorf("event %s: metadata: %w", e.ID, err)
		}
		var h string
		if err := json.Unmarshal(md[audit.HashKey], &h); err != nil || len(h) != 64 {
			return fmt.Errorf("event %s of %q at version %d: no chain hash in %s", e.ID, e.StreamID, e.Version, e.Metadata)
		}
		delete(md, audit.HashKey)
		delete(md, audit.PrevHashKey)
		b, err := json.Marshal(md)
		if err != nil {
			return err
		}
		events[i].Metadata = b
	}
	return nil
}
