//! Configuration from the environment (and `.env`, loaded by `main`).
//!
//! Every setting has a development default so `cargo run --release` works on a fresh machine.
//! Anything that would be unsafe in production (a missing or short JWT secret) is refused at
//! start-up when `APP_ENV=production`, with a message that says which variable to set. This
//! module only reads and checks settings; it never opens a database or a socket.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::RngCore;

/// The shortest accepted HS256 secret. RFC 7518 §3.2: the key must be at least as long as the
/// hash output (256 bits).
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

/// Where the data lives. Chosen by the scheme of `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    /// `postgres://` and `postgresql://` select PostgreSQL; `sqlite://path`, `sqlite:path` or a
    /// plain path select SQLite. Any other `scheme://` is refused rather than becoming a
    /// strangely named SQLite file (a misspelt `postgress://` must not silently start empty).
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ConfigError("DATABASE_URL is empty".into()));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if path.is_empty() || path == ":memory:" {
                return Err(ConfigError(
                    "DATABASE_URL must name a SQLite file; an in-memory database would give every pooled connection its own empty database".into(),
                ));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = raw.split_once("://") {
            return Err(ConfigError(format!(
                "DATABASE_URL has the unsupported scheme `{scheme}://`; use postgres://, postgresql:// or a SQLite file path"
            )));
        }
        if raw == ":memory:" {
            return Err(ConfigError(
                "DATABASE_URL must name a SQLite file, not :memory:".into(),
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(raw)))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgresql",
            Self::Sqlite(_) => "sqlite",
        }
    }

    /// The folder that holds the SQLite file, or `data/` when the data lives in PostgreSQL.
    /// A generated development secret is kept here.
    pub fn data_dir(&self) -> PathBuf {
        match self {
            Self::Sqlite(path) => match path.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
                _ => PathBuf::from("."),
            },
            Self::Postgres(_) => PathBuf::from(DEFAULT_DATA_DIR),
        }
    }
}

const DEFAULT_DATA_DIR: &str = "data";
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

#[derive(Debug, Clone)]
pub struct Config {
    pub app_env: AppEnv,
    pub database_url: DatabaseUrl,
    pub database_pool_size: u32,
    pub bind_addr: String,
    pub jwt_secret: JwtSecret,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub refresh_reuse_grace: Duration,
    pub session_max_age: Duration,
    pub cookie_secure: bool,
    pub password_hash: PasswordHashParams,
    /// Requests per minute per client address on register, login and refresh; 0 = no limit.
    pub auth_rate_limit_per_minute: u32,
    /// Proxies whose `X-Forwarded-For` is believed; everyone else's is ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Origins allowed to call the API from a browser with credentials; empty = same origin.
    pub cors_allowed_origins: Vec<String>,
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
        let database_url = DatabaseUrl::parse(
            get("DATABASE_URL")
                .as_deref()
                .unwrap_or(DEFAULT_DATABASE_URL),
        )?;
        let jwt_secret = match get("JWT_SECRET").or_else(|| get("BETTER_AUTH_SECRET")) {
            Some(secret) => JwtSecret::new(secret.into_bytes())?,
            None if app_env == AppEnv::Production => {
                return Err(ConfigError(
                    "JWT_SECRET (or BETTER_AUTH_SECRET) must be set when APP_ENV=production; generate one with `openssl rand -base64 48`".into(),
                ));
            }
            None => development_secret(&database_url.data_dir())?,
        };

        Ok(Self {
            app_env,
            database_pool_size: parse_number(&get, "DATABASE_POOL_SIZE", 10)?,
            bind_addr: get("BIND_ADDR").unwrap_or_else(|| "127.0.0.1:8080".into()),
            jwt_issuer: get("JWT_ISSUER").unwrap_or_else(|| "todo-server".into()),
            jwt_audience: get("JWT_AUDIENCE").unwrap_or_else(|| "todo-server".into()),
            access_token_ttl: seconds(&get, "ACCESS_TOKEN_TTL_SECONDS", 15 * 60)?,
            refresh_token_ttl: seconds(&get, "REFRESH_TOKEN_TTL_SECONDS", 7 * 24 * 3600)?,
            refresh_reuse_grace: seconds(&get, "REFRESH_REUSE_GRACE_SECONDS", 10)?,
            session_max_age: seconds(&get, "SESSION_MAX_AGE_SECONDS", 30 * 24 * 3600)?,
            cookie_secure: parse_bool(&get, "COOKIE_SECURE", true)?,
            password_hash: PasswordHashParams {
                memory_kib: parse_number(&get, "PASSWORD_HASH_MEMORY_KIB", 19_456)?,
                iterations: parse_number(&get, "PASSWORD_HASH_ITERATIONS", 2)?,
                parallelism: parse_number(&get, "PASSWORD_HASH_PARALLELISM", 1)?,
            },
            auth_rate_limit_per_minute: parse_number(&get, "AUTH_RATE_LIMIT_PER_MINUTE", 30)?,
            trusted_proxies: parse_list(&get, "TRUSTED_PROXIES", parse_proxy)?,
            cors_allowed_origins: parse_list(&get, "CORS_ALLOWED_ORIGINS", parse_origin)?,
            database_url,
            jwt_secret,
        })
        .and_then(Self::checked)
    }

    fn checked(self) -> Result<Self, ConfigError> {
        if self.access_token_ttl.is_zero() || self.refresh_token_ttl.is_zero() {
            return Err(ConfigError(
                "token lifetimes must be at least one second".into(),
            ));
        }
        if self.session_max_age.is_zero() {
            return Err(ConfigError(
                "SESSION_MAX_AGE_SECONDS must be at least one second".into(),
            ));
        }
        // Timestamps are added to these; an absurd value would overflow the date range.
        let ten_years = Duration::from_secs(10 * 365 * 24 * 3600);
        let lifetimes = [
            self.access_token_ttl,
            self.refresh_token_ttl,
            self.refresh_reuse_grace,
            self.session_max_age,
        ];
        if lifetimes.iter().any(|lifetime| *lifetime > ten_years) {
            return Err(ConfigError(
                "token and session lifetimes must be at most ten years".into(),
            ));
        }
        if self.database_pool_size == 0 {
            return Err(ConfigError("DATABASE_POOL_SIZE must be at least 1".into()));
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

/// `scheme://host[:port]`, exactly as browsers send it in `Origin`.
fn parse_origin(item: &str) -> Option<String> {
    let (scheme, rest) = item.split_once("://")?;
    let valid = matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && !rest.contains('/')
        && !rest.contains('*');
    valid.then(|| item.to_owned())
}

/// In development with no secret configured, generate one once and keep it beside the data so
/// tokens survive restarts. Announced with a warning because production must set its own.
fn development_secret(data_dir: &Path) -> Result<JwtSecret, ConfigError> {
    let path = data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read(&path)
        && let Ok(secret) = JwtSecret::new(existing)
    {
        tracing::warn!(path = %path.display(), "JWT_SECRET is not set; using the development secret kept in the data directory");
        return Ok(secret);
    }
    let mut bytes = [0u8; 48];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes);
    std::fs::create_dir_all(data_dir)
        .and_then(|()| write_private_file(&path, secret.as_bytes()))
        .map_err(|error| {
            ConfigError(format!(
                "JWT_SECRET is not set and a development secret could not be written to {}: {error}",
                path.display()
            ))
        })?;
    tracing::warn!(path = %path.display(), "JWT_SECRET is not set; generated a development secret. Set JWT_SECRET before production use");
    JwtSecret::new(secret.into_bytes())
}

fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents)
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
    fn database_url_scheme_chooses_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap(),
            DatabaseUrl::Postgres("postgres://u@h/db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgresql://h/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert_eq!(
            DatabaseUrl::parse("data/x.db").unwrap(),
            DatabaseUrl::Sqlite("data/x.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://a.db").unwrap(),
            DatabaseUrl::Sqlite("a.db".into())
        );
    }

    #[test]
    fn misspelt_or_in_memory_database_urls_are_refused() {
        assert!(DatabaseUrl::parse("postgress://h/db").is_err());
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse(":memory:").is_err());
        assert!(DatabaseUrl::parse("sqlite::memory:").is_err());
    }

    #[test]
    fn defaults_match_the_documented_values() {
        let config = config_from(&[("JWT_SECRET", SECRET)]).unwrap();
        assert_eq!(
            config.database_url,
            DatabaseUrl::Sqlite("data/todo.db".into())
        );
        assert_eq!(config.bind_addr, "127.0.0.1:8080");
        assert_eq!(config.access_token_ttl, Duration::from_secs(900));
        assert_eq!(config.refresh_token_ttl, Duration::from_secs(7 * 24 * 3600));
        assert_eq!(config.refresh_reuse_grace, Duration::from_secs(10));
        assert_eq!(config.session_max_age, Duration::from_secs(30 * 24 * 3600));
        assert!(config.cookie_secure);
        assert_eq!(
            config.password_hash,
            PasswordHashParams {
                memory_kib: 19_456,
                iterations: 2,
                parallelism: 1
            }
        );
    }

    #[test]
    fn better_auth_secret_is_accepted_as_the_jwt_secret() {
        let config = config_from(&[("BETTER_AUTH_SECRET", SECRET)]).unwrap();
        assert_eq!(config.jwt_secret.as_bytes(), SECRET.as_bytes());
    }

    #[test]
    fn production_refuses_a_missing_or_short_secret() {
        let missing = config_from(&[("APP_ENV", "production")]).unwrap_err();
        assert!(missing.0.contains("JWT_SECRET"), "{missing}");
        let short = config_from(&[("APP_ENV", "production"), ("JWT_SECRET", "short")]).unwrap_err();
        assert!(short.0.contains("at least 32 bytes"), "{short}");
    }

    #[test]
    fn development_generates_and_keeps_a_secret_in_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("todo.db");
        let url = url.to_str().unwrap();
        let first = config_from(&[("DATABASE_URL", url)]).unwrap();
        let second = config_from(&[("DATABASE_URL", url)]).unwrap();
        assert_eq!(first.jwt_secret.as_bytes(), second.jwt_secret.as_bytes());
        assert!(first.jwt_secret.as_bytes().len() >= MIN_SECRET_BYTES);
        assert!(dir.path().join("jwt-secret").exists());
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
        assert_eq!(config.trusted_proxies.len(), 3);
        assert_eq!(
            config.cors_allowed_origins,
            ["https://app.example.org", "http://localhost:5173"]
        );
        let bad =
            config_from(&[("JWT_SECRET", SECRET), ("TRUSTED_PROXIES", "proxy.local")]).unwrap_err();
        assert!(bad.0.contains("TRUSTED_PROXIES"), "{bad}");
        let wildcard =
            config_from(&[("JWT_SECRET", SECRET), ("CORS_ALLOWED_ORIGINS", "*")]).unwrap_err();
        assert!(wildcard.0.contains("CORS_ALLOWED_ORIGINS"), "{wildcard}");
        let defaults = config_from(&[("JWT_SECRET", SECRET)]).unwrap();
        assert_eq!(defaults.auth_rate_limit_per_minute, 30);
        assert!(defaults.trusted_proxies.is_empty() && defaults.cors_allowed_origins.is_empty());
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
}
