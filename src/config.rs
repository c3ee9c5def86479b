//! Configuration from the environment (and `.env`, loaded by `main`), in one section per
//! concern so each part of the service takes only its own: the token keys take
//! [`TokenSettings`], sessions take [`SessionSettings`], and a unit test of either builds
//! that section alone.
//!
//! Every setting has a development default so `cargo run --release` works on a fresh machine.
//! Anything that would be unsafe in production (a missing or short JWT secret) is refused when
//! `APP_ENV=production`, with a message that says which variable to set. This module is pure:
//! it reads and checks values and never touches a file, a database or a socket. (A missing
//! development secret is generated at start-up, in `startup.rs`.)

use std::time::Duration;

use subtle::ConstantTimeEq;

use crate::db::DatabaseUrl;

/// The shortest accepted HS256 secret. RFC 7518 §3.2: the key must be at least as long as the
/// hash output (256 bits).
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

const DEFAULT_DATABASE_URL: &str = "data/todo.db";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

/// argon2id cost. The defaults are OWASP's minimum recommendation for argon2id
/// (Password Storage Cheat Sheet: m=19456 KiB, t=2, p=1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordHashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for PasswordHashParams {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// The HS256 key. Its `Debug` never prints the bytes.
#[derive(Clone)]
pub struct JwtSecret(Vec<u8>);

impl JwtSecret {
    pub fn new(bytes: Vec<u8>) -> Result<Self, ConfigError> {
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(ConfigError(format!(
                "JWT_SECRET (or BETTER_AUTH_SECRET) must be at least {MIN_SECRET_BYTES} bytes; generate one with `openssl rand -base64 48`"
            )));
        }
        Ok(Self(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtSecret(<redacted>)")
    }
}

/// The shortest accepted `METRICS_TOKEN`: 128 bits of hex.
pub const MIN_METRICS_TOKEN_BYTES: usize = 32;

/// The bearer token a scraper must present. Its `Debug` never prints it.
#[derive(Clone)]
pub struct MetricsToken(String);

impl MetricsToken {
    pub fn new(token: String) -> Result<Self, ConfigError> {
        if token.len() < MIN_METRICS_TOKEN_BYTES {
            return Err(ConfigError(format!(
                "METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_BYTES} characters; generate one with `openssl rand -hex 32`"
            )));
        }
        Ok(Self(token))
    }

    /// Compared in constant time, so response timing does not reveal a prefix.
    pub fn matches(&self, presented: &str) -> bool {
        bool::from(self.0.as_bytes().ct_eq(presented.as_bytes()))
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(<redacted>)")
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub app_env: AppEnv,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub tokens: TokenSettings,
    pub external_tokens: ExternalTokenSettings,
    pub sessions: SessionSettings,
    pub passwords: PasswordHashParams,
    pub quotas: Quotas,
    pub operations: OperationsSettings,
    pub mail: MailSettings,
    pub accounts: AccountSettings,
}

/// What an account must do before it may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountSettings {
    /// Registration answers 202 without tokens, and login waits for the mailed link.
    pub require_email_verification: bool,
}

/// Where mail goes and what its links point at.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `smtp://host:port` (plain; `?tls=required` for STARTTLS, `?tls=opportunistic`),
    /// `smtps://user:pass@host:465`; unset: mail is logged (development) or unavailable
    /// (production).
    pub smtp_url: Option<String>,
    /// The `From` of every message.
    pub from: String,
    /// Where the web client is reached, for links in mail.
    pub public_url: String,
}

/// How the service shows itself to its operator: metrics and logs.
#[derive(Debug, Clone)]
pub struct OperationsSettings {
    /// A separate listener serving only `GET /metrics` (`METRICS_ADDR`).
    pub metrics_addr: Option<String>,
    /// When set, `/metrics` is also served on the main listener, and wherever it is served a
    /// scraper must present this as a bearer token (`METRICS_TOKEN`).
    pub metrics_token: Option<MetricsToken>,
    pub log_format: LogFormat,
}

impl OperationsSettings {
    /// Whether anything exposes `/metrics`; when nothing does, nothing is recorded.
    pub fn metrics_exposed(&self) -> bool {
        self.metrics_addr.is_some() || self.metrics_token.is_some()
    }
}

/// `LOG_FORMAT`: `text` (the default, for people) or `json` (one object per line, for log
/// shippers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl LogFormat {
    pub fn parse(raw: Option<&str>) -> Result<Self, ConfigError> {
        match raw.map(|raw| raw.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("text") => Ok(Self::Text),
            Some("json") => Ok(Self::Json),
            Some(other) => Err(ConfigError(format!(
                "LOG_FORMAT must be `text` or `json`, not `{other}`"
            ))),
        }
    }
}

/// What one account may hold and do with its tasks, so one account cannot fill the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Tasks one user may have; creating one more is refused. 0 = no limit.
    pub tasks_per_user: u32,
    /// Task writes (create, replace, change, toggle, delete) per user per minute, with bursts of
    /// a sixth of it; 0 = no limit.
    pub task_writes_per_minute: u32,
}

/// The listener and what it believes about its clients.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub bind_addr: String,
    /// Proxies whose `X-Forwarded-For` is believed; everyone else's is ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Origins allowed to call the API from a browser with credentials; empty = same origin.
    pub cors_allowed_origins: Vec<String>,
    /// Requests per minute per client address on register, login, refresh and password change;
    /// 0 = no limit.
    pub auth_rate_limit_per_minute: u32,
    /// How long a stopping server (SIGTERM, SIGINT) lets requests in flight finish.
    pub shutdown_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: DatabaseUrl,
    pub pool_size: u32,
}

/// What access tokens are signed with and say.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    /// `None` only in development, where start-up generates and keeps one.
    pub secret: Option<JwtSecret>,
    pub issuer: String,
    pub audience: String,
    pub access_ttl: Duration,
    /// `JWT_ALGORITHM`: how access tokens are signed, and the only algorithm they are checked
    /// with (RFC 8725 §3.1).
    pub algorithm: AccessAlgorithm,
    /// `SIGNING_KEY_PROPAGATION_SECONDS`: how long a rotated EdDSA key is published before it
    /// signs, so verifiers that cache the JWKS have it by then.
    pub key_propagation: Duration,
}

#[cfg(test)]
impl TokenSettings {
    /// The defaults as the unit tests of `tokens/` use them, with an access-token lifetime.
    pub fn for_tests(access_ttl: Duration) -> Self {
        Self {
            secret: None,
            issuer: "todo-server".into(),
            audience: "todo-server".into(),
            access_ttl,
            algorithm: AccessAlgorithm::default(),
            key_propagation: Duration::from_secs(600),
        }
    }
}

/// How access tokens are signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccessAlgorithm {
    /// HMAC with `JWT_SECRET`: verifiers share the secret.
    #[default]
    Hs256,
    /// Ed25519 keys the server generates and keeps, published at `/.well-known/jwks.json`:
    /// verifiers need no secret.
    EdDsa,
}

/// Tokens issued by another service (a Better Auth frontend) that are accepted too; off unless
/// a secret or a JWKS URL is set. See `tokens/external.rs`.
#[derive(Debug, Clone, Default)]
pub struct ExternalTokenSettings {
    /// `EXTERNAL_JWT_SECRET`: HS256 tokens signed with it (the frontend's `BETTER_AUTH_SECRET`).
    pub secret: Option<JwtSecret>,
    /// `EXTERNAL_JWKS_URL`: tokens signed with a key of this JWKS (EdDSA, ES256, RS256).
    pub jwks_url: Option<String>,
    /// `EXTERNAL_JWT_ISSUER`: when set, `iss` must be exactly this.
    pub issuer: Option<String>,
    /// `EXTERNAL_JWT_AUDIENCE`: when set, `aud` must contain this.
    pub audience: Option<String>,
}

/// The lifetimes that govern sessions, and how their refresh cookie is marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSettings {
    pub refresh_token_ttl: Duration,
    /// A rotated refresh token presented again within this window is a retry, not theft.
    pub reuse_grace: Duration,
    /// The absolute lifetime of a session, however often it is refreshed.
    pub max_age: Duration,
    /// `Secure` on the refresh cookie.
    pub cookie_secure: bool,
    /// Live sessions one user may have; a login beyond it revokes the least recently used.
    pub max_per_user: u32,
}

impl Config {
    /// Reads the process environment. Call `dotenvy::dotenv()` first to honour `.env`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can supply their own environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());

        let app_env = match get("APP_ENV").as_deref().map(str::trim) {
            None | Some("development") | Some("dev") | Some("test") => AppEnv::Development,
            Some("production") | Some("prod") => AppEnv::Production,
            Some(other) => {
                return Err(ConfigError(format!(
                    "APP_ENV must be `development` or `production`, not `{other}`"
                )));
            }
        };
        let url = DatabaseUrl::parse(
            get("DATABASE_URL")
                .as_deref()
                .unwrap_or(DEFAULT_DATABASE_URL),
        )
        .map_err(|error| ConfigError(error.to_string()))?;
        let secret = match get("JWT_SECRET").or_else(|| get("BETTER_AUTH_SECRET")) {
            Some(secret) => Some(JwtSecret::new(secret.into_bytes())?),
            None if app_env == AppEnv::Production => {
                return Err(ConfigError(
                    "JWT_SECRET (or BETTER_AUTH_SECRET) must be set when APP_ENV=production; generate one with `openssl rand -base64 48`".into(),
                ));
            }
            None => None,
        };

        let external_tokens = ExternalTokenSettings {
            secret: get("EXTERNAL_JWT_SECRET")
                .map(|secret| {
                    JwtSecret::new(secret.into_bytes()).map_err(|_| {
                        ConfigError(format!(
                            "EXTERNAL_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes (RFC 7518 §3.2)"
                        ))
                    })
                })
                .transpose()?,
            jwks_url: get("EXTERNAL_JWKS_URL")
                .map(|url| {
                    parse_http_url(&url).ok_or_else(|| {
                        ConfigError(format!(
                            "EXTERNAL_JWKS_URL must be an http:// or https:// URL, not `{url}`"
                        ))
                    })
                })
                .transpose()?,
            issuer: get("EXTERNAL_JWT_ISSUER"),
            audience: get("EXTERNAL_JWT_AUDIENCE"),
        };

        Self {
            app_env,
            external_tokens,
            server: ServerSettings {
                bind_addr: get("BIND_ADDR").unwrap_or_else(|| "127.0.0.1:8080".into()),
                trusted_proxies: parse_list(&get, "TRUSTED_PROXIES", parse_proxy)?,
                cors_allowed_origins: parse_list(&get, "CORS_ALLOWED_ORIGINS", parse_origin)?,
                auth_rate_limit_per_minute: parse_number(&get, "AUTH_RATE_LIMIT_PER_MINUTE", 30)?,
                shutdown_timeout: seconds(&get, "SHUTDOWN_TIMEOUT_SECONDS", 30)?,
            },
            database: DatabaseSettings {
                url,
                pool_size: parse_number(&get, "DATABASE_POOL_SIZE", 10)?,
            },
            tokens: TokenSettings {
                secret,
                issuer: get("JWT_ISSUER").unwrap_or_else(|| "todo-server".into()),
                audience: get("JWT_AUDIENCE").unwrap_or_else(|| "todo-server".into()),
                access_ttl: seconds(&get, "ACCESS_TOKEN_TTL_SECONDS", 15 * 60)?,
                algorithm: match get("JWT_ALGORITHM").as_deref().map(str::trim) {
                    None | Some("HS256") => AccessAlgorithm::Hs256,
                    Some("EdDSA") => AccessAlgorithm::EdDsa,
                    Some(other) => {
                        return Err(ConfigError(format!(
                            "JWT_ALGORITHM must be `HS256` or `EdDSA`, not `{other}`"
                        )));
                    }
                },
                key_propagation: seconds(&get, "SIGNING_KEY_PROPAGATION_SECONDS", 600)?,
            },
            sessions: SessionSettings {
                refresh_token_ttl: seconds(&get, "REFRESH_TOKEN_TTL_SECONDS", 7 * 24 * 3600)?,
                reuse_grace: seconds(&get, "REFRESH_REUSE_GRACE_SECONDS", 10)?,
                max_age: seconds(&get, "SESSION_MAX_AGE_SECONDS", 30 * 24 * 3600)?,
                cookie_secure: parse_bool(&get, "COOKIE_SECURE", true)?,
                max_per_user: parse_number(&get, "MAX_SESSIONS_PER_USER", 20)?,
            },
            passwords: PasswordHashParams {
                memory_kib: parse_number(&get, "PASSWORD_HASH_MEMORY_KIB", 19_456)?,
                iterations: parse_number(&get, "PASSWORD_HASH_ITERATIONS", 2)?,
                parallelism: parse_number(&get, "PASSWORD_HASH_PARALLELISM", 1)?,
            },
            quotas: Quotas {
                tasks_per_user: parse_number(&get, "MAX_TASKS_PER_USER", 10_000)?,
                task_writes_per_minute: parse_number(&get, "TASK_WRITES_PER_MINUTE", 600)?,
            },
            accounts: AccountSettings {
                require_email_verification: parse_bool(&get, "REQUIRE_EMAIL_VERIFICATION", false)?,
            },
            mail: MailSettings {
                smtp_url: get("SMTP_URL"),
                from: get("MAIL_FROM").unwrap_or_else(|| "todo-server <no-reply@localhost>".into()),
                public_url: match get("PUBLIC_URL") {
                    Some(url) => parse_origin(url.trim_end_matches('/')).ok_or_else(|| {
                        ConfigError(format!(
                            "PUBLIC_URL must be `http(s)://host[:port]`, not `{url}`"
                        ))
                    })?,
                    None if app_env == AppEnv::Production && get("SMTP_URL").is_some() => {
                        return Err(ConfigError(
                            "PUBLIC_URL must be set when SMTP_URL is: mailed links point there"
                                .into(),
                        ));
                    }
                    None => "http://127.0.0.1:8080".into(),
                },
            },
            operations: OperationsSettings {
                metrics_addr: get("METRICS_ADDR"),
                metrics_token: get("METRICS_TOKEN").map(MetricsToken::new).transpose()?,
                log_format: LogFormat::parse(get("LOG_FORMAT").as_deref())?,
            },
        }
        .checked()
    }

    fn checked(self) -> Result<Self, ConfigError> {
        if self.tokens.access_ttl.is_zero() || self.sessions.refresh_token_ttl.is_zero() {
            return Err(ConfigError(
                "token lifetimes must be at least one second".into(),
            ));
        }
        if self.sessions.max_age.is_zero() {
            return Err(ConfigError(
                "SESSION_MAX_AGE_SECONDS must be at least one second".into(),
            ));
        }
        // Timestamps are added to these; an absurd value would overflow the date range.
        let ten_years = Duration::from_secs(10 * 365 * 24 * 3600);
        let lifetimes = [
            self.tokens.access_ttl,
            self.sessions.refresh_token_ttl,
            self.sessions.reuse_grace,
            self.sessions.max_age,
        ];
        if lifetimes.iter().any(|lifetime| *lifetime > ten_years) {
            return Err(ConfigError(
                "token and session lifetimes must be at most ten years".into(),
            ));
        }
        if self.accounts.require_email_verification
            && self.app_env == AppEnv::Production
            && self.mail.smtp_url.is_none()
        {
            return Err(ConfigError(
                "REQUIRE_EMAIL_VERIFICATION needs SMTP_URL in production: nobody could verify"
                    .into(),
            ));
        }
        if self.database.pool_size == 0 {
            return Err(ConfigError("DATABASE_POOL_SIZE must be at least 1".into()));
        }
        if self.sessions.max_per_user == 0 {
            return Err(ConfigError(
                "MAX_SESSIONS_PER_USER must be at least 1 (a login needs a session)".into(),
            ));
        }
        Ok(self)
    }
}

fn parse_number<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
) -> Result<T, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse()
            .map_err(|_| ConfigError(format!("{name} must be a whole number, not `{raw}`"))),
    }
}

fn seconds(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
) -> Result<Duration, ConfigError> {
    parse_number(get, name, default).map(Duration::from_secs)
}

fn parse_bool(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(name).map(|raw| raw.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(raw) if matches!(raw.as_str(), "1" | "true" | "yes" | "on") => Ok(true),
        Some(raw) if matches!(raw.as_str(), "0" | "false" | "no" | "off") => Ok(false),
        Some(raw) => Err(ConfigError(format!(
            "{name} must be true or false, not `{raw}`"
        ))),
    }
}

/// A comma-separated list; blank items are ignored.
fn parse_list<T>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    parse_item: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>, ConfigError> {
    get(name)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            parse_item(item)
                .ok_or_else(|| ConfigError(format!("{name} has an invalid entry `{item}`")))
        })
        .collect()
}

/// An address (`10.0.0.1`) or a network (`10.0.0.0/8`).
fn parse_proxy(item: &str) -> Option<ipnet::IpNet> {
    item.parse::<ipnet::IpNet>().ok().or_else(|| {
        item.parse::<std::net::IpAddr>()
            .ok()
            .map(ipnet::IpNet::from)
    })
}

/// An absolute `http://` or `https://` URL with a host.
fn parse_http_url(item: &str) -> Option<String> {
    let item = item.trim();
    let (scheme, rest) = item.split_once("://")?;
    let valid = matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && !rest.starts_with('/')
        && !rest.contains(char::is_whitespace);
    valid.then(|| item.to_owned())
}

/// `scheme://host[:port]`, exactly as browsers send it in `Origin`.
fn parse_origin(item: &str) -> Option<String> {
    let (scheme, rest) = item.split_once("://")?;
    let valid = matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && !rest.contains('/')
        && !rest.contains('*');
    valid.then(|| item.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config_from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| env.get(name).cloned())
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn defaults_match_the_documented_values() {
        let config = config_from(&[("JWT_SECRET", SECRET)]).unwrap();
        assert_eq!(
            config.database.url,
            DatabaseUrl::Sqlite("data/todo.db".into())
        );
        assert_eq!(config.server.bind_addr, "127.0.0.1:8080");
        assert_eq!(config.tokens.access_ttl, Duration::from_secs(900));
        assert_eq!(
            config.sessions.refresh_token_ttl,
            Duration::from_secs(7 * 24 * 3600)
        );
        assert_eq!(config.sessions.reuse_grace, Duration::from_secs(10));
        assert_eq!(config.sessions.max_age, Duration::from_secs(30 * 24 * 3600));
        assert!(config.sessions.cookie_secure);
        assert_eq!(
            config.passwords,
            PasswordHashParams {
                memory_kib: 19_456,
                iterations: 2,
                parallelism: 1
            }
        );
    }

    #[test]
    fn external_tokens_are_off_by_default_and_checked_when_set() {
        let defaults = config_from(&[("JWT_SECRET", SECRET)]).unwrap();
        assert!(defaults.external_tokens.secret.is_none());
        assert!(defaults.external_tokens.jwks_url.is_none());
        let set = config_from(&[
            ("JWT_SECRET", SECRET),
            ("EXTERNAL_JWT_SECRET", SECRET),
            ("EXTERNAL_JWKS_URL", "https://app.example.org/api/auth/jwks"),
            ("EXTERNAL_JWT_ISSUER", "https://app.example.org"),
        ])
        .unwrap();
        assert!(set.external_tokens.secret.is_some());
        assert_eq!(
            set.external_tokens.issuer.as_deref(),
            Some("https://app.example.org")
        );
        let short =
            config_from(&[("JWT_SECRET", SECRET), ("EXTERNAL_JWT_SECRET", "short")]).unwrap_err();
        assert!(short.0.contains("EXTERNAL_JWT_SECRET"), "{short}");
        let not_a_url =
            config_from(&[("JWT_SECRET", SECRET), ("EXTERNAL_JWKS_URL", "file:///x")]).unwrap_err();
        assert!(not_a_url.0.contains("EXTERNAL_JWKS_URL"), "{not_a_url}");
    }

    #[test]
    fn the_access_token_algorithm_is_hs256_unless_eddsa_is_asked_for() {
        let defaults = config_from(&[("JWT_SECRET", SECRET)]).unwrap();
        assert_eq!(defaults.tokens.algorithm, AccessAlgorithm::Hs256);
        assert_eq!(defaults.tokens.key_propagation, Duration::from_secs(600));
        let eddsa = config_from(&[("JWT_SECRET", SECRET), ("JWT_ALGORITHM", "EdDSA")]).unwrap();
        assert_eq!(eddsa.tokens.algorithm, AccessAlgorithm::EdDsa);
        let other = config_from(&[("JWT_SECRET", SECRET), ("JWT_ALGORITHM", "RS256")]).unwrap_err();
        assert!(other.0.contains("JWT_ALGORITHM"), "{other}");
    }

    #[test]
    fn better_auth_secret_is_accepted_as_the_jwt_secret() {
        let config = config_from(&[("BETTER_AUTH_SECRET", SECRET)]).unwrap();
        assert_eq!(config.tokens.secret.unwrap().as_bytes(), SECRET.as_bytes());
    }

    #[test]
    fn production_refuses_a_missing_or_short_secret() {
        let missing = config_from(&[("APP_ENV", "production")]).unwrap_err();
        assert!(missing.0.contains("JWT_SECRET"), "{missing}");
        let short = config_from(&[("APP_ENV", "production"), ("JWT_SECRET", "short")]).unwrap_err();
        assert!(short.0.contains("at least 32 bytes"), "{short}");
    }

    #[test]
    fn development_without_a_secret_leaves_it_to_start_up_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("todo.db");
        let config = config_from(&[("DATABASE_URL", url.to_str().unwrap())]).unwrap();
        assert!(config.tokens.secret.is_none());
        assert!(!dir.path().join("jwt-secret").exists());
    }

    #[test]
    fn malformed_numbers_name_the_variable() {
        let error = config_from(&[("JWT_SECRET", SECRET), ("ACCESS_TOKEN_TTL_SECONDS", "soon")])
            .unwrap_err();
        assert!(error.0.contains("ACCESS_TOKEN_TTL_SECONDS"), "{error}");
    }

    #[test]
    fn lists_are_parsed_and_bad_entries_named() {
        let config = config_from(&[
            ("JWT_SECRET", SECRET),
            ("TRUSTED_PROXIES", "10.0.0.1, 192.168.0.0/16,,::1"),
            (
                "CORS_ALLOWED_ORIGINS",
                "https://app.example.org,http://localhost:5173",
            ),
        ])
        .unwrap();
        assert_eq!(config.server.trusted_proxies.len(), 3);
        assert_eq!(
            config.server.cors_allowed_origins,
            ["https://app.example.org", "http://localhost:5173"]
        );
        let bad =
            config_from(&[("JWT_SECRET", SECRET), ("TRUSTED_PROXIES", "proxy.local")]).unwrap_err();
        assert!(bad.0.contains("TRUSTED_PROXIES"), "{bad}");
        let wildcard =
            config_from(&[("JWT_SECRET", SECRET), ("CORS_ALLOWED_ORIGINS", "*")]).unwrap_err();
        assert!(wildcard.0.contains("CORS_ALLOWED_ORIGINS"), "{wildcard}");
        let defaults = config_from(&[("JWT_SECRET", SECRET)]).unwrap();
        assert_eq!(defaults.server.auth_rate_limit_per_minute, 30);
        assert_eq!(defaults.server.shutdown_timeout, Duration::from_secs(30));
        assert!(
            defaults.server.trusted_proxies.is_empty()
                && defaults.server.cors_allowed_origins.is_empty()
        );
    }

    #[test]
    fn lifetimes_beyond_ten_years_are_refused() {
        let error = config_from(&[
            ("JWT_SECRET", SECRET),
            ("SESSION_MAX_AGE_SECONDS", "1000000000000"),
        ])
        .unwrap_err();
        assert!(error.0.contains("ten years"), "{error}");
    }

    #[test]
    fn secret_is_never_printed() {
        let config = config_from(&[("JWT_SECRET", SECRET)]).unwrap();
        assert!(!format!("{config:?}").contains(SECRET));
    }

    #[test]
    fn metrics_are_off_unless_an_address_or_token_is_given() {
        let config = config_from(&[]).unwrap();
        assert!(!config.operations.metrics_exposed());
        let config = config_from(&[("METRICS_ADDR", "127.0.0.1:9090")]).unwrap();
        assert!(config.operations.metrics_exposed());
    }

    #[test]
    fn a_metrics_token_is_long_compared_whole_and_never_printed() {
        let token = "0123456789abcdef0123456789abcdef";
        let error = config_from(&[("METRICS_TOKEN", "short")]).unwrap_err();
        assert!(error.0.contains("METRICS_TOKEN"), "{error}");
        let config = config_from(&[("METRICS_TOKEN", token)]).unwrap();
        let parsed = config.operations.metrics_token.clone().unwrap();
        assert!(parsed.matches(token));
        assert!(!parsed.matches(&token[..31]));
        assert!(!parsed.matches(&format!("{token}0")));
        assert!(!format!("{config:?}").contains(token));
    }

    #[test]
    fn log_format_is_text_or_json() {
        assert_eq!(LogFormat::parse(None).unwrap(), LogFormat::Text);
        assert_eq!(LogFormat::parse(Some("JSON")).unwrap(), LogFormat::Json);
        let error = config_from(&[("LOG_FORMAT", "xml")]).unwrap_err();
        assert!(error.0.contains("LOG_FORMAT"), "{error}");
    }

    #[test]
    fn requiring_verification_in_production_needs_a_mail_server() {
        let error = config_from(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", SECRET),
            ("REQUIRE_EMAIL_VERIFICATION", "true"),
        ])
        .unwrap_err();
        assert!(error.0.contains("SMTP_URL"), "{error}");
        let error = config_from(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", SECRET),
            ("SMTP_URL", "smtp://mail.example.org:25"),
        ])
        .unwrap_err();
        assert!(error.0.contains("PUBLIC_URL"), "{error}");
        let config = config_from(&[
            ("APP_ENV", "production"),
            ("JWT_SECRET", SECRET),
            ("SMTP_URL", "smtp://mail.example.org:25"),
            ("PUBLIC_URL", "https://todo.example.org/"),
            ("REQUIRE_EMAIL_VERIFICATION", "true"),
        ])
        .unwrap();
        assert_eq!(config.mail.public_url, "https://todo.example.org");
    }
}
