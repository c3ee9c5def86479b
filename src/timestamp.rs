//! How stored timestamps are shown to clients: RFC 3339 in UTC with a `Z` and microseconds
//! (`2026-12-02T06:14:00.123456Z`), the same for users, sessions and tasks.

use chrono::{Datelike, NaiveDateTime, Timelike};

/// Formats a stored UTC timestamp as RFC 3339 with a `Z`.
pub fn rfc3339(timestamp: NaiveDateTime) -> String {
    Rfc3339(timestamp).to_string()
}

/// A stored UTC timestamp that serializes (and displays) as RFC 3339 with a `Z`, written
/// straight into the response with no `String` of its own: a page of tasks has two per task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfc3339(pub NaiveDateTime);

impl Rfc3339 {
    /// Written digit by digit into a fixed buffer: chrono's formatter interprets a format
    /// description for every value, and even `write!` with padded integers was 6% of the task
    /// list's CPU time in a profile (two timestamps per task). ASCII only, which JSON never
    /// escapes.
    pub fn text(self) -> [u8; 27] {
        let timestamp = self.0;
        // Stored times are microseconds (`db::now`); a leap second's nanoseconds run past 10^9.
        let micros = (timestamp.nanosecond() / 1_000).min(999_999);
        // Years outside 0..=9999 cannot be stored by either backend (cursors and inputs refuse
        // them); clamped so the digits below always fit.
        let year = timestamp.year().clamp(0, 9999) as u32;
        let mut text = *b"0000-00-00T00:00:00.000000Z";
        put_digits(&mut text[0..4], year);
        put_digits(&mut text[5..7], timestamp.month());
        put_digits(&mut text[8..10], timestamp.day());
        put_digits(&mut text[11..13], timestamp.hour());
        put_digits(&mut text[14..16], timestamp.minute());
        put_digits(&mut text[17..19], timestamp.second());
        put_digits(&mut text[20..26], micros);
        text
    }

    /// Hands the text to `use_text` without allocating.
    fn with_text<R>(self, use_text: impl FnOnce(&str) -> R) -> R {
        let text = self.text();
        // Only ASCII digits and separators were written, so the fallback is never taken.
        use_text(std::str::from_utf8(&text).unwrap_or_default())
    }
}

impl std::fmt::Display for Rfc3339 {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.with_text(|text| formatter.write_str(text))
    }
}

impl serde::Serialize for Rfc3339 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.with_text(|text| serializer.serialize_str(text))
    }
}

/// Writes `value` as decimal digits filling `into` (an even number of them), zero-padded on
/// the left, two digits at a time: half the divisions of one at a time.
fn put_digits(into: &mut [u8], mut value: u32) {
    for pair in into.rchunks_exact_mut(2) {
        let at = (value % 100) as usize * 2;
        pair.copy_from_slice(&DIGIT_PAIRS[at..at + 2]);
        value /= 100;
    }
}

/// `00`, `01`, … `99`, back to back.
const DIGIT_PAIRS: [u8; 200] = {
    let mut pairs = [0; 200];
    let mut value = 0;
    while value < 100 {
        pairs[value * 2] = b'0' + (value / 10) as u8;
        pairs[value * 2 + 1] = b'0' + (value % 10) as u8;
        value += 1;
    }
    pairs
};

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
            "0999-10-31T09:05:07.900000",
            "9876-05-14T13:47:58.987654",
            "0001-01-01T00:00:00.000010",
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
