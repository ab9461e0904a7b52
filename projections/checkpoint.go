package projections

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// ProgressChannel is the LISTEN/NOTIFY channel a projector signals on after
// each checkpoint commit. The payload is "name state commit prepare".
const ProgressChannel = "projection_progress"

// lockNamespace is the first key of every projection's advisory lock
// (pg_try_advisory_lock(lockNamespace, hashtext(name))), so the locks are easy
// to find in pg_locks and clash with nobody else's.
const lockNamespace = 0x0b5e4e11

// checkpoint is a projection's row in projection_checkpoints.
type checkpoint struct {
	Name        string
	Position    eventstore.Position
	State       string
	Applied     int64
	LastEventAt *time.Time
	LastError   *string
	Owner       *string
}

const checkpointColumns = "name, commit_pos::text, prepare_pos::text, state, applied_events, last_event_at, last_error, owner"

type rowScanner interface{ Scan(dest ...any) error }

func scanCheckpoint(r rowScanner) (checkpoint, error) {
	var (
		c       checkpoint
		commit  string
		prepare string
	)
	if err := r.Scan(&c.Name, &commit, &prepare, &c.State, &c.Applied, &c.LastEventAt, &c.LastError, &c.Owner); err != nil {
		return checkpoint{}, err
	}
	pos, err := parsePos(commit, prepare)
	if err != nil {
		return checkpoint{}, err
	}
	c.Position = pos
	return c, nil
}

func parsePos(commit, prepare string) (eventstore.Position, error) {
	c, err := strconv.ParseUint(commit, 10, 64)
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("bad checkpoint commit %q: %w", commit, err)
	}
	p, err := strconv.ParseUint(prepare, 10, 64)
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("bad checkpoint prepare %q: %w", prepare, err)
	}
	return eventstore.Position{Commit: c, Prepare: p}, nil
}

func u64(v uint64) string { return strconv.FormatUint(v, 10) }

// dbtx is what a pool, a connection and a transaction have in common.
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// lockCheckpoint reads and row-locks the projection's checkpoint in tx,
// creating it if needed. Every writer of a projection's rows goes through
// it, which serialises the live projector, a stray second owner, skip,
// retry and the rebuild swap.
func lockCheckpoint(ctx context.Context, tx pgx.Tx, name string) (checkpoint, error) {
	c, err := scanCheckpoint(tx.QueryRow(ctx, "SELECT "+checkpointColumns+" FROM projection_checkpoints WHERE name = $1 FOR UPDATE", name))
	if isNoRows(err) {
		if _, err := tx.Exec(ctx, "INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", name); err != nil {
			return checkpoint{}, fmt.Errorf("projections: create checkpoint of %q: %w", name, err)
		}
		c, err = scanCheckpoint(tx.QueryRow(ctx, "SELECT "+checkpointColumns+" FROM projection_checkpoints WHERE name = $1 FOR UPDATE", name))
	}
	if err != nil {
		return checkpoint{}, fmt.Errorf("projections: lock checkpoint of %q: %w", name, err)
	}
	return c, nil
}

// readCheckpoints returns the rows of names (all rows when names is empty).
func readCheckpoints(ctx context.Context, db dbtx, names []string) (map[string]checkpoint, error) {
	var (
		rows pgx.Rows
		err  error
	)
	if len(names) == 0 {
		rows, err = db.Query(ctx, "SELECT "+checkpointColumns+" FROM projection_checkpoints")
	} else {
		rows, err = db.Query(ctx, "SELECT "+checkpointColumns+" FROM projection_checkpoints WHERE name = ANY($1)", names)
	}
	if err != nil {
		return nil, fmt.Errorf("projections: read checkpoints: %w", err)
	}
	defer rows.Close()
	out := make(map[string]checkpoint)
	for rows.Next() {
		c, err := scanCheckpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("projections: read checkpoints: %w", err)
		}
		out[c.Name] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("projections: read checkpoints: %w", err)
	}
	return out, nil
}

// advanceCheckpoint moves the checkpoint to pos in tx and queues the
// progress notification, which Postgres delivers at commit.
func advanceCheckpoint(ctx context.Context, tx pgx.Tx, name string, pos eventstore.Position, applied int, lastEventAt time.Time) error {
	// One round trip: the update and the notification together.
	payload := name + " " + string(StateRunning) + " " + u64(pos.Commit) + " " + u64(pos.Prepare)
	_, err := tx.Exec(ctx, `WITH u AS (
  UPDATE projection_checkpoints
  SET commit_pos = $2::numeric, prepare_pos = $3::numeric, applied_events = applied_events + $4,
      last_event_at = $5, updated_at = now()
  WHERE name = $1 RETURNING 1)
SELECT pg_notify($6, $7) FROM u`, name, u64(pos.Commit), u64(pos.Prepare), applied, lastEventAt, ProgressChannel, payload)
	if err != nil {
		return fmt.Errorf("projections: advance checkpoint of %q: %w", name, err)
	}
	return nil
}

func notifyProgress(ctx context.Context, tx pgx.Tx, name, state string, pos eventstore.Position) error {
	payload := name + " " + state + " " + u64(pos.Commit) + " " + u64(pos.Prepare)
	if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", ProgressChannel, payload); err != nil {
		return fmt.Errorf("projections: notify progress of %q: %w", name, err)
	}
	return nil
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
