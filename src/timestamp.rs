//! How stored timestamps are shown to clients: RFC 3339 in UTC with a `Z` and microseconds,
//! the same for users, sessions and tasks.

use chrono::{NaiveDateTime, SecondsFormat};

/// Formats a stored UTC timestamp as RFC 3339 with a `Z`.
pub fn rfc3339(timestamp: NaiveDateTime) -> String {
    timestamp
        .and_utc()
        .to_rfc3339_opts(SecondsFormat::Micros, true)
}
