package datakeys

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/commands"
	"github.com/multimedia-portal/multimedia/domain/account"
)

// wrapLabel is the HKDF label of the wrapping key. A new version makes a
// new key: keys wrapped under an old one would no longer open.
const wrapLabel = "multimedia/data-key-wrap/v1"

// MinSecretBytes is the shortest server secret accepted.
const MinSecretBytes = 32

// Store is the Postgres data key store.
type Store struct {
	pool *pgxpool.Pool
	wrap cipher.AEAD
}

var _ commands.DataKeys = (*Store)(nil)

// New returns a Store on pool (migrated by package migrations) whose keys
// are wrapped under a key derived from secret.
func New(pool *pgxpool.Pool, secret []byte) (*Store, error) {
	if pool == nil {
		return nil, errors.New("datakeys: nil pool")
	}
	if len(secret) < MinSecretBytes {
		return nil, fmt.Errorf("datakeys: the server secret is %d bytes; at least %d are needed", len(secret), MinSecretBytes)
	}
	kek, err := hkdf.Key(sha256.New, secret, nil, wrapLabel, 32)
	if err != nil {
		return nil, fmt.Errorf("datakeys: derive the wrapping key: %w", err)
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("datakeys: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("datakeys: %w", err)
	}
	return &Store{pool: pool, wrap: aead}, nil
}

func parseID(accountID string) (uuid.UUID, error) {
	id, err := uuid.Parse(accountID)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("datakeys: account id %q: %w", accountID, account.ErrInvalidArgument)
	}
	return id, nil
}

func unavailable(what string, err error) error {
	return fmt.Errorf("datakeys: %s: %w: %w", what, commands.ErrUnavailable, err)
}

// ForWriting implements commands.DataKeys.
func (s *Store) ForWriting(ctx context.Context, accountID string) (account.Cipher, error) {
	id, err := parseID(accountID)
	if err != nil {
		return nil, err
	}
	fresh := make([]byte, account.DataKeyBytes)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("datakeys: draw a key: %w", err)
	}
	wrapped, err := s.seal(id, fresh)
	if err != nil {
		return nil, err
	}
	var stored []byte
	err = s.pool.QueryRow(ctx, `WITH ins AS (
  INSERT INTO data_keys (account_id, wrapped) VALUES ($1, $2) ON CONFLICT (account_id) DO NOTHING RETURNING wrapped)
SELECT wrapped FROM ins UNION ALL SELECT wrapped FROM data_keys WHERE account_id = $1 LIMIT 1`, id, wrapped).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		// Another writer made the key after this statement's snapshot: read
		// it with a new one.
		err = s.pool.QueryRow(ctx, `SELECT wrapped FROM data_keys WHERE account_id = $1`, id).Scan(&stored)
	}
	if err != nil {
		return nil, unavailable("get or make the key of "+id.String(), err)
	}
	if stored == nil {
		return nil, fmt.Errorf("datakeys: account %s: %w", id, account.ErrAccountErased)
	}
	return s.cipher(id, stored)
}

// ForReading implements commands.DataKeys.
func (s *Store) ForReading(ctx context.Context, accountID string) (account.Cipher, error) {
	id, err := parseID(accountID)
	if err != nil {
		return nil, err
	}
	var stored []byte
	err = s.pool.QueryRow(ctx, `SELECT wrapped FROM data_keys WHERE account_id = $1`, id).Scan(&stored)
	if errors.Is(err, pgx.ErrNoRows) {
		return account.ErasedCipher, nil
	}
	if err != nil {
		return nil, unavailable("get the key of "+id.String(), err)
	}
	if stored == nil {
		return account.ErasedCipher, nil
	}
	return s.cipher(id, stored)
}

// Destroy implements commands.DataKeys.
func (s *Store) Destroy(ctx context.Context, accountID string) error {
	id, err := parseID(accountID)
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO data_keys (account_id, wrapped, destroyed_at) VALUES ($1, NULL, now())
ON CONFLICT (account_id) DO UPDATE SET wrapped = NULL, destroyed_at = coalesce(data_keys.destroyed_at, now())`, id)
	if err != nil {
		return unavailable("destroy the key of "+id.String(), err)
	}
	return nil
}

func (s *Store) seal(id uuid.UUID, key []byte) ([]byte, error) {
	nonce := make([]byte, s.wrap.NonceSize(), s.wrap.NonceSize()+len(key)+s.wrap.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("datakeys: draw a nonce: %w", err)
	}
	return s.wrap.Seal(nonce, nonce, key, id[:]), nil
}

func (s *Store) cipher(id uuid.UUID, wrapped []byte) (account.Cipher, error) {
	n := s.wrap.NonceSize()
	if len(wrapped) < n {
		return nil, fmt.Errorf("datakeys: the key of %s is truncated", id)
	}
	key, err := s.wrap.Open(nil, wrapped[:n], wrapped[n:], id[:])
	if err != nil {
		return nil, fmt.Errorf("datakeys: the key of %s does not unwrap (SECRET_KEY changed, or the row was altered): %w", id, err)
	}
	return account.NewCipher(id.String(), key)
}
