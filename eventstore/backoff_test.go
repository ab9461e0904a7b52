package eventstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// TestBackoffWaitsBelowItsCap: the wait stays below 1 ms << the capped
// attempt, and an ended context ends it with the context's error.
func TestBackoffWaitsBelowItsCap(t *testing.T) {
	for _, c := range []struct{ attempt, cap int }{{0, 5}, {3, 5}, {40, 2}} {
		start := time.Now()
		if err := eventstore.Backoff(context.Background(), c.attempt, c.cap); err != nil {
			t.Fatal(err)
		}
		// Generous slack for a loaded machine's timers.
		if limit := time.Millisecond<<min(c.attempt, c.cap) + 200*time.Millisecond; time.Since(start) > limit {
			t.Errorf("attempt %d, cap %d: waited %s, over %s", c.attempt, c.cap, time.Since(start), limit)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := eventstore.Backoff(ctx, 30, 30); !errors.Is(err, context.Canceled) {
		t.Fatalf("ended context: got %v, want context.Canceled", err)
	}
}
