-- +goose Up
-- The stand-in accounts of addresses that have no account (commands'
-- phantom accounts): their events, so that every instance answers an
-- unknown address alike, across restarts. The key is an HMAC of the
-- normalised address under the server secret; rows idle for 30 days are
-- deleted, and a history keeps its first 2 and latest 500 events.
CREATE TABLE phantom_accounts (
    key        bytea       PRIMARY KEY,
    history    jsonb       NOT NULL DEFAULT '[]',
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX phantom_accounts_updated_at_idx ON phantom_accounts (updated_at);

-- +goose Down
DROP TABLE phantom_accounts;
