-- +goose Up
-- +goose StatementBegin
-- es_horizon is the transaction id below which every transaction that could
-- have written to this database's es_events has ended: the oldest
-- transaction running at the statement's snapshot, ignoring those that
-- pg_stat_activity shows belong to OTHER databases (they cannot write here).
-- pg_snapshot_xmin alone is cluster-wide, so a CREATE DATABASE or a long
-- query in another database would hold every subscription back. Only
-- positively identified foreign transactions are ignored: one that ended
-- between the snapshot and the activity read, or is hidden from this role,
-- still counts, so the horizon can only be too low (a short delay), never too
-- high (a skipped event).
CREATE FUNCTION es_horizon() RETURNS xid8
LANGUAGE sql STABLE AS $$
    SELECT coalesce(min(x), pg_snapshot_xmax(pg_current_snapshot()))
      FROM pg_snapshot_xip(pg_current_snapshot()) AS x
     WHERE NOT EXISTS (
           SELECT 1 FROM pg_stat_activity a
            WHERE a.backend_xid = xid(x)
              AND a.datname IS NOT NULL
              AND a.datname <> current_database())
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION es_horizon();
