//! The rules of a session's life: it starts at a login, each refresh token in it is used once,
//! and it ends by logout, by revocation, by reuse detection or at its absolute lifetime.
//!
//! A session is one login. Each refresh token belongs to one session and can be used once:
//! using it marks it rotated and issues its successor. Presenting a token that was already
//! rotated means two parties hold it, and we cannot tell the thief from the victim, so the
//! whole session is revoked (OAuth 2.0 Security BCP, RFC 9700 §4.14.2). The one exception is a
//! reuse within `REFRESH_REUSE_GRACE_SECONDS` of the rotation: two tabs refreshing at once, or
//! a retried request. That gets a 409 and revokes nothing; it never mints tokens either, so a
//! revoked session stays revoked.
//!
//! Rotation writes before it reads: the conditional `UPDATE ... WHERE rotated_at IS NULL` is the
//! first statement of the transaction, so exactly one of two concurrent refreshes changes the
//! row on both backends, PostgreSQL with no `FOR UPDATE` and SQLite with no read-to-write lock
//! upgrade (the busy timeout queues the second writer).

use std::time::Duration;

use chrono::NaiveDateTime;

use super::store::{self, ClientInfo, SessionHolder, SessionOwner};
use crate::config::SessionSettings;
use crate::db::{self, AnyConnection, DbResult};
use crate::ids::{SessionId, UserId};
use crate::tokens::RefreshToken;

/// A freshly issued refresh token and the session it belongs to.
#[derive(Debug)]
pub struct IssuedRefresh {
    pub session_id: SessionId,
    pub token: RefreshToken,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

impl IssuedRefresh {
    /// The token's lifetime in whole seconds, counted from its issue: exactly the configured
    /// lifetime unless the session ends sooner. (Counted from the moment the response was
    /// written it read 604799 for a 7-day token.)
    pub fn lifetime_seconds(&self) -> u64 {
        db::seconds_until(self.expires_at, self.issued_at)
    }
}

/// What presenting a refresh token led to. Failures are values, not errors, because a detected
/// reuse must commit its revocation: an `Err` would roll the transaction back.
#[derive(Debug)]
pub enum Rotation {
    Rotated {
        holder: SessionHolder,
        refresh: IssuedRefresh,
    },
    /// Reused within the grace window: retry with the newest token.
    Conflict,
    /// Reused after the grace window: the session has just been revoked.
    ReuseDetected(SessionOwner),
    /// Unknown, expired, or belonging to a revoked or expired session.
    Invalid,
}

/// What a token that could not be claimed means. Pure: the rule itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unclaimable {
    /// Never rotated (so it or its session expired, or the session was revoked), or rotated
    /// in a session that is revoked already: nothing more to do.
    Dead,
    /// Rotated moments ago: a concurrent or retried refresh by the same client.
    JustRotated,
    /// Rotated earlier: two parties hold it.
    Reused,
}

pub fn judge_unclaimable(
    rotated_at: Option<NaiveDateTime>,
    session_revoked: bool,
    now: NaiveDateTime,
    reuse_grace: Duration,
) -> Unclaimable {
    match rotated_at {
        None => Unclaimable::Dead,
        Some(_) if session_revoked => Unclaimable::Dead,
        Some(rotated_at) if !reuse_grace.is_zero() && now - rotated_at <= db::span(reuse_grace) => {
            Unclaimable::JustRotated
        }
        Some(_) => Unclaimable::Reused,
    }
}

fn issue_refresh_token(
    connection: &mut AnyConnection,
    session_id: &SessionId,
    session_expires_at: NaiveDateTime,
    settings: &SessionSettings,
    now: NaiveDateTime,
) -> DbResult<IssuedRefresh> {
    let token = RefreshToken::generate();
    // A refresh token never outlives its session.
    let expires_at = (now + db::span(settings.refresh_token_ttl)).min(session_expires_at);
    store::insert_refresh_token(connection, &token.hash(), session_id, now, expires_at)?;
    Ok(IssuedRefresh {
        session_id: session_id.clone(),
        token,
        issued_at: now,
        expires_at,
    })
}

/// Starts a session for `user_id` (a login or a registration) and issues its first refresh
/// token; beyond the user's session limit the least recently used sessions are revoked. Call
/// inside a transaction.
pub fn start(
    connection: &mut AnyConnection,
    user_id: &UserId,
    client: &ClientInfo,
    settings: &SessionSettings,
) -> DbResult<IssuedRefresh> {
    let now = db::now();
    let session_id = SessionId::generate();
    let expires_at = now + db::span(settings.max_age);
    store::insert_session(connection, &session_id, user_id, client, now, expires_at)?;
    // A user has at most `max_per_user` live sessions: the least recently used give way, so
    // scripted logins cannot grow the table (or the session list) without bound.
    store::revoke_beyond(connection, user_id, settings.max_per_user, now)?;
    issue_refresh_token(connection, &session_id, expires_at, settings, now)
}

/// Uses `presented` once. Call inside a transaction; see the module comment for the rules.
pub fn rotate(
    connection: &mut AnyConnection,
    presented: &RefreshToken,
    settings: &SessionSettings,
) -> DbResult<Rotation> {
    let now = db::now();
    let hash = presented.hash();
    let claimed = store::claim_refresh_token(connection, &hash, now)?;
    let Some(found) = store::find_presented(connection, &hash)? else {
        return Ok(Rotation::Invalid);
    };

    if claimed {
        store::touch_session(connection, &found.session_id, now)?;
        // The session cascades away with its user, so the holder is always there.
        let Some(holder) = store::find_holder(connection, &found.user_id)? else {
            return Ok(Rotation::Invalid);
        };
        let refresh = issue_refresh_token(
            connection,
            &found.session_id,
            found.session_expires_at,
            settings,
            now,
        )?;
        return Ok(Rotation::Rotated { holder, refresh });
    }

    let verdict = judge_unclaimable(
        found.rotated_at,
        found.revoked_at.is_some(),
        now,
        settings.reuse_grace,
    );
    match verdict {
        Unclaimable::Dead => Ok(Rotation::Invalid),
        Unclaimable::JustRotated => Ok(Rotation::Conflict),
        Unclaimable::Reused => {
            store::revoke(connection, &found.session_id, now)?;
            Ok(Rotation::ReuseDetected(SessionOwner {
                session_id: found.session_id,
                user_id: found.user_id,
            }))
        }
    }
}

/// Ends the session that `presented` belongs to, whatever state the token is in. Returns the
/// session when a live one was revoked; logging out twice is not an error.
pub fn end_by_token(
    connection: &mut AnyConnection,
    presented: &RefreshToken,
) -> DbResult<Option<SessionOwner>> {
    let Some(owner) = store::owner_of_token(connection, &presented.hash())? else {
        return Ok(None);
    };
    Ok(store::revoke(connection, &owner.session_id, db::now())?.then_some(owner))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(10);

    fn at(seconds: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_700_000_000 + seconds, 0)
            .unwrap()
            .naive_utc()
    }

    #[test]
    fn a_token_never_rotated_is_dead_not_reused() {
        assert_eq!(
            judge_unclaimable(None, false, at(0), GRACE),
            Unclaimable::Dead
        );
    }

    #[test]
    fn reuse_in_a_revoked_session_changes_nothing() {
        assert_eq!(
            judge_unclaimable(Some(at(0)), true, at(100), GRACE),
            Unclaimable::Dead
        );
    }

    #[test]
    fn reuse_within_the_grace_window_is_a_retry_and_after_it_theft() {
        assert_eq!(
            judge_unclaimable(Some(at(0)), false, at(10), GRACE),
            Unclaimable::JustRotated
        );
        assert_eq!(
            judge_unclaimable(Some(at(0)), false, at(11), GRACE),
            Unclaimable::Reused
        );
        assert_eq!(
            judge_unclaimable(Some(at(0)), false, at(0), Duration::ZERO),
            Unclaimable::Reused
        );
    }
}
