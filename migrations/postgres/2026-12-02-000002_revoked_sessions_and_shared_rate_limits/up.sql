-- Every instance asks several times a second which sessions were revoked recently
-- (sessions/revocations.rs): a range on revoked_at. Partial would do on PostgreSQL, but one
-- definition for both backends keeps the schemas alike.
CREATE INDEX sessions_revoked_at ON sessions (revoked_at);

-- The per-address limit on the auth routes, shared by every instance on PostgreSQL
-- (rate_limit.rs). One row per client address (IPv4) or /64 (IPv6): the time at which its
-- bucket is full again (GCRA's theoretical arrival time). Unused on SQLite, where one process
-- keeps the buckets in memory, but created on both so the schemas match.
CREATE TABLE auth_rate_limits (
    bucket TEXT PRIMARY KEY NOT NULL,
    full_at TIMESTAMP NOT NULL
);
CREATE INDEX auth_rate_limits_full_at ON auth_rate_limits (full_at);
