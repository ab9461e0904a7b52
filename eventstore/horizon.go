package eventstore

import (
	"context"
	"time"
)

// HorizonHold is the open transaction that keeps committed events from
// readers: Postgres readers read only below the oldest transaction that
// could still write events (the horizon), so one transaction left open in
// the service's database holds every subscription back while the events
// committed after it wait.
type HorizonHold struct {
	// PID is the backend process id of the holding transaction (0 when it
	// cannot be seen, e.g. another role's backend without pg_read_all_stats).
	PID int `json:"pid"`
	// Age is how long the transaction has been open.
	Age time.Duration `json:"age"`
	// State is pg_stat_activity's state, e.g. "idle in transaction".
	State string `json:"state,omitempty"`
	// Query is the first characters of the backend's current or last query
	// (truncated: full text may carry personal data in literals).
	Query string `json:"query,omitempty"`
	// Waiting counts the committed events held back (up to a cap).
	Waiting int64 `json:"waiting_events"`
}

// HorizonInspector is implemented by stores whose readers can be held back
// by an open transaction (Postgres). HorizonHold reports the hold when
// committed events wait behind one; ok is false when nothing waits.
// Errors: ErrUnavailable.
type HorizonInspector interface {
	HorizonHold(ctx context.Context) (hold HorizonHold, ok bool, err error)
}

// AsHorizonInspector finds the HorizonInspector of s, looking through
// decorators.
func AsHorizonInspector(s Store) (HorizonInspector, bool) {
	for s != nil {
		if h, ok := s.(HorizonInspector); ok {
			return h, true
		}
		d, ok := s.(Decorator)
		if !ok {
			return nil, false
		}
		s = d.Unwrap()
	}
	return nil, false
}
