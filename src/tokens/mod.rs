//! Tokens: the access tokens that prove who is calling, the opaque refresh tokens that
//! sessions rotate, and the bearer guard in front of every protected route.
//!
//! - [`access`]: minting and verifying HS256 access tokens (RFC 8725 rules).
//! - [`refresh`]: generating refresh tokens, deriving their successors, and the digest they
//!   are stored as.
//! - [`device`]: device tokens, which exempt a client that logged in before from the account's
//!   login back-off.
//! - [`external`]: tokens another service issued (a Better Auth frontend's HS256 or JWKS-signed
//!   JWTs), each source with its algorithm pinned.
//! - [`signing_keys`]: the Ed25519 keys of `JWT_ALGORITHM=EdDSA`: which one signs, which are
//!   published, and each instance's in-memory copy.
//! - [`revoked`]: the sessions revoked within an access token's lifetime, kept in memory.
//! - [`verified`]: the access tokens verified recently, so each is checked in full once.
//! - [`guard`]: the `HttpAuthentication` middleware and the [`AuthenticatedUser`] extractor.
//!
//! This folder has no routes and no store: tokens are minted by `sessions/` and checked here
//! without a database read (`sessions/revocations.rs` keeps [`RevokedSessions`] up to date). It depends on nothing but the configuration and the id types.

pub mod access;
pub mod device;
pub mod external;
pub mod guard;
pub mod refresh;
pub mod revoked;
pub mod signing_keys;
pub mod verified;

pub use access::{AccessClaims, AccessTokenKeys, AuthenticatedUser};
pub use device::{DeviceId, DeviceTokens};
pub use external::{ExternalCaller, ExternalTokens};
pub use guard::{Caller, bearer_guard, optional_bearer_guard};
pub use refresh::{RefreshToken, SuccessorKey, random_256_bits, sha256_hex};
pub use revoked::{RevokedSessions, SessionStatus};
pub use signing_keys::{KeyRing, SigningKey};
