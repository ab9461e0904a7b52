package esdb_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/esdb"
	"github.com/multimedia-portal/multimedia/eventstore/esdb/esdbtestdouble"
	"github.com/multimedia-portal/multimedia/eventstore/eventstoretest"
)

// The tests in this file hold the adapter to what a real KurrentDB node
// does where the double used to be kinder (issue 18): the append size
// limit, the errors a node answers, events the service did not write, the
// bounded id cache behind re-appends with Any, and v20+ positions.

// sized returns n events whose data is about size bytes each.
func sized(n, size int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		data, _ := json.Marshal(map[string]string{"blob": strings.Repeat("x", size)})
		out[i] = eventstore.EventData{ID: uuid.New(), Type: "Tested.v1", Data: data, Metadata: json.RawMessage(`{}`)}
	}
	return out
}

func openOn(t *testing.T, srv *esdbtestdouble.Server, opts esdb.Options) *esdb.Store {
	t.Helper()
	opts.Logger = quiet()
	if opts.MinBackoff == 0 {
		opts.MinBackoff, opts.MaxBackoff = 10*time.Millisecond, 200*time.Millisecond
	}
	s, err := esdb.Open(srv.URL(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func wantEmpty(t *testing.T, s eventstore.Store, stream string) {
	t.Helper()
	got, err := s.ReadStream(ctxT(t), stream, 0, 10)
	if err != nil || len(got) != 0 {
		t.Fatalf("stream %s: %d events, %v; want nothing written", stream, len(got), err)
	}
}

// TestAppendOverMaxAppendSize: an append over the node's 1 MiB is refused
// before it is sent, with ErrInvalidArgument naming its size and the
// limit; one under it goes through; and the double refuses an oversized
// append like the server, writing nothing, when the adapter is told a
// larger limit than the node has.
func TestAppendOverMaxAppendSize(t *testing.T) {
	srv, store := newDouble(t)
	ctx := ctxT(t)
	big := sized(3, 400_000)
	size := eventstore.AppendSize(big)
	stream := "test-" + uuid.NewString()
	_, err := store.Append(ctx, stream, eventstore.NoStream, big...)
	if !errors.Is(err, eventstore.ErrInvalidArgument) || !strings.Contains(err.Error(), strconv.Itoa(size)) ||
		!strings.Contains(err.Error(), strconv.Itoa(eventstore.MaxAppendBytes)) {
		t.Fatalf("append of %d bytes: got %v, want ErrInvalidArgument naming the size and the limit", size, err)
	}
	wantEmpty(t, store, stream)
	if _, err := store.Append(ctx, stream, eventstore.NoStream, big[:2]...); err != nil {
		t.Fatalf("append of %d bytes, under the limit: %v", eventstore.AppendSize(big[:2]), err)
	}

	loose := openOn(t, srv, esdb.Options{MaxAppendBytes: 4 << 20})
	other := "test-" + uuid.NewString()
	_, err = loose.Append(ctx, other, eventstore.NoStream, big...)
	switch {
	case errors.Is(err, eventstore.ErrInvalidArgument) && strings.Contains(err.Error(), "Maximum Append Size of 1048576"):
		// the server's status reached the client
	case errors.Is(err, eventstore.ErrUnavailable) && strings.Contains(err.Error(), strconv.Itoa(size)):
		// the server ended the call while the client was still sending (EOF)
	default:
		t.Fatalf("append of %d bytes to a node whose limit is 1 MiB: got %v", size, err)
	}
	wantEmpty(t, store, other)
}

// TestDeletedStreams: a tombstoned stream refuses every append and read
// with ErrStreamDeleted; a soft-deleted one reads as unknown, refuses
// StreamExists as deleted, and takes NoStream, continuing its revisions
// (the server's undelete), which the adapter reports as they are.
func TestDeletedStreams(t *testing.T) {
	srv, store := newDouble(t)
	ctx := ctxT(t)

	gone := "test-" + uuid.NewString()
	if _, err := store.Append(ctx, gone, eventstore.NoStream, eventstoretest.Event("Tested.v1", 0), eventstoretest.Event("Tested.v1", 1)); err != nil {
		t.Fatal(err)
	}
	srv.TombstoneStream(gone)
	for name, exp := range map[string]eventstore.ExpectedVersion{"no stream": eventstore.NoStream, "exact": eventstore.Exact(1), "any": eventstore.Any, "stream exists": eventstore.StreamExists} {
		_, err := store.Append(ctx, gone, exp, eventstoretest.Event("Tested.v1", 2))
		if !errors.Is(err, eventstore.ErrStreamDeleted) || errors.Is(err, eventstore.ErrUnavailable) {
			t.Fatalf("append (%s) to a tombstoned stream: got %v, want ErrStreamDeleted", name, err)
		}
	}
	if _, err := store.ReadStream(ctx, gone, 0, 10); !errors.Is(err, eventstore.ErrStreamDeleted) {
		t.Fatalf("read of a tombstoned stream: got %v, want ErrStreamDeleted", err)
	}
	all, err := store.ReadAll(ctx, eventstore.Start, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		if strings.HasPrefix(e.Type, "$") {
			t.Fatalf("ReadAll shows the server's %s", e.Type)
		}
	}

	soft := "test-" + uuid.NewString()
	if _, err := store.Append(ctx, soft, eventstore.NoStream, eventstoretest.Event("Tested.v1", 0), eventstoretest.Event("Tested.v1", 1)); err != nil {
		t.Fatal(err)
	}
	srv.DeleteStream(soft)
	wantEmpty(t, store, soft)
	if _, err := store.Append(ctx, soft, eventstore.StreamExists, eventstoretest.Event("Tested.v1", 2)); !errors.Is(err, eventstore.ErrStreamDeleted) {
		t.Fatalf("append (stream exists) to a soft-deleted stream: got %v, want ErrStreamDeleted", err)
	}
	again := eventstoretest.Event("Tested.v1", 3)
	res, err := store.Append(ctx, soft, eventstore.NoStream, again)
	if err != nil || res.NextExpectedVersion != 2 {
		t.Fatalf("append (no stream) to a soft-deleted stream: %+v, %v; want it written at version 2", res, err)
	}
	got, err := store.ReadStream(ctx, soft, 0, 10)
	if err != nil || len(got) != 1 || got[0].ID != again.ID || got[0].Version != 2 {
		t.Fatalf("the recreated stream reads %+v, %v; want only the new event, at version 2", got, err)
	}
}

// TestServerTimeoutIsOutcomeUnknown: a commit timeout (Aborted) may leave
// the append written: the caller gets ErrOutcomeUnknown (still a kind of
// ErrUnavailable), and appending the same events with the same condition
// again answers the original result without writing twice. A timeout of a
// read is only ErrUnavailable.
func TestServerTimeoutIsOutcomeUnknown(t *testing.T) {
	srv, store := newDouble(t)
	ctx := ctxT(t)
	for _, f := range []esdbtestdouble.Fault{esdbtestdouble.FaultTimeout, esdbtestdouble.FaultTimeoutBeforeWrite} {
		stream := "test-" + uuid.NewString()
		evs := []eventstore.EventData{eventstoretest.Event("Tested.v1", 0), eventstoretest.Event("Tested.v1", 1)}
		srv.FailNext(esdbtestdouble.OnAppend, f)
		_, err := store.Append(ctx, stream, eventstore.NoStream, evs...)
		if !errors.Is(err, eventstore.ErrOutcomeUnknown) || !errors.Is(err, eventstore.ErrUnavailable) {
			t.Fatalf("fault %d: append got %v, want ErrOutcomeUnknown", f, err)
		}
		res, err := store.Append(ctx, stream, eventstore.NoStream, evs...)
		if err != nil || res.NextExpectedVersion != 1 {
			t.Fatalf("fault %d: the same append again: %+v, %v", f, res, err)
		}
		got, err := store.ReadStream(ctx, stream, 0, 10)
		if err != nil || len(got) != 2 || res.Position != got[1].Position {
			t.Fatalf("fault %d: stream holds %d events (%v), result at %v; want the 2 events once", f, len(got), err, res.Position)
		}
	}
	srv.FailNext(esdbtestdouble.OnRead, esdbtestdouble.FaultTimeout)
	_, err := store.ReadStream(ctx, "test-"+uuid.NewString(), 0, 1)
	if !errors.Is(err, eventstore.ErrUnavailable) || errors.Is(err, eventstore.ErrOutcomeUnknown) {
		t.Fatalf("read timed out: got %v, want ErrUnavailable only", err)
	}
}

// TestNotLeaderIsRetriedOnTheLeader: a follower's not-leader answer makes
// the client reconnect to the leader it names; the adapter retries there
// (a follower writes nothing), a few times, then reports ErrUnavailable.
func TestNotLeaderIsRetriedOnTheLeader(t *testing.T) {
	srv, store := newDouble(t)
	ctx := ctxT(t)
	stream := "test-" + uuid.NewString()
	srv.FailNext(esdbtestdouble.OnAppend, esdbtestdouble.FaultNotLeader)
	if _, err := store.Append(ctx, stream, eventstore.NoStream, eventstoretest.Event("Tested.v1", 0)); err != nil {
		t.Fatalf("append after a not-leader answer: %v", err)
	}
	srv.FailNext(esdbtestdouble.OnRead, esdbtestdouble.FaultNotLeader)
	if got, err := store.ReadStream(ctx, stream, 0, 10); err != nil || len(got) != 1 {
		t.Fatalf("read after a not-leader answer: %d events, %v", len(got), err)
	}
	for range 5 {
		srv.FailNext(esdbtestdouble.OnAppend, esdbtestdouble.FaultNotLeader)
	}
	_, err := store.Append(ctx, stream, eventstore.Exact(0), eventstoretest.Event("Tested.v1", 1))
	if !errors.Is(err, eventstore.ErrUnavailable) || !strings.Contains(err.Error(), "leader") {
		t.Fatalf("append meeting only followers: got %v, want ErrUnavailable about the leader", err)
	}
}

// TestRefusalsThatNoRetryMends: PermissionDenied is ErrPermissionDenied and
// InvalidArgument ErrInvalidArgument, on appends and reads, never
// ErrUnavailable (which callers retry).
func TestRefusalsThatNoRetryMends(t *testing.T) {
	srv, store := newDouble(t)
	ctx := ctxT(t)
	cases := []struct {
		fault esdbtestdouble.Fault
		want  *eventstore.Error
	}{
		{esdbtestdouble.FaultAccessDenied, eventstore.ErrPermissionDenied},
		{esdbtestdouble.FaultInvalidArgument, eventstore.ErrInvalidArgument},
	}
	for _, c := range cases {
		stream := "test-" + uuid.NewString()
		srv.FailNext(esdbtestdouble.OnAppend, c.fault)
		_, err := store.Append(ctx, stream, eventstore.NoStream, eventstoretest.Event("Tested.v1", 0))
		if !errors.Is(err, c.want) || errors.Is(err, eventstore.ErrUnavailable) {
			t.Fatalf("append, fault %d: got %v, want %s", c.fault, err, c.want.Code)
		}
		wantEmpty(t, store, stream)
		srv.FailNext(esdbtestdouble.OnRead, c.fault)
		if _, err := store.ReadAll(ctx, eventstore.Start, 10); !errors.Is(err, c.want) {
			t.Fatalf("read, fault %d: got %v, want %s", c.fault, err, c.want.Code)
		}
	}
}

// subscribeBriefly runs Subscribe from after until it returns or 10 s pass.
func subscribeBriefly(t *testing.T, store eventstore.Store, after eventstore.Position, rec *recorder) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctxT(t), 10*time.Second)
	defer cancel()
	if rec == nil {
		rec = &recorder{}
	}
	return store.Subscribe(ctx, after, eventstore.SubscribeOptions{}, rec.handle)
}

// follow subscribes store from the start in the background; stop ends the
// subscription, checks it ended by cancellation, and checks rec holds
// want in order, once each.
func follow(t *testing.T, store eventstore.Store) (rec *recorder, stop func(want []uuid.UUID)) {
	t.Helper()
	rec = &recorder{}
	ctx, cancel := context.WithCancel(ctxT(t))
	done := make(chan error, 1)
	go func() { done <- store.Subscribe(ctx, eventstore.Start, eventstore.SubscribeOptions{}, rec.handle) }()
	return rec, func(want []uuid.UUID) {
		t.Helper()
		rec.waitFor(t, len(want))
		time.Sleep(50 * time.Millisecond) // room for a late duplicate
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("subscription ended with %v, want context.Canceled", err)
		}
		rec.check(t, want)
	}
}

// TestSubscribeStopsOnRefusals: a subscription from a position the node
// does not have (here a Postgres checkpoint after switching stores) ends
// with ErrInvalidPosition instead of resubscribing forever, and so does
// ReadAll; a permission refusal ends it with ErrPermissionDenied; a
// timeout or a not-leader answer is retried without a gap or a duplicate.
func TestSubscribeStopsOnRefusals(t *testing.T) {
	srv, store := newDouble(t)
	ctx := ctxT(t)
	ids := appendN(t, store, 3)

	foreign := eventstore.Position{Commit: 912_345, Prepare: 17}
	err := subscribeBriefly(t, store, foreign, nil)
	if !errors.Is(err, eventstore.ErrInvalidPosition) || !strings.Contains(err.Error(), "912345-17") {
		t.Fatalf("subscribe after %v: got %v, want ErrInvalidPosition naming it", foreign, err)
	}
	if _, err := store.ReadAll(ctx, foreign, 10); !errors.Is(err, eventstore.ErrInvalidPosition) {
		t.Fatalf("ReadAll after %v: got %v, want ErrInvalidPosition", foreign, err)
	}

	srv.FailNext(esdbtestdouble.OnSubscribe, esdbtestdouble.FaultAccessDenied)
	if err := subscribeBriefly(t, store, eventstore.Start, nil); !errors.Is(err, eventstore.ErrPermissionDenied) {
		t.Fatalf("subscribe refused access: got %v, want ErrPermissionDenied", err)
	}

	srv.FailNext(esdbtestdouble.OnSubscribe, esdbtestdouble.FaultTimeout)
	srv.FailNext(esdbtestdouble.OnSubscribe, esdbtestdouble.FaultNotLeader)
	_, stop := follow(t, store)
	ids = append(ids, appendN(t, store, 2)...)
	stop(ids)
}

// TestForeignEventsNeverReachThePort: a real $all holds a server-side
// projection's results in $-streams with ordinary types and other
// applications' events, some not JSON. With the service's stream prefixes
// only its own streams show; without them, every non-$ stream whose data
// is JSON. ReadAll, Head and Subscribe agree.
func TestForeignEventsNeverReachThePort(t *testing.T) {
	srv, _ := newDouble(t)
	ctx := ctxT(t)
	own := openOn(t, srv, esdb.Options{StreamPrefixes: []string{"test-"}})
	any := openOn(t, srv, esdb.Options{})
	foreign := func() {
		srv.AppendForeign("$projections-sales-result", "Tested.v1", "application/json", []byte(`{"count":3}`))
		srv.AppendForeign("orders-1", "OrderPlaced", "application/octet-stream", []byte{0xff, 0x00, 0x01})
		srv.AppendForeign("billing-7", "InvoiceSent", "application/json", []byte(`{"n":1}`))
		srv.AppendForeign("test-binary", "Tested.v1", "application/json", []byte("not json"))
	}
	foreign()
	ids := appendN(t, own, 2)
	foreign()

	got, err := own.ReadAll(ctx, eventstore.Start, 100)
	if err != nil || len(got) != 2 || got[0].ID != ids[0] || got[1].ID != ids[1] {
		t.Fatalf("ReadAll with prefixes: %d events (%v), want the 2 own ones", len(got), err)
	}
	if head, err := own.Head(ctx); err != nil || head != got[1].Position {
		t.Fatalf("Head with prefixes: %v, %v; want %v", head, err, got[1].Position)
	}
	wide, err := any.ReadAll(ctx, eventstore.Start, 100)
	if err != nil {
		t.Fatal(err)
	}
	var streams []string
	for _, e := range wide {
		streams = append(streams, e.StreamID)
		if !json.Valid(e.Data) || strings.HasPrefix(e.StreamID, "$") {
			t.Fatalf("ReadAll without prefixes shows %s %s", e.StreamID, e.Type)
		}
	}
	if len(wide) != 4 {
		t.Fatalf("ReadAll without prefixes: streams %v, want billing-7 twice and the 2 own events", streams)
	}

	_, stop := follow(t, own)
	foreign()
	ids = append(ids, appendN(t, own, 1)...)
	foreign()
	stop(ids)
}

// TestReappendWithAnyIsBestEffort: like a node, the double remembers ids
// for Any and StreamExists only in a bounded cache that a restart
// empties, so a late repeat writes duplicates; NoStream and Exact check
// the stream itself and stay idempotent after eviction and restart.
func TestReappendWithAnyIsBestEffort(t *testing.T) {
	srv, store := newDouble(t)
	ctx := ctxT(t)
	srv.SetIDCacheBytes(4096)

	loose := "test-" + uuid.NewString()
	e := eventstoretest.Event("Tested.v1", 0)
	if _, err := store.Append(ctx, loose, eventstore.Any, e); err != nil {
		t.Fatal(err)
	}
	if res, err := store.Append(ctx, loose, eventstore.Any, e); err != nil || res.NextExpectedVersion != 0 {
		t.Fatalf("repeat while cached: %+v, %v; want the original result", res, err)
	}
	strict := "test-" + uuid.NewString()
	batch := []eventstore.EventData{eventstoretest.Event("Tested.v1", 0), eventstoretest.Event("Tested.v1", 1)}
	first, err := store.Append(ctx, strict, eventstore.NoStream, batch...)
	if err != nil {
		t.Fatal(err)
	}
	next := eventstoretest.Event("Tested.v1", 2)
	if _, err := store.Append(ctx, strict, eventstore.Exact(1), next); err != nil {
		t.Fatal(err)
	}
	appendN(t, store, 60) // evicts the ids above

	if _, err := store.Append(ctx, loose, eventstore.Any, e); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.ReadStream(ctx, loose, 0, 10); len(got) != 2 {
		t.Fatalf("repeat with Any after eviction: stream holds %d events, want 2 (the server writes it again)", len(got))
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		exp  eventstore.ExpectedVersion
		evs  []eventstore.EventData
		want eventstore.AppendResult
	}{{eventstore.NoStream, batch, first}, {eventstore.Exact(1), []eventstore.EventData{next}, eventstore.AppendResult{NextExpectedVersion: 2}}} {
		var res eventstore.AppendResult
		deadline := time.Now().Add(10 * time.Second)
		for {
			res, err = store.Append(ctx, strict, tc.exp, tc.evs...)
			if err == nil || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond) // the client reconnects after the restart
		}
		if err != nil || res.NextExpectedVersion != tc.want.NextExpectedVersion || (!tc.want.Position.IsZero() && res.Position != tc.want.Position) {
			t.Fatalf("repeat with %s after eviction and restart: %+v, %v; want %+v", tc.exp, res, err, tc.want)
		}
	}
	if got, _ := store.ReadStream(ctx, strict, 0, 10); len(got) != 3 {
		t.Fatalf("stream appended with NoStream and Exact holds %d events after the repeats, want 3", len(got))
	}
}
