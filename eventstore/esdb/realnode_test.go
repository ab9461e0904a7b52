package esdb_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	kdb "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/esdb"
	"github.com/multimedia-portal/multimedia/eventstore/eventstoretest"
)

// The tests in this file run only against a real node named by
// EVENTSTORE_URL (see README, "Run with EventStoreDB"): they check on the
// server itself what realserver_test.go checks on the double. Not
// testable from here on an insecure single node: server timeouts,
// not-leader answers and permission refusals (the double covers them).

// realNode returns EVENTSTORE_URL or skips.
func realNode(t *testing.T) string {
	t.Helper()
	url := os.Getenv("EVENTSTORE_URL")
	if url == "" {
		t.Skip("EVENTSTORE_URL is not set: skipping the checks against a real EventStoreDB/KurrentDB node")
	}
	return url
}

func openReal(t *testing.T, url string, opts esdb.Options) *esdb.Store {
	t.Helper()
	opts.Logger = quiet()
	s, err := esdb.Open(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// rawClient is the plain client, for what the port cannot do (deletes,
// foreign events).
func rawClient(t *testing.T, url string) *kdb.Client {
	t.Helper()
	cfg, err := kdb.ParseConnectionString(url)
	if err != nil {
		t.Fatal(err)
	}
	c, err := kdb.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestRealNodeBehaviour: append size limit, deleted streams, a position
// the node does not have, foreign events and v20+ positions, on the node.
func TestRealNodeBehaviour(t *testing.T) {
	url := realNode(t)
	ctx := ctxT(t)
	prefix := "itest-" + uuid.NewString()[:8] + "-"
	store := openReal(t, url, esdb.Options{StreamPrefixes: []string{prefix}})
	raw := rawClient(t, url)

	t.Run("append size", func(t *testing.T) {
		big := sized(3, 400_000)
		s := prefix + "big"
		if _, err := store.Append(ctx, s, eventstore.NoStream, big...); !errors.Is(err, eventstore.ErrInvalidArgument) {
			t.Fatalf("adapter: got %v, want ErrInvalidArgument", err)
		}
		loose := openReal(t, url, esdb.Options{MaxAppendBytes: 4 << 20})
		if _, err := loose.Append(ctx, s, eventstore.NoStream, big...); err == nil {
			t.Fatal("the node took an append over its default 1 MiB")
		} else {
			t.Logf("the node's refusal as the port sees it: %v", err)
		}
		wantEmpty(t, store, s)
	})

	t.Run("deleted streams", func(t *testing.T) {
		soft, gone := prefix+"soft", prefix+"gone"
		for _, s := range []string{soft, gone} {
			if _, err := store.Append(ctx, s, eventstore.NoStream, eventstoretest.Event("Tested.v1", 0), eventstoretest.Event("Tested.v1", 1)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := raw.DeleteStream(ctx, soft, kdb.DeleteStreamOptions{ExpectedRevision: kdb.Any{}}); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.TombstoneStream(ctx, gone, kdb.TombstoneStreamOptions{ExpectedRevision: kdb.Any{}}); err != nil {
			t.Fatal(err)
		}
		wantEmpty(t, store, soft)
		if _, err := store.Append(ctx, soft, eventstore.StreamExists, eventstoretest.Event("Tested.v1", 2)); !errors.Is(err, eventstore.ErrStreamDeleted) {
			t.Fatalf("stream exists on a soft-deleted stream: %v", err)
		}
		if res, err := store.Append(ctx, soft, eventstore.NoStream, eventstoretest.Event("Tested.v1", 3)); err != nil || res.NextExpectedVersion != 2 {
			t.Fatalf("no stream on a soft-deleted stream: %+v, %v", res, err)
		}
		if _, err := store.Append(ctx, gone, eventstore.Any, eventstoretest.Event("Tested.v1", 2)); !errors.Is(err, eventstore.ErrStreamDeleted) {
			t.Fatalf("append to a tombstoned stream: %v", err)
		}
		if _, err := store.ReadStream(ctx, gone, 0, 10); !errors.Is(err, eventstore.ErrStreamDeleted) {
			t.Fatalf("read of a tombstoned stream: %v", err)
		}
	})

	t.Run("position the node does not have", func(t *testing.T) {
		head, err := store.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		bad := eventstore.Position{Commit: head.Commit - 3, Prepare: head.Commit - 3} // inside a record
		if err := subscribeBriefly(t, store, bad, nil); !errors.Is(err, eventstore.ErrInvalidPosition) {
			t.Fatalf("subscribe after %v: got %v, want ErrInvalidPosition", bad, err)
		}
	})

	t.Run("foreign events and positions", func(t *testing.T) {
		origin, err := store.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		foreign := func() {
			for _, f := range []struct{ stream, typ string }{{"orders-" + uuid.NewString(), "OrderPlaced"}, {"$itest-" + uuid.NewString(), "Tested.v1"}} {
				ev := kdb.EventData{EventID: uuid.New(), EventType: f.typ, ContentType: kdb.ContentTypeBinary, Data: []byte{0xff, 0x00}}
				if _, err := raw.AppendToStream(ctx, f.stream, kdb.AppendToStreamOptions{}, ev); err != nil {
					t.Fatal(err)
				}
			}
		}
		foreign()
		var ids []uuid.UUID
		batch := []eventstore.EventData{eventstoretest.Event("Tested.v1", 0), eventstoretest.Event("Tested.v1", 1), eventstoretest.Event("Tested.v1", 2)}
		if _, err := store.Append(ctx, prefix+"own", eventstore.NoStream, batch...); err != nil {
			t.Fatal(err)
		}
		for _, e := range batch {
			ids = append(ids, e.ID)
		}
		foreign()
		got, err := store.ReadAll(ctx, origin, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("ReadAll shows %d events, want the 3 own ones", len(got))
		}
		for i, e := range got {
			if e.ID != ids[i] || e.Position.Commit != e.Position.Prepare || (i > 0 && !got[i-1].Position.Less(e.Position)) {
				t.Fatalf("event %d: %s at %v; want own events at growing (LogPos, LogPos)", i, e.ID, e.Position)
			}
		}
	})
}

// TestRealNodeRestartDuringSubscription: with EVENTSTORE_RESTART set to a
// command that restarts the node (for example `docker compose restart
// kurrentdb`), a subscription that runs across the restart hands out every
// event once, in order.
func TestRealNodeRestartDuringSubscription(t *testing.T) {
	url := realNode(t)
	restart := os.Getenv("EVENTSTORE_RESTART")
	if restart == "" {
		t.Skip("EVENTSTORE_RESTART is not set (for example `docker compose restart kurrentdb`)")
	}
	ctx := ctxT(t)
	prefix := "itest-" + uuid.NewString()[:8] + "-"
	store := openReal(t, url, esdb.Options{StreamPrefixes: []string{prefix}, MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second})
	origin, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	subCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- store.Subscribe(subCtx, origin, eventstore.SubscribeOptions{}, rec.handle) }()
	var want []uuid.UUID
	appendOne := func(deadline time.Time) {
		e := eventstoretest.Event("Tested.v1", len(want))
		for {
			_, err := store.Append(ctx, prefix+uuid.NewString(), eventstore.NoStream, e)
			if err == nil {
				want = append(want, e.ID)
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("appends still fail: %v", err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	for range 50 {
		appendOne(time.Now().Add(10 * time.Second))
	}
	rec.waitFor(t, 50)
	cmd := exec.CommandContext(ctx, "sh", "-c", restart)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", restart, err, strings.TrimSpace(string(out)))
	}
	for range 50 {
		appendOne(time.Now().Add(2 * time.Minute))
	}
	rec.waitFor(t, 100)
	time.Sleep(time.Second)
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("subscription ended with %v", err)
	}
	rec.check(t, want)
}
