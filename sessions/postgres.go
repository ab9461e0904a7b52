package sessions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/commands"
)

// Store is the Postgres session store.
type Store struct {
	pool *pgxpool.Pool
}

var _ commands.SessionStore = (*Store)(nil)

// New returns a Store on pool (migrated by package migrations).
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Create implements commands.SessionStore.
func (s *Store) Create(ctx context.Context, sess commands.Session) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (token_hash, session_id, account_id, created_at, expires_at)
VALUES ($1, $2, $3, $4, $5)`, sess.TokenHash, sess.ID, sess.AccountID, sess.CreatedAt, sess.ExpiresAt)
	if err != nil {
		return fmt.Errorf("sessions: create: %w: %w", commands.ErrUnavailable, err)
	}
	return nil
}

// Find implements commands.SessionStore.
func (s *Store) Find(ctx context.Context, tokenHash []byte, now time.Time) (commands.Session, error) {
	sess := commands.Session{TokenHash: tokenHash}
	err := s.pool.QueryRow(ctx, `SELECT session_id::text, account_id::text, created_at, expires_at
FROM sessions WHERE token_hash = $1 AND expires_at > $2`, tokenHash, now).
		Scan(&sess.ID, &sess.AccountID, &sess.CreatedAt, &sess.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return commands.Session{}, commands.ErrUnauthenticated
	}
	if err != nil {
		return commands.Session{}, fmt.Errorf("sessions: find: %w: %w", commands.ErrUnavailable, err)
	}
	return sess, nil
}

// Delete implements commands.SessionStore.
func (s *Store) Delete(ctx context.Context, tokenHash []byte) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("sessions: delete: %w: %w", commands.ErrUnavailable, err)
	}
	return nil
}

// DeleteAccount implements commands.SessionStore.
func (s *Store) DeleteAccount(ctx context.Context, accountID string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE account_id = $1`, accountID); err != nil {
		return fmt.Errorf("sessions: delete account's sessions: %w: %w", commands.ErrUnavailable, err)
	}
	return nil
}

// DeleteExpired removes sessions past their expiry; the server calls it
// periodically.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, fmt.Errorf("sessions: delete expired: %w: %w", commands.ErrUnavailable, err)
	}
	return tag.RowsAffected(), nil
}
