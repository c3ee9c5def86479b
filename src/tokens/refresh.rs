//! Refresh tokens: opaque values handed to the client, stored only as a digest.
//!
//! A session's first refresh token carries 256 random bits. Each later one is its
//! predecessor's [`successor`](RefreshToken::successor): HMAC-SHA256 of the predecessor under a
//! key derived from the server's secret. That makes a rotation repeatable without keeping any
//! token in plaintext: a client whose refresh response was lost presents the old token again,
//! and the server derives, and hands back, the very token it issued the first time. Without
//! the key nobody can compute a successor, so the chain is as unguessable as random tokens.
//!
//! Every token is stored only as its SHA-256, so a database leak does not hand out sessions. A
//! fast hash is right here (unlike passwords): the input is already uniformly random, so there
//! is nothing to brute-force.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::config::JwtSecret;

/// The key that derives a refresh token's successor. Every instance that shares the secret
/// derives the same successors, so a retry may land on any of them.
#[derive(Clone)]
pub struct SuccessorKey(Hmac<Sha256>);

impl SuccessorKey {
    /// Derived from the server's secret under its own label, so it is never the key of
    /// anything else signed with that secret.
    pub fn derive(secret: &JwtSecret) -> Self {
        let mut derivation = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        derivation.update(b"todo-server refresh token successor v1");
        let key = derivation.finalize().into_bytes();
        Self(
            <Hmac<Sha256> as Mac>::new_from_slice(&key)
                .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length")),
        )
    }
}

impl std::fmt::Debug for SuccessorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SuccessorKey(<redacted>)")
    }
}

/// A refresh token as handed to the client. Its `Debug` is redacted.
pub struct RefreshToken(String);

impl RefreshToken {
    /// 256 bits from the operating system's CSPRNG, base64url without padding (43 characters).
    pub fn generate() -> Self {
        Self(random_256_bits())
    }

    /// The token that replaces this one when it is rotated: the same every time it is asked
    /// for, 256 bits like a generated one.
    pub fn successor(&self, key: &SuccessorKey) -> Self {
        let mut mac = key.0.clone();
        mac.update(self.0.as_bytes());
        Self(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
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

/// 256 bits from the operating system's CSPRNG, base64url without padding (43 characters):
/// refresh tokens and the one-time tokens of mailed links.
pub fn random_256_bits() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Lower-case hex SHA-256: how secrets and personal values are stored when only equality
/// matters (refresh tokens, the login back-off's email key).
pub fn sha256_hex(value: &str) -> String {
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn key(secret: &str) -> SuccessorKey {
        SuccessorKey::derive(&JwtSecret::new(secret.as_bytes().to_vec()).unwrap())
    }

    #[test]
    fn a_successor_is_the_same_each_time_and_unlike_anything_else() {
        let key = key("successor-secret-successor-secret-0123");
        let token = RefreshToken::generate();
        let successor = token.successor(&key);
        assert_eq!(successor.expose(), token.successor(&key).expose());
        assert_eq!(
            URL_SAFE_NO_PAD.decode(successor.expose()).unwrap().len(),
            32
        );
        assert_ne!(successor.expose(), token.expose());
        // Its own successor continues the chain instead of returning to the start.
        assert_ne!(successor.successor(&key).expose(), token.expose());
        assert_ne!(
            successor.expose(),
            RefreshToken::generate().successor(&key).expose()
        );
    }

    #[test]
    fn without_the_secret_a_successor_cannot_be_derived() {
        let token = RefreshToken::generate();
        assert_ne!(
            token
                .successor(&key("successor-secret-successor-secret-0123"))
                .expose(),
            token
                .successor(&key("another-secret-another-secret-another-0"))
                .expose()
        );
    }
}
