-- +goose Up
-- Checkpoints of the read models: the global position each projection has
-- applied, written in the same transaction as its rows. Positions are two
-- unsigned 64-bit numbers (see eventstore.Position), kept whole in numeric.
CREATE TABLE projection_checkpoints (
    name           text          PRIMARY KEY,
    commit_pos     numeric(20,0) NOT NULL DEFAULT 0,
    prepare_pos    numeric(20,0) NOT NULL DEFAULT 0,
    -- running, or stopped at a dead-lettered event until skip or retry.
    state          text          NOT NULL DEFAULT 'running',
    applied_events bigint        NOT NULL DEFAULT 0,
    -- recorded_at of the last event the checkpoint passed, for lag in seconds.
    last_event_at  timestamptz,
    last_error     text,
    -- the process that holds the projection's advisory lock, as it said when
    -- it took it (the lock itself, in pg_locks, is the truth).
    owner          text,
    owner_since    timestamptz,
    updated_at     timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT projection_checkpoints_state_check CHECK (state IN ('running', 'stopped'))
);

-- Events a projection could not apply after its retries. The projection
-- stops at such an event until an operator skips or retries it.
CREATE TABLE projection_dead_letters (
    id          bigint        GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    projection  text          NOT NULL,
    commit_pos  numeric(20,0) NOT NULL,
    prepare_pos numeric(20,0) NOT NULL,
    event_id    uuid          NOT NULL,
    stream_id   text          NOT NULL,
    event_type  text          NOT NULL,
    error       text          NOT NULL,
    created_at  timestamptz   NOT NULL DEFAULT now(),
    -- skipped or retried, once an operator acted on it.
    resolution  text,
    resolved_at timestamptz
);
CREATE INDEX projection_dead_letters_open_idx ON projection_dead_letters (projection) WHERE resolved_at IS NULL;

-- +goose Down
DROP TABLE projection_dead_letters;
DROP TABLE projection_checkpoints;
