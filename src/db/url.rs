//! `DATABASE_URL`: which backend, and where. Pure parsing; nothing is opened here.

use std::path::PathBuf;

/// Why a `DATABASE_URL` was refused, in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidDatabaseUrl(String);

/// The folder a generated development secret is kept in when the data lives in PostgreSQL.
const DEFAULT_DATA_DIR: &str = "data";

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
    pub fn parse(raw: &str) -> Result<Self, InvalidDatabaseUrl> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(InvalidDatabaseUrl("DATABASE_URL is empty".into()));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(Self::Postgres(raw.to_owned()));
        }
        if let Some(path) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            if path.is_empty() || path == ":memory:" {
                return Err(InvalidDatabaseUrl(
                    "DATABASE_URL must name a SQLite file; an in-memory database would give every pooled connection its own empty database".into(),
                ));
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = raw.split_once("://") {
            return Err(InvalidDatabaseUrl(format!(
                "DATABASE_URL has the unsupported scheme `{scheme}://`; use postgres://, postgresql:// or a SQLite file path"
            )));
        }
        if raw == ":memory:" {
            return Err(InvalidDatabaseUrl(
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
