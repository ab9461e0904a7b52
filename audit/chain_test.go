package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/eventstoretest"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// TestContractChainedOnPostgres runs the event store contract suite over
// the chain wrapping the Postgres adapter, as production wires it.
func TestContractChainedOnPostgres(t *testing.T) {
	t.Parallel()
	eventstoretest.Run(t, func(t *testing.T) eventstoretest.Subject {
		pool := pgtest.NewPool(t)
		inner := postgres.New(context.Background(), pool, postgres.Options{})
		t.Cleanup(inner.Close)
		return eventstoretest.Subject{
			Store: chainFieldsHidden{audit.NewChainedStore(inner)},
			InUse: func() int { return int(pool.Stat().AcquiredConns()) },
		}
	})
}

func TestChainedAppendsVerify(t *testing.T) {
	t.Parallel()
	store, _ := newChained(t)
	ctx := ctxT(t)
	id := uuid.NewString()
	history := generateHistory(t, rand.New(rand.NewPCG(1, 2)), id, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 30)
	pos := appendHistory(t, store, id, history)
	waitForHead(t, store, pos[len(pos)-1])

	events, err := store.ReadStream(ctx, account.StreamID(id), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	prev := audit.GenesisHash
	for _, e := range events {
		var md map[string]any
		if err := json.Unmarshal(e.Metadata, &md); err != nil {
			t.Fatal(err)
		}
		if md["prev_hash"] != prev {
			t.Fatalf("version %d: prev_hash %v, want %s", e.Version, md["prev_hash"], prev)
		}
		h, _ := md["hash"].(string)
		if len(h) != 64 || md["actor"] != "anonymous" || md["client_ip"] != "192.0.2.7" {
			t.Fatalf("version %d: metadata %s", e.Version, e.Metadata)
		}
		prev = h
	}
	for _, stream := range []string{account.StreamID(id), ""} {
		r, err := audit.Verify(ctx, store, stream)
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK() || r.Events != 30 || r.Streams != 1 {
			t.Fatalf("verify %q: %+v", stream, r)
		}
	}
}

// TestConcurrentAnyAppendsDoNotFork: writers racing with Any all land, in
// one unbroken chain.
func TestConcurrentAnyAppendsDoNotFork(t *testing.T) {
	t.Parallel()
	store, _ := newChained(t)
	ctx := ctxT(t)
	const writers, each = 6, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e := eventstore.EventData{ID: uuid.New(), Type: "Tick.v1", Data: json.RawMessage(fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))}
				if _, err := store.Append(ctx, "ticks", eventstore.Any, e); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	r, err := audit.VerifyStream(ctx, store, "ticks")
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Events != writers*each {
		t.Fatalf("report %+v", r)
	}
}

func TestReappendIsNoOpAndConditionsHold(t *testing.T) {
	t.Parallel()
	store, _ := newChained(t)
	ctx := ctxT(t)
	batch := []eventstore.EventData{
		{ID: uuid.New(), Type: "A.v1", Data: json.RawMessage(`{"n":1}`)},
		{ID: uuid.New(), Type: "B.v1", Data: json.RawMessage(`{"n":2}`), Metadata: json.RawMessage(`{"actor":"x","hash":"forged","prev_hash":"forged"}`)},
	}
	first, err := store.Append(ctx, "s", eventstore.NoStream, batch...)
	if err != nil {
		t.Fatal(err)
	}
	waitForHead(t, store, first.Position)
	for _, exp := range []eventstore.ExpectedVersion{eventstore.NoStream, eventstore.Any} {
		again, err := store.Append(ctx, "s", exp, batch...)
		if err != nil || again != first {
			t.Fatalf("re-append with %s: %+v %v, want %+v", exp, again, err, first)
		}
	}
	events, _ := store.ReadStream(ctx, "s", 0, 10)
	if len(events) != 2 {
		t.Fatalf("%d events after re-appends", len(events))
	}
	if strings.Contains(string(events[1].Metadata), "forged") {
		t.Fatalf("caller's hash fields kept: %s", events[1].Metadata)
	}
	_, err = store.Append(ctx, "s", eventstore.Exact(0), eventstore.EventData{ID: uuid.New(), Type: "C.v1", Data: json.RawMessage(`{}`)})
	var ee *eventstore.Error
	if !errors.As(err, &ee) || ee.Code != eventstore.ErrorCodeWrongExpectedVersion || ee.Actual != 1 {
		t.Fatalf("stale exact append: %v", err)
	}
	_, err = store.Append(ctx, "empty", eventstore.StreamExists, eventstore.EventData{ID: uuid.New(), Type: "C.v1", Data: json.RawMessage(`{}`)})
	if !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		t.Fatalf("stream exists on an empty stream: %v", err)
	}
	_, err = store.Append(ctx, "s", eventstore.Any, eventstore.EventData{ID: uuid.New(), Type: "C.v1", Data: json.RawMessage(`{}`), Metadata: json.RawMessage(`[1]`)})
	if !errors.Is(err, eventstore.ErrInvalidEvent) || !strings.Contains(err.Error(), "metadata") {
		t.Fatalf("array metadata: %v", err)
	}
	if r, err := audit.VerifyAll(ctx, store, nil); err != nil || !r.OK() || r.Events != 2 {
		t.Fatalf("verify: %+v %v", r, err)
	}
}

// TestVerifyDetectsTampering stores chained accounts in one database, then
// tampers with one account per case directly in es_events and checks that
// both walks (the stream's and the whole log's) name the event, and that
// the untouched account stays intact.
func TestVerifyDetectsTampering(t *testing.T) {
	t.Parallel()
	store, pool := newChained(t)
	ctx := ctxT(t)
	rnd := rand.New(rand.NewPCG(7, 8))
	exec := func(t *testing.T, sql string, args ...any) {
		t.Helper()
		tag, err := pool.Exec(ctx, sql, args...)
		if err != nil || tag.RowsAffected() == 0 {
			t.Fatalf("tamper %q: %v (%d rows)", sql, err, tag.RowsAffected())
		}
	}
	type tc struct {
		name   string
		tamper func(t *testing.T, id string, ev []eventstore.RecordedEvent)
		// want returns the event the walks must name, as it is stored after
		// the tampering, and a word of the reason.
		want func(ev []eventstore.RecordedEvent) (stream, log eventstore.RecordedEvent, reason string)
	}
	same := func(i int, reason string) func(ev []eventstore.RecordedEvent) (eventstore.RecordedEvent, eventstore.RecordedEvent, string) {
		return func(ev []eventstore.RecordedEvent) (eventstore.RecordedEvent, eventstore.RecordedEvent, string) {
			return ev[i], ev[i], reason
		}
	}
	cases := []tc{
		{"edited data", func(t *testing.T, _ string, ev []eventstore.RecordedEvent) {
			exec(t, `UPDATE es_events SET data = jsonb_set(data, '{account_id}', '"00000000-0000-0000-0000-000000000000"') WHERE event_id = $1`, ev[3].ID)
		}, same(3, "hash mismatch")},
		{"edited metadata", func(t *testing.T, _ string, ev []eventstore.RecordedEvent) {
			exec(t, `UPDATE es_events SET metadata = jsonb_set(metadata, '{client_ip}', '"203.0.113.9"') WHERE event_id = $1`, ev[5].ID)
		}, same(5, "hash mismatch")},
		{"edited type", func(t *testing.T, _ string, ev []eventstore.RecordedEvent) {
			exec(t, `UPDATE es_events SET type = 'AccountVerified.v1' WHERE event_id = $1`, ev[6].ID)
		}, same(6, "hash mismatch")},
		{"edit with its own hash recomputed", func(t *testing.T, id string, ev []eventstore.RecordedEvent) {
			// The forger recomputes the edited event's hash; the next link breaks.
			e := ev[2]
			data := []byte(`{"account_id":"` + id + `","at":"2020-01-01T00:00:00Z"}`)
			md := map[string]any{}
			if err := json.Unmarshal(e.Metadata, &md); err != nil {
				t.Fatal(err)
			}
			h, err := audit.HashEvent(md["prev_hash"].(string), e.StreamID, e.Version, account.AccountVerifiedType, data, e.Metadata)
			if err != nil {
				t.Fatal(err)
			}
			md["hash"] = h
			mdb, _ := json.Marshal(md)
			exec(t, `UPDATE es_events SET type = $4, data = $2, metadata = $3 WHERE event_id = $1`, e.ID, string(data), string(mdb), account.AccountVerifiedType)
		}, same(3, "prev_hash")},
		{"deleted event", func(t *testing.T, _ string, ev []eventstore.RecordedEvent) {
			exec(t, `DELETE FROM es_events WHERE event_id = $1`, ev[4].ID)
		}, same(5, "version gap")},
		{"deleted first event", func(t *testing.T, _ string, ev []eventstore.RecordedEvent) {
			exec(t, `DELETE FROM es_events WHERE event_id = $1`, ev[0].ID)
		}, same(1, "starts at version 1")},
		{"deleted event, later ones renumbered", func(t *testing.T, id string, ev []eventstore.RecordedEvent) {
			exec(t, `DELETE FROM es_events WHERE event_id = $1`, ev[4].ID)
			exec(t, `UPDATE es_events SET version = version - 1 WHERE stream_id = $1 AND version > 4`, account.StreamID(id))
		}, func(ev []eventstore.RecordedEvent) (eventstore.RecordedEvent, eventstore.RecordedEvent, string) {
			w := ev[5]
			w.Version = 4
			return w, w, "prev_hash"
		}},
		{"swapped versions", func(t *testing.T, id string, ev []eventstore.RecordedEvent) {
			// Through a free version, for the unique constraint.
			stream := account.StreamID(id)
			exec(t, `UPDATE es_events SET version = 1000 WHERE stream_id = $1 AND version = 2`, stream)
			exec(t, `UPDATE es_events SET version = 2 WHERE stream_id = $1 AND version = 3`, stream)
			exec(t, `UPDATE es_events SET version = 3 WHERE stream_id = $1 AND version = 1000`, stream)
		}, func(ev []eventstore.RecordedEvent) (eventstore.RecordedEvent, eventstore.RecordedEvent, string) {
			// The stream walk meets the old event 3 at version 2 (its
			// prev_hash is wrong); the log walk, in global order, meets the
			// old event 2 first, now at version 3 (out of order).
			s, l := ev[3], ev[2]
			s.Version, l.Version = 2, 3
			return s, l, ""
		}},
		{"swapped contents", func(t *testing.T, _ string, ev []eventstore.RecordedEvent) {
			exec(t, `WITH a AS (SELECT type, data, metadata FROM es_events WHERE event_id = $1),
b AS (SELECT type, data, metadata FROM es_events WHERE event_id = $2)
UPDATE es_events e SET type = CASE WHEN e.event_id = $1 THEN b.type ELSE a.type END,
  data = CASE WHEN e.event_id = $1 THEN b.data ELSE a.data END,
  metadata = CASE WHEN e.event_id = $1 THEN b.metadata ELSE a.metadata END
FROM a, b WHERE e.event_id IN ($1, $2)`, ev[5].ID, ev[6].ID)
		}, same(5, "prev_hash")},
	}
	ids := make([]string, len(cases)+1) // the last one stays untouched
	var last eventstore.Position
	for i := range ids {
		ids[i] = uuid.NewString()
		pos := appendHistory(t, store, ids[i], generateHistory(t, rnd, ids[i], time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 8))
		last = pos[len(pos)-1]
	}
	waitForHead(t, store, last)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := ids[i]
			events, err := store.ReadStream(ctx, account.StreamID(id), 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			c.tamper(t, id, events)
			ws, wl, reason := c.want(events)
			r, err := audit.VerifyStream(ctx, store, account.StreamID(id))
			if err != nil {
				t.Fatal(err)
			}
			b, ok := r.First()
			if !ok || !names(b, ws) || !strings.Contains(b.Reason, reason) {
				t.Fatalf("stream walk: %+v; want stream %s version %d position %s event %s, reason with %q", r, ws.StreamID, ws.Version, ws.Position, ws.ID, reason)
			}
			t.Logf("stream walk: %s", b)
			r, err = audit.VerifyAll(ctx, store, nil)
			if err != nil {
				t.Fatal(err)
			}
			var found *audit.Break
			for _, br := range r.Breaks {
				if br.Stream == account.StreamID(id) {
					found = &br
				}
			}
			if found == nil || !names(*found, wl) || !strings.Contains(found.Reason, reason) {
				t.Fatalf("log walk: %+v; want stream %s version %d position %s event %s", r, wl.StreamID, wl.Version, wl.Position, wl.ID)
			}
			if len(r.Breaks) != i+1 {
				t.Fatalf("log walk: %d broken streams after %d tamperings: %+v", len(r.Breaks), i+1, r.Breaks)
			}
		})
	}
	r, err := audit.VerifyStream(ctx, store, account.StreamID(ids[len(ids)-1]))
	if err != nil || !r.OK() || r.Events != 8 {
		t.Fatalf("untouched account: %+v %v", r, err)
	}
}

// names reports whether a break names the event e (as now stored).
func names(b audit.Break, e eventstore.RecordedEvent) bool {
	return b.Stream == e.StreamID && b.Version == e.Version && b.Position == e.Position && b.EventID == e.ID
}

func TestVerifyReportsUnchainedEvents(t *testing.T) {
	t.Parallel()
	store, pool := newChained(t)
	ctx := ctxT(t)
	inner := audit.Unchained(store)
	if inner == store {
		t.Fatal("Unchained returned the chained store")
	}
	res, err := inner.Append(ctx, "legacy", eventstore.NoStream, eventstore.EventData{ID: uuid.New(), Type: "Old.v1", Data: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	_ = pool
	r, err := audit.VerifyStream(ctx, store, "legacy")
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := r.First(); !ok || b.Version != 0 || b.Position != res.Position || !strings.Contains(b.Reason, "no hash") {
		t.Fatalf("report %+v", r)
	}
}
