package eventstore_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/multimedia-portal/multimedia/eventstore"
)

func event(typ string, dataBytes int) eventstore.EventData {
	data, _ := json.Marshal(strings.Repeat("x", dataBytes-2))
	return eventstore.EventData{ID: uuid.New(), Type: typ, Data: data}
}

// TestEventSizeCountsLikeTheServer: data + metadata ("{}" when empty, as
// the EventStoreDB adapter sends) + twice the type's UTF-16 length.
func TestEventSizeCountsLikeTheServer(t *testing.T) {
	e := event("Tested.v1", 100)
	if got := eventstore.EventSize(e); got != 100+2+2*9 {
		t.Fatalf("size: %d", got)
	}
	e.Metadata = json.RawMessage(`{"a":1}`)
	e.Type = "Tésté😀" // 6 UTF-16 units for 5 runes
	if got := eventstore.EventSize(e); got != 100+7+2*7 {
		t.Fatalf("size with metadata and a non-ASCII type: %d", got)
	}
}

// TestSplitAppendByBytesAndCount: runs keep their order, none passes
// either limit, and an event alone over the byte limit is refused.
func TestSplitAppendByBytesAndCount(t *testing.T) {
	var evs []eventstore.EventData
	for range 10 {
		evs = append(evs, event("T", 300)) // 300 + 2 + 2 = 304 bytes
	}
	runs, err := eventstore.SplitAppend(evs, 4, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	n := 0
	for _, r := range runs {
		if len(r) > 4 || eventstore.AppendSize(r) > 1000 {
			t.Fatalf("run of %d events, %d bytes", len(r), eventstore.AppendSize(r))
		}
		for _, e := range r {
			if e.ID != evs[n].ID {
				t.Fatalf("event %d out of order", n)
			}
			n++
		}
		sizes = append(sizes, len(r))
	}
	if n != 10 || len(runs) != 4 {
		t.Fatalf("runs %v of %d events, want 3,3,3,1", sizes, n)
	}
	if runs, _ := eventstore.SplitAppend(evs, 2, 1<<20); len(runs) != 5 {
		t.Fatalf("by count: %d runs, want 5", len(runs))
	}
	_, err = eventstore.SplitAppend([]eventstore.EventData{event("T", 2000)}, 10, 1000)
	if !errors.Is(err, eventstore.ErrInvalidArgument) || !strings.Contains(err.Error(), "2004 bytes") {
		t.Fatalf("oversized event: %v", err)
	}
}

// TestOutcomeUnknownIsAlsoUnavailable: callers that retry transient
// failures keep retrying a timed-out append; the new code is still told
// apart.
func TestOutcomeUnknownIsAlsoUnavailable(t *testing.T) {
	err := &eventstore.Error{Code: eventstore.ErrorCodeOutcomeUnknown, Message: "timed out"}
	if !errors.Is(err, eventstore.ErrUnavailable) || !errors.Is(err, eventstore.ErrOutcomeUnknown) {
		t.Fatal("outcome unknown must match ErrUnavailable and ErrOutcomeUnknown")
	}
	if errors.Is(&eventstore.Error{Code: eventstore.ErrorCodeUnavailable}, eventstore.ErrOutcomeUnknown) {
		t.Fatal("unavailable must not match ErrOutcomeUnknown")
	}
}
