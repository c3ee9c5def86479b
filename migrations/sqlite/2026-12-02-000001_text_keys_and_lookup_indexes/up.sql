-- SQLite's CHAR(n) columns already have TEXT affinity, so lookups use their indexes; only the
-- purge's expiry indexes are new (kept in step with PostgreSQL's migration of the same name).
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
CREATE INDEX login_throttles_last_failed_at ON login_throttles (last_failed_at);
