-- Ed25519 signing keys for JWT_ALGORITHM=EdDSA (tokens/signing_keys.rs), shared by every
-- instance. A key is published at /.well-known/jwks.json from creation and signs from
-- active_from (a propagation delay later when rotated); `todo-server keys rotate` adds one.
-- The private seed is stored as it is: whoever can read this table can sign access tokens,
-- as whoever can read JWT_SECRET can with HS256.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    private_seed TEXT NOT NULL,
    public_x TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    active_from TIMESTAMP NOT NULL
);
