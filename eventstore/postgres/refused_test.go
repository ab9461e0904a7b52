package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/eventstoretest"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/platform/pgtest"
)

// TestPostgresRefusesWhatIsJSONButNotJSONB: data that is valid JSON but that
// jsonb cannot hold (a \u0000 escape, a number beyond numeric's range) is
// refused by Postgres, not by the adapter. It must be answered as a refused
// event (ErrInvalidEvent, which a caller does not retry), not as the
// database being unavailable; the message must not quote the data; nothing
// of the append may be written; and in a group commit the other appends
// must still succeed.
func TestPostgresRefusesWhatIsJSONButNotJSONB(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	store := postgres.New(ctx, pool, postgres.Options{MaxConcurrentAppends: 1})
	defer store.Close()

	for name, data := range map[string]string{
		"NUL escape":          `{"secret-looking":"x\u0000y"}`,
		"numeric overflow":    `{"n":1e999999}`,
		"NUL in second event": `{"secret-looking":"\u0000"}`,
	} {
		t.Run(name, func(t *testing.T) {
			bad := eventstoretest.Event("T.v1", 0)
			bad.Data = json.RawMessage(data)
			batch := []eventstore.EventData{bad}
			if name == "NUL in second event" {
				batch = []eventstore.EventData{eventstoretest.Event("T.v1", 1), bad}
			}
			stream := "refused-" + bad.ID.String()
			_, err := store.Append(ctx, stream, eventstore.NoStream, batch...)
			var e *eventstore.Error
			if !errors.As(err, &e) || e.Code != eventstore.ErrorCodeInvalidEvent {
				t.Fatalf("got %v, want ErrInvalidEvent", err)
			}
			if strings.Contains(err.Error(), "secret-looking") || strings.Contains(err.Error(), "999999") {
				t.Fatalf("the error quotes the data: %v", err)
			}
			got, err := store.ReadStream(ctx, stream, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 0 {
				t.Fatalf("stream holds %d events after a refused append, want 0", len(got))
			}
		})
	}

	t.Run("in a group commit", func(t *testing.T) {
		blocker, held := holdSlot(t, pool, store, "held-refused")
		bad := eventstoretest.Event("T.v1", 0)
		bad.Data = json.RawMessage(`{"a":"\u0000"}`)
		calls := []*appendCall{
			start(store, "group-ok-1", eventstore.NoStream, eventstoretest.Event("T.v1", 1)),
			start(store, "group-bad", eventstore.NoStream, bad),
			start(store, "group-ok-2", eventstore.NoStream, eventstoretest.Event("T.v1", 2)),
		}
		waitFor(t, "the appends to queue", func() bool { return postgres.QueuedAppends(store) == len(calls) })
		if err := blocker.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		<-held.done
		for _, c := range calls {
			<-c.done
		}
		if !errors.Is(calls[1].err, eventstore.ErrInvalidEvent) {
			t.Fatalf("the refused event in a group: got %v, want ErrInvalidEvent", calls[1].err)
		}
		for _, c := range []*appendCall{calls[0], calls[2]} {
			if c.err != nil {
				t.Fatalf("append to %s beside a refused event: %v", c.stream, c.err)
			}
		}
	})
}
