package eventstoretest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// Subject is one adapter instance under test.
type Subject struct {
	Store eventstore.Store
	// InUse, when set, reports the connections the store has checked out, so
	// the suite can prove that cancelled calls give theirs back.
	InUse func() int
	// EventIDsUniquePerStream declares that the store, like EventStoreDB,
	// keeps event ids unique per stream only, against the port's documented
	// ErrDuplicateEvent: an id already stored in another stream is appended
	// as a new event. The suite then asserts exactly that behaviour where it
	// would otherwise assert the refusal. Every other assertion is the same.
	EventIDsUniquePerStream bool
}

// Run runs the contract suite. newSubject must return a store over an empty
// log each time it is called.
func Run(t *testing.T, newSubject func(t *testing.T) Subject) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Subject)
	}{
		{"ExpectedVersions", testExpectedVersions},
		{"FailedMultiEventAppendWritesNothing", testFailedAppendWritesNothing},
		{"ReappendSameIDsIsNoOp", testReappend},
		{"BadInput", testBadInput},
		{"ReadStreamFromVersion", testReadStream},
		{"ReadAllPages", testReadAllPages},
		{"ConcurrentWritersAndSubscriber", testConcurrentSubscriber},
		{"SubscriberRestartsFromCheckpoint", testSubscriberRestart},
		{"CancelledContexts", testCancelledContexts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newSubject(t))
		})
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Event returns a valid event of the given type with a fresh id.
func Event(typ string, n int) eventstore.EventData {
	return eventstore.EventData{
		ID:       uuid.New(),
		Type:     typ,
		Data:     json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)),
		Metadata: json.RawMessage(`{"actor":"test"}`),
	}
}

func events(n int) []eventstore.EventData {
	out := make([]eventstore.EventData, n)
	for i := range out {
		out[i] = Event("Tested.v1", i)
	}
	return out
}

func stream(t *testing.T) string { return "test-" + uuid.NewString() }

func wantCode(t *testing.T, err error, want eventstore.ErrorCode) {
	t.Helper()
	if got := eventstore.CodeOf(err); got != want {
		t.Fatalf("error code: got %q (%v), want %q", got, err, want)
	}
}

func readStream(t *testing.T, s eventstore.Store, name string) []eventstore.RecordedEvent {
	t.Helper()
	got, err := s.ReadStream(ctxT(t), name, 0, 1000)
	if err != nil {
		t.Fatalf("read stream: %v", err)
	}
	return got
}

func testExpectedVersions(t *testing.T, sub Subject) {
	s, ctx := sub.Store, ctxT(t)
	existing := stream(t)
	res, err := s.Append(ctx, existing, eventstore.NoStream, events(2)...)
	if err != nil {
		t.Fatalf("append to new stream with NoStream: %v", err)
	}
	if got, want := res.NextExpectedVersion, uint64(1); got != want {
		t.Fatalf("next expected version: got %d, want %d", got, want)
	}
	cases := []struct {
		name     string
		stream   string
		expected eventstore.ExpectedVersion
		wantErr  bool
		actual   int64
	}{
		{"any on new stream", stream(t), eventstore.Any, false, 0},
		{"any on existing stream", existing, eventstore.Any, false, 0},
		{"no stream on new stream", stream(t), eventstore.NoStream, false, 0},
		{"no stream on existing stream", existing, eventstore.NoStream, true, -2},
		{"stream exists on new stream", stream(t), eventstore.StreamExists, true, eventstore.NoStreamVersion},
		{"stream exists on existing stream", existing, eventstore.StreamExists, false, 0},
		{"exact 0 on new stream", stream(t), eventstore.Exact(0), true, eventstore.NoStreamVersion},
		{"exact too low", existing, eventstore.Exact(0), true, -2},
		{"exact too high", existing, eventstore.Exact(99), true, -2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := readStream(t, s, c.stream)
			_, err := s.Append(ctx, c.stream, c.expected, Event("Tested.v1", 1))
			after := readStream(t, s, c.stream)
			if !c.wantErr {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				if got, want := len(after), len(before)+1; got != want {
					t.Fatalf("events in stream: got %d, want %d", got, want)
				}
				return
			}
			if !errors.Is(err, eventstore.ErrWrongExpectedVersion) {
				t.Fatalf("got %v, want ErrWrongExpectedVersion", err)
			}
			var se *eventstore.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not *eventstore.Error", err)
			}
			wantActual := c.actual
			if wantActual == -2 { // the stream's real last version
				wantActual = int64(len(before)) - 1
			}
			if se.Actual != wantActual {
				t.Fatalf("actual version in error: got %d, want %d", se.Actual, wantActual)
			}
			if se.Stream != c.stream {
				t.Fatalf("stream in error: got %q, want %q", se.Stream, c.stream)
			}
			if got, want := len(after), len(before); got != want {
				t.Fatalf("a refused append wrote: %d events before, %d after", want, got)
			}
		})
	}
	// Exact with the right version succeeds and moves the version on.
	cur := readStream(t, s, existing)
	res, err = s.Append(ctx, existing, eventstore.Exact(cur[len(cur)-1].Version), events(3)...)
	if err != nil {
		t.Fatalf("exact append with the right version: %v", err)
	}
	if got, want := res.NextExpectedVersion, cur[len(cur)-1].Version+3; got != want {
		t.Fatalf("next expected version: got %d, want %d", got, want)
	}
}

func testFailedAppendWritesNothing(t *testing.T, sub Subject) {
	s, ctx := sub.Store, ctxT(t)
	name := stream(t)
	if _, err := s.Append(ctx, name, eventstore.NoStream, events(1)...); err != nil {
		t.Fatal(err)
	}
	// A wrong expected version refuses the whole batch.
	_, err := s.Append(ctx, name, eventstore.Exact(5), events(10)...)
	wantCode(t, err, eventstore.ErrorCodeWrongExpectedVersion)
	// An invalid third event refuses the whole batch.
	batch := events(3)
	batch[2].Data = json.RawMessage(`{"broken":`)
	_, err = s.Append(ctx, name, eventstore.Any, batch...)
	wantCode(t, err, eventstore.ErrorCodeInvalidEvent)
	// An id already stored in another stream refuses the whole batch.
	other := stream(t)
	taken := Event("Tested.v1", 0)
	if _, err := s.Append(ctx, other, eventstore.Any, taken); err != nil {
		t.Fatal(err)
	}
	batch = events(3)
	batch[1].ID = taken.ID
	_, err = s.Append(ctx, name, eventstore.Any, batch...)
	if sub.EventIDsUniquePerStream {
		// The id belongs to another stream: a new event here, written whole.
		if err != nil {
			t.Fatalf("append with an id stored in another stream (ids unique per stream): got %v, want success", err)
		}
		if got, want := len(readStream(t, s, name)), 4; got != want {
			t.Fatalf("events in stream after two refused batches and one accepted: got %d, want %d", got, want)
		}
		return
	}
	if err == nil {
		t.Fatal("append with an id stored in another stream: got success, want an error")
	}
	if got, want := len(readStream(t, s, name)), 1; got != want {
		t.Fatalf("events in stream after three refused batches: got %d, want %d", got, want)
	}
}

func testReappend(t *testing.T, sub Subject) {
	s, ctx := sub.Store, ctxT(t)
	name := stream(t)
	batch := events(3)
	first, err := s.Append(ctx, name, eventstore.NoStream, batch...)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Append(ctx, name, eventstore.NoStream, batch...)
	if err != nil {
		t.Fatalf("re-append of the same ids: got %v, want success", err)
	}
	if again != first {
		t.Fatalf("re-append result: got %+v, want the original %+v", again, first)
	}
	if got, want := len(readStream(t, s, name)), 3; got != want {
		t.Fatalf("events after re-append: got %d, want %d", got, want)
	}
	waitForHead(t, s, first.Position)
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head != first.Position {
		t.Fatalf("head after re-append: got %v, want %v", head, first.Position)
	}
	// The same ids in another stream are a duplicate, not a no-op.
	other := stream(t)
	res, err := s.Append(ctx, other, eventstore.Any, batch...)
	if sub.EventIDsUniquePerStream {
		// Not a no-op either: three new events in the other stream.
		if err != nil {
			t.Fatalf("same ids to another stream (ids unique per stream): got %v, want success", err)
		}
		if res == first || len(readStream(t, s, other)) != 3 {
			t.Fatalf("same ids to another stream (ids unique per stream): result %+v, want 3 new events", res)
		}
		return
	}
	if !errors.Is(err, eventstore.ErrDuplicateEvent) {
		t.Fatalf("same ids to another stream: got %v, want ErrDuplicateEvent", err)
	}
}

func testBadInput(t *testing.T, sub Subject) {
	s, ctx := sub.Store, ctxT(t)
	good := Event("Tested.v1", 1)
	mut := func(f func(*eventstore.EventData)) eventstore.EventData {
		e := Event("Tested.v1", 1)
		f(&e)
		return e
	}
	cases := []struct {
		name   string
		stream string
		events []eventstore.EventData
		code   eventstore.ErrorCode
		inMsg  string
	}{
		{"empty stream", "", []eventstore.EventData{good}, eventstore.ErrorCodeInvalidStream, "empty"},
		{"stream over 255 bytes", strings.Repeat("s", 256), []eventstore.EventData{good}, eventstore.ErrorCodeInvalidStream, "256 bytes"},
		{"no events", stream(t), nil, eventstore.ErrorCodeInvalidArgument, "no events"},
		{"empty type", stream(t), []eventstore.EventData{mut(func(e *eventstore.EventData) { e.Type = "" })}, eventstore.ErrorCodeInvalidEvent, "type is empty"},
		{"zero id", stream(t), []eventstore.EventData{mut(func(e *eventstore.EventData) { e.ID = uuid.Nil })}, eventstore.ErrorCodeInvalidEvent, "id"},
		{"data not JSON", stream(t), []eventstore.EventData{mut(func(e *eventstore.EventData) { e.Data = json.RawMessage("not json") })}, eventstore.ErrorCodeInvalidEvent, "data is not valid JSON"},
		{"empty data", stream(t), []eventstore.EventData{mut(func(e *eventstore.EventData) { e.Data = nil })}, eventstore.ErrorCodeInvalidEvent, "data"},
		{"metadata not JSON", stream(t), []eventstore.EventData{mut(func(e *eventstore.EventData) { e.Metadata = json.RawMessage("{") })}, eventstore.ErrorCodeInvalidEvent, "metadata"},
		{"same id twice", stream(t), []eventstore.EventData{good, good}, eventstore.ErrorCodeInvalidEvent, "twice"},
		{"third event's data not JSON", stream(t), []eventstore.EventData{Event("Tested.v1", 1), Event("Tested.v1", 2), mut(func(e *eventstore.EventData) { e.Data = json.RawMessage(`{"n":`) })}, eventstore.ErrorCodeInvalidEvent, "event 2 "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.Append(ctx, c.stream, eventstore.Any, c.events...)
			wantCode(t, err, c.code)
			if !strings.Contains(err.Error(), c.inMsg) {
				t.Fatalf("message %q does not say %q", err.Error(), c.inMsg)
			}
		})
	}
	if head, err := s.Head(ctx); err != nil || !head.IsZero() {
		t.Fatalf("after refused appends: head %v, err %v; want an empty log", head, err)
	}
	_, err := s.ReadAll(ctx, eventstore.Start, 0)
	wantCode(t, err, eventstore.ErrorCodeInvalidArgument)
	_, err = s.ReadStream(ctx, "x", 0, -1)
	wantCode(t, err, eventstore.ErrorCodeInvalidArgument)
	_, err = s.ReadStream(ctx, "", 0, 10)
	wantCode(t, err, eventstore.ErrorCodeInvalidStream)
	for _, bad := range []string{"", "12", "-1-2", "1--2", "a-1", "1-b", "18446744073709551616-0"} {
		_, err := eventstore.ParsePosition(bad)
		wantCode(t, err, eventstore.ErrorCodeInvalidPosition)
	}
}

func testReadStream(t *testing.T, sub Subject) {
	s, ctx := sub.Store, ctxT(t)
	name := stream(t)
	batch := events(10)
	if _, err := s.Append(ctx, name, eventstore.NoStream, batch...); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadStream(ctx, name, 4, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("events read: got %d, want 3", len(got))
	}
	for i, e := range got {
		want := batch[4+i]
		if e.Version != uint64(4+i) || e.ID != want.ID || e.Type != want.Type || e.StreamID != name {
			t.Fatalf("event %d: got version %d id %s type %s stream %s; want version %d id %s", i, e.Version, e.ID, e.Type, e.StreamID, 4+i, want.ID)
		}
		if !jsonEqual(e.Data, want.Data) || !jsonEqual(e.Metadata, want.Metadata) {
			t.Fatalf("event %d: data %s metadata %s; want %s %s", i, e.Data, e.Metadata, want.Data, want.Metadata)
		}
		if e.RecordedAt.IsZero() || time.Since(e.RecordedAt) > time.Hour {
			t.Fatalf("event %d: recorded at %v, want about now", i, e.RecordedAt)
		}
	}
	if got, err := s.ReadStream(ctx, "missing-"+uuid.NewString(), 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("unknown stream: got %d events, err %v; want none", len(got), err)
	}
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

// waitForHead waits until ReadAll can see pos. A store may publish events a
// little after their append returns (the Postgres adapter waits for older
// transactions to end, so that readers never skip one), but not much later.
func waitForHead(t *testing.T, s eventstore.Store, pos eventstore.Position) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		head, err := s.Head(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		if !head.Less(pos) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("head is %v 10 s after an append at %v", head, pos)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testReadAllPages(t *testing.T, sub Subject) {
	s, ctx := sub.Store, ctxT(t)
	var want []eventstore.EventData
	var last eventstore.AppendResult
	for i := range 5 {
		batch := events(i + 1)
		want = append(want, batch...)
		res, err := s.Append(ctx, stream(t), eventstore.NoStream, batch...)
		if err != nil {
			t.Fatal(err)
		}
		last = res
	}
	waitForHead(t, s, last.Position)
	var got []eventstore.RecordedEvent
	pos := eventstore.Start
	for {
		page, err := s.ReadAll(ctx, pos, 4)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		pos = page[len(page)-1].Position
	}
	if len(got) != len(want) {
		t.Fatalf("events read in pages: got %d, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID {
			t.Fatalf("event %d: got id %s, want %s (global order = append order for one writer)", i, got[i].ID, want[i].ID)
		}
		if i > 0 && !got[i-1].Position.Less(got[i].Position) {
			t.Fatalf("positions not increasing: %v then %v", got[i-1].Position, got[i].Position)
		}
	}
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if head != got[len(got)-1].Position {
		t.Fatalf("head: got %v, want %v", head, got[len(got)-1].Position)
	}
	// A position round-trips through its string form.
	back, err := eventstore.ParsePosition(head.String())
	if err != nil || back != head {
		t.Fatalf("ParsePosition(%q) = %v, %v; want %v", head.String(), back, err, head)
	}
}

// collector records what a subscription delivers and checks order and
// uniqueness as it goes.
type collector struct {
	mu      sync.Mutex
	last    eventstore.Position
	seen    map[uuid.UUID]bool
	n       int
	problem error
	reached chan struct{}
	target  int
}

func newCollector(target int) *collector {
	return &collector{seen: map[uuid.UUID]bool{}, reached: make(chan struct{}), target: target}
}

func (c *collector) handle(_ context.Context, batch eventstore.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range batch {
		if c.problem == nil && !c.last.Less(e.Position) {
			c.problem = fmt.Errorf("position %v delivered after %v", e.Position, c.last)
		}
		if c.problem == nil && c.seen[e.ID] {
			c.problem = fmt.Errorf("event %s delivered twice", e.ID)
		}
		c.seen[e.ID] = true
		c.last = e.Position
		c.n++
		if c.n == c.target {
			close(c.reached)
		}
	}
	return nil
}

func testConcurrentSubscriber(t *testing.T, sub Subject) {
	const writers, perWriter = 16, 500
	s, ctx := sub.Store, ctxT(t)
	col := newCollector(writers * perWriter)
	subCtx, stop := context.WithCancel(ctx)
	subDone := make(chan error, 1)
	go func() {
		subDone <- s.Subscribe(subCtx, eventstore.Start, eventstore.SubscribeOptions{MaxBatch: 100}, col.handle)
	}()

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("writer-%d-%s", w, uuid.NewString())
			for i := range perWriter {
				expected := eventstore.NoStream
				if i > 0 {
					expected = eventstore.Exact(uint64(i - 1))
				}
				if _, err := s.Append(ctx, name, expected, Event("Tested.v1", i)); err != nil {
					errs <- fmt.Errorf("writer %d event %d: %w", w, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	select {
	case <-col.reached:
	case <-time.After(60 * time.Second):
		col.mu.Lock()
		defer col.mu.Unlock()
		t.Fatalf("subscriber received %d of %d events in 60 s", col.n, writers*perWriter)
	}
	// Give a late duplicate the chance to show up before stopping.
	time.Sleep(100 * time.Millisecond)
	stop()
	if err := <-subDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("subscription ended with %v, want context.Canceled", err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if col.problem != nil {
		t.Fatal(col.problem)
	}
	if got, want := col.n, writers*perWriter; got != want {
		t.Fatalf("events received: got %d, want exactly %d", got, want)
	}
}

func testSubscriberRestart(t *testing.T, sub Subject) {
	s, ctx := sub.Store, ctxT(t)
	var ids []uuid.UUID
	for range 10 {
		batch := events(5)
		for _, e := range batch {
			ids = append(ids, e.ID)
		}
		if _, err := s.Append(ctx, stream(t), eventstore.NoStream, batch...); err != nil {
			t.Fatal(err)
		}
	}
	// First run: stop after 17 events, keeping the position of the last one handled.
	var got []uuid.UUID
	var checkpoint eventstore.Position
	errStop := errors.New("stop here")
	err := s.Subscribe(ctx, eventstore.Start, eventstore.SubscribeOptions{MaxBatch: 7}, func(_ context.Context, b eventstore.Batch) error {
		for _, e := range b {
			got = append(got, e.ID)
			checkpoint = e.Position
			if len(got) == 17 {
				return errStop
			}
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("subscription ended with %v, want the handler's error", err)
	}
	// Live events appended while no subscriber runs.
	more := events(3)
	for _, e := range more {
		ids = append(ids, e.ID)
	}
	if _, err := s.Append(ctx, stream(t), eventstore.NoStream, more...); err != nil {
		t.Fatal(err)
	}
	subCtx, stop := context.WithCancel(ctx)
	defer stop()
	err = s.Subscribe(subCtx, checkpoint, eventstore.SubscribeOptions{}, func(_ context.Context, b eventstore.Batch) error {
		for _, e := range b {
			got = append(got, e.ID)
		}
		if len(got) >= len(ids) {
			stop()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("second subscription ended with %v", err)
	}
	if len(got) != len(ids) {
		t.Fatalf("events over two runs: got %d, want %d", len(got), len(ids))
	}
	for i := range ids {
		if got[i] != ids[i] {
			t.Fatalf("event %d: got %s, want %s", i, got[i], ids[i])
		}
	}
}

func testCancelledContexts(t *testing.T, sub Subject) {
	s := sub.Store
	inUse := func() int {
		if sub.InUse == nil {
			return 0
		}
		return sub.InUse()
	}
	// Let background connections (listeners) settle before counting.
	time.Sleep(200 * time.Millisecond)
	baseline := inUse()

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Append(cancelled, stream(t), eventstore.Any, Event("Tested.v1", 1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("append with a cancelled context: got %v, want context.Canceled", err)
	}
	if _, err := s.ReadAll(cancelled, eventstore.Start, 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("read all with a cancelled context: got %v, want context.Canceled", err)
	}
	if _, err := s.ReadStream(cancelled, "x", 0, 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("read stream with a cancelled context: got %v, want context.Canceled", err)
	}

	// A live subscription ends promptly when its context is cancelled.
	ctx := ctxT(t)
	if _, err := s.Append(ctx, stream(t), eventstore.Any, events(3)...); err != nil {
		t.Fatal(err)
	}
	subCtx, stopSub := context.WithCancel(ctx)
	started := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		done <- s.Subscribe(subCtx, eventstore.Start, eventstore.SubscribeOptions{}, func(context.Context, eventstore.Batch) error {
			once.Do(func() { close(started) })
			return nil
		})
	}()
	<-started
	time.Sleep(50 * time.Millisecond) // now idle, waiting for live events
	stopSub()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("subscription ended with %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("subscription still running 5 s after its context was cancelled")
	}
	// And a subscription whose handler blocks until cancel also ends.
	subCtx, stopSub = context.WithCancel(ctx)
	go func() {
		done <- s.Subscribe(subCtx, eventstore.Start, eventstore.SubscribeOptions{}, func(ctx context.Context, _ eventstore.Batch) error {
			<-ctx.Done()
			return ctx.Err()
		})
	}()
	time.Sleep(50 * time.Millisecond)
	stopSub()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("subscription ended with %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("subscription still running 5 s after its context was cancelled")
	}
	deadline := time.Now().Add(5 * time.Second)
	for inUse() > baseline && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := inUse(); got > baseline {
		t.Fatalf("connections in use after cancelled calls: got %d, want at most %d", got, baseline)
	}
}
