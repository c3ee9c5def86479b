//! The SQL migrations of both backends, embedded in the binary and applied at start-up (or by
//! `todo-server migrate`). Each backend has its own folder; both must produce the tables that
//! `schema.rs` describes.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{AnyConnection, Pool};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(Debug, thiserror::Error)]
pub enum MigrationError {
    #[error("could not connect to the database: {0}")]
    Connect(#[from] r2d2::Error),
    #[error("could not apply migrations: {0}")]
    Apply(String),
}

/// Applies every embedded migration the database has not seen yet; returns their names.
pub fn run_migrations(pool: &Pool) -> Result<Vec<String>, MigrationError> {
    let mut connection = pool.get()?;
    let applied = match &mut **connection {
        AnyConnection::Postgresql(pg) => pg.run_pending_migrations(POSTGRES_MIGRATIONS),
        AnyConnection::Sqlite(sqlite) => sqlite.run_pending_migrations(SQLITE_MIGRATIONS),
    }
    .map_err(|error| MigrationError::Apply(error.to_string()))?;
    Ok(applied.iter().map(ToString::to_string).collect())
}
