package projections

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// The caps bound the events Statuses counts behind a checkpoint; a lag at
// the cap means "at least". A store with eventstore.Counter (Postgres)
// counts in the database, up to CountedLagCap; another store's lag is
// read, up to ReadLagCap events.
const (
	CountedLagCap = 1_000_000
	ReadLagCap    = 10_000
)

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
	// LagEvents counts the events after Position, up to CountedLagCap or
	// ReadLagCap.
	LagEvents int64 `json:"lag_events"`
	// LagCapped is set when LagEvents hit the cap.
	LagCapped bool `json:"lag_capped,omitempty"`
	// LagSeconds is the age of the oldest event not applied yet.
	LagSeconds    float64 `json:"lag_seconds"`
	State         State   `json:"state"`
	Owner         string  `json:"owner,omitempty"`
	LastError     string  `json:"last_error,omitempty"`
	AppliedEvents int64   `json:"applied_events"`
	// HeldByHorizon is set when events wait behind a transaction held open
	// in the database (see Horizon): the projection is not slow, it cannot
	// see them yet.
	HeldByHorizon bool `json:"held_by_horizon,omitempty"`
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
	hold, err := Horizon(ctx, store)
	if err != nil {
		return nil, err
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
		n, first, capped, err := lag(ctx, store, cp.Position)
		if err != nil && cp.State == string(StateStopped) && refusedCheckpoint(err) {
			// Stopped at a checkpoint the store refuses: no lag to count,
			// LastError says why.
			n, first, capped, err = 0, time.Time{}, false, nil
		}
		if err != nil {
			return nil, fmt.Errorf("projections: lag of %s: %w", name, err)
		}
		st.LagEvents, st.LagCapped = n, capped
		st.HeldByHorizon = hold != nil && n > 0
		if n > 0 {
			st.LagSeconds = max(0, now.Sub(first).Seconds())
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

// lag counts the events after pos (up to a cap) and finds when the first
// of them was recorded.
func lag(ctx context.Context, store eventstore.Store, pos eventstore.Position) (n int64, first time.Time, capped bool, err error) {
	if c, ok := eventstore.AsCounter(store); ok {
		n, first, err = c.CountAfter(ctx, pos, CountedLagCap)
		return n, first, n == CountedLagCap, err
	}
	behind, err := store.ReadAll(ctx, pos, ReadLagCap)
	if err != nil || len(behind) == 0 {
		return 0, time.Time{}, false, err
	}
	return int64(len(behind)), behind[0].RecordedAt, len(behind) == ReadLagCap, nil
}

// CheckStopped reads only the checkpoints of projs (no lag, no locks), so
// that /readyz stays cheap during a catch-up; it fails like CheckReady.
func CheckStopped(ctx context.Context, pool *pgxpool.Pool, projs []Projection) error {
	names := make([]string, len(projs))
	for i, p := range projs {
		names[i] = p.Name()
	}
	cps, err := readCheckpoints(ctx, pool, names)
	if err != nil {
		return err
	}
	sts := make([]Status, 0, len(names))
	for _, name := range names {
		cp := cps[name]
		st := Status{Name: name, Position: cp.Position}
		if cp.State == string(StateStopped) {
			st.State = StateStopped
		}
		if cp.LastError != nil {
			st.LastError = *cp.LastError
		}
		sts = append(sts, st)
	}
	return CheckReady(sts)
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
