-- A deleted account keeps, for a day, a row with no personal data left (email replaced, name
-- and password hash cleared) so that its sessions can be marked revoked, which is how every
-- instance learns to refuse their access tokens (sessions/revocations.rs); the purge task
-- then deletes the row and, by cascade, its sessions.
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMP;

-- When the owner proved the address by following a mailed link; NULL until then.
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMP;

-- One-time links mailed to a user (password reset, email verification). Only the
-- SHA-256 of the token is stored; a row is deleted when it is used, replaced or expired.
CREATE TABLE account_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX account_tokens_user_purpose ON account_tokens (user_id, purpose);

-- Mail waiting to be sent (mail/): written in the transaction that decides to send it, sent
-- by a background task that claims a row with a lease, deleted once the SMTP server accepts
-- it. Retried with back-off; dropped after discard_after (the link in it has expired).
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    discard_after TIMESTAMP NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    last_error TEXT
);
CREATE INDEX outbox_next_attempt_at ON outbox (next_attempt_at);
