package esdb

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	kdb "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/esdb/esdbtestdouble"
	"github.com/multimedia-portal/multimedia/eventstore/eventstoretest"
)

// TestConflictKeepsTheClientError: when the client's wrong-expected-version
// error does not say the stream's revision, the adapter reads it from the
// stream and still keeps the client's error as the cause; when that read
// fails too, the error says unavailable and keeps the cause as well.
func TestConflictKeepsTheClientError(t *testing.T) {
	srv, err := esdbtestdouble.New()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	store, err := Open(srv.URL(), Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stream := "test-" + uuid.NewString()
	if _, err := store.Append(ctx, stream, eventstore.NoStream, eventstoretest.Event("Tested.v1", 0), eventstoretest.Event("Tested.v1", 1)); err != nil {
		t.Fatal(err)
	}
	causes := map[string]error{
		"client error without a message": &kdb.Error{},
		"other error":                    errors.New("wrong expected version, revision not given"),
	}
	for name, cause := range causes {
		for s, want := range map[string]int64{stream: 1, "missing-" + uuid.NewString(): eventstore.NoStreamVersion} {
			err := store.conflict(ctx, s, eventstore.Exact(7), cause)
			var ee *eventstore.Error
			if !errors.As(err, &ee) || ee.Code != eventstore.ErrorCodeWrongExpectedVersion || ee.Actual != want || ee.Expected != eventstore.Exact(7) || ee.Stream != s {
				t.Fatalf("%s on %q: got %v, want a wrong expected version at %d", name, s, err, want)
			}
			if !errors.Is(err, cause) {
				t.Fatalf("%s on %q: %v does not keep the client's error", name, s, err)
			}
		}
	}
	_ = store.Close()
	cause := &kdb.Error{}
	err = store.conflict(ctx, stream, eventstore.Exact(7), cause)
	if !errors.Is(err, eventstore.ErrUnavailable) || !errors.Is(err, cause) {
		t.Fatalf("revision unreadable: got %v, want ErrUnavailable keeping the client's error", err)
	}
}
