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

// Limits bound the phantoms kept. A phantom row is about 1 KB (1,041
// bytes measured) with the few events a probe leaves, and about 41 KB with
// the longest history kept, 502 events (TestPhantomRowSize measures both).
// The defaults hold the table to some 200 MB of typical rows, one client
// to 1,000 of them; filling every row to the longest history would take
// 500 requests per row.
//
// At a bound the least recently changed phantom goes (the client's own at
// PerClient, anyone's at Total): its address answers afresh, as an
// address nobody has tried yet. Nothing else changes, and no answer says a
// bound was reached. Telling an evicted phantom from an account needs the
// prober to change PerClient other phantoms of its own between two probes
// of one address (1,000 requests, each held to its reply floor and counted
// by the per-IP limit), or Total phantoms overall.
type Limits struct {
	// PerClient is the most phantoms one client (IPv4 address or IPv6
	// /64) keeps; creating one more drops its least recently changed.
	PerClient int
	// Total is the most phantoms kept; DeleteIdle drops the least recently
	// changed beyond it.
	Total int
}

// DefaultLimits are the limits New uses.
func DefaultLimits() Limits { return Limits{PerClient: 1_000, Total: 200_000} }

// Store is the Postgres phantom store.
type Store struct {
	pool   *pgxpool.Pool
	limits Limits
}

var _ commands.PhantomStore = (*Store)(nil)

// New returns a Store on pool (migrated by package migrations) with
// DefaultLimits.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool, limits: DefaultLimits()} }

// WithLimits returns a Store on the same pool with other limits (a zero
// field keeps the default).
func (s *Store) WithLimits(l Limits) *Store {
	d := DefaultLimits()
	if l.PerClient <= 0 {
		l.PerClient = d.PerClient
	}
	if l.Total <= 0 {
		l.Total = d.Total
	}
	return &Store{pool: s.pool, limits: l}
}

// DeletePhantom implements commands.PhantomEraser: the phantom of an
// address whose real account was erased goes with it.
func (s *Store) DeletePhantom(ctx context.Context, key []byte) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM phantom_accounts WHERE key = $1`, key); err != nil {
		return fmt.Errorf("phantoms: delete: %w: %w", commands.ErrUnavailable, err)
	}
	return nil
}

// UpdatePhantom implements commands.PhantomStore: the row is locked for the
// whole decision, so concurrent tries on one address are counted one by
// one on every instance.
// A new phantom is stored under client, and drops the client's least
// recently changed phantom when the client holds Limits.PerClient.
func (s *Store) UpdatePhantom(ctx context.Context, key, client []byte, decide func(history []commands.PhantomEvent) ([]commands.PhantomEvent, error)) error {
	if client == nil {
		client = []byte{}
	}
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
		var created bool
		if err := tx.QueryRow(ctx, `INSERT INTO phantom_accounts (key, client) VALUES ($1, $2)
ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key RETURNING history, (xmax = 0)`, key, client).Scan(&raw, &created); err != nil {
			return err
		}
		if created {
			// The client's bound: its least recently changed phantoms
			// beyond PerClient go (rows another try holds are skipped and
			// go next time).
			if _, err := tx.Exec(ctx, `DELETE FROM phantom_accounts WHERE key IN (
  SELECT key FROM phantom_accounts WHERE client = $2 AND key <> $1
  ORDER BY updated_at DESC OFFSET $3 FOR UPDATE SKIP LOCKED)`, key, client, s.limits.PerClient-1); err != nil {
				return err
			}
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

// DeleteIdle removes the phantoms unchanged for IdleAfter and, beyond
// Limits.Total, the least recently changed; the server calls it
// periodically, so between two calls the table may pass Total by what was
// created meanwhile.
func (s *Store) DeleteIdle(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM phantom_accounts WHERE updated_at < now() - make_interval(secs => $1)`, IdleAfter.Seconds())
	if err != nil {
		return 0, fmt.Errorf("phantoms: delete idle: %w: %w", commands.ErrUnavailable, err)
	}
	over, err := s.pool.Exec(ctx, `DELETE FROM phantom_accounts WHERE key IN (
  SELECT key FROM phantom_accounts ORDER BY updated_at DESC OFFSET $1 FOR UPDATE SKIP LOCKED)`, s.limits.Total)
	if err != nil {
		return tag.RowsAffected(), fmt.Errorf("phantoms: delete beyond the total: %w: %w", commands.ErrUnavailable, err)
	}
	return tag.RowsAffected() + over.RowsAffected(), nil
}
