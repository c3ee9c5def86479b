CREATE INDEX tasks_user_created ON tasks (user_id, created_at DESC, id DESC);
DROP INDEX tasks_user_created_covering;
