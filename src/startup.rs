//! Start-up: everything that turns a [`Config`] into a running server. It opens the database
//! and applies migrations, settles the signing secret, builds the shared state, mounts every
//! route with its middleware, binds the listener and starts the background purge.
//!
//! `main.rs` and the tests both go through [`Application::build`], so the tests run the very
//! same application on port 0 with a database of their own.

use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{Condition, DefaultHeaders, ErrorHandlers, from_fn};
use actix_web::{App, HttpServer, web};
use rand::RngCore;
use tracing_actix_web::TracingLogger;

use crate::accounts::password_hash::PasswordHasher;
use crate::accounts::password_work::PasswordWork;
use crate::accounts::{self, strength::PasswordJudge};
use crate::client_addr::TrustedProxies;
use crate::config::{AccessAlgorithm, Config, ConfigError, JwtSecret};
use crate::db::{self, Database, DbError};
use crate::errors::{ApiError, render_framework_errors};
use crate::extract::MAX_BODY_BYTES;
use crate::mail::{MailDelivery, Mailer};
use crate::operations::metrics::{self, MetricsEndpoint};
use crate::operations::request_id::{self, RequestSpan};
use crate::rate_limit::{AuthRateLimit, TaskWriteLimit};
use crate::sessions::revocations::RevocationFeed;
use crate::tokens::{
    AccessTokenKeys, DeviceTokens, ExternalTokens, KeyRing, RevokedSessions, SuccessorKey,
};
use crate::{health, jwks, openapi, sessions, tasks, web_client};

/// How often expired refresh tokens, ended sessions and stale back-off are deleted.
const PURGE_INTERVAL: Duration = Duration::from_secs(3600);
/// How long a deleted account's stripped row (and its revoked sessions) stays: far longer than
/// any instance needs to learn of the revocations.
const DELETED_ACCOUNT_RETENTION: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Database(#[from] db::MigrationError),
    #[error("could not listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    PasswordHashing(#[from] accounts::password_hash::HashError),
    #[error("could not read or create the signing keys: {0}")]
    SigningKeys(DbError),
}

/// A server bound to its port (and its metrics listener to its own, when configured), ready
/// to run.
pub struct Application {
    port: u16,
    server: Server,
    metrics: Option<(u16, Server)>,
}

impl Application {
    /// Connects to the database, applies pending migrations, binds `config.server.bind_addr`
    /// and prepares the server.
    pub async fn build(config: &Config) -> Result<Self, StartupError> {
        let pool = db::build_pool(&config.database.url, config.database.pool_size)?;
        let applied = db::run_migrations(&pool)?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied database migrations");
        }
        let database = Database::new(pool, &config.database.url);
        let secret = jwt_secret(config)?;
        let password_work = PasswordWork::start_per_core()?;
        let state = SharedState {
            database: database.clone(),
            hasher: PasswordHasher::new(config.passwords, password_work.clone())?,
            password_judge: PasswordJudge::new(password_work),
            access_keys: access_token_keys(&database, &secret, config).await?,
            device_tokens: DeviceTokens::new(&secret, &config.tokens),
            successor_key: SuccessorKey::derive(&secret),
            external_tokens: ExternalTokens::new(&config.external_tokens),
        };
        // Loaded ahead of the first external token; a frontend that is down now is asked
        // again when a token arrives (at most once a minute), and our own tokens never wait.
        state.external_tokens.prefetch_jwks().await;
        let bind_addr = &config.server.bind_addr;
        let listener = TcpListener::bind(bind_addr).map_err(|source| StartupError::Bind {
            address: bind_addr.clone(),
            source,
        })?;
        let port = listener.local_addr()?.port();
        // Known before the first request, so the guard does not start out answering 503.
        let revoked = Arc::new(RevokedSessions::default());
        let revocations =
            RevocationFeed::new(database.clone(), revoked.clone(), config.tokens.access_ttl);
        if let Err(error) = revocations.catch_up().await {
            tracing::warn!(%error, "could not read revoked sessions at start-up; retrying");
        }
        revocations.clone().spawn_polling();
        let metrics = config.operations.metrics_exposed().then(|| {
            MetricsEndpoint::install(database.clone(), config.operations.metrics_token.clone())
        });
        let metrics_listener = match (&metrics, &config.operations.metrics_addr) {
            (Some(endpoint), Some(address)) => {
                Some(serve_metrics(endpoint.clone(), address, config)?)
            }
            _ => None,
        };
        // On the main listener only behind its token.
        let main_metrics = metrics.filter(|_| config.operations.metrics_token.is_some());
        let mail = MailDelivery::new(
            Mailer::from_settings(&config.mail, config.app_env)?,
            config.mail.public_url.clone(),
        );
        mail.spawn_sender(database.clone());
        let server = serve(
            listener,
            state,
            revoked,
            revocations,
            main_metrics,
            mail,
            config,
        )?;
        spawn_purge_task(database);
        tracing::info!(
            port,
            backend = config.database.url.backend_name(),
            "todo-server listening on http://{}",
            listener_display(bind_addr, port)
        );
        Ok(Self {
            port,
            server,
            metrics: metrics_listener,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port of the `METRICS_ADDR` listener, when there is one.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// Runs until a signal stops the servers (each stops gracefully on SIGTERM or SIGINT).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        match self.metrics {
            None => self.server.await,
            Some((_, metrics)) => futures_util::future::try_join(self.server, metrics)
                .await
                .map(|_| ()),
        }
    }
}

/// The access tokens' keys, as `JWT_ALGORITHM` says: `JWT_SECRET`, or the Ed25519 keys in the
/// database (a first one made now if there is none), reloaded from then on.
async fn access_token_keys(
    database: &Database,
    secret: &JwtSecret,
    config: &Config,
) -> Result<AccessTokenKeys, StartupError> {
    match config.tokens.algorithm {
        AccessAlgorithm::Hs256 => Ok(AccessTokenKeys::new(secret, &config.tokens)),
        AccessAlgorithm::EdDsa => {
            let keys = database
                .transaction(jwks::keys_with_a_first_one)
                .await
                .map_err(StartupError::SigningKeys)?;
            let ring = Arc::new(KeyRing::default());
            ring.replace(keys);
            jwks::spawn_reloading(
                database.clone(),
                ring.clone(),
                config.tokens.key_propagation,
            );
            Ok(AccessTokenKeys::eddsa(ring, &config.tokens))
        }
    }
}

/// What the handlers share, built once; each is registered as its own app data so a
/// handler's signature names exactly what it uses.
struct SharedState {
    database: Database,
    hasher: PasswordHasher,
    password_judge: PasswordJudge,
    access_keys: AccessTokenKeys,
    device_tokens: DeviceTokens,
    successor_key: SuccessorKey,
    external_tokens: ExternalTokens,
}

fn listener_display(bind_addr: &str, port: u16) -> String {
    match bind_addr.rsplit_once(':') {
        Some((host, _)) => format!("{host}:{port}"),
        None => bind_addr.to_owned(),
    }
}

/// The configured secret, or in development (where none is required) the one kept beside the
/// data, generated on first start so tokens survive restarts. Announced with a warning because
/// production must set its own.
pub fn jwt_secret(config: &Config) -> Result<JwtSecret, ConfigError> {
    if let Some(secret) = &config.tokens.secret {
        return Ok(secret.clone());
    }
    development_secret(&config.database.url.data_dir())
}

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

/// Cross-origin access for browser clients on the origins in `CORS_ALLOWED_ORIGINS`, with
/// credentials (the refresh cookie). Any other origin gets no CORS headers at all, so the
/// browser keeps it from reading responses; same-origin requests need none.
fn cors(allowed_origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::HeaderName::from_static("x-token-transport"),
            header::HeaderName::from_static("x-device-token"),
        ])
        .expose_headers([
            header::LINK,
            header::LOCATION,
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
        ])
        .supports_credentials()
        .block_on_origin_mismatch(false)
        .max_age(600);
    for origin in allowed_origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Enough blocking threads for every pooled connection to be busy, spread over the workers.
/// (Password hashing has threads of its own: `accounts/password_work.rs`.)
fn blocking_threads_per_worker(config: &Config) -> usize {
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    (config.database.pool_size as usize)
        .div_ceil(workers)
        .max(2)
}

/// The `METRICS_ADDR` listener: `/metrics` and nothing else, on one worker.
fn serve_metrics(
    endpoint: MetricsEndpoint,
    address: &str,
    config: &Config,
) -> Result<(u16, Server), StartupError> {
    let listener = TcpListener::bind(address).map_err(|source| StartupError::Bind {
        address: address.to_owned(),
        source,
    })?;
    let port = listener.local_addr()?.port();
    let endpoint = web::Data::new(endpoint);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(endpoint.clone())
            .route("/metrics", web::get().to(metrics::scrape))
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(ApiError::NotFound)
            }))
    })
    .workers(1)
    .shutdown_timeout(config.server.shutdown_timeout.as_secs())
    .listen(listener)?
    .run();
    tracing::info!(
        port,
        "metrics at http://{}/metrics",
        listener_display(address, port)
    );
    Ok((port, server))
}

fn serve(
    listener: TcpListener,
    state: SharedState,
    revoked: Arc<RevokedSessions>,
    revocations: RevocationFeed,
    metrics: Option<MetricsEndpoint>,
    mail: MailDelivery,
    config: &Config,
) -> Result<Server, std::io::Error> {
    let mail = web::Data::new(mail);
    let revoked = web::Data::from(revoked);
    let revocations = web::Data::new(revocations);
    let database = web::Data::new(state.database);
    let hasher = web::Data::new(state.hasher);
    let password_judge = web::Data::new(state.password_judge);
    let access_keys = web::Data::new(state.access_keys);
    let device_tokens = web::Data::new(state.device_tokens);
    let successor_key = web::Data::new(state.successor_key);
    let external_tokens = web::Data::new(state.external_tokens);
    let session_settings = web::Data::new(config.sessions);
    let token_settings = web::Data::new(config.tokens.clone());
    let trusted_proxies = TrustedProxies::new(config.server.trusted_proxies.clone());
    // Built once, outside the worker factory, so every worker shares the same buckets.
    let rate_limit = AuthRateLimit::new(
        config.server.auth_rate_limit_per_minute,
        trusted_proxies.clone(),
        &database,
    );
    rate_limit.spawn_pruning();
    let rate_limit = web::Data::new(rate_limit);
    let task_write_limit = TaskWriteLimit::new(config.quotas.task_writes_per_minute);
    task_write_limit.spawn_pruning();
    let task_write_limit = web::Data::new(task_write_limit);
    let quotas = web::Data::new(config.quotas);
    let account_settings = web::Data::new(config.accounts);
    let trusted_proxies = web::Data::new(trusted_proxies);
    let cors_origins = config.server.cors_allowed_origins.clone();
    let record_metrics = config.operations.metrics_exposed();
    let metrics = metrics.map(web::Data::new);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(Condition::new(
                !cors_origins.is_empty(),
                cors(&cors_origins),
            ))
            .wrap(ErrorHandlers::new().default_handler(render_framework_errors))
            .wrap(Condition::new(
                record_metrics,
                from_fn(metrics::record_request),
            ))
            // Every request runs in a span with its id; one line is logged when it is answered.
            .wrap(TracingLogger::<RequestSpan>::new())
            .wrap(from_fn(request_id::tag_request))
            .app_data(database.clone())
            .app_data(hasher.clone())
            .app_data(password_judge.clone())
            .app_data(access_keys.clone())
            .app_data(device_tokens.clone())
            .app_data(successor_key.clone())
            .app_data(external_tokens.clone())
            .app_data(revoked.clone())
            .app_data(revocations.clone())
            .app_data(rate_limit.clone())
            .app_data(session_settings.clone())
            .app_data(token_settings.clone())
            .app_data(trusted_proxies.clone())
            .app_data(task_write_limit.clone())
            .app_data(quotas.clone())
            .app_data(mail.clone())
            .app_data(account_settings.clone())
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .app_data(
                web::QueryConfig::default().error_handler(|error, _| {
                    ApiError::validation("query", error.to_string()).into()
                }),
            )
            // A path segment that is not the id it should be names nothing: 404.
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
            .service(web::resource("/healthz").route(web::get().to(health::healthz)))
            .service(web::resource("/readyz").route(web::get().to(health::readyz)))
            .configure(|routes| {
                if let Some(metrics) = &metrics {
                    routes.service(
                        web::resource("/metrics")
                            .app_data(metrics.clone())
                            .route(web::get().to(metrics::scrape)),
                    );
                }
            })
            .configure(openapi::configure_docs)
            .configure(jwks::configure)
            .service(
                web::scope("/api")
                    // API responses are private to their caller; never cache them.
                    .wrap(DefaultHeaders::new().add((header::CACHE_CONTROL, "no-store")))
                    .service(web::resource("/openapi.json").route(web::get().to(openapi::serve)))
                    .service(
                        web::scope("/auth")
                            .configure(accounts::configure)
                            .configure(sessions::configure),
                    )
                    .service(web::scope("/account").configure(accounts::configure_account))
                    .configure(tasks::configure)
                    .default_service(web::to(|| async {
                        Err::<actix_web::HttpResponse, _>(ApiError::NotFound)
                    })),
            )
            .configure(web_client::configure)
    })
    // Queries run on the blocking pool (on PostgreSQL; SQLite writes too). actix's default
    // (512 threads a worker) once let each thread keep its own allocator arena with a 19 MiB
    // argon2 buffer in it, gigabytes of resident memory under a login flood, and buys no
    // throughput, since queries queue on the connection pool anyway. Size the pool to the
    // work that can really run.
    .worker_max_blocking_threads(blocking_threads_per_worker(config))
    // On SIGTERM or SIGINT actix stops accepting at once and lets the requests in flight
    // finish, for at most this long; background tasks end with the runtime.
    .shutdown_timeout(config.server.shutdown_timeout.as_secs())
    .listen(listener)?
    .run();
    Ok(server)
}

/// Deletes dead refresh tokens, ended sessions and stale login back-off now and then, so the
/// tables stay bounded, and refreshes the planner's statistics.
fn spawn_purge_task(db: Database) {
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(PURGE_INTERVAL);
        loop {
            interval.tick().await;
            let purged = db
                .transaction(|connection| {
                    let sessions = sessions::store::purge_expired(connection)?;
                    let backoff = accounts::store::purge_stale_backoff(connection)?;
                    let deleted = accounts::store::purge_deleted_accounts(
                        connection,
                        db::now() - db::span(DELETED_ACCOUNT_RETENTION),
                    )?;
                    db::refresh_statistics(connection)?;
                    Ok::<_, DbError>((sessions, backoff, deleted))
                })
                .await;
            match purged {
                Ok((sessions, backoff, deleted))
                    if sessions.refresh_tokens + sessions.sessions + backoff + deleted > 0 =>
                {
                    tracing::info!(
                        tokens = sessions.refresh_tokens,
                        sessions = sessions.sessions,
                        throttles = backoff,
                        deleted_accounts = deleted,
                        "purged expired sessions and stale login back-off"
                    );
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "could not purge expired sessions"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn development_generates_and_keeps_a_secret_in_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let url = dir.path().join("todo.db");
        let config = Config::from_lookup(|name| {
            (name == "DATABASE_URL").then(|| url.to_str().unwrap().to_owned())
        })
        .unwrap();
        let first = jwt_secret(&config).unwrap();
        let second = jwt_secret(&config).unwrap();
        assert_eq!(first.as_bytes(), second.as_bytes());
        assert!(first.as_bytes().len() >= crate::config::MIN_SECRET_BYTES);
        assert!(dir.path().join("jwt-secret").exists());
    }
}
