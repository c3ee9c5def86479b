DROP TABLE outbox;
DROP TABLE account_tokens;
