DROP TABLE tasks;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE login_throttles;
DROP TABLE users;
