-- +goose Up
-- When a password reset ends every session of an account, the reset time is
-- kept here as well as the sessions being deleted: a login that recorded
-- LoggedIn before the reset but writes its session row after the delete is
-- still refused (sessions.Find checks created_at against revoked_before).
CREATE TABLE session_revocations (
    account_id     uuid        PRIMARY KEY,
    revoked_before timestamptz NOT NULL
);

-- +goose Down
DROP TABLE session_revocations;
