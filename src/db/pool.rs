//! The connection type that spans both backends, and the pool that hands it out.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::{InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;

use super::DatabaseUrl;

/// One connection type for both backends; the variant is chosen by `DATABASE_URL`.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Runs the same Diesel code with the backend's own connection: `on_backend!(connection,
/// |inner| query.load(inner))`. The body is compiled once per backend.
///
/// For the hottest queries. Through [`AnyConnection`] Diesel writes a query's SQL text anew
/// on every execution, even for a query it has prepared and cached (the multi-connection
/// wrapper renders its inner query before handing it on; in the task list's profile that was
/// 9% of the instructions). On the backend's own connection, a query whose Rust type fixes its
/// SQL (not boxed) is looked up in the statement cache by that type, with no text at all.
#[macro_export]
macro_rules! on_backend {
    ($connection:expr, |$inner:ident| $body:expr) => {
        match $connection {
            $crate::db::AnyConnection::Postgresql($inner) => $body,
            $crate::db::AnyConnection::Sqlite($inner) => $body,
        }
    };
}
pub use on_backend;

/// The backend type of [`AnyConnection`], for naming a row type's columns
/// (`<User as Selectable<AnyBackend>>::construct_selection()`).
pub type AnyBackend = <AnyConnection as diesel::Connection>::Backend;

pub type Pool = r2d2::Pool<ConnectionManager>;

/// A connection as the pool keeps it, with what decides whether it must be checked before it
/// is handed out again (see [`ConnectionManager::is_valid`]). Dereferences to the connection.
pub struct PoolSlot {
    connection: AnyConnection,
    returned_at: Instant,
    /// Set by the connection's instrumentation when a statement fails (PostgreSQL only).
    failed: Arc<AtomicBool>,
    /// Found dead after a failure: the pool drops it when it is given back.
    dead: bool,
    /// The pool's count of connections found dead, shared by every slot.
    losses: Arc<AtomicU64>,
    /// That count when this connection was given back (or opened).
    losses_when_returned: u64,
}

impl PoolSlot {
    fn new(connection: AnyConnection, losses: Arc<AtomicU64>) -> Self {
        let mut slot = Self {
            connection,
            returned_at: Instant::now(),
            failed: Arc::default(),
            dead: false,
            losses_when_returned: losses.load(Ordering::Relaxed),
            losses,
        };
        if let AnyConnection::Postgresql(pg) = &mut slot.connection {
            let failed = slot.failed.clone();
            pg.set_instrumentation(move |event: InstrumentationEvent<'_>| {
                if let InstrumentationEvent::FinishQuery { error: Some(_), .. } = event {
                    failed.store(true, Ordering::Relaxed);
                }
            });
        }
        slot
    }

    /// After work that failed: whether the connection itself is gone (its server restarted,
    /// its backend was terminated), rather than the work. Asks the server only when a
    /// statement on it failed, and marks a dead connection so the pool drops it; a live one
    /// has just been checked, so its next checkout need not check it again.
    pub fn is_lost(&mut self) -> bool {
        if !self.failed.swap(false, Ordering::Relaxed) {
            return false;
        }
        self.dead = self.check().is_err();
        self.dead
    }

    /// `SELECT 1`. A connection that fails it is counted as lost: whatever killed it has
    /// probably killed the pool's other connections too.
    fn check(&mut self) -> QueryResult<()> {
        let answer = self.connection.batch_execute("SELECT 1");
        if answer.is_err() {
            self.losses.fetch_add(1, Ordering::Relaxed);
        }
        answer
    }

    /// Given back within [`RECENTLY_USED`], with no failed statement since and no connection
    /// of the pool found dead since: safe to hand out again without a check.
    fn trusted_without_check(&mut self) -> bool {
        let failed = self.failed.swap(false, Ordering::Relaxed);
        !failed
            && self.returned_at.elapsed() < RECENTLY_USED
            && self.losses_when_returned == self.losses.load(Ordering::Relaxed)
    }
}

impl Deref for PoolSlot {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.connection
    }
}

impl DerefMut for PoolSlot {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.connection
    }
}

/// A PostgreSQL connection given back this recently, with no failed statement since its last
/// check, is handed out again without a `SELECT 1`: it was working a moment ago, and the check
/// is a round trip on every request. HikariCP skips its check within the same window
/// (`aliveBypassWindowMs`). A connection that died in that window fails the one request that
/// meets it, with 503 (see `Database::on_blocking_pool`), and is dropped. Its death ends the
/// trust in every connection given back before it (a restart kills them all, as SQLAlchemy's
/// pool assumes when it invalidates itself on a disconnect): those are checked before their
/// next use, so one outage fails one request, not one per pooled connection.
const RECENTLY_USED: Duration = Duration::from_millis(500);

/// How long a request waits for a connection before it is answered with 503.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a SQLite writer waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 10_000;

/// Opens connections for r2d2, dispatching on the URL scheme itself so the real connection
/// error reaches the log (`AnyConnection::establish` only says "Invalid connection url").
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    /// How many of this pool's connections were found dead (see [`RECENTLY_USED`]).
    losses: Arc<AtomicU64>,
}

impl ConnectionManager {
    pub fn new(url: DatabaseUrl) -> Self {
        Self {
            url,
            losses: Arc::default(),
        }
    }
}

impl ConnectionManager {
    /// A connection outside the pool, configured as the pool's are.
    pub fn open(&self) -> Result<AnyConnection, diesel::r2d2::Error> {
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
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = PoolSlot;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PoolSlot, Self::Error> {
        Ok(PoolSlot::new(self.open()?, self.losses.clone()))
    }

    /// r2d2 asks this before every checkout: `SELECT 1`. A PostgreSQL connection can die with
    /// its server (a restart, a terminated backend), and a dead one is replaced instead of
    /// failing a request; one given back within [`RECENTLY_USED`], with no failed statement
    /// and no connection of the pool lost since, is trusted. SQLite needs it too, though not
    /// to find dead connections: without it, under a steady stream of writes the WAL was never
    /// checkpointed (measured: a 1.4 GB WAL after 70k task creations, the database file still
    /// empty, each write slower than the last as the kernel zeroed new pages); with it the WAL
    /// stays a few MB. (Reads on SQLite do not come through the pool: see `Database::read`.)
    fn is_valid(&self, slot: &mut PoolSlot) -> Result<(), Self::Error> {
        if matches!(slot.connection, AnyConnection::Postgresql(_)) && slot.trusted_without_check() {
            return Ok(());
        }
        slot.check().map_err(diesel::r2d2::Error::QueryError)
    }

    /// r2d2 asks this when a connection is given back, which is the moment to note.
    fn has_broken(&self, slot: &mut PoolSlot) -> bool {
        slot.returned_at = Instant::now();
        slot.losses_when_returned = slot.losses.load(Ordering::Relaxed);
        slot.dead || diesel::r2d2::R2D2Connection::is_broken(&mut slot.connection)
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
