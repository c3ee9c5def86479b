DROP INDEX login_throttles_last_failed_at;
DROP INDEX refresh_tokens_expires_at;
ALTER TABLE tasks ALTER COLUMN id TYPE CHAR(36), ALTER COLUMN user_id TYPE CHAR(36);
ALTER TABLE refresh_tokens ALTER COLUMN token_hash TYPE CHAR(64), ALTER COLUMN session_id TYPE CHAR(36);
ALTER TABLE sessions ALTER COLUMN id TYPE CHAR(36), ALTER COLUMN user_id TYPE CHAR(36);
ALTER TABLE login_throttles ALTER COLUMN email_hash TYPE CHAR(64);
ALTER TABLE users ALTER COLUMN id TYPE CHAR(36);
