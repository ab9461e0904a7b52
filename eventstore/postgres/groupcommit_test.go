package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/eventstoretest"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

type appendCall struct {
	stream   string
	expected eventstore.ExpectedVersion
	events   []eventstore.EventData
	res      eventstore.AppendResult
	err      error
	done     chan struct{}
}

// holdSlot makes the store's only append slot wait: another transaction
// inserts version 0 of stream and keeps it open, so an append of the same
// version waits on the unique index. Rolling back releases it.
func holdSlot(t *testing.T, pool *pgxpool.Pool, store *postgres.Store, stream string) (pgx.Tx, *appendCall) {
	t.Helper()
	ctx := context.Background()
	blocker, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = blocker.Rollback(ctx) })
	if _, err := blocker.Exec(ctx, `INSERT INTO es_events (event_id, stream_id, version, type, data) VALUES (gen_random_uuid(), $1, 0, 'T.v1', '{}')`, stream); err != nil {
		t.Fatal(err)
	}
	held := start(store, stream, eventstore.NoStream, eventstoretest.Event("T.v1", 0))
	waitFor(t, "the held append to occupy the slot", func() bool {
		var waiting bool
		err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock')`).Scan(&waiting)
		return err == nil && waiting
	})
	return blocker, held
}

func start(store *postgres.Store, stream string, expected eventstore.ExpectedVersion, events ...eventstore.EventData) *appendCall {
	c := &appendCall{stream: stream, expected: expected, events: events, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.res, c.err = store.Append(context.Background(), stream, expected, events...)
	}()
	return c
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestGroupCommitAnswersEachAppend: appends queued behind a busy slot go in
// one group, one transaction; each gets its own answer, and one that fails
// its check (wrong version, duplicate id) or is an exact re-append fails
// none of the others.
func TestGroupCommitAnswersEachAppend(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	store := postgres.New(ctx, pool, postgres.Options{MaxConcurrentAppends: 1})
	defer store.Close()

	stored := []eventstore.EventData{eventstoretest.Event("T.v1", 1), eventstoretest.Event("T.v1", 2)}
	first, err := store.Append(ctx, "stored", eventstore.NoStream, stored...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, "existing", eventstore.NoStream, eventstoretest.Event("T.v1", 3)); err != nil {
		t.Fatal(err)
	}

	blocker, held := holdSlot(t, pool, store, "held")
	calls := []*appendCall{
		start(store, "new-a", eventstore.NoStream, eventstoretest.Event("T.v1", 4)),
		start(store, "new-b", eventstore.Any, eventstoretest.Event("T.v1", 5), eventstoretest.Event("T.v1", 6)),
		start(store, "existing", eventstore.Exact(0), eventstoretest.Event("T.v1", 7)),
		start(store, "existing-wrong", eventstore.Exact(5), eventstoretest.Event("T.v1", 8)),
		start(store, "stored", eventstore.NoStream, stored...),
	}
	waitFor(t, "the appends to queue", func() bool { return postgres.QueuedAppends(store) == len(calls) })
	if err := blocker.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	<-held.done
	if held.err != nil {
		t.Fatalf("the held append: %v", held.err)
	}
	for _, c := range calls {
		<-c.done
	}
	newA, newB, existing, wrong, again := calls[0], calls[1], calls[2], calls[3], calls[4]
	for _, c := range []*appendCall{newA, newB, existing} {
		if c.err != nil {
			t.Fatalf("append to %s in a group: %v", c.stream, c.err)
		}
	}
	if newA.res.NextExpectedVersion != 0 || newB.res.NextExpectedVersion != 1 || existing.res.NextExpectedVersion != 1 {
		t.Fatalf("next versions: got %d, %d, %d, want 0, 1, 1", newA.res.NextExpectedVersion, newB.res.NextExpectedVersion, existing.res.NextExpectedVersion)
	}
	if newA.res.Position.Commit != newB.res.Position.Commit || newA.res.Position.Commit != existing.res.Position.Commit {
		t.Fatalf("the group's appends committed in transactions %d, %d, %d, want one", newA.res.Position.Commit, newB.res.Position.Commit, existing.res.Position.Commit)
	}
	var e *eventstore.Error
	if !errors.As(wrong.err, &e) || e.Code != eventstore.ErrorCodeWrongExpectedVersion || e.Actual != eventstore.NoStreamVersion {
		t.Fatalf("wrong expected version in a group: got %v, want ErrWrongExpectedVersion at no stream", wrong.err)
	}
	if again.err != nil || again.res != first {
		t.Fatalf("re-append in a group: got %+v, %v, want the original %+v", again.res, again.err, first)
	}
	for stream, want := range map[string]int{"new-a": 1, "new-b": 2, "existing": 2, "existing-wrong": 0, "stored": 2, "held": 1} {
		got, err := store.ReadStream(ctx, stream, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want {
			t.Fatalf("stream %s holds %d events, want %d", stream, len(got), want)
		}
	}
}

// TestGroupCommitFallsBackWhenTheStatementFails: a group whose statement
// fails (here a race with another transaction for a stream's next version,
// and an id stored elsewhere) writes nothing, and each of its appends is
// then made alone: the duplicate is refused, the others succeed.
func TestGroupCommitFallsBackWhenTheStatementFails(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	store := postgres.New(ctx, pool, postgres.Options{MaxConcurrentAppends: 1})
	defer store.Close()

	stored := eventstoretest.Event("T.v1", 0)
	if _, err := store.Append(ctx, "stored", eventstore.NoStream, stored); err != nil {
		t.Fatal(err)
	}
	racer, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = racer.Rollback(ctx) }()
	if _, err := racer.Exec(ctx, `INSERT INTO es_events (event_id, stream_id, version, type, data) VALUES (gen_random_uuid(), 'raced', 0, 'T.v1', '{}')`); err != nil {
		t.Fatal(err)
	}
	blocker, held := holdSlot(t, pool, store, "held")
	calls := []*appendCall{
		start(store, "a", eventstore.NoStream, eventstoretest.Event("T.v1", 1)),
		start(store, "raced", eventstore.Any, eventstoretest.Event("T.v1", 2)),
		start(store, "b", eventstore.NoStream, eventstoretest.Event("T.v1", 3)),
	}
	dup := start(store, "dup", eventstore.NoStream, eventstoretest.Event("T.v1", 4), stored)
	calls = append(calls, dup)
	waitFor(t, "the appends to queue", func() bool { return postgres.QueuedAppends(store) == len(calls) })
	if err := blocker.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	<-held.done
	// The group now waits for the racer's version 0 of "raced".
	waitFor(t, "the group to wait for the racer", func() bool {
		var waiting bool
		err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock')`).Scan(&waiting)
		return err == nil && waiting
	})
	if err := racer.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	<-dup.done
	if !errors.Is(dup.err, eventstore.ErrDuplicateEvent) {
		t.Fatalf("duplicate id in a group: got %v, want ErrDuplicateEvent", dup.err)
	}
	for _, c := range calls[:3] {
		<-c.done
		if c.err != nil {
			t.Fatalf("append to %s after its group failed: %v", c.stream, c.err)
		}
	}
	if v := calls[1].res.NextExpectedVersion; v != 1 {
		t.Fatalf("append with any after the racer: next version %d, want 1", v)
	}
	for stream, want := range map[string]int{"a": 1, "raced": 2, "b": 1, "dup": 0} {
		got, err := store.ReadStream(ctx, stream, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want {
			t.Fatalf("stream %s holds %d events, want %d", stream, len(got), want)
		}
	}
}

// TestGroupCommitOfKnownVersions: a group in which every append's expected
// version is one the Store knows stored goes as one plain insert with the
// versions computed here. It commits all of them in one transaction; when one
// of those versions is stale (another process appended meanwhile), the
// statement fails, nothing of the group is written, and each append goes
// again alone: the stale one is refused with the stream's current version and
// the others succeed.
func TestGroupCommitOfKnownVersions(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	store := postgres.New(ctx, pool, postgres.Options{MaxConcurrentAppends: 1})
	defer store.Close()
	other := postgres.New(ctx, pool, postgres.Options{})
	defer other.Close()

	for stream, n := range map[string]int{"k1": 1, "k2": 2, "k3": 1} {
		batch := make([]eventstore.EventData, n)
		for i := range batch {
			batch[i] = eventstoretest.Event("T.v1", i)
		}
		if _, err := store.Append(ctx, stream, eventstore.NoStream, batch...); err != nil {
			t.Fatal(err)
		}
	}
	// asOneGroup waits for calls to queue behind the held slot, frees it,
	// and waits for every call's answer.
	asOneGroup := func(blocker pgx.Tx, held *appendCall, calls ...*appendCall) {
		t.Helper()
		waitFor(t, "the appends to queue", func() bool { return postgres.QueuedAppends(store) == len(calls) })
		if err := blocker.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		<-held.done
		for _, c := range calls {
			<-c.done
		}
	}

	// Every version known and current: one transaction.
	blocker, held := holdSlot(t, pool, store, "held-1")
	calls := []*appendCall{
		start(store, "k1", eventstore.Exact(0), eventstoretest.Event("T.v1", 10)),
		start(store, "k2", eventstore.Exact(1), eventstoretest.Event("T.v1", 11), eventstoretest.Event("T.v1", 12)),
		start(store, "k3", eventstore.Exact(0), eventstoretest.Event("T.v1", 13)),
	}
	asOneGroup(blocker, held, calls...)
	for _, c := range calls {
		if c.err != nil {
			t.Fatalf("append to %s in a group of known versions: %v", c.stream, c.err)
		}
	}
	if got, want := []uint64{calls[0].res.NextExpectedVersion, calls[1].res.NextExpectedVersion, calls[2].res.NextExpectedVersion}, []uint64{1, 3, 1}; !slices.Equal(got, want) {
		t.Fatalf("next versions: got %v, want %v", got, want)
	}
	if calls[0].res.Position.Commit != calls[1].res.Position.Commit || calls[0].res.Position.Commit != calls[2].res.Position.Commit {
		t.Fatalf("the group committed in transactions %d, %d, %d, want one", calls[0].res.Position.Commit, calls[1].res.Position.Commit, calls[2].res.Position.Commit)
	}

	// k3's known version 1 is no longer its last.
	if _, err := other.Append(ctx, "k3", eventstore.Exact(1), eventstoretest.Event("T.v1", 20)); err != nil {
		t.Fatal(err)
	}
	blocker, held = holdSlot(t, pool, store, "held-2")
	calls = []*appendCall{
		start(store, "k1", eventstore.Exact(1), eventstoretest.Event("T.v1", 21)),
		start(store, "k2", eventstore.Exact(3), eventstoretest.Event("T.v1", 22), eventstoretest.Event("T.v1", 23)),
		start(store, "k3", eventstore.Exact(1), eventstoretest.Event("T.v1", 24)),
	}
	asOneGroup(blocker, held, calls...)
	for _, c := range calls[:2] {
		if c.err != nil {
			t.Fatalf("append to %s after its group failed: %v", c.stream, c.err)
		}
	}
	var e *eventstore.Error
	if !errors.As(calls[2].err, &e) || e.Code != eventstore.ErrorCodeWrongExpectedVersion || e.Actual != 2 {
		t.Fatalf("a stale known version in a group: got %v, want ErrWrongExpectedVersion at 2", calls[2].err)
	}
	for stream, want := range map[string]int{"k1": 3, "k2": 6, "k3": 3} {
		got, err := store.ReadStream(ctx, stream, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want {
			t.Fatalf("stream %s holds %d events, want %d", stream, len(got), want)
		}
		for i, ev := range got {
			if ev.Version != uint64(i) {
				t.Fatalf("stream %s: event %d has version %d: a gap or a duplicate", stream, i, ev.Version)
			}
		}
	}
}

// TestGroupCommitOwnsWhatItSends: a caller that gives up on an append whose
// group is in flight is told the outcome is unknown and has its event data
// back: the group, which may still send the append, must not read the
// caller's buffers then. Here the group waits for a connection when its
// caller gives up and overwrites its buffer; the event stored must be the
// one appended, and a retry of it the idempotent re-append.
func TestGroupCommitOwnsWhatItSends(t *testing.T) {
	ctx := context.Background()
	cfg := pgtest.NewPool(t).Config()
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	store := postgres.New(ctx, pool, postgres.Options{MaxConcurrentAppends: 1})
	defer store.Close()

	// The listener holds one connection, the test the other.
	waitFor(t, "the listener", func() bool { return pool.Stat().AcquiredConns() == 1 })
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	released := false
	defer func() {
		if !released {
			conn.Release()
		}
	}()

	// The slot's append waits for a connection; two more queue behind it.
	slotCtx, cancelSlot := context.WithCancel(ctx)
	slot := make(chan error, 1)
	go func() {
		_, err := store.Append(slotCtx, "slot", eventstore.NoStream, eventstoretest.Event("T.v1", 0))
		slot <- err
	}()
	waitFor(t, "the slot's append", func() bool { return postgres.InflightAppends(store) == 1 })
	buf := []byte(`{"n":1}`)
	e := eventstoretest.Event("T.v1", 1)
	e.Data = buf
	giveUpCtx, giveUp := context.WithCancel(ctx)
	gaveUp := make(chan error, 1)
	go func() {
		_, err := store.Append(giveUpCtx, "given-up", eventstore.NoStream, e)
		gaveUp <- err
	}()
	other := start(store, "other", eventstore.NoStream, eventstoretest.Event("T.v1", 2))
	waitFor(t, "the appends to queue", func() bool { return postgres.QueuedAppends(store) == 2 })

	// The slot's append gives up; its slot takes the queue as a group,
	// which waits for the test's connection.
	cancelSlot()
	<-slot
	waitFor(t, "the group to form", func() bool { return postgres.QueuedAppends(store) == 0 })
	giveUp()
	if err := <-gaveUp; !errors.Is(err, eventstore.ErrUnavailable) {
		t.Fatalf("an append given up in a group: got %v, want ErrUnavailable", err)
	}
	copy(buf, `{"n":2}`) // the caller's buffer is its own again
	conn.Release()
	released = true
	<-other.done
	if other.err != nil {
		t.Fatalf("the other append of the group: %v", other.err)
	}

	e.Data = json.RawMessage(`{"n":1}`)
	res, err := store.Append(ctx, "given-up", eventstore.NoStream, e)
	if err != nil {
		t.Fatalf("retry of the append given up: %v", err)
	}
	got, err := store.ReadStream(ctx, "given-up", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != e.ID || got[0].Position != res.Position || string(got[0].Data) != `{"n": 1}` {
		t.Fatalf("stream holds %+v, want the event appended, data {\"n\": 1}, at %v", got, res.Position)
	}
}
