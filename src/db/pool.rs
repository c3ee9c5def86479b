//! The connection type that spans both backends, and the pool that hands it out.

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::DatabaseUrl;

/// One connection type for both backends; the variant is chosen by `DATABASE_URL`.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// The backend type of [`AnyConnection`], for naming a row type's columns
/// (`<Task as Selectable<AnyBackend>>::construct_selection()`).
pub type AnyBackend = <AnyConnection as diesel::Connection>::Backend;

pub type Pool = r2d2::Pool<ConnectionManager>;

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
                super::sqlite_library::configure();
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

    /// r2d2 asks this before every checkout: `SELECT 1`. A PostgreSQL connection can die with
    /// its server (a restart, a terminated backend), and a dead one is replaced instead of
    /// failing a request. SQLite needs it too, though not to find dead connections: without
    /// it, under a steady stream of writes the WAL was never checkpointed (measured: a 1.4 GB
    /// WAL after 70k task creations, the database file still empty, each write slower than the
    /// last as the kernel zeroed new pages); with it the WAL stays a few MB. (Reads on SQLite do
    /// not come through the pool: see `Database::read`.)
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
        .event_handler(Box::new(crate::operations::metrics::PoolEvents))
        .build_unchecked(ConnectionManager::new(url.clone())))
}
