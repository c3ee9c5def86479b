//! Access tokens: JWTs signed with HS256 (the default) or EdDSA (`JWT_ALGORITHM=EdDSA`), minted
//! at login and refresh, checked by the guard.
//!
//! Access tokens are verified from the signature alone, with no database query, so they stay
//! valid until they expire even after logout: that is why they live 15 minutes. Verification
//! follows RFC 8725: the algorithm is pinned by the setting, never taken from the token's own
//! `alg` header (so `none`, RS256-with-the-HMAC-secret confusion, and, under EdDSA, HS256
//! tokens signed with `JWT_SECRET` all fail), and `exp`, `iss` and `aud` are required. With
//! HS256, headers such as `kid`, `jku` and `x5u` are ignored; with EdDSA, `kid` only selects one
//! of our own keys ([`KeyRing`]), and nothing is ever fetched.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::signing_keys::KeyRing;
use super::verified::{self, VerifiedTokens};
use crate::config::{JwtSecret, TokenSettings};
use crate::ids::{SessionId, UserId};

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

/// The caller, as a valid access token proves them: who they are and which login (session)
/// the token came from. Handlers take it as an argument; see [`super::guard`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticatedUser {
    pub user_id: UserId,
    pub email: String,
    pub session_id: SessionId,
}

/// Everything needed to mint and check access tokens.
#[derive(Clone)]
pub struct AccessTokenKeys {
    signing: Signing,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
    /// Shared by the clones the workers hold.
    verified: Arc<VerifiedTokens>,
}

/// The one algorithm tokens are signed and checked with.
#[derive(Clone)]
enum Signing {
    Hs256 {
        encoding: EncodingKey,
        decoding: DecodingKey,
    },
    EdDsa(Arc<KeyRing>),
}

#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error("could not sign the access token: {0}")]
    Jwt(#[from] jsonwebtoken::errors::Error),
    #[error("no EdDSA signing key is active")]
    NoActiveKey,
}

impl AccessTokenKeys {
    /// HS256 with `JWT_SECRET`.
    pub fn new(secret: &JwtSecret, settings: &TokenSettings) -> Self {
        let secret = secret.as_bytes();
        Self::with(
            Signing::Hs256 {
                encoding: EncodingKey::from_secret(secret),
                decoding: DecodingKey::from_secret(secret),
            },
            Algorithm::HS256,
            settings,
        )
    }

    /// EdDSA with the keys of `ring`.
    pub fn eddsa(ring: Arc<KeyRing>, settings: &TokenSettings) -> Self {
        Self::with(Signing::EdDsa(ring), Algorithm::EdDSA, settings)
    }

    fn with(signing: Signing, algorithm: Algorithm, settings: &TokenSettings) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = CLOCK_LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        Self {
            signing,
            validation,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl: settings.access_ttl,
            verified: Arc::new(VerifiedTokens::new(
                verified::CAPACITY,
                CLOCK_LEEWAY_SECONDS,
            )),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(
        &self,
        user_id: &UserId,
        email: &str,
        session_id: &SessionId,
    ) -> Result<String, SigningError> {
        let now = Utc::now().timestamp();
        let claims = AccessClaims {
            sub: user_id.to_string(),
            email: email.to_owned(),
            sid: session_id.to_string(),
            jti: Uuid::now_v7().to_string(),
            iat: now,
            exp: now + self.ttl.as_secs() as i64,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        match &self.signing {
            Signing::Hs256 { encoding, .. } => Ok(jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims,
                encoding,
            )?),
            Signing::EdDsa(ring) => {
                let (kid, encoding) = ring
                    .signer(Utc::now().naive_utc())
                    .ok_or(SigningError::NoActiveKey)?;
                let mut header = Header::new(Algorithm::EdDSA);
                header.kid = Some(kid);
                Ok(jsonwebtoken::encode(&header, &claims, &encoding)?)
            }
        }
    }

    /// Checks signature, algorithm, `exp`, `nbf` (when present), `iss` and `aud`, and that the
    /// subject is a user id. A token verified before answers from [`VerifiedTokens`], with
    /// `exp` checked again.
    pub fn verify(&self, token: &str) -> Option<AuthenticatedUser> {
        if token.len() > MAX_ACCESS_TOKEN_BYTES {
            return None;
        }
        // Read before the keys are, so a ring that changes meanwhile makes the entry stale.
        let key_generation = match &self.signing {
            Signing::Hs256 { .. } => 0,
            Signing::EdDsa(ring) => ring.generation(),
        };
        if let Some(caller) = self
            .verified
            .get(token, key_generation, Utc::now().timestamp())
        {
            return Some(caller);
        }
        let ring_key;
        let decoding = match &self.signing {
            Signing::Hs256 { decoding, .. } => decoding,
            Signing::EdDsa(ring) => {
                let kid = jsonwebtoken::decode_header(token).ok()?.kid?;
                ring_key = ring.verifier(&kid)?;
                &ring_key
            }
        };
        let claims = jsonwebtoken::decode::<AccessClaims>(token, decoding, &self.validation)
            .ok()?
            .claims;
        let caller = AuthenticatedUser {
            user_id: UserId::parse(&claims.sub)?,
            email: claims.email,
            // Signed by us (or a holder of the shared secret), so taken as issued.
            session_id: SessionId::from(claims.sid),
        };
        self.verified
            .insert(token, &caller, claims.exp, key_generation);
        Some(caller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_with(secret: &str, ttl: u64) -> AccessTokenKeys {
        AccessTokenKeys::new(
            &JwtSecret::new(secret.as_bytes().to_vec()).unwrap(),
            &TokenSettings::for_tests(Duration::from_secs(ttl)),
        )
    }

    fn user() -> UserId {
        UserId::parse(USER).unwrap()
    }

    fn session() -> SessionId {
        SessionId::parse("0190f1a2-0000-7000-8000-0000000000aa").unwrap()
    }

    const SECRET: &str = "test-secret-test-secret-test-secret!";
    const USER: &str = "0190f1a2-0000-7000-8000-000000000001";

    #[test]
    fn issued_tokens_verify_and_carry_the_claims() {
        let keys = keys_with(SECRET, 900);
        let token = keys.issue(&user(), "ann@example.org", &session()).unwrap();
        let verified = keys.verify(&token).unwrap();
        assert_eq!(verified.user_id, user());
        assert_eq!(verified.email, "ann@example.org");
        assert_eq!(verified.session_id, session());
        let claims: AccessClaims = jsonwebtoken::dangerous::insecure_decode(&token)
            .unwrap()
            .claims;
        assert_eq!(claims.exp - claims.iat, 900);
        assert_eq!(
            (claims.iss.as_str(), claims.aud.as_str()),
            ("todo-server", "todo-server")
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let token = keys_with("another-secret-another-secret-another", 900)
            .issue(&user(), "a@b.co", &session())
            .unwrap();
        assert!(keys_with(SECRET, 900).verify(&token).is_none());
    }

    #[test]
    fn a_token_verified_again_proves_the_same_caller() {
        let keys = keys_with(SECRET, 900);
        let token = keys.issue(&user(), "ann@example.org", &session()).unwrap();
        let first = keys.verify(&token).unwrap();
        assert_eq!(keys.verify(&token), Some(first));
        // A clone (each worker holds one) shares what was verified, and the secret still
        // decides: the same text under another secret was never verified.
        assert_eq!(
            keys.clone().verify(&token).map(|caller| caller.user_id),
            Some(user())
        );
        assert!(
            keys_with("another-secret-another-secret-another", 900)
                .verify(&token)
                .is_none()
        );
    }

    #[test]
    fn an_eddsa_token_verified_before_is_refused_once_its_key_leaves_the_ring() {
        use crate::tokens::SigningKey;
        let now = Utc::now().naive_utc();
        let (first, second) = (
            SigningKey::generate(now, now),
            SigningKey::generate(now, now),
        );
        let ring = Arc::new(KeyRing::default());
        ring.replace(vec![first.clone()]);
        let settings = TokenSettings::for_tests(Duration::from_secs(900));
        let keys = AccessTokenKeys::eddsa(ring.clone(), &settings);
        let token = keys.issue(&user(), "ann@example.org", &session()).unwrap();
        assert!(keys.verify(&token).is_some());
        // Reloading the same keys changes nothing.
        ring.replace(vec![first.clone()]);
        assert!(keys.verify(&token).is_some());
        ring.replace(vec![first.clone(), second.clone()]);
        assert!(keys.verify(&token).is_some());
        ring.replace(vec![second]);
        assert!(keys.verify(&token).is_none());
    }

    #[test]
    fn oversized_tokens_are_refused_before_parsing() {
        let keys = keys_with(SECRET, 900);
        assert!(
            keys.verify(&"a".repeat(MAX_ACCESS_TOKEN_BYTES + 1))
                .is_none()
        );
    }
}
