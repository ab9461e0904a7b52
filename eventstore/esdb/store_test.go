package esdb_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/esdb"
	"github.com/multimedia-portal/multimedia/eventstore/esdb/esdbtestdouble"
	"github.com/multimedia-portal/multimedia/eventstore/eventstoretest"
)

func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// newDouble starts a test double and a Store on it.
func newDouble(t *testing.T) (*esdbtestdouble.Server, *esdb.Store) {
	t.Helper()
	srv, err := esdbtestdouble.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	store, err := esdb.Open(srv.URL(), esdb.Options{Logger: quiet(), MinBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return srv, store
}

// TestContractOnTestDouble runs the shared contract suite against the
// in-process EventStoreDB test double, every time.
func TestContractOnTestDouble(t *testing.T) {
	eventstoretest.Run(t, func(t *testing.T) eventstoretest.Subject {
		srv, store := newDouble(t)
		return eventstoretest.Subject{
			Store:                   store,
			InUse:                   srv.InFlight,
			EventIDsUniquePerStream: true,
		}
	})
}

// TestContractOnServer runs the suite against a real EventStoreDB or
// KurrentDB node when EVENTSTORE_URL names one, for example
// esdb://127.0.0.1:2113?tls=false. Every subtest sees only the events
// appended after it started (see sinceNow), since a real node is never empty.
func TestContractOnServer(t *testing.T) {
	url := os.Getenv("EVENTSTORE_URL")
	if url == "" {
		t.Skip("EVENTSTORE_URL is not set: skipping the contract suite against a real EventStoreDB/KurrentDB " +
			"(start one with `docker compose up -d kurrentdb` and set EVENTSTORE_URL=esdb://127.0.0.1:2113?tls=false)")
	}
	eventstoretest.Run(t, func(t *testing.T) eventstoretest.Subject {
		store, err := esdb.Open(url, esdb.Options{Logger: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		origin, err := store.Head(ctx)
		if err != nil {
			t.Fatalf("EVENTSTORE_URL=%s: %v", url, err)
		}
		return eventstoretest.Subject{Store: sinceNow{Store: store, origin: origin}, EventIDsUniquePerStream: true}
	})
}

// sinceNow shows a shared server's log as if it began at origin: the suite
// asks for a store over an empty log, which a real node cannot give. Only
// the reading side moves; appends go straight to the adapter.
type sinceNow struct {
	*esdb.Store
	origin eventstore.Position
}

func (s sinceNow) floor(p eventstore.Position) eventstore.Position {
	if p.Less(s.origin) {
		return s.origin
	}
	return p
}

func (s sinceNow) ReadAll(ctx context.Context, after eventstore.Position, limit int) ([]eventstore.RecordedEvent, error) {
	return s.Store.ReadAll(ctx, s.floor(after), limit)
}

func (s sinceNow) Subscribe(ctx context.Context, after eventstore.Position, opts eventstore.SubscribeOptions, h eventstore.Handler) error {
	return s.Store.Subscribe(ctx, s.floor(after), opts, h)
}

func (s sinceNow) Head(ctx context.Context) (eventstore.Position, error) {
	h, err := s.Store.Head(ctx)
	if err != nil || s.origin.Less(h) {
		return h, err
	}
	return eventstore.Start, nil
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func appendN(t *testing.T, s eventstore.Store, n int) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	for i := range n {
		e := eventstoretest.Event("Tested.v1", i)
		if _, err := s.Append(ctxT(t), "test-"+uuid.NewString(), eventstore.NoStream, e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	return ids
}

// recorder collects what a subscription hands out.
type recorder struct {
	mu   sync.Mutex
	ids  []uuid.UUID
	last eventstore.Position
	bad  error
}

func (r *recorder) handle(_ context.Context, b eventstore.Batch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range b {
		if r.bad == nil && !r.last.Less(e.Position) {
			r.bad = errors.New("position " + e.Position.String() + " after " + r.last.String())
		}
		r.last = e.Position
		r.ids = append(r.ids, e.ID)
	}
	return nil
}

func (r *recorder) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r.mu.Lock()
		got := len(r.ids)
		r.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscriber has %d of %d events after 20 s", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (r *recorder) check(t *testing.T, want []uuid.UUID) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bad != nil {
		t.Fatal(r.bad)
	}
	if len(r.ids) != len(want) {
		t.Fatalf("events handed out: got %d, want %d (a gap or a duplicate)", len(r.ids), len(want))
	}
	for i := range want {
		if r.ids[i] != want[i] {
			t.Fatalf("event %d: got %s, want %s", i, r.ids[i], want[i])
		}
	}
}

// TestSubscriptionSurvivesDropsAndRestarts: the server drops the
// subscription, then the node restarts (every connection cut) while events
// keep coming; the handler still sees each event once, in order.
func TestSubscriptionSurvivesDropsAndRestarts(t *testing.T) {
	srv, store := newDouble(t)
	want := appendN(t, store, 20)
	rec := &recorder{}
	ctx, stop := context.WithCancel(ctxT(t))
	done := make(chan error, 1)
	go func() {
		done <- store.Subscribe(ctx, eventstore.Start, eventstore.SubscribeOptions{MaxBatch: 3}, rec.handle)
	}()
	rec.waitFor(t, 20)

	srv.DropSubscriptions()
	want = append(want, appendN(t, store, 15)...)
	rec.waitFor(t, 35)

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// Appends right after the restart may meet the reconnecting client.
	deadline := time.Now().Add(10 * time.Second)
	for len(want) < 60 {
		e := eventstoretest.Event("Tested.v1", len(want))
		if _, err := store.Append(ctxT(t), "test-"+uuid.NewString(), eventstore.NoStream, e); err != nil {
			if time.Now().After(deadline) {
				t.Fatalf("appends still fail 10 s after the restart: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		want = append(want, e.ID)
	}
	rec.waitFor(t, 60)
	time.Sleep(50 * time.Millisecond) // room for a late duplicate
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("subscription ended with %v, want context.Canceled", err)
	}
	rec.check(t, want)
}

// TestSystemEventsNeverReachThePort: the server's own $-events in $all are
// skipped by ReadAll, Head and Subscribe, and Append refuses $-types.
func TestSystemEventsNeverReachThePort(t *testing.T) {
	srv, store := newDouble(t)
	ctx := ctxT(t)
	ids := appendN(t, store, 3)
	srv.AppendSystemEvent("$stats-127.0.0.1:2113", "$statsCollected")
	got, err := store.ReadAll(ctx, eventstore.Start, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].ID != ids[2] {
		t.Fatalf("ReadAll: got %d events, want the 3 appended", len(got))
	}
	head, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head != got[2].Position {
		t.Fatalf("head: got %v, want %v (the last event that is not a system event)", head, got[2].Position)
	}
	if rest, err := store.ReadAll(ctx, head, 10); err != nil || len(rest) != 0 {
		t.Fatalf("ReadAll after the head: %d events, %v; want none", len(rest), err)
	}

	rec := &recorder{}
	subCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- store.Subscribe(subCtx, eventstore.Start, eventstore.SubscribeOptions{}, rec.handle) }()
	srv.AppendSystemEvent("$stats-127.0.0.1:2113", "$statsCollected")
	ids = append(ids, appendN(t, store, 1)...)
	rec.waitFor(t, 4)
	time.Sleep(50 * time.Millisecond)
	stop()
	<-done
	rec.check(t, ids)

	bad := eventstoretest.Event("$metadata", 1)
	_, err = store.Append(ctx, "test-"+uuid.NewString(), eventstore.Any, bad)
	if !errors.Is(err, eventstore.ErrInvalidEvent) {
		t.Fatalf("append of a $-type: got %v, want ErrInvalidEvent", err)
	}
}

// TestPositionsKeepCommitAndPrepare: like a v20+ node, every event of an
// append gets its own $all position (LogPos, LogPos), commit and prepare
// equal and growing from event to event; the append answers the last
// event's; both numbers survive the round trip, and paging by them
// neither skips nor repeats.
func TestPositionsKeepCommitAndPrepare(t *testing.T) {
	_, store := newDouble(t)
	ctx := ctxT(t)
	batch := []eventstore.EventData{eventstoretest.Event("Tested.v1", 0), eventstoretest.Event("Tested.v1", 1), eventstoretest.Event("Tested.v1", 2)}
	res, err := store.Append(ctx, "test-"+uuid.NewString(), eventstore.NoStream, batch...)
	if err != nil {
		t.Fatal(err)
	}
	var got []eventstore.RecordedEvent
	pos := eventstore.Start
	for {
		page, err := store.ReadAll(ctx, pos, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		pos = page[0].Position
	}
	if len(got) != 3 {
		t.Fatalf("events paged one by one: got %d, want 3", len(got))
	}
	for i, e := range got {
		if e.Position.Commit != e.Position.Prepare || e.Position.Commit == 0 {
			t.Fatalf("event %d at %v: want (LogPos, LogPos), commit equal to prepare", i, e.Position)
		}
		if i > 0 && !got[i-1].Position.Less(e.Position) {
			t.Fatalf("event %d at %v after %v: positions must grow", i, e.Position, got[i-1].Position)
		}
	}
	if res.Position != got[2].Position {
		t.Fatalf("append result position %v, want the last event's %v", res.Position, got[2].Position)
	}
}

// TestUnreachableServer: calls fail with ErrUnavailable, promptly.
func TestUnreachableServer(t *testing.T) {
	srv, err := esdbtestdouble.New()
	if err != nil {
		t.Fatal(err)
	}
	url := srv.URL()
	srv.Close()
	store, err := esdb.Open(url, esdb.Options{Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = store.Append(ctx, "s", eventstore.Any, eventstoretest.Event("Tested.v1", 0))
	if !errors.Is(err, eventstore.ErrUnavailable) {
		t.Fatalf("append: got %v, want ErrUnavailable", err)
	}
	if _, err := store.Head(ctx); !errors.Is(err, eventstore.ErrUnavailable) {
		t.Fatalf("head: got %v, want ErrUnavailable", err)
	}
}

func TestOpenRejectsBadConnectionString(t *testing.T) {
	if _, err := esdb.Open("http://127.0.0.1:2113", esdb.Options{}); err == nil {
		t.Fatal("Open accepted an http:// URL")
	}
	s, err := esdb.Open("kurrentdb://127.0.0.1:2113?tls=false", esdb.Options{Logger: quiet()})
	if err != nil {
		t.Fatalf("kurrentdb:// URL: %v", err)
	}
	_ = s.Close()
}
