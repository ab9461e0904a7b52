-- +goose Up
-- The accounts read model (projection "accounts"), serving GET /api/me.
-- Never holds a password or code hash.
CREATE TABLE rm_accounts (
    id            uuid        PRIMARY KEY,
    email         text        NOT NULL,
    status        text        NOT NULL,
    newsletter    boolean     NOT NULL,
    registered_at timestamptz NOT NULL,
    verified_at   timestamptz,
    last_login_at timestamptz,
    CONSTRAINT rm_accounts_status_check CHECK (status IN ('pending_verification', 'verified'))
);
CREATE INDEX rm_accounts_email_idx ON rm_accounts (email);

-- +goose Down
DROP TABLE rm_accounts;
