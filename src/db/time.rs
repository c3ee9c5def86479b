//! Time as the database keeps it: UTC `TIMESTAMP`s without a zone, in microseconds.

use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, SubsecRound, Utc};
use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::Timestamp;
use diesel::sqlite::{Sqlite, SqliteValue};

use super::pool::{AnyBackend, MultiRawValue};

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

/// A stored timestamp, read without chrono's general parser on SQLite.
///
/// SQLite keeps timestamps as text (`2026-12-02 06:14:00.123456`), and Diesel parses each one
/// by trying format descriptions in turn; in a profile of the task list (two timestamps a
/// task) that was several per cent of the CPU time. The layout Diesel writes is read here
/// digit by digit; anything else still goes through Diesel. PostgreSQL sends a binary count
/// of microseconds and is read as Diesel reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub struct StoredTime(pub NaiveDateTime);

impl From<StoredTime> for NaiveDateTime {
    fn from(stored: StoredTime) -> Self {
        stored.0
    }
}

impl FromSql<Timestamp, AnyBackend> for StoredTime {
    fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
        match value {
            MultiRawValue::Sqlite(sqlite) => FromSql::<Timestamp, Sqlite>::from_sql(sqlite),
            MultiRawValue::Postgresql(pg) => FromSql::<Timestamp, Pg>::from_sql(pg),
        }
    }
}

/// For queries run on the backend's own connection (see [`super::on_backend`]).
impl FromSql<Timestamp, Sqlite> for StoredTime {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        if let Some(parsed) = parse_sqlite_timestamp(value.read_text()) {
            return Ok(Self(parsed));
        }
        let fallback: NaiveDateTime = FromSql::<Timestamp, Sqlite>::from_sql(value)?;
        Ok(Self(fallback))
    }
}

impl FromSql<Timestamp, Pg> for StoredTime {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(Self(FromSql::<Timestamp, Pg>::from_sql(value)?))
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional `.` and 1 to 9 fraction digits; `None` otherwise.
fn parse_sqlite_timestamp(text: &str) -> Option<NaiveDateTime> {
    let bytes = text.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        bytes.get(range)?.iter().try_fold(0u32, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
        })
    };
    if bytes.len() < 19
        || bytes[4] != b'-'
        || bytes[7] != b'-'
        || bytes[10] != b' '
        || bytes[13] != b':'
        || bytes[16] != b':'
    {
        return None;
    }
    let nanos = match bytes.get(19) {
        None => 0,
        Some(b'.') if (21..=29).contains(&bytes.len()) => {
            let digits = bytes.len() - 20;
            number(20..bytes.len())? * 10u32.pow(9 - digits as u32)
        }
        Some(_) => return None,
    };
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(number(0..4)?).ok()?,
        number(5..7)?,
        number(8..10)?,
    )?;
    let time =
        NaiveTime::from_hms_nano_opt(number(11..13)?, number(14..16)?, number(17..19)?, nanos)?;
    Some(NaiveDateTime::new(date, time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_timestamps_parse_as_chrono_would() {
        for text in [
            "2026-12-02 06:14:00.123456",
            "2026-12-02 06:14:00",
            "1999-01-09 23:59:59.5",
            "2030-07-04 00:00:00.000000001",
        ] {
            let expected = NaiveDateTime::parse_from_str(text, "%F %T%.f").unwrap();
            assert_eq!(parse_sqlite_timestamp(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn other_layouts_are_left_to_diesel() {
        for text in [
            "2026-12-02T06:14:00",
            "2026-12-02",
            "2026-13-02 06:14:00",
            "2026-12-02 06:14:00.",
            "2026-12-02 06:14:00.1234567890",
            "2026-12-02 06:14:00,123456",
            "2026-12-02 06:14:0x.123456",
            "2026-12-02 06:14:00.12345x",
            "+026-12-02 06:14:00",
            "garbage",
        ] {
            assert_eq!(parse_sqlite_timestamp(text), None, "{text}");
        }
    }
}
