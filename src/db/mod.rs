//! The one place that talks to the database: the connection type that spans both backends
//! ([`pool`]), the migrations, the schema, and [`Database`], which every unit of work goes
//! through: [`Database::read`], [`Database::write`] or [`Database::transaction`].
//!
//! Diesel is synchronous. On PostgreSQL every unit of work takes a pooled connection on
//! actix's blocking thread pool, never on an async worker, because a query waits on the
//! network. On SQLite the two kinds of work are kept apart, because the database is a file in
//! this process:
//! - a read runs right where it is asked, on the worker thread, with that thread's own
//!   read-only connection. Reads in WAL mode never wait for writers, and a read takes
//!   microseconds, less than the two thread hand-offs of the blocking pool (measured: they
//!   and their wake-ups were a fifth of a task list's CPU time).
//! - writes run on the blocking pool, one at a time behind an in-process lock. SQLite allows
//!   one writer; without the lock, waiting writers poll its busy handler, which sleeps in
//!   steps of up to 100 ms (refresh at 256 connections: 382 req/s with a 1.7 s p99).
//!
//! Nothing here knows HTTP: failures are [`DbError`]s, and `errors.rs` decides that an
//! unreachable database is a 503 the client should retry. The store modules of each concept
//! (`accounts/store.rs`, `sessions/store.rs`, `tasks/store.rs`) hold the SQL and answer in
//! domain terms (`Option` for "no such row", enums for outcomes) inside a [`DbResult`].

pub mod migrations;
pub mod pool;
mod prepared;
pub mod schema;
mod sqlite_library;
mod time;
mod url;

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::web;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

pub use migrations::{MigrationError, run_migrations};
pub use pool::{AnyBackend, AnyConnection, ConnectionManager, Pool, build_pool, on_backend};
pub use prepared::{Prepared, prepared};
pub use time::{StoredTime, now, seconds_until, span};
pub use url::{DatabaseUrl, InvalidDatabaseUrl};

/// Why a unit of work did not reach a result.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection within the pool's time-out, or none could be opened: the database is
    /// down or overloaded.
    #[error("no database connection available")]
    Unavailable,
    /// The blocking thread running the work went away (it panicked, or the server stops).
    #[error("the database work did not complete: {0}")]
    Lost(String),
    #[error(transparent)]
    Query(#[from] DieselError),
}

/// What the stores return: a domain answer, or why the database could not give one.
pub type DbResult<T> = Result<T, DbError>;

/// The application's handle on the database. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    /// Present when the database is a SQLite file: see the module comment.
    sqlite: Option<Arc<SqliteAccess>>,
}

struct SqliteAccess {
    /// Tells this database's thread-local readers apart from another's in the same process
    /// (the tests run many).
    id: u64,
    url: DatabaseUrl,
    write_lock: Mutex<()>,
}

static NEXT_DATABASE_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's read-only SQLite connections, by database id.
    static SQLITE_READERS: RefCell<Vec<(u64, AnyConnection)>> = const { RefCell::new(Vec::new()) };
}

impl Database {
    pub fn new(pool: Pool, url: &DatabaseUrl) -> Self {
        let sqlite = matches!(url, DatabaseUrl::Sqlite(_)).then(|| {
            Arc::new(SqliteAccess {
                id: NEXT_DATABASE_ID.fetch_add(1, Ordering::Relaxed),
                url: url.clone(),
                write_lock: Mutex::new(()),
            })
        });
        Self { pool, sqlite }
    }

    /// The pool's connections now (open, idle), for the metrics.
    pub fn pool_state(&self) -> r2d2::State {
        self.pool.state()
    }

    pub fn pool_max_size(&self) -> u32 {
        self.pool.max_size()
    }

    /// Whether this database can be shared by several instances of the server (PostgreSQL),
    /// so state they must agree on belongs in it rather than in memory.
    pub fn is_shared(&self) -> bool {
        self.sqlite.is_none()
    }

    /// Work that only reads.
    pub async fn read<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        match &self.sqlite {
            Some(sqlite) => sqlite.read(work),
            None => self.on_blocking_pool(None, work).await,
        }
    }

    /// Work that writes with one statement (atomic by itself), or whose statements need not
    /// be atomic together.
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        self.on_blocking_pool(self.sqlite.clone(), work).await
    }

    /// Runs `work` inside one transaction: everything it wrote is kept, or nothing is.
    ///
    /// The first statement of `work` should be its first write (as in
    /// `sessions::lifecycle::rotate`): on PostgreSQL that is what makes a conditional `UPDATE`
    /// decide between concurrent callers without `FOR UPDATE`.
    pub async fn transaction<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + From<DieselError> + Send + 'static,
    {
        self.write(move |connection| write_transaction(connection, work))
            .await
    }

    /// `SELECT 1`: is the database reachable right now?
    pub async fn ping(&self) -> DbResult<()> {
        self.read(|connection| Ok(connection.batch_execute("SELECT 1")?))
            .await
    }

    /// Runs `work` with a pooled connection on the blocking thread pool, holding SQLite's
    /// write lock when given one.
    async fn on_blocking_pool<T, E, F>(
        &self,
        sqlite: Option<Arc<SqliteAccess>>,
        work: F,
    ) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            // The lock comes first, so writers that wait hold no connection.
            let _writing = sqlite.as_ref().map(|sqlite| {
                sqlite
                    .write_lock
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
            });
            let mut connection = pool.get().map_err(|error| {
                tracing::error!(%error, "no database connection available");
                DbError::Unavailable
            })?;
            let outcome = work(&mut connection);
            // A connection handed out without a check (see `pool::RECENTLY_USED`) may have
            // died with its server: that is an outage (503, try again), not a failed query.
            if outcome.is_err() && connection.is_lost() {
                tracing::error!("the database connection was lost");
                return Err(DbError::Unavailable.into());
            }
            outcome
        })
        .await
        .map_err(|error| DbError::Lost(error.to_string()))?
    }
}

impl SqliteAccess {
    fn read<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, E>,
        E: From<DbError>,
    {
        SQLITE_READERS.with(|readers| {
            let mut readers = readers.borrow_mut();
            let index = match readers.iter().position(|(id, _)| *id == self.id) {
                Some(index) => index,
                None => {
                    readers.push((self.id, self.open_reader()?));
                    readers.len() - 1
                }
            };
            work(&mut readers[index].1)
        })
    }

    /// A connection that refuses to write, so a write sent through [`Database::read`] fails
    /// loudly instead of slipping past the write lock.
    fn open_reader(&self) -> Result<AnyConnection, DbError> {
        let mut connection = ConnectionManager::new(self.url.clone())
            .open()
            .map_err(|error| {
                tracing::error!(%error, "could not open a SQLite reader");
                DbError::Unavailable
            })?;
        connection.batch_execute("PRAGMA query_only = ON")?;
        Ok(connection)
    }
}

/// `connection.transaction(work)`, except that on SQLite it begins with `BEGIN IMMEDIATE`.
///
/// A plain `BEGIN` on SQLite takes the write lock only at the first write; if another process
/// on the same file (a second instance, `todo-server rotate-keys`) committed in between, that
/// upgrade fails at once with "database is locked", without waiting out the busy timeout,
/// because the snapshot already read is stale. Taking the lock first makes the transaction
/// wait its turn instead. (Writers in this process already queue on `write_lock`.)
fn write_transaction<T, E, F>(connection: &mut AnyConnection, work: F) -> Result<T, E>
where
    F: FnOnce(&mut AnyConnection) -> Result<T, E>,
    E: From<DieselError>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <AnyConnection as Connection>::TransactionManager;
    match connection {
        AnyConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?
        }
        AnyConnection::Postgresql(_) => Manager::begin_transaction(connection)?,
    }
    // From here on as `TransactionManager::transaction` does it.
    match work(connection) {
        Ok(value) => {
            Manager::commit_transaction(connection)?;
            Ok(value)
        }
        Err(error) => match Manager::rollback_transaction(connection) {
            Ok(()) | Err(DieselError::BrokenTransactionManager) => Err(error),
            Err(rollback_error) => Err(rollback_error.into()),
        },
    }
}

/// Keeps the query planner's statistics in step with the data. SQLite recommends `PRAGMA
/// optimize` now and then on long-lived connections: statistics gathered while a table was
/// small made it scan `sessions` and `refresh_tokens` on every refresh once they had grown
/// (measured in the benchmark: 532 refreshes/s instead of thousands). PostgreSQL's autovacuum
/// already does this.
pub fn refresh_statistics(connection: &mut AnyConnection) -> DbResult<()> {
    if let AnyConnection::Sqlite(_) = connection {
        // 0x10002: every table, not only those this connection has queried. The analysis
        // limit samples instead of reading whole tables, so the first run (at start-up, on a
        // database never analysed) holds the write lock for milliseconds, not seconds.
        connection.batch_execute("PRAGMA analysis_limit = 1000")?;
        connection.batch_execute("PRAGMA optimize = 0x10002")?;
    }
    Ok(())
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
