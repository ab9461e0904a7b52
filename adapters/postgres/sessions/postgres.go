package sessions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/eventstore"
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
	var loginPos string
	if !sess.LoginPosition.IsZero() {
		loginPos = sess.LoginPosition.String()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (token_hash, session_id, account_id, created_at, expires_at, login_position)
VALUES ($1, $2, $3, $4, $5, $6)`, sess.TokenHash, sess.ID, sess.AccountID, sess.CreatedAt, sess.ExpiresAt, loginPos)
	if err != nil {
		return fmt.Errorf("sessions: create: %w: %w", commands.ErrUnavailable, err)
	}
	return nil
}

// Find implements commands.SessionStore.
func (s *Store) Find(ctx context.Context, tokenHash []byte, now time.Time) (commands.Session, error) {
	sess := commands.Session{TokenHash: tokenHash}
	var loginPos string
	err := s.pool.QueryRow(ctx, `SELECT s.session_id::text, s.account_id::text, s.created_at, s.expires_at, s.login_position
FROM sessions s WHERE s.token_hash = $1 AND s.expires_at > $2
  AND NOT EXISTS (SELECT 1 FROM session_revocations r WHERE r.account_id = s.account_id AND s.created_at <= r.revoked_before)`, tokenHash, now).
		Scan(&sess.ID, &sess.AccountID, &sess.CreatedAt, &sess.ExpiresAt, &loginPos)
	if errors.Is(err, pgx.ErrNoRows) {
		return commands.Session{}, commands.ErrUnauthenticated
	}
	if err != nil {
		return commands.Session{}, fmt.Errorf("sessions: find: %w: %w", commands.ErrUnavailable, err)
	}
	if loginPos != "" {
		// A row this code wrote; an unparsable one only loses the wait.
		sess.LoginPosition, _ = eventstore.ParsePosition(loginPos)
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

// EndAll implements commands.SessionStore: in one transaction it records
// the revocation (so a session row a racing login writes later is refused
// by Find) and deletes the sessions there are.
func (s *Store) EndAll(ctx context.Context, accountID string, before time.Time) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO session_revocations (account_id, revoked_before) VALUES ($1, $2)
ON CONFLICT (account_id) DO UPDATE SET revoked_before = GREATEST(session_revocations.revoked_before, EXCLUDED.revoked_before)`,
			accountID, before); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE account_id = $1 AND created_at <= $2`, accountID, before); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM known_devices WHERE account_id = $1 AND created_at <= $2`, accountID, before)
		return err
	})
	if err != nil {
		return fmt.Errorf("sessions: end the account's sessions: %w: %w", commands.ErrUnavailable, err)
	}
	return nil
}

// maxDevicesPerAccount bounds the known devices kept per account; the
// oldest go first.
const maxDevicesPerAccount = 20

// AddDevice implements commands.SessionStore.
func (s *Store) AddDevice(ctx context.Context, d commands.Device) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO known_devices (token_hash, account_id, created_at, expires_at)
VALUES ($1, $2, $3, $4)`, d.TokenHash, d.AccountID, d.CreatedAt, d.ExpiresAt); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM known_devices WHERE account_id = $1 AND token_hash NOT IN (
  SELECT token_hash FROM known_devices WHERE account_id = $1 ORDER BY created_at DESC, token_hash LIMIT $2)`,
			d.AccountID, maxDevicesPerAccount)
		return err
	})
	if err != nil {
		return fmt.Errorf("sessions: add device: %w: %w", commands.ErrUnavailable, err)
	}
	return nil
}

// UseDevice implements commands.SessionStore.
func (s *Store) UseDevice(ctx context.Context, accountID string, tokenHash []byte, now time.Time, maxFailures int) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE known_devices d SET failures = failures + 1
WHERE d.token_hash = $1 AND d.account_id = $2 AND d.expires_at > $3 AND d.failures < $4
  AND NOT EXISTS (SELECT 1 FROM session_revocations r WHERE r.account_id = d.account_id AND d.created_at <= r.revoked_before)`,
		tokenHash, accountID, now, maxFailures)
	if err != nil {
		return false, fmt.Errorf("sessions: use device: %w: %w", commands.ErrUnavailable, err)
	}
	return tag.RowsAffected() == 1, nil
}

// DeviceLoggedIn implements commands.SessionStore.
func (s *Store) DeviceLoggedIn(ctx context.Context, tokenHash []byte) error {
	if _, err := s.pool.Exec(ctx, `UPDATE known_devices SET failures = 0 WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("sessions: clear a device's failures: %w: %w", commands.ErrUnavailable, err)
	}
	return nil
}

// DeleteExpired removes sessions and known devices past their expiry, and
// revocations older than a day that no stored session or device predates;
// the server calls it periodically.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	for _, q := range []struct{ what, sql string }{
		{"sessions", `DELETE FROM sessions WHERE expires_at <= $1`},
		{"known devices", `DELETE FROM known_devices WHERE expires_at <= $1`},
		{"revocations", `DELETE FROM session_revocations r WHERE r.revoked_before < $1::timestamptz - interval '1 day'
  AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.account_id = r.account_id AND s.created_at <= r.revoked_before)
  AND NOT EXISTS (SELECT 1 FROM known_devices d WHERE d.account_id = r.account_id AND d.created_at <= r.revoked_before)`},
	} {
		tag, err := s.pool.Exec(ctx, q.sql, now)
		if err != nil {
			return n, fmt.Errorf("sessions: delete expired %s: %w: %w", q.what, commands.ErrUnavailable, err)
		}
		n += tag.RowsAffected()
	}
	return n, nil
}
