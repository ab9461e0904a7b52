package projections

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/eventstore"
)

// DeadLetter is an event a projection could not apply.
type DeadLetter struct {
	ID         int64
	Projection string
	Position   eventstore.Position
	EventID    string
	StreamID   string
	EventType  string
	Error      string
	CreatedAt  time.Time
	Resolution string // "", "skipped" or "retried"
}

// DeadLetters lists a projection's dead letters, newest first; open ones
// only unless all is set.
func DeadLetters(ctx context.Context, pool *pgxpool.Pool, name string, all bool) ([]DeadLetter, error) {
	rows, err := pool.Query(ctx, `SELECT id, projection, commit_pos::text, prepare_pos::text, event_id::text, stream_id, event_type,
  error, created_at, coalesce(resolution, '')
FROM projection_dead_letters WHERE projection = $1 AND ($2 OR resolved_at IS NULL) ORDER BY id DESC`, name, all)
	if err != nil {
		return nil, fmt.Errorf("projections: dead letters of %s: %w", name, err)
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var (
			d               DeadLetter
			commit, prepare string
		)
		if err := rows.Scan(&d.ID, &d.Projection, &commit, &prepare, &d.EventID, &d.StreamID, &d.EventType, &d.Error, &d.CreatedAt, &d.Resolution); err != nil {
			return nil, fmt.Errorf("projections: dead letters of %s: %w", name, err)
		}
		if d.Position, err = parsePos(commit, prepare); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("projections: dead letters of %s: %w", name, err)
	}
	return out, nil
}

// Skip resumes a stopped projection after its dead-lettered event: the
// checkpoint moves past it and the event stays in the dead-letter table,
// marked skipped. It returns the skipped letter (zero if there was none).
func Skip(ctx context.Context, pool *pgxpool.Pool, name string) (DeadLetter, error) {
	return resume(ctx, pool, name, "skipped")
}

// Retry resumes a stopped projection at its dead-lettered event, after a fix
// (a new binary, a repaired row): the projector tries it again.
func Retry(ctx context.Context, pool *pgxpool.Pool, name string) (DeadLetter, error) {
	return resume(ctx, pool, name, "retried")
}

func resume(ctx context.Context, pool *pgxpool.Pool, name, resolution string) (DeadLetter, error) {
	var dl DeadLetter
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		cp, err := lockCheckpoint(ctx, tx, name)
		if err != nil {
			return err
		}
		if cp.State != string(StateStopped) {
			return fmt.Errorf("%w: %s is %s", ErrNotStopped, name, cp.State)
		}
		var commit, prepare string
		err = tx.QueryRow(ctx, `SELECT id, commit_pos::text, prepare_pos::text, event_id::text, stream_id, event_type, error, created_at
FROM projection_dead_letters WHERE projection = $1 AND resolved_at IS NULL ORDER BY id DESC LIMIT 1`, name).
			Scan(&dl.ID, &commit, &prepare, &dl.EventID, &dl.StreamID, &dl.EventType, &dl.Error, &dl.CreatedAt)
		pos := cp.Position
		switch {
		case isNoRows(err):
		case err != nil:
			return fmt.Errorf("projections: %s: read dead letter: %w", name, err)
		default:
			dl.Projection, dl.Resolution = name, resolution
			if dl.Position, err = parsePos(commit, prepare); err != nil {
				return err
			}
			if resolution == "skipped" && pos.Less(dl.Position) {
				pos = dl.Position
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE projection_dead_letters SET resolution = $2, resolved_at = now()
WHERE projection = $1 AND resolved_at IS NULL`, name, resolution); err != nil {
			return fmt.Errorf("projections: %s: resolve dead letters: %w", name, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE projection_checkpoints SET state = 'running', last_error = NULL,
  commit_pos = $2::numeric, prepare_pos = $3::numeric, updated_at = now() WHERE name = $1`,
			name, u64(pos.Commit), u64(pos.Prepare)); err != nil {
			return fmt.Errorf("projections: %s: resume: %w", name, err)
		}
		return notifyProgress(ctx, tx, name, string(StateRunning), pos)
	})
	return dl, err
}

// RebuildOptions configures Rebuild.
type RebuildOptions struct {
	Pool       *pgxpool.Pool
	Store      eventstore.Store
	Projection Projection
	// BatchSize is the events per transaction (default 5000).
	BatchSize int
	Logger    *slog.Logger
	// Progress, if set, is called after each committed batch with the
	// events read so far and the position reached.
	Progress func(events int64, pos eventstore.Position)
}

var safeName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,40}$`)

// Rebuild builds the projection from the start of the log into copies of
// its tables in a scratch schema, while the live tables keep serving
// queries and the live projector keeps going; then, in one transaction that
// holds the checkpoint row, it applies what the live projector committed
// meanwhile, drops the old tables and moves the new ones in. It returns
// the checkpoint the swapped-in tables are at.
func Rebuild(ctx context.Context, o RebuildOptions) (eventstore.Position, error) {
	p := o.Projection
	name := p.Name()
	if !safeName.MatchString(name) {
		return eventstore.Position{}, fmt.Errorf("projections: rebuild: name %q is not a safe schema suffix", name)
	}
	for _, t := range p.Tables() {
		if !safeName.MatchString(t) {
			return eventstore.Position{}, fmt.Errorf("projections: rebuild %s: table name %q is not plain", name, t)
		}
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 5000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	types := map[string]bool{}
	for _, t := range p.EventTypes() {
		types[t] = true
	}
	// One rebuild of a projection at a time: they share the scratch schema.
	lockConn, err := pgx.ConnectConfig(ctx, o.Pool.Config().ConnConfig.Copy())
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("projections: rebuild %s: %w", name, err)
	}
	defer func() { _ = lockConn.Close(context.WithoutCancel(ctx)) }()
	var got bool
	if err := lockConn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, hashtext($2))", lockNamespace+1, name).Scan(&got); err != nil {
		return eventstore.Position{}, fmt.Errorf("projections: rebuild %s: %w", name, err)
	}
	if !got {
		return eventstore.Position{}, fmt.Errorf("%w: %s", ErrRebuildRunning, name)
	}

	// Events an operator skipped stay skipped, so that rebuilt equals live.
	skipped := map[string]bool{}
	rows, err := o.Pool.Query(ctx, "SELECT event_id::text FROM projection_dead_letters WHERE projection = $1 AND resolution = 'skipped'", name)
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("projections: rebuild %s: skipped events: %w", name, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return eventstore.Position{}, fmt.Errorf("projections: rebuild %s: skipped events: %w", name, err)
	}
	for _, id := range ids {
		skipped[id] = true
	}
	scratch := "rebuild_" + name
	var base string
	if err := o.Pool.QueryRow(ctx, "SELECT current_schema()").Scan(&base); err != nil {
		return eventstore.Position{}, fmt.Errorf("projections: rebuild %s: %w", name, err)
	}
	ident := func(s ...string) string { return pgx.Identifier(s).Sanitize() }
	setup := []string{"DROP SCHEMA IF EXISTS " + ident(scratch) + " CASCADE", "CREATE SCHEMA " + ident(scratch)}
	for _, t := range p.Tables() {
		setup = append(setup, "CREATE TABLE "+ident(scratch, t)+" (LIKE "+ident(base, t)+" INCLUDING ALL)")
	}
	for _, q := range setup {
		if _, err := o.Pool.Exec(ctx, q); err != nil {
			return eventstore.Position{}, fmt.Errorf("projections: rebuild %s: prepare %s: %w", name, scratch, err)
		}
	}
	searchPath := "SET LOCAL search_path TO " + ident(scratch) + ", " + ident(base)
	applyInto := func(tx pgx.Tx, events []eventstore.RecordedEvent) error {
		relevant := make([]eventstore.RecordedEvent, 0, len(events))
		for _, e := range events {
			if types[e.Type] && !skipped[e.ID.String()] {
				relevant = append(relevant, e)
			}
		}
		if len(relevant) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, searchPath); err != nil {
			return err
		}
		if err := p.Apply(ctx, tx, relevant); err != nil {
			return fmt.Errorf("apply %d events (%s..%s): %w", len(relevant), relevant[0].Position, relevant[len(relevant)-1].Position, err)
		}
		_, err := tx.Exec(ctx, "SET LOCAL search_path TO "+ident(base))
		return err
	}

	pos := eventstore.Start
	var read int64
	for {
		events, err := o.Store.ReadAll(ctx, pos, o.BatchSize)
		if err != nil {
			return pos, fmt.Errorf("projections: rebuild %s: read: %w", name, err)
		}
		if len(events) > 0 {
			if err := pgx.BeginFunc(ctx, o.Pool, func(tx pgx.Tx) error { return applyInto(tx, events) }); err != nil {
				return pos, fmt.Errorf("projections: rebuild %s: %w", name, err)
			}
			pos = events[len(events)-1].Position
			read += int64(len(events))
			if o.Progress != nil {
				o.Progress(read, pos)
			}
		}
		if len(events) < o.BatchSize {
			break // at the head; the swap takes the rest
		}
	}

	var final eventstore.Position
	err = pgx.BeginFunc(ctx, o.Pool, func(tx pgx.Tx) error {
		cp, err := lockCheckpoint(ctx, tx, name)
		if err != nil {
			return err
		}
		// Bring the new tables to the live checkpoint, which cannot move now.
		for pos.Less(cp.Position) {
			events, err := o.Store.ReadAll(ctx, pos, o.BatchSize)
			if err != nil {
				return fmt.Errorf("read: %w", err)
			}
			n := 0
			for n < len(events) && !cp.Position.Less(events[n].Position) {
				n++
			}
			if n == 0 {
				return fmt.Errorf("the log has no events between %s and the checkpoint %s", pos, cp.Position)
			}
			if err := applyInto(tx, events[:n]); err != nil {
				return err
			}
			pos = events[n-1].Position
			read += int64(n)
		}
		for _, t := range p.Tables() {
			if _, err := tx.Exec(ctx, "DROP TABLE "+ident(base, t)); err != nil {
				return fmt.Errorf("drop old %s: %w", t, err)
			}
			if _, err := tx.Exec(ctx, "ALTER TABLE "+ident(scratch, t)+" SET SCHEMA "+ident(base)); err != nil {
				return fmt.Errorf("move new %s in: %w", t, err)
			}
		}
		if _, err := tx.Exec(ctx, "DROP SCHEMA "+ident(scratch)); err != nil {
			return fmt.Errorf("drop %s: %w", scratch, err)
		}
		final = cp.Position
		if final.Less(pos) {
			// The live projector was behind the rebuild: keep the new lead.
			final = pos
			if _, err := tx.Exec(ctx, "UPDATE projection_checkpoints SET commit_pos = $2::numeric, prepare_pos = $3::numeric, updated_at = now() WHERE name = $1",
				name, u64(final.Commit), u64(final.Prepare)); err != nil {
				return err
			}
		}
		state := cp.State
		return notifyProgress(ctx, tx, name, state, final)
	})
	if err != nil {
		return pos, fmt.Errorf("projections: rebuild %s: swap: %w", name, err)
	}
	if o.Progress != nil {
		o.Progress(read, final)
	}
	o.Logger.InfoContext(ctx, "projection rebuilt and swapped in", "projection", name, "events", read, "position", final.String())
	return final, nil
}
