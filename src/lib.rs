//! todo-server: private task lists behind short-lived JWT access tokens and rotating refresh
//! tokens, on SQLite or PostgreSQL, from one actix-web binary.
//!
//! `main.rs` reads the configuration and calls [`Application::build`]; the tests build the very
//! same application on port 0 with a database of their own.

pub mod auth;
pub mod config;
pub mod db;
pub mod errors;
pub mod extract;
pub mod health;
pub mod openapi;
pub mod tasks;
pub mod web_client;

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::middleware::{DefaultHeaders, ErrorHandlers, Logger};
use actix_web::{App, HttpServer, web};

use crate::auth::AuthState;
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
        let server = serve(listener, database.clone(), auth_state)?;
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

fn serve(
    listener: TcpListener,
    database: Database,
    auth_state: AuthState,
) -> Result<Server, std::io::Error> {
    let database = web::Data::new(database);
    let access_keys = web::Data::new(auth_state.access_keys.clone());
    let auth_state = web::Data::new(auth_state);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(ErrorHandlers::new().default_handler(render_framework_errors))
            // One line per request. Request lines carry no secrets: tokens travel in headers,
            // cookies and bodies only.
            .wrap(Logger::new(r#"%a "%r" %s %b %Dms"#))
            .app_data(database.clone())
            .app_data(auth_state.clone())
            .app_data(access_keys.clone())
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
                    .configure(auth::configure)
                    .configure(tasks::configure)
                    .default_service(web::to(|| async {
                        Err::<actix_web::HttpResponse, _>(ApiError::NotFound)
                    })),
            )
            .configure(web_client::configure)
    })
    .listen(listener)?
    .run();
    Ok(server)
}
