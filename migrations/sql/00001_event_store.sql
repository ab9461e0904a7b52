-- +goose Up
-- The event log. A global position is (transaction_id, seq): readers only
-- read below the oldest transaction still running
-- (pg_snapshot_xmin(pg_current_snapshot())), so a transaction that commits
-- late can never slip in behind a reader. seq alone (a sequence) would skip
-- such events.
CREATE TABLE es_events (
    transaction_id xid8        NOT NULL DEFAULT pg_current_xact_id(),
    seq            bigint      GENERATED ALWAYS AS IDENTITY,
    event_id       uuid        NOT NULL,
    stream_id      text        NOT NULL,
    version        bigint      NOT NULL,
    type           text        NOT NULL,
    data           jsonb       NOT NULL,
    metadata       jsonb       NOT NULL DEFAULT '{}',
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT es_events_pkey PRIMARY KEY (transaction_id, seq),
    CONSTRAINT es_events_event_id_key UNIQUE (event_id),
    CONSTRAINT es_events_stream_version_key UNIQUE (stream_id, version),
    CONSTRAINT es_events_stream_id_check CHECK (stream_id <> '' AND octet_length(stream_id) <= 255),
    CONSTRAINT es_events_type_check CHECK (type <> ''),
    CONSTRAINT es_events_version_check CHECK (version >= 0)
);

-- +goose StatementBegin
-- es_append appends events to one stream in one round trip.
-- p_expected: -1 any, -2 no stream, -3 stream exists, >= 0 the exact version.
-- Raises ES409 (wrong expected version; DETAIL holds the current version) and
-- ESDUP (an event id stored elsewhere). An exact re-append of ids already
-- stored in this stream, in this order, returns the original result.
-- Concurrency: two appends that compute the same next version collide on
-- es_events_stream_version_key; the caller maps that to a conflict (or
-- retries, for "any").
CREATE FUNCTION es_append(p_stream text, p_expected bigint, p_ids uuid[], p_types text[], p_data jsonb[], p_meta jsonb[])
RETURNS TABLE (next_version bigint, last_tx text, last_seq bigint, idempotent boolean)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    cur bigint;
    n int := cardinality(p_ids);
    dup_stream text;
    dup_version bigint;
    matched int;
BEGIN
    SELECT e.stream_id, e.version INTO dup_stream, dup_version
      FROM es_events e WHERE e.event_id = p_ids[1];
    IF FOUND THEN
        IF dup_stream = p_stream THEN
            SELECT count(*) INTO matched
              FROM unnest(p_ids) WITH ORDINALITY AS u(id, ord)
              JOIN es_events e ON e.event_id = u.id AND e.stream_id = p_stream
                              AND e.version = dup_version + u.ord - 1;
            IF matched = n THEN
                RETURN QUERY SELECT e.version, e.transaction_id::text, e.seq, true
                  FROM es_events e WHERE e.stream_id = p_stream AND e.version = dup_version + n - 1;
                RETURN;
            END IF;
        END IF;
        RAISE EXCEPTION 'event id % is already stored', p_ids[1] USING ERRCODE = 'ESDUP';
    END IF;

    SELECT coalesce(max(e.version), -1) INTO cur FROM es_events e WHERE e.stream_id = p_stream;
    IF (p_expected = -2 AND cur <> -1) OR (p_expected = -3 AND cur = -1)
       OR (p_expected >= 0 AND cur <> p_expected) THEN
        RAISE EXCEPTION 'wrong expected version' USING ERRCODE = 'ES409', DETAIL = cur::text;
    END IF;

    RETURN QUERY
    WITH ins AS (
        INSERT INTO es_events (event_id, stream_id, version, type, data, metadata)
        SELECT u.id, p_stream, cur + u.ord, u.typ, u.dat, u.met
          FROM unnest(p_ids, p_types, p_data, p_meta) WITH ORDINALITY AS u(id, typ, dat, met, ord)
         ORDER BY u.ord
        RETURNING es_events.seq
    )
    SELECT cur + n, pg_current_xact_id()::text, max(ins.seq), false FROM ins;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION es_append(text, bigint, uuid[], text[], jsonb[], jsonb[]);
DROP TABLE es_events;
