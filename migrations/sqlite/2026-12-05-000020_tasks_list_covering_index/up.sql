-- The task list reads every column it returns from the index it searches, with no seek into
-- the table per listed task: that seek was 15% of the instructions of a 20-task list among
-- 500k tasks (valgrind, as `bench/run.sh sqlite` counts them), and a user's rows lie
-- wherever each task was inserted among everyone else's. The columns after the sort key make the index covering; it replaces the old one,
-- which it also serves for everything that used it (the key prefix is the same). Costs: the
-- index now holds the text of every task (at most 200 + 1000 characters), and changing a
-- task's title, description, state or `updated_at` rewrites its index entry.
-- PostgreSQL keeps its index: its list spends its time elsewhere (round trips, the blocking
-- pool), and its list at 500k tasks already runs at 90% of its speed at 1k.
CREATE INDEX tasks_user_created_covering ON tasks (
    user_id, created_at DESC, id DESC, completed, title, description, updated_at
);
DROP INDEX tasks_user_created;
