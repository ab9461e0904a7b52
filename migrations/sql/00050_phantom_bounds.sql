-- +goose Up
-- Bounds on the stand-in accounts (issue 10, item 6): each row records the
-- client that created it (a keyed tag of its IPv4 address or IPv6 /64,
-- never the address), so that one client's phantoms can be bounded, and
-- the least recently changed go first at either bound.
ALTER TABLE phantom_accounts ADD COLUMN client bytea NOT NULL DEFAULT '\x';
CREATE INDEX phantom_accounts_client_updated_at_idx ON phantom_accounts (client, updated_at);

-- +goose Down
DROP INDEX phantom_accounts_client_updated_at_idx;
ALTER TABLE phantom_accounts DROP COLUMN client;
