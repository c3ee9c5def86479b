-- Users whose identity another service vouches for: a frontend's HS256 tokens
-- (EXTERNAL_JWT_SECRET) or tokens signed with a key of its JWKS (EXTERNAL_JWKS_URL). Each
-- (issuer, subject) is one local user, created on first use, that owns tasks like anyone else.
-- The subject is kept exactly as the issuer wrote it (Better Auth's ids are not UUIDs); the
-- issuer is the token's `iss`, or '' for tokens that carry none. The user row has no usable
-- email or password (see accounts/store.rs), so it can never be reached by a login.
CREATE TABLE external_identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id TEXT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (issuer, subject)
);
