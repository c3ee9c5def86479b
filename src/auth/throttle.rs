//! Back-off for failed logins to one account, whatever address they come from.
//!
//! The per-address rate limit ([`super::rate_limit`]) stops one client flooding; this stops many
//! clients sharing the guessing of one password. After [`FREE_FAILURES`] consecutive failures
//! each further attempt must wait twice as long as the last (capped at [`MAX_WAIT`]), and is
//! answered 429 without checking the password. It never locks an account for good, so nobody
//! can lock a victim out, and one successful login resets it.
//!
//! The state is keyed by a hash of the typed address, account or not, so the answer does not
//! reveal whether an account exists; it lives in the database, so every instance sharing a
//! PostgreSQL database applies the same back-off.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::tokens::sha256_hex;
use crate::db::schema::login_throttles;
use crate::db::{self, AnyConnection};
use crate::errors::ApiError;

/// Failures allowed before any waiting starts.
pub const FREE_FAILURES: i32 = 5;
/// The longest wait between attempts.
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// Rows untouched for this long are deleted.
const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The key for an address as typed: trimmed and lower-cased, then hashed.
pub fn key_for(email: &str) -> String {
    sha256_hex(&email.trim().to_lowercase())
}

/// How long after the last failure the next attempt must wait. Pure: the rule itself.
pub fn wait_after(failures: i32) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::ZERO;
    }
    let exponent = u32::try_from(failures - FREE_FAILURES + 1)
        .unwrap_or(u32::MAX)
        .min(20);
    Duration::from_secs(1u64 << exponent).min(MAX_WAIT)
}

/// Time left before `key` may try again, if it must wait.
pub fn remaining_wait(
    connection: &mut AnyConnection,
    key: &str,
    now: NaiveDateTime,
) -> Result<Option<Duration>, ApiError> {
    let row: Option<(i32, NaiveDateTime)> = login_throttles::table
        .find(key)
        .select((login_throttles::failures, login_throttles::last_failed_at))
        .first(connection)
        .optional()?;
    let Some((failures, last_failed_at)) = row else {
        return Ok(None);
    };
    let elapsed = (now - last_failed_at).to_std().unwrap_or(Duration::ZERO);
    Ok(wait_after(failures)
        .checked_sub(elapsed)
        .filter(|left| !left.is_zero()))
}

/// Counts one more failure for `key`.
pub fn record_failure(connection: &mut AnyConnection, key: &str) -> Result<(), ApiError> {
    let now = db::now();
    let increment = || {
        diesel::update(login_throttles::table.find(key)).set((
            login_throttles::failures.eq(login_throttles::failures + 1),
            login_throttles::last_failed_at.eq(now),
        ))
    };
    if increment().execute(connection)? == 1 {
        return Ok(());
    }
    let inserted = diesel::insert_into(login_throttles::table)
        .values((
            login_throttles::email_hash.eq(key),
            login_throttles::failures.eq(1),
            login_throttles::last_failed_at.eq(now),
        ))
        .execute(connection);
    match inserted {
        Ok(_) => Ok(()),
        // A concurrent failure inserted the row first: count ours on top of it.
        Err(error) if db::is_unique_violation(&error) => {
            increment().execute(connection)?;
            Ok(())
        }
        Err(error) => Err(error.into()),
    }
}

/// A successful login forgets the failures.
pub fn reset(connection: &mut AnyConnection, key: &str) -> Result<(), ApiError> {
    diesel::delete(login_throttles::table.find(key)).execute(connection)?;
    Ok(())
}

/// Deletes back-off state nobody has touched for a day.
pub fn purge_stale(connection: &mut AnyConnection) -> Result<usize, ApiError> {
    let cutoff = db::now() - db::span(FORGET_AFTER);
    Ok(
        diesel::delete(login_throttles::table.filter(login_throttles::last_failed_at.lt(cutoff)))
            .execute(connection)?,
    )
}

/// The 429 for an attempt made too early.
pub fn too_many_attempts(wait: Duration) -> ApiError {
    ApiError::TooManyRequests {
        retry_after_seconds: wait.as_secs().max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failures_cost_nothing() {
        for failures in 0..FREE_FAILURES {
            assert_eq!(wait_after(failures), Duration::ZERO);
        }
    }

    #[test]
    fn the_wait_doubles_and_is_capped() {
        assert_eq!(wait_after(FREE_FAILURES), Duration::from_secs(2));
        assert_eq!(wait_after(FREE_FAILURES + 1), Duration::from_secs(4));
        assert_eq!(wait_after(FREE_FAILURES + 5), Duration::from_secs(64));
        assert_eq!(wait_after(FREE_FAILURES + 30), MAX_WAIT);
        assert_eq!(wait_after(i32::MAX), MAX_WAIT);
    }

    #[test]
    fn the_key_ignores_case_and_spaces() {
        assert_eq!(key_for(" Ann@Example.org "), key_for("ann@example.org"));
        assert_ne!(key_for("ann@example.org"), key_for("bob@example.org"));
    }
}
