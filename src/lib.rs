//! todo-server: private task lists behind short-lived JWT access tokens and rotating refresh
//! tokens, on SQLite or PostgreSQL, from one actix-web binary.
//!
//! `main.rs` reads the configuration and calls [`Application::build`]; the tests build the very
//! same application on port 0 with a database of their own.

pub mod auth;
pub mod client_addr;
pub mod config;
pub mod db;
pub mod errors;
pub mod extract;
pub mod health;
pub mod openapi;
pub mod tasks;
pub mod web_client;

use std::net::TcpListener;

use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{Condition, DefaultHeaders, ErrorHandlers, Logger};
use actix_web::{App, HttpServer, web};

use crate::auth::{AuthRateLimit, AuthState};
use crate::client_addr::TrustedProxies;
use crate::config::Config;
use crate::db::Database;
use crate::errors::{ApiError, render_framework_errors};
use crate::extract::MAX_BODY_BYTES;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{0}")]
    Config(#[from] config::ConfigError),
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
    PasswordHashing(#[from] auth::password::HashError),
}

/// A server bound to its port, ready to run.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Connects to the database, applies pending migrations, binds `config.bind_addr` and
    /// prepares the server.
    pub fn build(config: &Config) -> Result<Self, StartupError> {
        let pool = db::build_pool(&config.database_url, config.database_pool_size)?;
        let applied = db::run_migrations(&pool)?;
        if !applied.is_empty() {
            tracing::info!(migrations = ?applied, "applied database migrations");
        }
        let database = Database::new(pool);
        let auth_state = AuthState::from_config(config)?;
        let listener =
            TcpListener::bind(&config.bind_addr).map_err(|source| StartupError::Bind {
                address: config.bind_addr.clone(),
                source,
            })?;
        let port = listener.local_addr()?.port();
        let server = serve(listener, database.clone(), auth_state, config)?;
        auth::spawn_purge_task(database);
        tracing::info!(
            port,
            backend = config.database_url.backend_name(),
            "todo-server listening on http://{}",
            listener_display(&config.bind_addr, port)
        );
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn listener_display(bind_addr: &str, port: u16) -> String {
    match bind_addr.rsplit_once(':') {
        Some((host, _)) => format!("{host}:{port}"),
        None => bind_addr.to_owned(),
    }
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
        ])
        .expose_headers([
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

/// Enough blocking threads for every pooled connection to be busy, plus a few for password
/// hashing, spread over the workers.
fn blocking_threads_per_worker(config: &Config) -> usize {
    let workers = std::thread::available_parallelism().map_or(1, usize::from);
    (config.database_pool_size as usize + 4)
        .div_ceil(workers)
        .max(2)
}

fn serve(
    listener: TcpListener,
    database: Database,
    auth_state: AuthState,
    config: &Config,
) -> Result<Server, std::io::Error> {
    let database = web::Data::new(database);
    let auth_state = web::Data::new(auth_state);
    let trusted_proxies = TrustedProxies::new(config.trusted_proxies.clone());
    // Built once, outside the worker factory, so every worker shares the same buckets.
    let rate_limit = AuthRateLimit::new(config.auth_rate_limit_per_minute, trusted_proxies.clone());
    let trusted_proxies = web::Data::new(trusted_proxies);
    let cors_origins = config.cors_allowed_origins.clone();
    let server = HttpServer::new(move || {
        let rate_limit = rate_limit.clone();
        App::new()
            .wrap(Condition::new(
                !cors_origins.is_empty(),
                cors(&cors_origins),
            ))
            .wrap(ErrorHandlers::new().default_handler(render_framework_errors))
            // One line per request. Request lines carry no secrets: tokens travel in headers,
            // cookies and bodies only.
            .wrap(Logger::new(r#"%a "%r" %s %b %Dms"#))
            .app_data(database.clone())
            .app_data(auth_state.clone())
            .app_data(trusted_proxies.clone())
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .app_data(
                web::QueryConfig::default().error_handler(|error, _| {
                    ApiError::validation("query", error.to_string()).into()
                }),
            )
            .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
            .route("/healthz", web::get().to(health::healthz))
            .route("/readyz", web::get().to(health::readyz))
            .service(
                web::scope("/api")
                    // API responses are private to their caller; never cache them.
                    .wrap(DefaultHeaders::new().add((header::CACHE_CONTROL, "no-store")))
                    .service(web::resource("/openapi.json").route(web::get().to(openapi::serve)))
                    .configure(|config| auth::configure(config, &rate_limit))
                    .configure(tasks::configure)
                    .default_service(web::to(|| async {
                        Err::<actix_web::HttpResponse, _>(ApiError::NotFound)
                    })),
            )
            .configure(web_client::configure)
    })
    // Every query and every password hash runs on the blocking pool. actix's default (512
    // threads a worker) lets each thread keep its own allocator arena with a 19 MiB argon2
    // buffer in it: gigabytes of resident memory under load, for no throughput, since queries
    // queue on the connection pool anyway. Size the pool to the work that can really run.
    .worker_max_blocking_threads(blocking_threads_per_worker(config))
    .listen(listener)?
    .run();
    Ok(server)
}
