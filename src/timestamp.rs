//! How stored timestamps are shown to clients: RFC 3339 in UTC with a `Z` and microseconds
//! (`2026-12-02T06:14:00.123456Z`), the same for users, sessions and tasks.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDateTime, Timelike};

/// Formats a stored UTC timestamp as RFC 3339 with a `Z`. Written out field by field: chrono's
/// general formatter interprets a format description for every value, which a profile of the
/// task list showed at several per cent of its CPU time (two timestamps per task).
pub fn rfc3339(timestamp: NaiveDateTime) -> String {
    let mut text = String::with_capacity(27);
    // Stored times are microseconds (`db::now`); a leap second's nanoseconds run past 10^9.
    let micros = (timestamp.nanosecond() / 1_000).min(999_999);
    let _ = write!(
        text,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{micros:06}Z",
        timestamp.year(),
        timestamp.month(),
        timestamp.day(),
        timestamp.hour(),
        timestamp.minute(),
        timestamp.second(),
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::SecondsFormat;

    #[test]
    fn matches_chronos_rfc3339_with_microseconds() {
        for raw in [
            "2026-12-02T06:14:00.123456",
            "1999-01-09T23:59:59",
            "2030-07-04T00:00:00.000001",
        ] {
            let timestamp: NaiveDateTime = raw.parse().unwrap();
            assert_eq!(
                rfc3339(timestamp),
                timestamp
                    .and_utc()
                    .to_rfc3339_opts(SecondsFormat::Micros, true)
            );
        }
    }
}
