-- +goose Up
-- One data key per account (issue 14, crypto-shredding): the personal
-- fields of the account's events (address, client IP, client tags) are
-- sealed with it (AES-256-GCM). The key is stored wrapped (AES-256-GCM
-- under a key derived with HKDF from SECRET_KEY, the account id bound in),
-- in this table, apart from the events, also when the events live in
-- EventStoreDB. Erasing the account sets wrapped to NULL and keeps the row
-- as a tombstone, so that no new key is ever made for it: whatever was
-- sealed under the old key is unreadable for good.
CREATE TABLE data_keys (
    account_id   uuid        PRIMARY KEY,
    wrapped      bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz,
    CONSTRAINT data_keys_destroyed CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);

-- +goose Down
DROP TABLE data_keys;
