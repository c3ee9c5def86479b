//! Back-off for failed logins to one account, whatever address they come from: the rule.
//!
//! The per-address rate limit (`rate_limit.rs`) stops one client flooding; this stops many
//! clients sharing the guessing of one password. After [`FREE_FAILURES`] consecutive failures
//! each further attempt must wait twice as long as the last (capped at [`MAX_WAIT`]), and is
//! answered 429 without checking the password. It never locks an account for good, so nobody
//! can lock a victim out, and one successful login resets it.
//!
//! The state is keyed by a hash of the typed address, account or not, so the answer does not
//! reveal whether an account exists; it lives in the database (`store.rs`), so every instance
//! sharing a PostgreSQL database applies the same back-off.

use std::time::Duration;

use chrono::NaiveDateTime;

use crate::tokens::{DeviceId, sha256_hex};

/// Failures allowed before any waiting starts.
pub const FREE_FAILURES: i32 = 5;
/// The longest wait between attempts.
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// State untouched for this long is forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The back-off key of an address as typed: trimmed and lower-cased, then hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackoffKey(String);

impl BackoffKey {
    pub fn for_email(typed: &str) -> Self {
        Self(sha256_hex(&typed.trim().to_lowercase()))
    }

    /// The back-off of one trusted device (see `tokens/device.rs`), apart from the account's.
    pub fn for_device(device: &DeviceId) -> Self {
        Self(sha256_hex(&format!("device:{}", device.as_str())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How long after the last failure the next attempt must wait.
pub fn wait_after(failures: i32) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::ZERO;
    }
    let exponent = u32::try_from(failures - FREE_FAILURES + 1)
        .unwrap_or(u32::MAX)
        .min(20);
    Duration::from_secs(1u64 << exponent).min(MAX_WAIT)
}

/// Time left at `now` before the next attempt, if it must wait.
pub fn remaining_wait(
    failures: i32,
    last_failed_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Option<Duration> {
    let elapsed = (now - last_failed_at).to_std().unwrap_or(Duration::ZERO);
    wait_after(failures)
        .checked_sub(elapsed)
        .filter(|left| !left.is_zero())
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
    fn the_remaining_wait_counts_down_from_the_last_failure() {
        let failed_at = crate::db::now();
        let later = |seconds| failed_at + chrono::Duration::seconds(seconds);
        assert_eq!(
            remaining_wait(FREE_FAILURES - 1, failed_at, failed_at),
            None
        );
        assert_eq!(
            remaining_wait(FREE_FAILURES, failed_at, later(1)),
            Some(Duration::from_secs(1))
        );
        assert_eq!(remaining_wait(FREE_FAILURES, failed_at, later(2)), None);
    }

    #[test]
    fn the_key_ignores_case_and_spaces() {
        assert_eq!(
            BackoffKey::for_email(" Ann@Example.org "),
            BackoffKey::for_email("ann@example.org")
        );
        assert_ne!(
            BackoffKey::for_email("ann@example.org"),
            BackoffKey::for_email("bob@example.org")
        );
    }
}
