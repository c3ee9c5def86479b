//! The rules of a session's life: it starts at a login, each refresh token in it is used once,
//! and it ends by logout, by revocation, by reuse detection or at its absolute lifetime.
//!
//! A session is one login. Each refresh token belongs to one session and is rotated once:
//! using it marks it rotated and issues its successor, which is derived from it
//! ([`RefreshToken::successor`]), so there is only ever one successor and the server can
//! name it again without having stored it.
//!
//! Presenting a token that was already rotated is one of two things:
//! - a retry: the client never received the answer (a dropped mobile connection, a browser
//!   tab whose response was lost) or two tabs refreshed at once. Within
//!   `REFRESH_REUSE_GRACE_SECONDS` of the rotation, while the successor is still unused and
//!   the session live, it gets the same successor again with a fresh access token, so no
//!   honest client is logged out by a lost response (FAPI 2.0 §5.3.2.1 allows rotation only
//!   on these terms).
//! - theft: after the window, or once the successor has been used (the one who received it
//!   is moving on, so whoever presents its parent holds a copy), we cannot tell the thief from
//!   the victim, and the whole session is revoked (OAuth 2.0 Security BCP, RFC 9700 §4.14.2).
//!   A thief who refreshes first and a victim who retries end up holding one chain, not two
//!   branches, and the next reuse outside the window ends it.
//!
//! Rotation writes before it reads: the conditional `UPDATE ... WHERE rotated_at IS NULL` is the
//! first statement of the transaction, so exactly one of two concurrent refreshes changes the
//! row on both backends, PostgreSQL with no `FOR UPDATE` and SQLite with no read-to-write lock
//! upgrade (the busy timeout queues the second writer). The others wait for it to commit, then
//! find the token rotated and its successor there: they are retries.

use std::time::Duration;

use chrono::NaiveDateTime;

use super::store::{self, ClientInfo, SessionHolder, SessionOwner};
use crate::config::SessionSettings;
use crate::db::{self, AnyConnection, DbResult};
use crate::ids::{SessionId, UserId};
use crate::tokens::{RefreshToken, SuccessorKey};

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
    /// The token's successor, issued now or (for a retry) issued moments ago and handed out
    /// again.
    Rotated {
        holder: SessionHolder,
        refresh: IssuedRefresh,
        retried: bool,
    },
    /// Reused as theft: the session has just been revoked.
    ReuseDetected(SessionOwner),
    /// Unknown, expired, or belonging to a revoked or expired session.
    Invalid,
}

/// What a token that could not be claimed means. Pure: the rule itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unclaimable {
    /// Never rotated (so it or its session expired, or the session was revoked), or rotated
    /// in a session that has ended: nothing more to do.
    Dead,
    /// Rotated moments ago: a retry, if its successor is still unused.
    JustRotated,
    /// Rotated earlier: two parties hold it.
    Reused,
}

pub fn judge_unclaimable(
    rotated_at: Option<NaiveDateTime>,
    session_live: bool,
    now: NaiveDateTime,
    reuse_grace: Duration,
) -> Unclaimable {
    match rotated_at {
        None => Unclaimable::Dead,
        Some(_) if !session_live => Unclaimable::Dead,
        Some(rotated_at) if !reuse_grace.is_zero() && now - rotated_at <= db::span(reuse_grace) => {
            Unclaimable::JustRotated
        }
        Some(_) => Unclaimable::Reused,
    }
}

/// What a retry within the window gets, given the state of the successor. Pure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// The successor is unused and unexpired: hand it out again.
    SameSuccessor,
    /// Someone has already rotated the successor: whoever retries its parent holds a copy.
    SuccessorUsed,
    /// The successor is gone or expired: nothing to hand out.
    Dead,
}

pub fn judge_retry(successor: Option<&store::SuccessorState>, now: NaiveDateTime) -> Retry {
    match successor {
        None => Retry::Dead,
        Some(successor) if successor.rotated_at.is_some() => Retry::SuccessorUsed,
        Some(successor) if successor.expires_at <= now => Retry::Dead,
        Some(_) => Retry::SameSuccessor,
    }
}

fn issue_refresh_token(
    connection: &mut AnyConnection,
    token: RefreshToken,
    session_id: &SessionId,
    session_expires_at: NaiveDateTime,
    settings: &SessionSettings,
    now: NaiveDateTime,
) -> DbResult<IssuedRefresh> {
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
    issue_refresh_token(
        connection,
        RefreshToken::generate(),
        &session_id,
        expires_at,
        settings,
        now,
    )
}

/// Uses `presented` once, or answers its retry. Call inside a transaction; see the module
/// comment for the rules.
pub fn rotate(
    connection: &mut AnyConnection,
    presented: &RefreshToken,
    successor_key: &SuccessorKey,
    settings: &SessionSettings,
) -> DbResult<Rotation> {
    let now = db::now();
    let hash = presented.hash();
    let claimed = store::claim_refresh_token(connection, &hash, now)?;
    let Some(found) = store::find_presented(connection, &hash)? else {
        return Ok(Rotation::Invalid);
    };
    let successor = presented.successor(successor_key);

    if claimed {
        store::touch_session(connection, &found.session_id, now)?;
        // The session cascades away with its user, so the holder is always there.
        let Some(holder) = store::find_holder(connection, &found.user_id)? else {
            return Ok(Rotation::Invalid);
        };
        let refresh = issue_refresh_token(
            connection,
            successor,
            &found.session_id,
            found.session_expires_at,
            settings,
            now,
        )?;
        return Ok(Rotation::Rotated {
            holder,
            refresh,
            retried: false,
        });
    }

    let session_live = found.revoked_at.is_none() && found.session_expires_at > now;
    match judge_unclaimable(found.rotated_at, session_live, now, settings.reuse_grace) {
        Unclaimable::Dead => return Ok(Rotation::Invalid),
        Unclaimable::Reused => {}
        Unclaimable::JustRotated => {
            let state = store::find_successor(connection, &successor.hash())?;
            match (judge_retry(state.as_ref(), now), state) {
                (Retry::SameSuccessor, Some(state)) => {
                    let Some(holder) = store::find_holder(connection, &found.user_id)? else {
                        return Ok(Rotation::Invalid);
                    };
                    return Ok(Rotation::Rotated {
                        holder,
                        refresh: IssuedRefresh {
                            session_id: found.session_id,
                            token: successor,
                            // Its lifetime is what is left of it.
                            issued_at: now,
                            expires_at: state.expires_at,
                        },
                        retried: true,
                    });
                }
                (Retry::SuccessorUsed, _) => {}
                (Retry::Dead | Retry::SameSuccessor, _) => return Ok(Rotation::Invalid),
            }
        }
    }
    // Theft: revoke the session, and with it every token of the chain.
    store::revoke(connection, &found.session_id, now)?;
    Ok(Rotation::ReuseDetected(SessionOwner {
        session_id: found.session_id,
        user_id: found.user_id,
    }))
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
            judge_unclaimable(None, true, at(0), GRACE),
            Unclaimable::Dead
        );
    }

    #[test]
    fn reuse_in_an_ended_session_changes_nothing() {
        assert_eq!(
            judge_unclaimable(Some(at(0)), false, at(100), GRACE),
            Unclaimable::Dead
        );
        assert_eq!(
            judge_unclaimable(Some(at(0)), false, at(1), GRACE),
            Unclaimable::Dead
        );
    }

    #[test]
    fn reuse_within_the_grace_window_is_a_retry_and_after_it_theft() {
        assert_eq!(
            judge_unclaimable(Some(at(0)), true, at(10), GRACE),
            Unclaimable::JustRotated
        );
        assert_eq!(
            judge_unclaimable(Some(at(0)), true, at(11), GRACE),
            Unclaimable::Reused
        );
        assert_eq!(
            judge_unclaimable(Some(at(0)), true, at(0), Duration::ZERO),
            Unclaimable::Reused
        );
    }

    fn successor(rotated_at: Option<i64>, expires_at: i64) -> store::SuccessorState {
        store::SuccessorState {
            rotated_at: rotated_at.map(at),
            expires_at: at(expires_at),
        }
    }

    #[test]
    fn a_retry_gets_the_successor_only_while_nobody_has_used_it() {
        assert_eq!(
            judge_retry(Some(&successor(None, 600)), at(5)),
            Retry::SameSuccessor
        );
        assert_eq!(
            judge_retry(Some(&successor(Some(3), 600)), at(5)),
            Retry::SuccessorUsed
        );
        assert_eq!(judge_retry(Some(&successor(None, 5)), at(5)), Retry::Dead);
        assert_eq!(judge_retry(None, at(5)), Retry::Dead);
    }
}
