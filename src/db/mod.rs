//! The one place that talks to the database: the connection type that spans both backends,
//! the pool, the migrations, and [`Database::run`], which every query goes through.
//!
//! Diesel is synchronous, so [`Database::run`] takes a pooled connection and runs the whole unit
//! of work (transaction included) on actix's blocking thread pool, never on an async worker.
//! Failures to reach the database become 503 so clients retry; they never panic or hang past
//! the pool's time-out.

pub mod schema;

use std::time::Duration;

use actix_web::web;
use chrono::{NaiveDateTime, SubsecRound, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::DatabaseUrl;
use crate::errors::ApiError;

/// One connection type for both backends; the variant is chosen by `DATABASE_URL`.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// How long a request waits for a connection before it is answered with 503.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a SQLite writer waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 10_000;

/// Opens connections for r2d2, dispatching on the URL scheme itself so the real connection
/// error reaches the log (`AnyConnection::establish` only says "Invalid connection url").
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = AnyConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<AnyConnection, Self::Error> {
        match &self.url {
            DatabaseUrl::Postgres(url) => diesel::PgConnection::establish(url)
                .map(AnyConnection::Postgresql)
                .map_err(diesel::r2d2::Error::ConnectionError),
            DatabaseUrl::Sqlite(path) => {
                let path = path.to_string_lossy();
                let mut connection = diesel::SqliteConnection::establish(&path)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the one writer; the busy timeout makes a second
                // writer wait instead of failing with SQLITE_BUSY. One statement each: SQLite
                // ignores the rest of a multi-statement PRAGMA string in some drivers.
                for pragma in [
                    "PRAGMA journal_mode = WAL".to_owned(),
                    "PRAGMA synchronous = NORMAL".to_owned(),
                    "PRAGMA foreign_keys = ON".to_owned(),
                    format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"),
                ] {
                    connection
                        .batch_execute(&pragma)
                        .map_err(diesel::r2d2::Error::QueryError)?;
                }
                Ok(AnyConnection::Sqlite(connection))
            }
        }
    }

    fn is_valid(&self, connection: &mut AnyConnection) -> Result<(), Self::Error> {
        connection
            .batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, connection: &mut AnyConnection) -> bool {
        diesel::r2d2::R2D2Connection::is_broken(connection)
    }
}

/// Builds the pool without opening a connection, so a server whose database is down still
/// starts answering (503) and recovers by itself when the database is back.
pub fn build_pool(url: &DatabaseUrl, max_size: u32) -> Result<Pool, std::io::Error> {
    if let DatabaseUrl::Sqlite(path) = url
        && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)?;
    }
    Ok(r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(0))
        .connection_timeout(CONNECTION_TIMEOUT)
        .build_unchecked(ConnectionManager::new(url.clone())))
}

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("could not connect to the database: {0}")]
    Connect(#[from] r2d2::Error),
    #[error("could not apply migrations: {0}")]
    Apply(String),
}

/// Applies every embedded migration the database has not seen yet.
pub fn run_migrations(pool: &Pool) -> Result<Vec<String>, MigrationError> {
    let mut connection = pool.get()?;
    let applied = match &mut *connection {
        AnyConnection::Postgresql(pg) => pg.run_pending_migrations(POSTGRES_MIGRATIONS),
        AnyConnection::Sqlite(sqlite) => sqlite.run_pending_migrations(SQLITE_MIGRATIONS),
    }
    .map_err(|error| MigrationError::Apply(error.to_string()))?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// The application's handle on the database. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
}

impl Database {
    pub fn new(pool: Pool) -> Self {
        Self { pool }
    }

    /// Runs `work` with a pooled connection on the blocking thread pool.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut connection = pool.get().map_err(|error| {
                tracing::error!(%error, "no database connection available");
                ApiError::Unavailable
            })?;
            work(&mut connection)
        })
        .await?
    }

    /// Runs `work` inside one transaction: everything it wrote is kept, or nothing is.
    ///
    /// On SQLite the first statement of `work` should be its first write (as in
    /// `sessions::rotate`): a deferred transaction that reads first and writes later cannot
    /// wait for another writer and fails with SQLITE_BUSY, while one that writes first simply
    /// queues behind the busy timeout.
    pub async fn transaction<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |connection| connection.transaction(work))
            .await
    }

    /// `SELECT 1` through the pool: is the database reachable right now?
    pub async fn ping(&self) -> Result<(), ApiError> {
        self.run(|connection| Ok(connection.batch_execute("SELECT 1")?))
            .await
    }
}

impl From<DieselError> for ApiError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => ApiError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                tracing::error!(message = info.message(), "database connection lost");
                ApiError::Unavailable
            }
            other => ApiError::internal(other),
        }
    }
}

/// Is this error the database refusing a duplicate in a UNIQUE column?
pub fn is_unique_violation(error: &DieselError) -> bool {
    matches!(
        error,
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}

/// Is this error a foreign key pointing at a row that no longer exists?
pub fn is_foreign_key_violation(error: &DieselError) -> bool {
    matches!(
        error,
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)
    )
}

/// A configured lifetime as a span between stored timestamps (saturating: a lifetime too long
/// to represent means "never").
pub fn span(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

/// The current time as stored: UTC, truncated to microseconds because PostgreSQL keeps no more
/// and an untruncated value would not read back equal.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}
