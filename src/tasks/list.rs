//! What a list request asks for, and the cursor's wire format. Shared by `input.rs`, which
//! parses the query, and `store.rs`, which runs it; neither imports the other.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Datelike, NaiveDateTime};

use crate::ids::TaskId;

pub const DEFAULT_PAGE_SIZE: i64 = 50;
pub const MAX_PAGE_SIZE: i64 = 100;

/// Which tasks a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum StatusFilter {
    All,
    Pending,
    Completed,
}

impl StatusFilter {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "all" => Some(Self::All),
            "pending" => Some(Self::Pending),
            "completed" => Some(Self::Completed),
            _ => None,
        }
    }

    /// As a query parameter spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Pending => "pending",
            Self::Completed => "completed",
        }
    }
}

/// A valid list request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    pub status: StatusFilter,
    pub limit: i64,
    pub cursor: Option<Cursor>,
}

/// Position after the last task of a page: newest-first order is `(created_at, id)`
/// descending, so tasks added while a client pages through sort before the cursor and never
/// shift the pages that follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: NaiveDateTime,
    pub id: TaskId,
}

impl Cursor {
    /// Opaque to clients: base64url of `<microseconds>.<id>`.
    pub fn encode(&self) -> String {
        let micros = self.created_at.and_utc().timestamp_micros();
        URL_SAFE_NO_PAD.encode(format!("{micros}.{}", self.id))
    }

    /// `None` for anything this server could not have issued: bad encoding, an id that is not
    /// a UUID, or a date outside the years tasks can have been created in. (PostgreSQL refuses
    /// timestamps before 4713 BC with an error, so an unchecked forged date was a 500 there.)
    pub fn decode(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw.as_bytes()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (micros, id) = text.split_once('.')?;
        let created_at = DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
        if !(1970..=9999).contains(&created_at.year()) {
            return None;
        }
        let id = TaskId::parse(id)?;
        Some(Self { created_at, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = Cursor {
            created_at: crate::db::now(),
            id: TaskId::generate(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        let id = TaskId::generate();
        let before_1970 = URL_SAFE_NO_PAD.encode(format!("-1.{id}"));
        let before_4713_bc = URL_SAFE_NO_PAD.encode(format!("-210866803200000001.{id}"));
        let year_10000 = URL_SAFE_NO_PAD.encode(format!("253402300800000000.{id}"));
        for garbage in [
            "",
            "abc",
            "!!!",
            &URL_SAFE_NO_PAD.encode("12.not-a-uuid"),
            &before_1970,
            &before_4713_bc,
            &year_10000,
        ] {
            assert_eq!(Cursor::decode(garbage), None, "{garbage:?}");
        }
    }
}
