//! Ed25519 signing keys for `JWT_ALGORITHM=EdDSA`: other services verify our access tokens from
//! the published JWKS alone, with no shared secret.
//!
//! The rules, as plain functions over [`SigningKey`] values (the keys themselves live in the
//! database, `jwks/store.rs`, so every instance signs and publishes the same set):
//! - a new key is published at once and signs only from its `active_from`, a propagation
//!   delay later, so verifiers that cache the JWKS already have it when the first token
//!   signed with it reaches them ([`signing_key`]);
//! - a key stays published until the last token it signed has expired: until its successor
//!   became active plus an access-token lifetime and the clock leeway ([`published`]).
//!
//! [`KeyRing`] is an instance's copy of the keys, reloaded now and then; minting and
//! verification read only it, never the database.

use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use jsonwebtoken::{DecodingKey, EncodingKey};
use rand::RngCore;

/// One signing key as stored: the private seed, the public key and when it starts signing.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    pub kid: String,
    /// The 32-byte Ed25519 seed (RFC 8032), base64url.
    pub private_seed: String,
    /// The 32-byte Ed25519 public key, base64url: the JWK's `x`.
    pub public_x: String,
    pub created_at: NaiveDateTime,
    pub active_from: NaiveDateTime,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("active_from", &self.active_from)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh key that signs from `active_from`.
    pub fn generate(now: NaiveDateTime, active_from: NaiveDateTime) -> Self {
        let mut seed = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut seed);
        let public = ed25519_dalek::SigningKey::from_bytes(&seed)
            .verifying_key()
            .to_bytes();
        let mut kid = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut kid);
        Self {
            kid: URL_SAFE_NO_PAD.encode(kid),
            private_seed: URL_SAFE_NO_PAD.encode(seed),
            public_x: URL_SAFE_NO_PAD.encode(public),
            created_at: now,
            active_from,
        }
    }

    /// The seed wrapped as PKCS #8 (RFC 8410 §7), which jsonwebtoken signs with.
    fn encoding_key(&self) -> Option<EncodingKey> {
        let seed = URL_SAFE_NO_PAD.decode(&self.private_seed).ok()?;
        if seed.len() != 32 {
            return None;
        }
        // SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING seed } }
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend_from_slice(&seed);
        Some(EncodingKey::from_ed_der(&der))
    }

    fn decoding_key(&self) -> Option<DecodingKey> {
        DecodingKey::from_ed_components(&self.public_x).ok()
    }
}

/// The key that signs at `now`: the newest one already active.
pub fn signing_key(keys: &[SigningKey], now: NaiveDateTime) -> Option<&SigningKey> {
    keys.iter()
        .filter(|key| key.active_from <= now)
        .max_by(|a, b| (a.active_from, &a.kid).cmp(&(b.active_from, &b.kid)))
}

/// The keys to publish at `now`: every key not yet superseded (the signing one and those
/// waiting to sign), and each superseded one until `token_lifetime` (the access-token lifetime
/// plus the leeway verifiers allow) after its successor started signing.
pub fn published(
    keys: &[SigningKey],
    now: NaiveDateTime,
    token_lifetime: Duration,
) -> Vec<&SigningKey> {
    let lifetime = chrono::Duration::from_std(token_lifetime).unwrap_or(chrono::Duration::MAX);
    keys.iter()
        .filter(|key| {
            // When this key stopped signing: when a newer key started, if one has.
            let superseded_at = keys
                .iter()
                .filter(|other| {
                    (other.active_from, &other.kid) > (key.active_from, &key.kid)
                        && other.active_from <= now
                })
                .map(|other| other.active_from)
                .min();
            match superseded_at {
                None => true,
                Some(at) => at.checked_add_signed(lifetime).is_none_or(|end| now < end),
            }
        })
        .collect()
}

/// An instance's copy of the signing keys, for minting and verifying without the database.
#[derive(Default)]
pub struct KeyRing {
    keys: RwLock<Vec<LoadedKey>>,
    /// Moves whenever the set of keys changes, so verifications made against the old set
    /// are not reused (`tokens/verified.rs`).
    generation: AtomicU64,
}

struct LoadedKey {
    stored: SigningKey,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl KeyRing {
    /// Replaces the copy with `keys` (as the database holds them).
    pub fn replace(&self, keys: Vec<SigningKey>) {
        let loaded: Vec<LoadedKey> = keys
            .into_iter()
            .filter_map(|stored| {
                Some(LoadedKey {
                    encoding: stored.encoding_key()?,
                    decoding: stored.decoding_key()?,
                    stored,
                })
            })
            .collect();
        if let Ok(mut keys) = self.keys.write() {
            let kids = |keys: &[LoadedKey]| -> Vec<String> {
                keys.iter().map(|key| key.stored.kid.clone()).collect()
            };
            if kids(&keys) != kids(&loaded) {
                self.generation.fetch_add(1, Ordering::Release);
            }
            *keys = loaded;
        }
    }

    /// Which set of keys the ring holds: see [`Self::replace`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The `kid` and key that sign at `now`.
    pub fn signer(&self, now: NaiveDateTime) -> Option<(String, EncodingKey)> {
        let keys = self.keys.read().ok()?;
        let stored: Vec<SigningKey> = keys.iter().map(|key| key.stored.clone()).collect();
        let kid = signing_key(&stored, now)?.kid.clone();
        keys.iter()
            .find(|key| key.stored.kid == kid)
            .map(|key| (kid, key.encoding.clone()))
    }

    /// The key that verifies tokens naming `kid`, if it is one of ours.
    pub fn verifier(&self, kid: &str) -> Option<DecodingKey> {
        let keys = self.keys.read().ok()?;
        keys.iter()
            .find(|key| key.stored.kid == kid)
            .map(|key| key.decoding.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + minute * 60, 0)
            .unwrap()
            .naive_utc()
    }

    fn key(kid: &str, active_from: i64) -> SigningKey {
        SigningKey {
            kid: kid.into(),
            ..SigningKey::generate(at(active_from), at(active_from))
        }
    }

    fn kids(keys: Vec<&SigningKey>) -> Vec<&str> {
        keys.into_iter().map(|key| key.kid.as_str()).collect()
    }

    #[test]
    fn a_new_key_signs_only_from_its_active_time() {
        let keys = [key("old", 0), key("new", 10)];
        assert_eq!(signing_key(&keys, at(5)).unwrap().kid, "old");
        assert_eq!(signing_key(&keys, at(10)).unwrap().kid, "new");
        assert!(signing_key(&keys, at(-1)).is_none());
    }

    #[test]
    fn keys_are_published_at_once_and_until_their_last_token_expires() {
        let lifetime = Duration::from_secs(15 * 60 + 30);
        let keys = [key("old", 0), key("new", 10)];
        // Before the new key signs: both are published.
        assert_eq!(kids(published(&keys, at(1), lifetime)), ["old", "new"]);
        // The old key signed until minute 10; its tokens live until 25.5.
        assert_eq!(kids(published(&keys, at(25), lifetime)), ["old", "new"]);
        assert_eq!(kids(published(&keys, at(26), lifetime)), ["new"]);
    }

    #[test]
    fn generated_keys_sign_and_verify() {
        let ring = KeyRing::default();
        let stored = SigningKey::generate(at(0), at(0));
        ring.replace(vec![stored.clone()]);
        let (kid, encoding) = ring.signer(at(1)).unwrap();
        assert_eq!(kid, stored.kid);
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(kid.clone());
        let token = jsonwebtoken::encode(
            &header,
            &serde_json::json!({"sub": "a", "exp": 4_000_000_000i64}),
            &encoding,
        )
        .unwrap();
        let validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
        let decoding = ring.verifier(&kid).unwrap();
        assert!(jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).is_ok());
        assert!(ring.verifier("someone-else").is_none());
    }
}
