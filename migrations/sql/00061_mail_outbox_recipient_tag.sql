-- +goose Up
-- A keyed tag (HMAC under a key derived from SECRET_KEY) of each queued
-- mail's recipient, so that erasing an account deletes the mail queued for
-- its address without the address being kept in the clear. NULL for mail
-- queued before this column existed (it expires within the hour).
ALTER TABLE mail_outbox ADD COLUMN recipient_tag bytea;
CREATE INDEX mail_outbox_recipient_tag_idx ON mail_outbox (recipient_tag);

-- +goose Down
DROP INDEX mail_outbox_recipient_tag_idx;
ALTER TABLE mail_outbox DROP COLUMN recipient_tag;
