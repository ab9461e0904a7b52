-- +goose Up
-- The durable mail outbox (package mail/outbox): every mail the service
-- sends waits here until an SMTP server accepts it, or its content stops
-- being useful (expires_at), or the change it reports turns out never to
-- have been stored. The mail itself (recipient, subject, body with its
-- code) is sealed with AES-GCM under a key derived from the server secret;
-- only its kind and Message-ID are in the clear.
--
-- A mail about an event is queued unconfirmed BEFORE the event is appended
-- (event_stream / event_id / event_version say which event, at which
-- version of its stream) and confirmed after; the relay resolves
-- unconfirmed rows left by a crash by reading that one event.
CREATE TABLE mail_outbox (
    id            uuid        PRIMARY KEY,
    kind          text        NOT NULL,
    message_id    text        NOT NULL,
    sealed        bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    confirmed     boolean     NOT NULL,
    event_stream  text,
    event_id      uuid,
    event_version bigint,
    -- failed deliveries of a confirmed mail; event look-ups of an unconfirmed one
    attempts      integer     NOT NULL DEFAULT 0,
    next_try_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT mail_outbox_event CHECK (confirmed OR (event_stream IS NOT NULL AND event_id IS NOT NULL AND event_version IS NOT NULL))
);
CREATE INDEX mail_outbox_next_try_at_idx ON mail_outbox (next_try_at);
CREATE INDEX mail_outbox_expires_at_idx ON mail_outbox (expires_at);

-- +goose Down
DROP TABLE mail_outbox;
