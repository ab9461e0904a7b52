package postgres_test

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
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/eventstoretest"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// adversarialOp is one append of TestAdversarialAppends and its answer.
type adversarialOp struct {
	store    int
	stream   string
	expected eventstore.ExpectedVersion
	events   []eventstore.EventData
	fresh    []uuid.UUID // ids no other append uses
	kind     string      // "ok", "bad" (data Postgres refuses), "dup" (an id stored before)
	res      eventstore.AppendResult
	err      error
	unknown  bool // given up (ErrUnavailable) and not retried: stored or not
	retried  bool // given up, then appended again with the same ids
}

// TestAdversarialAppends: three Stores on one database (as three
// processes) with one or two append slots, tiny known-version caches and
// small groups, ten writers appending to seven streams with stale exact
// versions, "no stream" races, any and "stream exists", batches of one to
// three events, refused data (\u0000, numeric overflow, not JSON, not
// UTF-8, a lone surrogate), ids stored before, and appends given up
// mid-flight (some retried with the same ids). Read back, every answer
// must hold: a success's events are stored in order where its expected
// version says, with its NextExpectedVersion and Position; a refusal wrote
// nothing and has the right code, its message no event data; no stream has
// a gap or a duplicate version; and subscribers of two Stores get every
// event once, in order.
func TestAdversarialAppends(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pool := pgtest.NewPool(t)
	const nStores = 3
	var stores []*postgres.Store
	for i := range nStores {
		p := pool
		if i > 0 {
			var err error
			p, err = pgxpool.New(ctx, pool.Config().ConnString())
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
		}
		s := postgres.New(ctx, p, postgres.Options{MaxConcurrentAppends: 1 + i%2, KnownStreams: []int{100, 1, 3}[i], FallbackPoll: time.Minute, MaxGroup: 3 + i})
		defer s.Close()
		stores = append(stores, s)
	}
	// Subscribers of two Stores check the order as they go.
	type sub struct {
		mu  sync.Mutex
		got []eventstore.RecordedEvent
		err error
	}
	subs := make([]*sub, 2)
	subCtx, subCancel := context.WithCancel(ctx)
	var subWG sync.WaitGroup
	for i := range subs {
		sb := &sub{}
		subs[i] = sb
		subWG.Add(1)
		go func() {
			defer subWG.Done()
			err := stores[i].Subscribe(subCtx, eventstore.Start, eventstore.SubscribeOptions{MaxBatch: 7}, func(_ context.Context, b eventstore.Batch) error {
				sb.mu.Lock()
				defer sb.mu.Unlock()
				for _, e := range b {
					if n := len(sb.got); n > 0 && !sb.got[n-1].Position.Less(e.Position) {
						return fmt.Errorf("out of order: %v after %v", e.Position, sb.got[n-1].Position)
					}
					sb.got = append(sb.got, e)
				}
				return nil
			})
			if !errors.Is(err, context.Canceled) {
				sb.mu.Lock()
				sb.err = err
				sb.mu.Unlock()
			}
		}()
	}

	streams := []string{"s0", "s1", "s2", "s3", "s4", "s5", "s6"}
	var (
		mu       sync.Mutex
		ops      []*adversarialOp
		storedID []uuid.UUID // ids of successes (for dup attempts)
		lastNEV  = map[string]uint64{}
	)
	const workers, perWorker = 10, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 42))
			for range perWorker {
				op := &adversarialOp{store: r.IntN(nStores), stream: streams[r.IntN(len(streams))], kind: "ok"}
				mu.Lock()
				nev, seen := lastNEV[op.stream]
				var dupID uuid.UUID
				if len(storedID) > 0 {
					dupID = storedID[r.IntN(len(storedID))]
				}
				mu.Unlock()
				switch x := r.IntN(10); {
				case x < 7 && seen:
					v := nev
					if r.IntN(3) == 0 && v > 0 {
						v -= uint64(r.IntN(int(min(v, 3))) + 1)
					}
					op.expected = eventstore.Exact(v)
				case x < 8:
					op.expected = eventstore.NoStream
				case x < 9:
					op.expected = eventstore.Any
				default:
					op.expected = eventstore.StreamExists
				}
				n := 1 + r.IntN(3)
				for i := range n {
					e := eventstoretest.Event("T.v1", i)
					e.Data = json.RawMessage(fmt.Sprintf(`{"SECRET":%d}`, r.IntN(1000)))
					op.events = append(op.events, e)
					op.fresh = append(op.fresh, e.ID)
				}
				switch y := r.IntN(12); {
				case y == 0:
					bad := []string{`{"SECRET":"\u0000"}`, `{"SECRET":1e999999}`, `{SECRET`, "{\"SECRET\":\"\xff\"}", `"SECRET\uDC00"`}[r.IntN(5)]
					op.events[r.IntN(n)].Data = json.RawMessage(bad)
					op.kind = "bad"
				case y == 1 && dupID != uuid.Nil:
					i := r.IntN(n)
					op.events[i].ID = dupID
					op.fresh = append(op.fresh[:i:i], op.fresh[i+1:]...)
					op.kind = "dup"
				}
				s := stores[op.store]
				if r.IntN(6) == 0 {
					cctx, ccancel := context.WithTimeout(ctx, time.Duration(r.IntN(3000))*time.Microsecond)
					op.res, op.err = s.Append(cctx, op.stream, op.expected, op.events...)
					ccancel()
					if errors.Is(op.err, eventstore.ErrUnavailable) {
						if r.IntN(2) == 0 {
							op.unknown = true
						} else {
							op.retried = true
							op.res, op.err = stores[r.IntN(nStores)].Append(ctx, op.stream, op.expected, op.events...)
						}
					}
				} else {
					op.res, op.err = s.Append(ctx, op.stream, op.expected, op.events...)
				}
				mu.Lock()
				ops = append(ops, op)
				if op.err == nil {
					storedID = append(storedID, op.events[0].ID)
					if op.res.NextExpectedVersion > lastNEV[op.stream] || !seen {
						lastNEV[op.stream] = op.res.NextExpectedVersion
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// Appends given up may still commit on the server: wait for them, then
	// wake every Store's subscribers once (no one announced those).
	waitFor(t, "appends given up to end", func() bool {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state <> 'idle' AND pid <> pg_backend_pid()`).Scan(&n)
		return err == nil && n == 0
	})
	for i, s := range stores {
		if _, err := s.Append(ctx, fmt.Sprintf("wake-%d", i), eventstore.NoStream, eventstoretest.Event("T.v1", 0)); err != nil {
			t.Fatal(err)
		}
	}

	// Read everything back.
	var all []eventstore.RecordedEvent
	pos := eventstore.Start
	for {
		page, err := stores[2].ReadAll(ctx, pos, 100)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < 100 {
			break
		}
		pos = page[len(page)-1].Position
	}
	byID := map[uuid.UUID]eventstore.RecordedEvent{}
	perStream := map[string][]eventstore.RecordedEvent{}
	for i, e := range all {
		if i > 0 && !all[i-1].Position.Less(e.Position) {
			t.Errorf("ReadAll out of order at %d", i)
		}
		if _, ok := byID[e.ID]; ok {
			t.Errorf("id %v stored twice", e.ID)
		}
		byID[e.ID] = e
		perStream[e.StreamID] = append(perStream[e.StreamID], e)
	}
	for s, evs := range perStream {
		rs, err := stores[0].ReadStream(ctx, s, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != len(evs) {
			t.Errorf("stream %s: ReadStream %d events, ReadAll %d", s, len(rs), len(evs))
		}
		for i, e := range rs {
			if e.Version != uint64(i) {
				t.Errorf("stream %s: event %d has version %d", s, i, e.Version)
			}
		}
	}
	counts := map[string]int{}
	for _, op := range ops {
		key := op.kind
		if op.err != nil {
			key += "/" + string(eventstore.CodeOf(op.err))
		} else {
			key += "/ok"
		}
		counts[key]++
		if op.err != nil && strings.Contains(op.err.Error(), "SECRET") {
			t.Errorf("error quotes data: %v", op.err)
		}
		nStored := 0
		for _, id := range op.fresh {
			if _, ok := byID[id]; ok {
				nStored++
			}
		}
		if nStored != 0 && nStored != len(op.fresh) {
			t.Errorf("op %s %v: %d of %d fresh events stored", op.stream, op.expected, nStored, len(op.fresh))
		}
		switch {
		case op.err == nil:
			if op.kind == "dup" && len(op.events) == 1 {
				got := byID[op.events[0].ID]
				if got.StreamID != op.stream || got.Version != op.res.NextExpectedVersion || got.Position != op.res.Position {
					t.Errorf("dup success %+v but stored %s v%d %v", op.res, got.StreamID, got.Version, got.Position)
				}
				continue
			}
			if op.kind != "ok" {
				t.Errorf("op kind %s on %s succeeded: %+v", op.kind, op.stream, op.res)
				continue
			}
			if nStored != len(op.fresh) {
				t.Errorf("success on %s not stored", op.stream)
				continue
			}
			first := byID[op.events[0].ID]
			for i, e := range op.events {
				got := byID[e.ID]
				if got.StreamID != op.stream || got.Version != first.Version+uint64(i) || string(normJSON(got.Data)) != string(normJSON(e.Data)) {
					t.Errorf("op on %s: event %d stored as %s v%d %s", op.stream, i, got.StreamID, got.Version, got.Data)
				}
			}
			last := byID[op.events[len(op.events)-1].ID]
			if op.res.NextExpectedVersion != last.Version || op.res.Position != last.Position {
				t.Errorf("op on %s %v: result %+v, stored last v%d at %v", op.stream, op.expected, op.res, last.Version, last.Position)
			}
			if v, ok := op.expected.Exact(); ok && first.Version != v+1 {
				t.Errorf("op on %s exact %d stored at %d", op.stream, v, first.Version)
			}
			if op.expected.IsNoStream() && first.Version != 0 {
				t.Errorf("op on %s no stream stored at %d", op.stream, first.Version)
			}
			if op.expected.IsStreamExists() && first.Version == 0 {
				t.Errorf("op on %s stream exists stored at 0", op.stream)
			}
		case op.unknown:
			// Stored or not, but all or nothing (above).
		default:
			if nStored != 0 {
				t.Errorf("refused op on %s (%v) stored its events", op.stream, op.err)
			}
			var e *eventstore.Error
			errors.As(op.err, &e)
			switch op.kind {
			case "bad":
				if e == nil || e.Code != eventstore.ErrorCodeInvalidEvent {
					t.Errorf("bad op: %v", op.err)
				}
			case "dup":
				if e == nil || (e.Code != eventstore.ErrorCodeDuplicateEvent && e.Code != eventstore.ErrorCodeWrongExpectedVersion) {
					t.Errorf("dup op: %v", op.err)
				}
			default:
				if e == nil || e.Code != eventstore.ErrorCodeWrongExpectedVersion {
					t.Errorf("ok op on %s %v: %v", op.stream, op.expected, op.err)
					continue
				}
				if op.expected.Matches(e.Actual) || e.Actual < -1 || e.Actual >= int64(len(perStream[op.stream])) {
					t.Errorf("wrong version on %s %v with actual %d", op.stream, op.expected, e.Actual)
				}
			}
		}
	}
	t.Logf("ops %d, events %d, %v", len(ops), len(all), counts)
	// The subscribers got exactly what ReadAll returns.
	deadline := time.Now().Add(10 * time.Second)
	for i, sb := range subs {
		for {
			sb.mu.Lock()
			n, err := len(sb.got), sb.err
			sb.mu.Unlock()
			if err != nil {
				t.Fatalf("subscriber %d: %v", i, err)
			}
			if n >= len(all) || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	subCancel()
	subWG.Wait()
	for i, sb := range subs {
		if len(sb.got) != len(all) {
			t.Errorf("subscriber %d got %d events, want %d", i, len(sb.got), len(all))
		}
		for j := range min(len(sb.got), len(all)) {
			if sb.got[j].ID != all[j].ID || sb.got[j].Position != all[j].Position {
				t.Errorf("subscriber %d event %d differs", i, j)
				break
			}
		}
	}
}

// normJSON is b as encoding/json writes it, to compare JSON that jsonb
// stored (with spaces after colons) with JSON as appended.
func normJSON(b []byte) []byte {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return b
	}
	out, _ := json.Marshal(v)
	return out
}
