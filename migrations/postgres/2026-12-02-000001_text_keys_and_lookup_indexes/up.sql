-- Keys and lookup columns become TEXT, the type Diesel binds. With CHAR(n), PostgreSQL compared
-- `col::text = $1`, and no index on `col` could serve a lookup: every task list, user lookup
-- and refresh scanned its whole table (15 req/s for a 20-task list at 440k rows).
-- ALTER TYPE rewrites the tables and rebuilds their indexes, keys and foreign keys included.
ALTER TABLE users ALTER COLUMN id TYPE TEXT;
ALTER TABLE login_throttles ALTER COLUMN email_hash TYPE TEXT;
ALTER TABLE sessions ALTER COLUMN id TYPE TEXT, ALTER COLUMN user_id TYPE TEXT;
ALTER TABLE refresh_tokens ALTER COLUMN token_hash TYPE TEXT, ALTER COLUMN session_id TYPE TEXT;
ALTER TABLE tasks ALTER COLUMN id TYPE TEXT, ALTER COLUMN user_id TYPE TEXT;

-- The purge deletes by expiry; without these it would scan the tables every hour.
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
CREATE INDEX login_throttles_last_failed_at ON login_throttles (last_failed_at);
