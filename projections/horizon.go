package projections

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// HorizonWarnAfter is how long a transaction may hold committed events
// back from every projection before the runtime logs a warning naming it.
const HorizonWarnAfter = 5 * time.Second

// Horizon reports the open transaction that holds committed events back
// from the projections (nil when none does, or when the store has no
// horizon, as EventStoreDB has not).
func Horizon(ctx context.Context, store eventstore.Store) (*eventstore.HorizonHold, error) {
	hi, ok := eventstore.AsHorizonInspector(store)
	if !ok {
		return nil, nil
	}
	h, held, err := hi.HorizonHold(ctx)
	if err != nil {
		return nil, fmt.Errorf("projections: horizon: %w", err)
	}
	if !held {
		return nil, nil
	}
	return &h, nil
}

// DescribeHold is one line for logs and `multimedia projections status`.
func DescribeHold(h eventstore.HorizonHold) string {
	who := "an unseen backend"
	if h.PID != 0 {
		who = fmt.Sprintf("pid %d (%s)", h.PID, h.State)
	}
	s := fmt.Sprintf("horizon held for %.1fs by %s; %d committed events wait", h.Age.Seconds(), who, h.Waiting)
	if h.Query != "" {
		s += fmt.Sprintf("; query %q…", h.Query)
	}
	return s
}

// horizonWatch logs one warning per hold that lasts HorizonWarnAfter, and
// one line when it ends.
type horizonWatch struct {
	log    *slog.Logger
	warned *eventstore.HorizonHold
}

func (w *horizonWatch) observe(ctx context.Context, h *eventstore.HorizonHold) {
	switch {
	case h != nil && h.Age >= HorizonWarnAfter && (w.warned == nil || w.warned.PID != h.PID):
		w.log.WarnContext(ctx, "an open transaction holds every projection back: end it, or set idle_in_transaction_session_timeout",
			"pid", h.PID, "held_seconds", h.Age.Seconds(), "state", h.State, "query_start", h.Query, "waiting_events", h.Waiting)
		held := *h
		w.warned = &held
	case h == nil && w.warned != nil:
		w.log.InfoContext(ctx, "the transaction holding the projections back has ended", "pid", w.warned.PID)
		w.warned = nil
	}
}
