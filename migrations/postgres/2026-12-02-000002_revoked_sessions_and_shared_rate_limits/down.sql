DROP TABLE auth_rate_limits;
DROP INDEX sessions_revoked_at;
