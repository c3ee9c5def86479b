//! Sessions and their rotating refresh tokens.
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
use diesel::prelude::*;
use uuid::Uuid;

use super::accounts::User;
use super::tokens::RefreshToken;
use crate::config::Config;
use crate::db::schema::{refresh_tokens, sessions, users};
use crate::db::{self, AnyConnection};
use crate::errors::ApiError;

/// The lifetimes that govern sessions, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub refresh_token_ttl: Duration,
    pub reuse_grace: Duration,
    pub max_age: Duration,
}

impl SessionPolicy {
    pub fn from_config(config: &Config) -> Self {
        Self {
            refresh_token_ttl: config.refresh_token_ttl,
            reuse_grace: config.refresh_reuse_grace,
            max_age: config.session_max_age,
        }
    }
}

/// Where a login came from, kept for the user's list of sessions.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
}

/// A freshly issued refresh token and the session it belongs to.
#[derive(Debug)]
pub struct IssuedRefresh {
    pub session_id: String,
    pub token: RefreshToken,
    pub expires_at: NaiveDateTime,
}

/// What presenting a refresh token led to. Failures are values, not errors, because a detected
/// reuse must commit its revocation: an `Err` would roll the transaction back.
#[derive(Debug)]
pub enum Rotation {
    Rotated {
        user: User,
        refresh: IssuedRefresh,
    },
    /// Reused within the grace window: retry with the newest token.
    Conflict,
    /// Reused after the grace window: the session has just been revoked.
    ReuseDetected {
        user_id: String,
        session_id: String,
    },
    /// Unknown, expired, or belonging to a revoked or expired session.
    Invalid,
}

fn issue_refresh_token(
    connection: &mut AnyConnection,
    session_id: &str,
    session_expires_at: NaiveDateTime,
    policy: &SessionPolicy,
    now: NaiveDateTime,
) -> Result<IssuedRefresh, ApiError> {
    let token = RefreshToken::generate();
    // A refresh token never outlives its session.
    let expires_at = (now + db::span(policy.refresh_token_ttl)).min(session_expires_at);
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(token.hash()),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::created_at.eq(now),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(connection)?;
    Ok(IssuedRefresh {
        session_id: session_id.to_owned(),
        token,
        expires_at,
    })
}

/// Starts a session for `user_id` (a login or a registration) and issues its first refresh
/// token. Call inside a transaction.
pub fn start(
    connection: &mut AnyConnection,
    user_id: &str,
    client: &ClientInfo,
    policy: &SessionPolicy,
) -> Result<IssuedRefresh, ApiError> {
    let now = db::now();
    let session_id = Uuid::now_v7().to_string();
    let expires_at = now + db::span(policy.max_age);
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(&session_id),
            sessions::user_id.eq(user_id),
            sessions::created_at.eq(now),
            sessions::last_used_at.eq(now),
            sessions::expires_at.eq(expires_at),
            sessions::user_agent.eq(&client.user_agent),
            sessions::ip_address.eq(&client.ip_address),
        ))
        .execute(connection)?;
    issue_refresh_token(connection, &session_id, expires_at, policy, now)
}

/// A presented refresh token and the state of its session.
#[derive(Queryable, Selectable)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct PresentedToken {
    #[diesel(select_expression = refresh_tokens::session_id)]
    session_id: String,
    #[diesel(select_expression = refresh_tokens::rotated_at)]
    rotated_at: Option<NaiveDateTime>,
    #[diesel(select_expression = sessions::user_id)]
    user_id: String,
    #[diesel(select_expression = sessions::revoked_at)]
    revoked_at: Option<NaiveDateTime>,
    #[diesel(select_expression = sessions::expires_at)]
    session_expires_at: NaiveDateTime,
}

/// Uses `presented` once. Call inside a transaction; see the module comment for the rules.
pub fn rotate(
    connection: &mut AnyConnection,
    presented: &RefreshToken,
    policy: &SessionPolicy,
) -> Result<Rotation, ApiError> {
    let now = db::now();
    let hash = presented.hash();
    let live_sessions = sessions::table
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .select(sessions::id);
    let claimed = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(&hash))
            .filter(refresh_tokens::rotated_at.is_null())
            .filter(refresh_tokens::expires_at.gt(now))
            .filter(refresh_tokens::session_id.eq_any(live_sessions)),
    )
    .set(refresh_tokens::rotated_at.eq(now))
    .execute(connection)?;

    let found = refresh_tokens::table
        .inner_join(sessions::table)
        .filter(refresh_tokens::token_hash.eq(&hash))
        .select(PresentedToken::as_select())
        .first(connection)
        .optional()?;
    let Some(PresentedToken {
        session_id,
        rotated_at,
        user_id,
        revoked_at,
        session_expires_at,
    }) = found
    else {
        return Ok(Rotation::Invalid);
    };

    if claimed == 1 {
        diesel::update(sessions::table.find(&session_id))
            .set(sessions::last_used_at.eq(now))
            .execute(connection)?;
        let user = users::table
            .find(&user_id)
            .select(User::as_select())
            .first(connection)?;
        let refresh =
            issue_refresh_token(connection, &session_id, session_expires_at, policy, now)?;
        return Ok(Rotation::Rotated { user, refresh });
    }

    match rotated_at {
        // Never rotated, yet not claimable: the token or its session expired, or the session
        // was revoked.
        None => Ok(Rotation::Invalid),
        Some(_) if revoked_at.is_some() => Ok(Rotation::Invalid),
        Some(rotated_at)
            if !policy.reuse_grace.is_zero()
                && now - rotated_at <= db::span(policy.reuse_grace) =>
        {
            Ok(Rotation::Conflict)
        }
        Some(_) => {
            revoke(connection, &session_id, now)?;
            Ok(Rotation::ReuseDetected {
                user_id,
                session_id,
            })
        }
    }
}

fn revoke(
    connection: &mut AnyConnection,
    session_id: &str,
    now: NaiveDateTime,
) -> Result<usize, ApiError> {
    Ok(diesel::update(
        sessions::table
            .filter(sessions::id.eq(session_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(connection)?)
}

/// Revokes the session that `presented` belongs to, whatever state the token is in. Returns the
/// session and user ids when a live session was revoked; logging out twice is not an error.
pub fn revoke_by_token(
    connection: &mut AnyConnection,
    presented: &RefreshToken,
) -> Result<Option<(String, String)>, ApiError> {
    let now = db::now();
    let owner: Option<(String, String)> = refresh_tokens::table
        .inner_join(sessions::table)
        .filter(refresh_tokens::token_hash.eq(presented.hash()))
        .select((sessions::id, sessions::user_id))
        .first(connection)
        .optional()?;
    let Some((session_id, user_id)) = owner else {
        return Ok(None);
    };
    Ok((revoke(connection, &session_id, now)? == 1).then_some((session_id, user_id)))
}

/// Revokes every live session of `user_id`; returns how many.
pub fn revoke_all_for_user(
    connection: &mut AnyConnection,
    user_id: &str,
) -> Result<usize, ApiError> {
    Ok(diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(db::now()))
    .execute(connection)?)
}

/// Deletes refresh tokens that can no longer be used, and sessions that have ended, so the
/// tables do not grow without bound. Rotated tokens are kept until they expire: they are what
/// reuse detection recognises.
pub fn purge_expired(connection: &mut AnyConnection) -> Result<(usize, usize), ApiError> {
    let now = db::now();
    let tokens = diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.le(now)))
        .execute(connection)?;
    // A revoked session is kept until its natural end so late reuse is still recognised and
    // answered as invalid; after that nothing can refer to it.
    let sessions =
        diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(connection)?;
    Ok((tokens, sessions))
}

/// A live session as its owner sees it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct ActiveSession {
    pub id: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: NaiveDateTime,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
}

/// The user's sessions that are neither revoked nor past their absolute lifetime, most
/// recently used first.
pub fn list_active(
    connection: &mut AnyConnection,
    user_id: &str,
) -> Result<Vec<ActiveSession>, ApiError> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(db::now()))
        .order((sessions::last_used_at.desc(), sessions::id.desc()))
        .select(ActiveSession::as_select())
        .load(connection)?)
}

/// Revokes one live session of `user_id`. Someone else's session, or one already ended, is
/// not found: the answer does not tell them apart.
pub fn revoke_one(
    connection: &mut AnyConnection,
    user_id: &str,
    session_id: &str,
) -> Result<(), ApiError> {
    let revoked = diesel::update(
        sessions::table
            .filter(sessions::id.eq(session_id))
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(db::now())),
    )
    .set(sessions::revoked_at.eq(db::now()))
    .execute(connection)?;
    if revoked == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(())
}

/// Revokes every live session of `user_id` except `keep`; returns how many.
pub fn revoke_all_except(
    connection: &mut AnyConnection,
    user_id: &str,
    keep: &str,
) -> Result<usize, ApiError> {
    Ok(diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::id.ne(keep))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(db::now()))
    .execute(connection)?)
}
