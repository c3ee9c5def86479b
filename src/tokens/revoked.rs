//! Sessions revoked recently: what lets the guard refuse an access token within a second of
//! its session ending (logout, logout-all, a password change, a revoked session, a detected
//! reuse), still without a database read per request.
//!
//! An access token names its session (`sid`) and is otherwise checked from its signature
//! alone. This set holds every session revoked within the last access-token lifetime (plus
//! the clock leeway), the only ones whose tokens can still be unexpired, so its size is bounded
//! by how many sessions end in 15 minutes, not by how many exist. `sessions/revocations.rs`
//! fills it from the database several times a second on every instance, and right after a
//! revocation on the instance that made it.
//!
//! If the set has not been brought up to date for [`MAX_STALENESS`] (the database is
//! unreachable), the guard cannot know whether a session ended, and says so with a 503 rather
//! than serve a revoked session.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use crate::ids::SessionId;

/// How long the set may go without an update before the guard stops trusting it.
pub const MAX_STALENESS: Duration = Duration::from_secs(5);

/// What the guard learns about a token's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// Not revoked, as of an update at most [`MAX_STALENESS`] ago.
    Live,
    Revoked,
    /// No recent update: the database has not been reachable.
    Unknown,
}

pub struct RevokedSessions {
    /// Each revoked session with its revocation time, to know when it can be forgotten.
    revoked: RwLock<HashMap<SessionId, NaiveDateTime>>,
    /// Milliseconds after `started` of the last update; 0 before the first.
    updated_at_ms: AtomicU64,
    started: Instant,
}

impl Default for RevokedSessions {
    fn default() -> Self {
        Self {
            revoked: RwLock::new(HashMap::new()),
            updated_at_ms: AtomicU64::new(0),
            started: Instant::now(),
        }
    }
}

impl RevokedSessions {
    pub fn status(&self, session: &SessionId) -> SessionStatus {
        let updated_at_ms = self.updated_at_ms.load(Ordering::Acquire);
        if updated_at_ms == 0
            || self.elapsed_ms().saturating_sub(updated_at_ms) > MAX_STALENESS.as_millis() as u64
        {
            return SessionStatus::Unknown;
        }
        let revoked = self.revoked.read().unwrap_or_else(PoisonError::into_inner);
        if revoked.contains_key(session) {
            SessionStatus::Revoked
        } else {
            SessionStatus::Live
        }
    }

    /// Adds sessions revoked since the last update, forgets those revoked before
    /// `forget_before`, and marks the set up to date as of `as_of` (when the query that found
    /// them started).
    pub fn update(
        &self,
        newly_revoked: impl IntoIterator<Item = (SessionId, NaiveDateTime)>,
        forget_before: NaiveDateTime,
        as_of: Instant,
    ) {
        {
            let mut revoked = self.revoked.write().unwrap_or_else(PoisonError::into_inner);
            revoked.extend(newly_revoked);
            revoked.retain(|_, revoked_at| *revoked_at >= forget_before);
        }
        // At least 1, so an update in the first millisecond still counts as one.
        let as_of_ms = (as_of.saturating_duration_since(self.started).as_millis() as u64).max(1);
        self.updated_at_ms.fetch_max(as_of_ms, Ordering::AcqRel);
    }

    /// How many sessions the set holds.
    pub fn len(&self) -> usize {
        self.revoked
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(n: u8) -> SessionId {
        SessionId::parse(&format!("0190f1a2-0000-7000-8000-0000000000{n:02x}")).unwrap()
    }

    fn at(seconds: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_700_000_000 + seconds, 0)
            .unwrap()
            .naive_utc()
    }

    #[test]
    fn nothing_is_known_before_the_first_update() {
        let set = RevokedSessions::default();
        assert_eq!(set.status(&session(1)), SessionStatus::Unknown);
        set.update([], at(0), Instant::now());
        assert_eq!(set.status(&session(1)), SessionStatus::Live);
    }

    #[test]
    fn revoked_sessions_are_refused_until_their_tokens_have_expired() {
        let set = RevokedSessions::default();
        set.update(
            [(session(1), at(10)), (session(2), at(20))],
            at(0),
            Instant::now(),
        );
        assert_eq!(set.status(&session(1)), SessionStatus::Revoked);
        assert_eq!(set.status(&session(3)), SessionStatus::Live);
        set.update([], at(15), Instant::now());
        assert_eq!(set.status(&session(1)), SessionStatus::Live);
        assert_eq!(set.status(&session(2)), SessionStatus::Revoked);
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn a_stale_set_is_not_trusted() {
        let set = RevokedSessions::default();
        let long_ago = Instant::now();
        set.update([], at(0), long_ago);
        // As if the process started long enough ago that its one update is stale now.
        let stale = RevokedSessions {
            started: Instant::now() - MAX_STALENESS * 3,
            ..RevokedSessions::default()
        };
        stale.update([], at(0), stale.started + Duration::from_millis(10));
        assert_eq!(stale.status(&session(1)), SessionStatus::Unknown);
        assert_eq!(set.status(&session(1)), SessionStatus::Live);
    }
}
