-- +goose Up
-- Active login sessions. Only a SHA-256 of the bearer token is kept. The
-- account's stream records LoggedIn/LoggedOut for the audit trail; this
-- table is what a request is checked against, so a revocation is immediate.
CREATE TABLE sessions (
    token_hash bytea       PRIMARY KEY,
    session_id uuid        NOT NULL UNIQUE,
    account_id uuid        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_account_id_idx ON sessions (account_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

-- Settings every instance must agree on, such as the generated code-HMAC key.
CREATE TABLE settings (
    name       text        PRIMARY KEY,
    value      bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE settings;
DROP TABLE sessions;
