//! The one place that talks to the database: the connection type that spans both backends
//! ([`pool`]), the migrations, the schema, and [`Database::run`], which every query goes through.
//!
//! Diesel is synchronous, so [`Database::run`] takes a pooled connection and runs the whole unit
//! of work (transaction included) on actix's blocking thread pool, never on an async worker.
//! It knows nothing of HTTP: failures are [`DbError`]s, and `errors.rs` decides that an
//! unreachable database is a 503 the client should retry.
//!
//! The store modules of each concept (`accounts/store.rs`, `sessions/store.rs`,
//! `tasks/store.rs`) hold the SQL. They return Diesel's `QueryResult` with domain answers inside
//! (`Option` for "no such row", enums for outcomes), never an HTTP status.

pub mod migrations;
pub mod pool;
pub mod schema;
mod url;

use std::time::Duration;

use actix_web::web;
use chrono::{NaiveDateTime, SubsecRound, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

pub use migrations::{MigrationError, run_migrations};
pub use pool::{AnyBackend, AnyConnection, ConnectionManager, Pool, build_pool};
pub use url::{DatabaseUrl, InvalidDatabaseUrl};

/// Why a unit of work did not reach a result.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection within the pool's time-out: the database is down or overloaded.
    #[error("no database connection available")]
    Unavailable,
    /// The blocking thread running the work went away (it panicked, or the server stops).
    #[error("the database work did not complete: {0}")]
    Lost(String),
    #[error(transparent)]
    Query(#[from] DieselError),
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
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut connection = pool.get().map_err(|error| {
                tracing::error!(%error, "no database connection available");
                DbError::Unavailable
            })?;
            work(&mut connection)
        })
        .await
        .map_err(|error| DbError::Lost(error.to_string()))?
    }

    /// [`run`](Self::run) for work that only calls the stores: their Diesel errors become
    /// [`DbError`]s.
    pub async fn query<T, F>(&self, work: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut AnyConnection) -> QueryResult<T> + Send + 'static,
        T: Send + 'static,
    {
        self.run(move |connection| Ok(work(connection)?)).await
    }

    /// Runs `work` inside one transaction: everything it wrote is kept, or nothing is.
    ///
    /// On SQLite the first statement of `work` should be its first write (as in
    /// `sessions::rotation::rotate`): a deferred transaction that reads first and writes later
    /// cannot wait for another writer and fails with SQLITE_BUSY, while one that writes first
    /// simply queues behind the busy timeout.
    pub async fn transaction<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<DieselError> + Send + 'static,
    {
        self.run(move |connection| connection.transaction(work))
            .await
    }

    /// `SELECT 1` through the pool: is the database reachable right now?
    pub async fn ping(&self) -> Result<(), DbError> {
        self.run(|connection| Ok(connection.batch_execute("SELECT 1")?))
            .await
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

/// Seconds from `now` until `later`, never negative.
pub fn seconds_until(later: NaiveDateTime, now: NaiveDateTime) -> u64 {
    (later - now).num_seconds().max(0) as u64
}
