//! Refresh tokens: opaque random values handed to the client, stored only as a digest.
//!
//! A refresh token carries 256 random bits and is stored only as its SHA-256, so a database
//! leak does not hand out sessions. A fast hash is right here (unlike passwords): the input is
//! already uniformly random, so there is nothing to brute-force.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

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
}
