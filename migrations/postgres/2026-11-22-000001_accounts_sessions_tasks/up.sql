-- Ids are UUID text and timestamps are UTC, so one Diesel schema serves SQLite and PostgreSQL.
CREATE TABLE users (
    id CHAR(36) PRIMARY KEY NOT NULL,
    -- Trimmed and lower-cased before it is stored, so UNIQUE is case-insensitive.
    email TEXT NOT NULL UNIQUE,
    name TEXT,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Failed logins per email address (SHA-256 of the trimmed, lower-cased address, so unknown
-- addresses are throttled exactly like real ones and no typed address is stored). Kept in the
-- database so the back-off holds across every instance sharing it.
CREATE TABLE login_throttles (
    email_hash CHAR(64) PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    last_failed_at TIMESTAMP NOT NULL
);

-- One row per login: every refresh token descends from exactly one session.
CREATE TABLE sessions (
    id CHAR(36) PRIMARY KEY NOT NULL,
    user_id CHAR(36) NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL,
    -- Absolute end of the session: rotation stops here, whatever the refresh tokens say.
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    user_agent TEXT,
    ip_address TEXT
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Only the SHA-256 of a refresh token is stored.
CREATE TABLE refresh_tokens (
    token_hash CHAR(64) PRIMARY KEY NOT NULL,
    session_id CHAR(36) NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    rotated_at TIMESTAMP
);
CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);

CREATE TABLE tasks (
    id CHAR(36) PRIMARY KEY NOT NULL,
    user_id CHAR(36) NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT,
    completed BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
-- Serves the newest-first keyset pagination of one user's list.
CREATE INDEX tasks_user_created ON tasks (user_id, created_at DESC, id DESC);
