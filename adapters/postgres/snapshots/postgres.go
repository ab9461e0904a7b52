package snapshots

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/multimedia-portal/multimedia/commands"
)

// Store is the Postgres snapshot store.
type Store struct {
	pool *pgxpool.Pool
}

var _ commands.SnapshotStore = (*Store)(nil)

// New returns a store on pool, whose database has the snapshots table.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Load implements commands.SnapshotStore.
func (s *Store) Load(ctx context.Context, stream string, schema int) (commands.Snapshot, bool, error) {
	snap := commands.Snapshot{Stream: stream, Schema: schema}
	var version int64
	err := s.pool.QueryRow(ctx, `SELECT version, last_event_id, data FROM snapshots WHERE stream_id = $1 AND schema_version = $2`,
		stream, schema).Scan(&version, &snap.LastEventID, &snap.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return commands.Snapshot{}, false, nil
	}
	if err != nil {
		return commands.Snapshot{}, false, fmt.Errorf("snapshots: load %s: %w: %w", stream, commands.ErrUnavailable, err)
	}
	snap.Version = int(version)
	return snap, true, nil
}

// Save implements commands.SnapshotStore: a row of another schema is
// replaced, one of the same schema only by a higher version.
func (s *Store) Save(ctx context.Context, snap commands.Snapshot) error {
	if snap.Stream == "" || snap.Version < 1 {
		return fmt.Errorf("snapshots: save: stream %q version %d: a snapshot needs a stream and a version of at least 1", snap.Stream, snap.Version)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO snapshots AS s (stream_id, schema_version, version, last_event_id, data)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (stream_id) DO UPDATE SET schema_version = EXCLUDED.schema_version, version = EXCLUDED.version,
    last_event_id = EXCLUDED.last_event_id, data = EXCLUDED.data, taken_at = now()
WHERE s.schema_version <> EXCLUDED.schema_version OR s.version < EXCLUDED.version`,
		snap.Stream, snap.Schema, int64(snap.Version), snap.LastEventID, snap.Data)
	if err != nil {
		return fmt.Errorf("snapshots: save %s: %w: %w", snap.Stream, commands.ErrUnavailable, err)
	}
	return nil
}

// Drop implements commands.SnapshotStore.
func (s *Store) Drop(ctx context.Context, stream string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM snapshots WHERE stream_id = $1`, stream); err != nil {
		return fmt.Errorf("snapshots: drop %s: %w: %w", stream, commands.ErrUnavailable, err)
	}
	return nil
}
