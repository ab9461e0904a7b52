-- +goose Up
-- Devices that logged in to an account before, by the SHA-256 of the device
-- token handed out at that login. A login from a known device is not held
-- back by the delays failed logins elsewhere caused; a device is forgotten
-- after a few failures of its own, at expiry, and on a password reset.
CREATE TABLE known_devices (
    token_hash bytea       PRIMARY KEY,
    account_id uuid        NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    failures   int         NOT NULL DEFAULT 0
);
CREATE INDEX known_devices_account_id_idx ON known_devices (account_id);

-- +goose Down
DROP TABLE known_devices;
