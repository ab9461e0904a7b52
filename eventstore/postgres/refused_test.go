package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

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

// TestPostgresRefusesJSONNestedBeyondGo: encoding/json refuses JSON nested
// deeper than 10,000 levels (json.Valid, json.Unmarshal), which jsonb accepts
// up to its stack depth (about 13,000 with the default max_stack_depth) and
// refuses beyond with "stack depth limit exceeded" (class 54). Neither may
// pass: an event stored that no Go reader can decode poisons every
// projection, and a refusal answered as ErrUnavailable is retried forever.
// Both are ErrInvalidEvent, naming the event, with nothing written, as
// before Postgres was left to parse the JSON.
func TestPostgresRefusesJSONNestedBeyondGo(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	store := postgres.New(ctx, pool, postgres.Options{})
	defer store.Close()

	for name, depth := range map[string]int{"jsonb accepts it": 10_001, "jsonb refuses it": 20_000} {
		for _, where := range []string{"data", "metadata"} {
			t.Run(name+" in "+where, func(t *testing.T) {
				deep := json.RawMessage(strings.Repeat(`{"a":`, depth-1) + "{}" + strings.Repeat("}", depth-1))
				e := eventstoretest.Event("T.v1", 0)
				if where == "data" {
					e.Data = deep
				} else {
					e.Metadata = deep
				}
				stream := "deep-" + e.ID.String()
				_, err := store.Append(ctx, stream, eventstore.NoStream, eventstoretest.Event("T.v1", 1), e)
				if !errors.Is(err, eventstore.ErrInvalidEvent) || !strings.Contains(err.Error(), "event 1 ") {
					t.Fatalf("got %v, want ErrInvalidEvent naming event 1", err)
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
	}

	// A server with a smaller stack refuses JSON that Go accepts: that too
	// is the event's fault, not the database being unavailable.
	t.Run("beyond a smaller server stack", func(t *testing.T) {
		cfg := pool.Config()
		cfg.ConnConfig.RuntimeParams["max_stack_depth"] = "100kB"
		small, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer small.Close()
		store := postgres.New(ctx, small, postgres.Options{})
		defer store.Close()
		e := eventstoretest.Event("T.v1", 0)
		e.Data = json.RawMessage(strings.Repeat("[", 5000) + strings.Repeat("]", 5000))
		_, err = store.Append(ctx, "deep-small-stack", eventstore.NoStream, e)
		if !errors.Is(err, eventstore.ErrInvalidEvent) {
			t.Fatalf("got %v, want ErrInvalidEvent", err)
		}
	})
}
