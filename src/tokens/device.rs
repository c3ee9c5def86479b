//! Device tokens: proof that this client has logged in to this account before (OWASP, "Slow
//! Down Online Guessing Attacks with Device Cookies").
//!
//! The per-account login back-off slows a guesser spread over many addresses, but on its own it
//! also let anyone keep the owner out: one wrong password each time the wait expired held the
//! account at 429 for every client. A successful login therefore hands the client a signed
//! device token. A login that presents a valid one for the same account is judged by that
//! device's own back-off instead of the account's, so failures from elsewhere never block it,
//! and a stolen token only buys the thief the device's own five free guesses.
//!
//! The token is a JWT (HS256, the access tokens' secret, its own audience so neither kind is
//! accepted as the other) naming the user and a random device id. Browsers get it in an
//! HttpOnly cookie sent only to the login route; API clients get it in the token response and
//! send it back in `X-Device-Token`.

use std::time::Duration;

use base64::Engine as _;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::config::{JwtSecret, TokenSettings};
use crate::ids::UserId;

/// How long a device stays trusted after its last successful login.
pub const DEVICE_TOKEN_TTL: Duration = Duration::from_secs(365 * 24 * 3600);
/// No honest device token comes near this; longer ones are ignored before parsing.
const MAX_DEVICE_TOKEN_BYTES: usize = 1024;

#[derive(Debug, Serialize, Deserialize)]
struct DeviceClaims {
    sub: String,
    /// The device: what its own back-off is keyed by.
    did: String,
    iat: i64,
    exp: i64,
    iss: String,
    aud: String,
}

/// A device id, as a valid device token names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceId(String);

impl DeviceId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 128 random bits, base64url.
fn random_device_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Clone)]
pub struct DeviceTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
}

impl DeviceTokens {
    pub fn new(secret: &JwtSecret, settings: &TokenSettings) -> Self {
        let audience = format!("{}/device", settings.audience);
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            issuer: settings.issuer.clone(),
            audience,
        }
    }

    /// A token for a new device of `user`; `None` only if signing failed.
    pub fn issue(&self, user: &UserId) -> Option<String> {
        let now = Utc::now().timestamp();
        let claims = DeviceClaims {
            sub: user.to_string(),
            did: random_device_id(),
            iat: now,
            exp: now + DEVICE_TOKEN_TTL.as_secs() as i64,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).ok()
    }

    /// The device `token` names, if it is valid and was issued to `user`.
    pub fn verify(&self, token: &str, user: &UserId) -> Option<DeviceId> {
        if token.len() > MAX_DEVICE_TOKEN_BYTES {
            return None;
        }
        let claims = jsonwebtoken::decode::<DeviceClaims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        (claims.sub == user.as_str()).then_some(DeviceId(claims.did))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::AccessTokenKeys;

    fn settings() -> TokenSettings {
        TokenSettings::for_tests(Duration::from_secs(900))
    }

    fn secret() -> JwtSecret {
        JwtSecret::new(b"device-test-secret-device-test-secret".to_vec()).unwrap()
    }

    #[test]
    fn a_device_token_names_its_device_for_its_user_only() {
        let tokens = DeviceTokens::new(&secret(), &settings());
        let (ann, bob) = (UserId::generate(), UserId::generate());
        let token = tokens.issue(&ann).unwrap();
        let device = tokens.verify(&token, &ann).unwrap();
        assert_eq!(tokens.verify(&token, &ann), Some(device.clone()));
        assert_eq!(tokens.verify(&token, &bob), None);
        assert_ne!(
            tokens.verify(&tokens.issue(&ann).unwrap(), &ann),
            Some(device)
        );
        assert_eq!(tokens.verify("garbage", &ann), None);
    }

    #[test]
    fn access_and_device_tokens_are_not_accepted_as_each_other() {
        let devices = DeviceTokens::new(&secret(), &settings());
        let access = AccessTokenKeys::new(&secret(), &settings());
        let user = UserId::generate();
        let device_token = devices.issue(&user).unwrap();
        assert!(access.verify(&device_token).is_none());
        let access_token = access
            .issue(&user, "ann@example.org", &crate::ids::SessionId::generate())
            .unwrap();
        assert!(devices.verify(&access_token, &user).is_none());
    }
}
