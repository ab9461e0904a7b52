-- +goose Up
-- The stand-in accounts of addresses that have no account (commands'
-- phantom accounts): their events, so that every instance answers an
-- unknown address alike, across restarts. The key is a SHA-256 of the
-- normalised address; rows idle for 30 days are deleted.
CREATE TABLE phantom_accounts (
    key        bytea       PRIMARY KEY,
    history    jsonb       NOT NULL DEFAULT '[]',
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX phantom_accounts_updated_at_idx ON phantom_accounts (updated_at);

-- +goose Down
DROP TABLE phantom_accounts;
