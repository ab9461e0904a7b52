package phantoms

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/commands"
)

// IdleAfter is how long a phantom is kept after its last change. A real
// account's consecutive login failures do not expire, so a phantom must
// outlive any delay window by far.
const IdleAfter = 30 * 24 * time.Hour

// Store is the Postgres phantom store.
type Store struct {
	pool *pgxpool.Pool
}

var _ commands.PhantomStore = (*Store)(nil)

// New returns a Store on pool (migrated by package migrations).
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// UpdatePhantom implements commands.PhantomStore: the row is locked for the
// whole decision, so concurrent tries on one address are counted one by
// one on every instance.
func (s *Store) UpdatePhantom(ctx context.Context, key []byte, decide func(history []commands.PhantomEvent) ([]commands.PhantomEvent, error)) error {
	var derr error
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Waiting behind other tries on the same address holds a pooled
		// connection: give up rather than pile up.
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '5s'`); err != nil {
			return err
		}
		// One statement creates or locks the row, so a concurrent
		// DeleteIdle cannot slip in between.
		var raw []byte
		if err := tx.QueryRow(ctx, `INSERT INTO phantom_accounts (key) VALUES ($1)
ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key RETURNING history`, key).Scan(&raw); err != nil {
			return err
		}
		var history []commands.PhantomEvent
		if err := json.Unmarshal(raw, &history); err != nil {
			return fmt.Errorf("stored history: %w", err)
		}
		var events []commands.PhantomEvent
		events, derr = decide(history)
		if len(events) == 0 {
			return nil
		}
		all := append(history, events...)
		if len(all) > commands.PhantomHead+commands.PhantomTail {
			all = append(all[:commands.PhantomHead:commands.PhantomHead], all[len(all)-commands.PhantomTail:]...)
		}
		js, err := json.Marshal(all)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE phantom_accounts SET history = $2::jsonb, updated_at = now() WHERE key = $1`, key, js)
		return err
	})
	if err != nil {
		return fmt.Errorf("phantoms: update: %w: %w", commands.ErrUnavailable, err)
	}
	return derr
}

// DeleteIdle removes the phantoms unchanged for IdleAfter; the server calls
// it periodically.
func (s *Store) DeleteIdle(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM phantom_accounts WHERE updated_at < now() - make_interval(secs => $1)`, IdleAfter.Seconds())
	if err != nil {
		return 0, fmt.Errorf("phantoms: delete idle: %w: %w", commands.ErrUnavailable, err)
	}
	return tag.RowsAffected(), nil
}
