-- +goose Up
-- The global position of the session's LoggedIn event, so that GET /api/me
-- can wait until the accounts read model shows at least the login itself.
ALTER TABLE sessions ADD COLUMN login_position text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE sessions DROP COLUMN login_position;
