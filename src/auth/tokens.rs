//! Access tokens (JWT, HS256) and refresh tokens (opaque random values).
//!
//! Access tokens are verified from the signature alone, with no database query, so they stay
//! valid until they expire even after logout: that is why they live 15 minutes. Verification
//! follows RFC 8725: the algorithm is pinned to HS256 (the token's own `alg` header is never
//! trusted, so `none` and RS256-with-the-HMAC-secret confusion fail), and `exp`, `iss` and `aud`
//! are required. Headers such as `kid`, `jku` and `x5u` are ignored and never fetched.
//!
//! Refresh tokens carry 256 random bits and are stored only as their SHA-256, so a database
//! leak does not hand out sessions. A fast hash is right here (unlike passwords): the input is
//! already uniformly random, so there is nothing to brute-force.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::Config;

/// Leeway for clock skew between this server and others that verify its tokens.
pub const CLOCK_LEEWAY_SECONDS: u64 = 30;
/// No honest access token comes near this; longer ones are refused before any parsing.
pub const MAX_ACCESS_TOKEN_BYTES: usize = 4096;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// The user id.
    pub sub: String,
    pub email: String,
    /// The session (login) the token was issued for.
    pub sid: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

/// Everything needed to mint and check access tokens.
#[derive(Clone)]
pub struct AccessTokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

#[derive(Debug, thiserror::Error)]
#[error("could not sign the access token: {0}")]
pub struct SigningError(#[from] jsonwebtoken::errors::Error);

impl AccessTokenKeys {
    pub fn from_config(config: &Config) -> Self {
        let secret = config.jwt_secret.as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&config.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = CLOCK_LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            ttl: config.access_token_ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(
        &self,
        user_id: &str,
        email: &str,
        session_id: &str,
    ) -> Result<String, SigningError> {
        let now = Utc::now().timestamp();
        let claims = AccessClaims {
            sub: user_id.to_owned(),
            email: email.to_owned(),
            sid: session_id.to_owned(),
            jti: Uuid::now_v7().to_string(),
            iat: now,
            exp: now + self.ttl.as_secs() as i64,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// Checks signature, algorithm, `exp`, `nbf` (when present), `iss` and `aud`.
    pub fn verify(&self, token: &str) -> Option<AccessClaims> {
        if token.len() > MAX_ACCESS_TOKEN_BYTES {
            return None;
        }
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        Uuid::parse_str(&claims.sub).ok()?;
        Some(claims)
    }
}

/// A refresh token as handed to the client. Its `Debug` is redacted.
pub struct RefreshToken(String);

impl RefreshToken {
    /// 256 bits from the operating system's CSPRNG, base64url without padding (43 characters).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn from_client(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// What the database stores and looks up: hex SHA-256.
    pub fn hash(&self) -> String {
        sha256_hex(&self.0)
    }
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken(<redacted>)")
    }
}

/// Lower-case hex SHA-256: how secrets and personal values are stored when only equality
/// matters (refresh tokens, the login back-off's email key).
pub fn sha256_hex(value: &str) -> String {
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Seconds from `now` until `later`, never negative.
pub fn seconds_until(later: NaiveDateTime, now: NaiveDateTime) -> u64 {
    (later - now).num_seconds().max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn keys_with(secret: &str, ttl: u64) -> AccessTokenKeys {
        let secret = secret.to_owned();
        let ttl = ttl.to_string();
        let config = Config::from_lookup(|name| match name {
            "JWT_SECRET" => Some(secret.clone()),
            "ACCESS_TOKEN_TTL_SECONDS" => Some(ttl.clone()),
            _ => None,
        })
        .unwrap();
        AccessTokenKeys::from_config(&config)
    }

    const SECRET: &str = "test-secret-test-secret-test-secret!";
    const USER: &str = "0190f1a2-0000-7000-8000-000000000001";

    #[test]
    fn issued_tokens_verify_and_carry_the_claims() {
        let keys = keys_with(SECRET, 900);
        let token = keys.issue(USER, "ann@example.org", "sid-1").unwrap();
        let claims = keys.verify(&token).unwrap();
        assert_eq!(claims.sub, USER);
        assert_eq!(claims.email, "ann@example.org");
        assert_eq!(claims.sid, "sid-1");
        assert_eq!(claims.exp - claims.iat, 900);
        assert_eq!(
            (claims.iss.as_str(), claims.aud.as_str()),
            ("todo-server", "todo-server")
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let token = keys_with("another-secret-another-secret-another", 900)
            .issue(USER, "a@b.co", "s")
            .unwrap();
        assert!(keys_with(SECRET, 900).verify(&token).is_none());
    }

    #[test]
    fn oversized_tokens_are_refused_before_parsing() {
        let keys = keys_with(SECRET, 900);
        assert!(
            keys.verify(&"a".repeat(MAX_ACCESS_TOKEN_BYTES + 1))
                .is_none()
        );
    }

    #[test]
    fn refresh_tokens_are_256_bit_and_hashed_to_hex() {
        let token = RefreshToken::generate();
        assert_eq!(URL_SAFE_NO_PAD.decode(token.expose()).unwrap().len(), 32);
        assert_eq!(token.hash().len(), 64);
        assert_ne!(token.hash(), RefreshToken::generate().hash());
        assert_eq!(
            token.hash(),
            RefreshToken::from_client(token.expose().to_owned()).hash()
        );
    }
}
