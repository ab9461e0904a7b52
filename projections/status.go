package projections

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// LagCap bounds the events Statuses counts behind a checkpoint: the port has
// no cheap count, so lag is read, and a lag of LagCap means "at least".
const LagCap = 10_000

// catchingUpAfter is the lag beyond which an owned projection is reported
// as catching up rather than running.
const (
	catchingUpEvents  = 1000
	catchingUpSeconds = 5.0
)

// Status is one projection's health, for /readyz, /metrics and
// `multimedia projections status`.
type Status struct {
	Name     string              `json:"name"`
	Position eventstore.Position `json:"position"`
	// LagEvents counts the events after Position, up to LagCap.
	LagEvents int64 `json:"lag_events"`
	// LagCapped is set when LagEvents hit LagCap.
	LagCapped bool `json:"lag_capped,omitempty"`
	// LagSeconds is the age of the oldest event not applied yet.
	LagSeconds    float64 `json:"lag_seconds"`
	State         State   `json:"state"`
	Owner         string  `json:"owner,omitempty"`
	LastError     string  `json:"last_error,omitempty"`
	AppliedEvents int64   `json:"applied_events"`
}

// Statuses reports every projection of projs, in order. A projection that
// never ran shows at the start of the log, idle.
func Statuses(ctx context.Context, pool *pgxpool.Pool, store eventstore.Store, projs []Projection) ([]Status, error) {
	names := make([]string, len(projs))
	for i, p := range projs {
		names[i] = p.Name()
	}
	cps, err := readCheckpoints(ctx, pool, names)
	if err != nil {
		return nil, err
	}
	owned := map[string]bool{}
	rows, err := pool.Query(ctx, `SELECT c.name FROM projection_checkpoints c
WHERE c.name = ANY($2) AND EXISTS (SELECT 1 FROM pg_locks l
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND l.classid = $1::int4::oid AND l.objid = hashtext(c.name)::oid)`, lockNamespace, names)
	if err != nil {
		return nil, fmt.Errorf("projections: read owners: %w", err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("projections: read owners: %w", err)
		}
		owned[n] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("projections: read owners: %w", err)
	}
	now := time.Now()
	out := make([]Status, 0, len(projs))
	for _, name := range names {
		cp := cps[name]
		st := Status{Name: name, Position: cp.Position, AppliedEvents: cp.Applied}
		if cp.LastError != nil {
			st.LastError = *cp.LastError
		}
		if cp.Owner != nil && owned[name] {
			st.Owner = *cp.Owner
		}
		behind, err := store.ReadAll(ctx, cp.Position, LagCap)
		if err != nil {
			return nil, fmt.Errorf("projections: lag of %s: %w", name, err)
		}
		st.LagEvents = int64(len(behind))
		st.LagCapped = len(behind) == LagCap
		if len(behind) > 0 {
			st.LagSeconds = max(0, now.Sub(behind[0].RecordedAt).Seconds())
		}
		switch {
		case cp.State == string(StateStopped):
			st.State = StateStopped
		case !owned[name]:
			st.State = StateIdle
		case st.LagEvents > catchingUpEvents || st.LagSeconds > catchingUpSeconds:
			st.State = StateCatchingUp
		default:
			st.State = StateRunning
		}
		out = append(out, st)
	}
	return out, nil
}

// CheckReady returns nil unless a projection is stopped at a dead letter;
// then an error wrapping ErrStopped names them, for /readyz.
func CheckReady(sts []Status) error {
	var stopped []string
	for _, st := range sts {
		if st.State == StateStopped {
			stopped = append(stopped, st.Name+" at "+st.Position.String()+": "+st.LastError)
		}
	}
	if len(stopped) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrStopped, strings.Join(stopped, "; "))
}
