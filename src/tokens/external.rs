//! Tokens issued by another service: a frontend that signs its own JWTs (the seed design's
//! Next.js + Better Auth frontends). Off unless `EXTERNAL_JWT_SECRET` or `EXTERNAL_JWKS_URL` is
//! set; see `config.rs`.
//!
//! Two sources, each with its algorithm pinned (RFC 8725 §2.1, §3.1): an HS256 token is checked
//! against the shared secret only, and an EdDSA, ES256 or RS256 token against the JWKS keys
//! only, with the algorithm the *key* implies (an Ed25519 key verifies EdDSA and nothing else).
//! The header's `alg` only chooses which source to ask; a token that names HS256 is never
//! checked with a JWKS key (the classic "public key as HMAC secret" confusion), a JWKS never
//! contributes symmetric keys, and `none` or any other algorithm is refused.
//!
//! Keys come from the configured URL only, never from a token's `jku`, `x5u` or embedded `jwk`
//! (RFC 8725 §3.10): a token could otherwise name its own key. They are cached; a token whose
//! `kid` is unknown triggers a refetch at most once a minute, so a flood of made-up `kid`s
//! cannot turn us into a load generator against the frontend. Our own access tokens are checked
//! first and never wait on the JWKS, so an outage of the frontend cannot lock out local users.
//!
//! Claims: `sub` (any string of 1 to 255 characters) and `exp` are required; `email` is
//! optional; `iss` and `aud` are checked when `EXTERNAL_JWT_ISSUER` / `EXTERNAL_JWT_AUDIENCE`
//! are set. A verified token yields an [`ExternalCaller`]: who the issuer says it is. Mapping
//! it to a local user is the task routes' business (`accounts::store::external_user`); this
//! module never touches the database.

use std::sync::RwLock;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::access::CLOCK_LEEWAY_SECONDS;
use crate::config::ExternalTokenSettings;

/// Subjects longer than this are refused (and so never stored).
pub const MAX_SUBJECT_CHARS: usize = 255;
/// Better Auth's tokens carry the whole user row; longer ones are refused before parsing.
pub const MAX_EXTERNAL_TOKEN_BYTES: usize = 8 * 1024;
/// A token with an unknown `kid` refetches the JWKS at most this often.
pub const JWKS_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
const JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// The caller as an external token names them: the issuer (`iss`, or empty when the token has
/// none) and the subject exactly as the issuer wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalCaller {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
}

#[derive(Deserialize)]
struct ExternalClaims {
    sub: String,
    #[serde(default)]
    iss: Option<String>,
    /// Anything but a string is ignored rather than refused: it is informational only.
    #[serde(default)]
    email: Option<serde_json::Value>,
}

/// Verifies tokens from the configured external sources.
pub struct ExternalTokens {
    shared_secret: Option<DecodingKey>,
    jwks: Option<Jwks>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl ExternalTokens {
    pub fn new(settings: &ExternalTokenSettings) -> Self {
        Self {
            shared_secret: settings
                .secret
                .as_ref()
                .map(|secret| DecodingKey::from_secret(secret.as_bytes())),
            jwks: settings.jwks_url.clone().map(Jwks::new),
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.shared_secret.is_some() || self.jwks.is_some()
    }

    /// Loads the JWKS ahead of the first token; `false` (and a warning) if it cannot be read.
    pub async fn prefetch_jwks(&self) -> bool {
        match &self.jwks {
            Some(jwks) => jwks.refetch().await,
            None => true,
        }
    }

    /// The caller, if `token` is valid from one of the configured sources.
    pub async fn verify(&self, token: &str) -> Option<ExternalCaller> {
        if token.len() > MAX_EXTERNAL_TOKEN_BYTES {
            return None;
        }
        let header = jsonwebtoken::decode_header(token).ok()?;
        let (key, algorithm) = match header.alg {
            Algorithm::HS256 => (self.shared_secret.clone()?, Algorithm::HS256),
            Algorithm::EdDSA | Algorithm::ES256 | Algorithm::RS256 => {
                self.jwks
                    .as_ref()?
                    .key_for(header.kid.as_deref(), header.alg)
                    .await?
            }
            _ => return None,
        };
        let claims =
            jsonwebtoken::decode::<ExternalClaims>(token, &key, &self.validation(algorithm))
                .ok()?
                .claims;
        let subject_chars = claims.sub.chars().count();
        if subject_chars == 0 || subject_chars > MAX_SUBJECT_CHARS {
            return None;
        }
        Some(ExternalCaller {
            issuer: claims.iss.unwrap_or_default(),
            subject: claims.sub,
            email: claims
                .email
                .and_then(|email| email.as_str().map(str::to_owned)),
        })
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = CLOCK_LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        match &self.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            // Better Auth always writes an `aud`; with no audience configured it is not ours to
            // check (jsonwebtoken would otherwise refuse any token that has one).
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        validation
    }
}

/// One verification key of the JWKS, with the one algorithm it may verify.
#[derive(Clone)]
struct JwksKey {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// The keys of the configured JWKS, cached.
struct Jwks {
    url: String,
    client: reqwest::Client,
    keys: RwLock<Vec<JwksKey>>,
    /// When the JWKS was last fetched; held during a fetch so concurrent misses wait for it.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
}

impl Jwks {
    fn new(url: String) -> Self {
        let client = reqwest::Client::builder()
            .timeout(JWKS_FETCH_TIMEOUT)
            // The configured URL and nothing else: a redirect could point anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            url,
            client,
            keys: RwLock::new(Vec::new()),
            last_fetch: tokio::sync::Mutex::new(None),
        }
    }

    async fn key_for(
        &self,
        kid: Option<&str>,
        algorithm: Algorithm,
    ) -> Option<(DecodingKey, Algorithm)> {
        if let Some(found) = self.cached(kid, algorithm) {
            return Some(found);
        }
        self.refetch_unless_recent().await;
        self.cached(kid, algorithm)
    }

    /// A key with this `kid` (any key, when the token names none) that verifies `algorithm`.
    fn cached(&self, kid: Option<&str>, algorithm: Algorithm) -> Option<(DecodingKey, Algorithm)> {
        let keys = self.keys.read().ok()?;
        keys.iter()
            .find(|key| {
                key.algorithm == algorithm && kid.is_none_or(|kid| key.kid.as_deref() == Some(kid))
            })
            .map(|key| (key.key.clone(), key.algorithm))
    }

    async fn refetch_unless_recent(&self) {
        let mut last_fetch = self.last_fetch.lock().await;
        if last_fetch.is_some_and(|at| at.elapsed() < JWKS_REFETCH_INTERVAL) {
            return;
        }
        *last_fetch = Some(Instant::now());
        self.fetch_and_store().await;
    }

    async fn refetch(&self) -> bool {
        let mut last_fetch = self.last_fetch.lock().await;
        *last_fetch = Some(Instant::now());
        self.fetch_and_store().await
    }

    /// Replaces the cached keys with the JWKS's; on failure the cached keys stay.
    async fn fetch_and_store(&self) -> bool {
        match self.fetch().await {
            Ok(keys) => {
                tracing::info!(url = %self.url, keys = keys.len(), "fetched the external JWKS");
                if let Ok(mut cached) = self.keys.write() {
                    *cached = keys;
                }
                true
            }
            Err(error) => {
                tracing::warn!(url = %self.url, %error, "could not fetch the external JWKS; keeping the keys cached");
                false
            }
        }
    }

    async fn fetch(&self) -> Result<Vec<JwksKey>, String> {
        let response = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|error| error.to_string())?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        if response
            .content_length()
            .is_some_and(|length| length > MAX_JWKS_BYTES as u64)
        {
            return Err("the JWKS is too large".into());
        }
        let bytes = response.bytes().await.map_err(|error| error.to_string())?;
        if bytes.len() > MAX_JWKS_BYTES {
            return Err("the JWKS is too large".into());
        }
        parse_jwks(&bytes)
    }
}

/// The usable verification keys of a JWKS document; keys of other kinds are skipped, so one
/// unusual key does not hide the others.
fn parse_jwks(bytes: &[u8]) -> Result<Vec<JwksKey>, String> {
    #[derive(Deserialize)]
    struct RawSet {
        keys: Vec<serde_json::Value>,
    }
    let set: RawSet = serde_json::from_slice(bytes).map_err(|error| error.to_string())?;
    Ok(set
        .keys
        .into_iter()
        .filter_map(|raw| serde_json::from_value::<Jwk>(raw).ok())
        .filter_map(|jwk| verification_key(&jwk))
        .collect())
}

/// The key and the one algorithm it verifies: Ed25519 → EdDSA, P-256 → ES256, RSA → RS256.
/// Symmetric (`oct`) keys, encryption keys and keys that name another algorithm are skipped.
fn verification_key(jwk: &Jwk) -> Option<JwksKey> {
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let algorithm = match &jwk.algorithm {
        AlgorithmParameters::OctetKeyPair(key) if key.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        AlgorithmParameters::EllipticCurve(key) if key.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        _ => return None,
    };
    let named_matches = match jwk.common.key_algorithm {
        None => true,
        Some(named) => matches!(
            (named, algorithm),
            (KeyAlgorithm::EdDSA, Algorithm::EdDSA)
                | (KeyAlgorithm::ES256, Algorithm::ES256)
                | (KeyAlgorithm::RS256, Algorithm::RS256)
        ),
    };
    if !named_matches {
        return None;
    }
    Some(JwksKey {
        kid: jwk.common.key_id.clone(),
        algorithm,
        key: DecodingKey::from_jwk(jwk).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::JwtSecret;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    const SECRET: &str = "external-test-secret-external-test-secret";

    fn hs256_tokens(issuer: Option<&str>, audience: Option<&str>) -> ExternalTokens {
        ExternalTokens::new(&ExternalTokenSettings {
            secret: Some(JwtSecret::new(SECRET.as_bytes().to_vec()).unwrap()),
            jwks_url: None,
            issuer: issuer.map(Into::into),
            audience: audience.map(Into::into),
        })
    }

    fn sign(claims: &serde_json::Value, secret: &str) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    fn in_ten_minutes() -> i64 {
        chrono::Utc::now().timestamp() + 600
    }

    fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
        actix_web::rt::System::new().block_on(future)
    }

    #[test]
    fn a_seed_token_with_sub_and_exp_is_accepted() {
        let tokens = hs256_tokens(None, None);
        let token = sign(&json!({"sub": "k3Jx9LrQ", "exp": in_ten_minutes()}), SECRET);
        let caller = block_on(tokens.verify(&token)).unwrap();
        assert_eq!(
            caller,
            ExternalCaller {
                issuer: String::new(),
                subject: "k3Jx9LrQ".into(),
                email: None
            }
        );
        let with_extras = sign(
            &json!({"sub": "k3Jx9LrQ", "exp": in_ten_minutes(), "email": "a@b.co",
                    "iss": "https://app.example.org", "aud": "anything"}),
            SECRET,
        );
        let caller = block_on(tokens.verify(&with_extras)).unwrap();
        assert_eq!(caller.issuer, "https://app.example.org");
        assert_eq!(caller.email.as_deref(), Some("a@b.co"));
    }

    #[test]
    fn subjects_must_be_one_to_255_characters() {
        let tokens = hs256_tokens(None, None);
        for (subject, accepted) in [
            (String::new(), false),
            ("é".repeat(255), true),
            ("é".repeat(256), false),
        ] {
            let token = sign(&json!({"sub": subject, "exp": in_ten_minutes()}), SECRET);
            assert_eq!(block_on(tokens.verify(&token)).is_some(), accepted);
        }
        let no_sub = sign(&json!({"exp": in_ten_minutes()}), SECRET);
        assert!(block_on(tokens.verify(&no_sub)).is_none());
        let no_exp = sign(&json!({"sub": "a"}), SECRET);
        assert!(block_on(tokens.verify(&no_exp)).is_none());
    }

    #[test]
    fn issuer_and_audience_are_checked_when_configured() {
        let tokens = hs256_tokens(Some("https://app.example.org"), Some("todo-api"));
        let claims = |iss: Option<&str>, aud: Option<&str>| {
            let mut claims = json!({"sub": "a", "exp": in_ten_minutes()});
            if let Some(iss) = iss {
                claims["iss"] = json!(iss);
            }
            if let Some(aud) = aud {
                claims["aud"] = json!(aud);
            }
            sign(&claims, SECRET)
        };
        let good = claims(Some("https://app.example.org"), Some("todo-api"));
        assert!(block_on(tokens.verify(&good)).is_some());
        for bad in [
            claims(None, Some("todo-api")),
            claims(Some("https://evil.example"), Some("todo-api")),
            claims(Some("https://app.example.org"), None),
            claims(Some("https://app.example.org"), Some("other")),
        ] {
            assert!(block_on(tokens.verify(&bad)).is_none());
        }
    }

    #[test]
    fn a_jwks_yields_only_public_keys_each_pinned_to_its_algorithm() {
        let document = json!({"keys": [
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "ed"},
            {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "enc", "use": "enc"},
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "wrong-alg", "alg": "RS256"},
            {"kty": "unknown"},
        ]});
        let keys = parse_jwks(document.to_string().as_bytes()).unwrap();
        let found: Vec<_> = keys
            .iter()
            .map(|key| (key.kid.as_deref(), key.algorithm))
            .collect();
        assert_eq!(found, [(Some("ed"), Algorithm::EdDSA)]);
    }

    #[test]
    fn nothing_is_accepted_when_no_source_is_configured() {
        let tokens = ExternalTokens::new(&ExternalTokenSettings::default());
        assert!(!tokens.is_enabled());
        let token = sign(&json!({"sub": "a", "exp": in_ten_minutes()}), SECRET);
        assert!(block_on(tokens.verify(&token)).is_none());
    }
}
