package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/adapters/postgres/datakeys"
	"github.com/multimedia-portal/multimedia/audit"
	"github.com/multimedia-portal/multimedia/domain/account"
	"github.com/multimedia-portal/multimedia/domain/streams"
	"github.com/multimedia-portal/multimedia/eventstore"
	"github.com/multimedia-portal/multimedia/eventstore/esdb"
	"github.com/multimedia-portal/multimedia/eventstore/postgres"
	"github.com/multimedia-portal/multimedia/migrations"
)

// openPool connects to DATABASE_URL and, when migrate is set, applies the
// migrations. The caller closes the pool.
func (m *Main) openPool(ctx context.Context, migrate bool) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(m.Config.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if cfg.MaxConns < 16 {
		cfg.MaxConns = 16
	}
	// Open a few connections up front: a cold connection (and its first
	// es_append, which Postgres compiles per backend) costs a few hundred
	// ms, which the first requests after a start would otherwise pay.
	if cfg.MinConns < 4 {
		cfg.MinConns = 4
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to the database at %s@%s:%d/%s: %w", cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	if migrate {
		applied, err := migrations.Up(ctx, pool)
		if err != nil {
			pool.Close()
			return nil, err
		}
		if len(applied) > 0 {
			m.Logger.Info("migrations applied", "versions", applied)
		}
	}
	return pool, nil
}

// openStore returns the configured event store and a function that stops it:
// Postgres on the pool, or EventStoreDB/KurrentDB for an esdb:// URL (the
// pool still holds read models, sessions and settings). Either way every
// append goes through the audit hash chain (audit.NewChainedStore).
func (m *Main) openStore(ctx context.Context, pool *pgxpool.Pool) (eventstore.Store, func(), error) {
	if m.Config.EventStore != "postgres" {
		// Only the service's own streams reach the projections: a real
		// node's $all also holds the server's, its projections' and other
		// applications' streams (domain/streams declares ours).
		s, err := esdb.Open(m.Config.EventStore, esdb.Options{Logger: m.Logger, StreamPrefixes: streams.Prefixes()})
		if err != nil {
			return nil, nil, fmt.Errorf("EVENT_STORE: %w", err)
		}
		closeStore := func() {
			if err := s.Close(); err != nil {
				m.Logger.Warn("closing the EventStoreDB client", "error", err)
			}
		}
		return audit.NewChainedStore(s), closeStore, nil
	}
	s := postgres.New(ctx, pool, postgres.Options{})
	return audit.NewChainedStore(s), s.Close, nil
}

// privacy returns what the personal data needs: the keyed hasher that
// names claim streams, and the accounts' data key store (in the pool's
// database whichever event store is used), both keyed by the server secret.
func (m *Main) privacy(ctx context.Context, pool *pgxpool.Pool) (*account.CodeHasher, *datakeys.Store, error) {
	key, err := m.secretKey(ctx, pool)
	if err != nil {
		return nil, nil, err
	}
	codes, err := account.NewCodeHasher(key)
	if err != nil {
		return nil, nil, fmt.Errorf("SECRET_KEY: %w", err)
	}
	keys, err := datakeys.New(pool, key)
	if err != nil {
		return nil, nil, fmt.Errorf("SECRET_KEY: %w", err)
	}
	return codes, keys, nil
}

// secretKey returns SECRET_KEY, or the key generated once and kept in the
// settings table so that every instance hashes codes alike.
func (m *Main) secretKey(ctx context.Context, pool *pgxpool.Pool) ([]byte, error) {
	if m.Config.SecretKey != "" {
		return []byte(m.Config.SecretKey), nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	var key []byte
	err := pool.QueryRow(ctx, `WITH ins AS (
  INSERT INTO settings (name, value) VALUES ('code_hmac_key', $1) ON CONFLICT (name) DO NOTHING RETURNING value)
SELECT value FROM ins UNION ALL SELECT value FROM settings WHERE name = 'code_hmac_key' LIMIT 1`, fresh).Scan(&key)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && len(key) < 32) {
		return nil, errors.New("settings: code_hmac_key is missing or short")
	}
	if err != nil {
		return nil, fmt.Errorf("load the code key from settings: %w", err)
	}
	return key, nil
}
