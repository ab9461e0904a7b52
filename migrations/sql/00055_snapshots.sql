-- +goose Up
-- Snapshots of aggregates (issue 12): a cache of an account's folded state,
-- so that a command folds only the events after the latest snapshot. Any
-- row may be deleted at any time (TRUNCATE snapshots is safe): the next
-- command on the stream folds it and writes a new one. A row of another
-- schema_version than the code's is ignored. Rows hold personal data
-- (the account's address and password hash), like the events.
-- toast_tuple_target keeps snapshots of up to about 8 KB in the row
-- itself: moved out of line (TOAST, from 2 KB by default), every load
-- costs a second lookup; measured, a newsletter toggle on an account with
-- a 5 KB snapshot took 1.29x the one on a fresh account, and 1.02x with
-- the snapshot in the row.
CREATE TABLE IF NOT EXISTS snapshots (
    stream_id      text        PRIMARY KEY,
    schema_version integer     NOT NULL,
    version        bigint      NOT NULL CHECK (version > 0),
    last_event_id  uuid        NOT NULL,
    data           bytea       NOT NULL,
    taken_at       timestamptz NOT NULL DEFAULT now()
) WITH (toast_tuple_target = 8160);

-- +goose Down
DROP TABLE snapshots;
