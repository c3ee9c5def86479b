//! Sessions and refresh tokens in the database: SQL only. Every function answers in domain
//! terms (`bool` for "did it change a row", `Option` for "is there one"); what that means for
//! the client is decided in `routes.rs`, what it means for the session in `lifecycle.rs`.
//!
//! The statements of a refresh run on the backend's own connection ([`db::on_backend`]), so
//! each is prepared once per connection rather than rendered to SQL on every refresh.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{refresh_tokens, sessions, users};
use crate::db::{self, AnyConnection, DbResult, StoredTime};
use crate::ids::{SessionId, UserId};

/// Where a login came from, kept for the user's list of sessions.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
}

/// The user a session belongs to, as a token response names them.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct SessionHolder {
    #[diesel(deserialize_as = String)]
    pub id: UserId,
    pub email: String,
    pub name: Option<String>,
    #[diesel(deserialize_as = StoredTime)]
    pub created_at: NaiveDateTime,
    pub email_verified_at: Option<NaiveDateTime>,
}

/// A presented refresh token and the state of its session.
#[derive(Debug, Queryable, Selectable)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub struct PresentedToken {
    #[diesel(select_expression = refresh_tokens::session_id, deserialize_as = String)]
    pub session_id: SessionId,
    #[diesel(select_expression = refresh_tokens::rotated_at)]
    pub rotated_at: Option<NaiveDateTime>,
    #[diesel(select_expression = sessions::user_id, deserialize_as = String)]
    pub user_id: UserId,
    #[diesel(select_expression = sessions::revoked_at)]
    pub revoked_at: Option<NaiveDateTime>,
    #[diesel(select_expression = sessions::expires_at)]
    pub session_expires_at: NaiveDateTime,
}

/// What a retried refresh needs to know of the successor it would hand out again.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct SuccessorState {
    pub rotated_at: Option<NaiveDateTime>,
    pub expires_at: NaiveDateTime,
}

/// A live session as its owner sees it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct ActiveSession {
    #[diesel(deserialize_as = String)]
    pub id: SessionId,
    #[diesel(deserialize_as = StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTime)]
    pub last_used_at: NaiveDateTime,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
}

/// A session and the user it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct SessionOwner {
    #[diesel(deserialize_as = String)]
    pub session_id: SessionId,
    #[diesel(deserialize_as = String)]
    pub user_id: UserId,
}

/// `None` binds NULL, so the statement is prepared once (see `tasks::store::NewTask`).
#[derive(Insertable)]
#[diesel(table_name = sessions, treat_none_as_default_value = false)]
struct NewSession<'a> {
    id: &'a str,
    user_id: &'a str,
    created_at: NaiveDateTime,
    last_used_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    user_agent: Option<&'a str>,
    ip_address: Option<&'a str>,
}

pub fn insert_session(
    connection: &mut AnyConnection,
    session_id: &SessionId,
    user_id: &UserId,
    client: &ClientInfo,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> DbResult<()> {
    diesel::insert_into(sessions::table)
        .values(NewSession {
            id: session_id.as_str(),
            user_id: user_id.as_str(),
            created_at: now,
            last_used_at: now,
            expires_at,
            user_agent: client.user_agent.as_deref(),
            ip_address: client.ip_address.as_deref(),
        })
        .execute(connection)?;
    Ok(())
}

pub fn insert_refresh_token(
    connection: &mut AnyConnection,
    token_hash: &str,
    session_id: &SessionId,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> DbResult<()> {
    db::on_backend!(connection, |connection| {
        diesel::insert_into(refresh_tokens::table)
            .values((
                refresh_tokens::token_hash.eq(token_hash),
                refresh_tokens::session_id.eq(session_id.as_str()),
                refresh_tokens::created_at.eq(now),
                refresh_tokens::expires_at.eq(expires_at),
            ))
            .execute(connection)
    })?;
    Ok(())
}

/// Marks the token rotated if it is unused, unexpired and its session live, in one conditional
/// statement; `true` when this call did it (of concurrent callers, exactly one).
pub fn claim_refresh_token(
    connection: &mut AnyConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> DbResult<bool> {
    // The token's own session, if it is live, named through the token's `session_id` so it is
    // a primary-key lookup. (Written as `session_id IN (live sessions ...)`, SQLite's planner
    // chose the `expires_at` index and listed every live session on every refresh.)
    let own_session_live = diesel::dsl::exists(
        sessions::table
            .filter(sessions::id.eq(refresh_tokens::session_id))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(now)),
    );
    let claimed = db::on_backend!(connection, |connection| {
        db::prepared(
            diesel::update(
                refresh_tokens::table
                    .filter(refresh_tokens::token_hash.eq(token_hash))
                    .filter(refresh_tokens::rotated_at.is_null())
                    .filter(refresh_tokens::expires_at.gt(now))
                    .filter(own_session_live),
            )
            .set(refresh_tokens::rotated_at.eq(now))
            .returning(refresh_tokens::token_hash),
        )
        .changed_a_row(connection)
    })?;
    Ok(claimed)
}

pub fn find_presented(
    connection: &mut AnyConnection,
    token_hash: &str,
) -> DbResult<Option<PresentedToken>> {
    Ok(db::on_backend!(connection, |connection| {
        refresh_tokens::table
            .inner_join(sessions::table)
            .filter(refresh_tokens::token_hash.eq(token_hash))
            .select(PresentedToken::as_select())
            .first(connection)
            .optional()
    })?)
}

pub fn find_successor(
    connection: &mut AnyConnection,
    token_hash: &str,
) -> DbResult<Option<SuccessorState>> {
    Ok(refresh_tokens::table
        .find(token_hash)
        .select(SuccessorState::as_select())
        .first(connection)
        .optional()?)
}

pub fn touch_session(
    connection: &mut AnyConnection,
    session_id: &SessionId,
    now: NaiveDateTime,
) -> DbResult<()> {
    db::on_backend!(connection, |connection| {
        db::prepared(
            diesel::update(sessions::table.find(session_id.as_str()))
                .set(sessions::last_used_at.eq(now))
                .returning(sessions::id),
        )
        .changed_a_row(connection)
    })?;
    Ok(())
}

pub fn find_holder(
    connection: &mut AnyConnection,
    user_id: &UserId,
) -> DbResult<Option<SessionHolder>> {
    Ok(db::on_backend!(connection, |connection| {
        users::table
            .find(user_id.as_str())
            .select(SessionHolder::as_select())
            .first(connection)
            .optional()
    })?)
}

/// The session a refresh token belongs to, whatever state either is in.
pub fn owner_of_token(
    connection: &mut AnyConnection,
    token_hash: &str,
) -> DbResult<Option<SessionOwner>> {
    Ok(refresh_tokens::table
        .inner_join(sessions::table)
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select((sessions::id, sessions::user_id))
        .first(connection)
        .optional()?)
}

/// Revokes one session if it is not revoked yet; `true` when this call did it.
pub fn revoke(
    connection: &mut AnyConnection,
    session_id: &SessionId,
    now: NaiveDateTime,
) -> DbResult<bool> {
    let revoked = db::prepared(
        diesel::update(
            sessions::table
                .filter(sessions::id.eq(session_id.as_str()))
                .filter(sessions::revoked_at.is_null()),
        )
        .set(sessions::revoked_at.eq(now))
        .returning(sessions::id),
    )
    .changed_a_row(connection)?;
    Ok(revoked)
}

/// Revokes one live session of `user_id`; `false` when there is no such live session of
/// theirs (someone else's, or one already ended: the caller cannot tell which).
pub fn revoke_owned(
    connection: &mut AnyConnection,
    user_id: &UserId,
    session_id: &SessionId,
) -> DbResult<bool> {
    let now = db::now();
    let revoked = db::prepared(
        diesel::update(
            sessions::table
                .filter(sessions::id.eq(session_id.as_str()))
                .filter(sessions::user_id.eq(user_id.as_str()))
                .filter(sessions::revoked_at.is_null())
                .filter(sessions::expires_at.gt(now)),
        )
        .set(sessions::revoked_at.eq(now))
        .returning(sessions::id),
    )
    .changed_a_row(connection)?;
    Ok(revoked)
}

/// Revokes every live session of `user_id` except `keep` (if given); returns how many.
pub fn revoke_all_of(
    connection: &mut AnyConnection,
    user_id: &UserId,
    keep: Option<&SessionId>,
) -> DbResult<usize> {
    let mut sessions_of_user = diesel::update(sessions::table)
        .filter(sessions::user_id.eq(user_id.as_str()))
        .filter(sessions::revoked_at.is_null())
        .into_boxed();
    if let Some(keep) = keep {
        sessions_of_user = sessions_of_user.filter(sessions::id.ne(keep.as_str()));
    }
    // Two SQL texts, with and without `keep`: each prepared once.
    let revoked = sessions_of_user
        .set(sessions::revoked_at.eq(db::now()))
        .returning(sessions::id);
    Ok(db::prepared(revoked).load::<String>(connection)?.len())
}

/// Revokes the user's live sessions beyond the `keep` most recently used; returns how many.
pub fn revoke_beyond(
    connection: &mut AnyConnection,
    user_id: &UserId,
    keep: u32,
    now: NaiveDateTime,
) -> DbResult<usize> {
    let excess: Vec<String> = sessions::table
        .filter(sessions::user_id.eq(user_id.as_str()))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .order((sessions::last_used_at.desc(), sessions::id.desc()))
        .select(sessions::id)
        // One login adds one session, so there is never much beyond the limit.
        .limit(1_000)
        .offset(i64::from(keep))
        .load(connection)?;
    if excess.is_empty() {
        return Ok(0);
    }
    Ok(
        diesel::update(sessions::table.filter(sessions::id.eq_any(&excess)))
            .set(sessions::revoked_at.eq(now))
            .execute(connection)?,
    )
}

/// Sessions revoked at or after `since`, with when: what the in-memory revocation set is
/// brought up to date from, several times a second (an index range on `revoked_at`).
pub fn revoked_since(
    connection: &mut AnyConnection,
    since: NaiveDateTime,
) -> DbResult<Vec<(SessionId, NaiveDateTime)>> {
    let rows: Vec<(String, Option<NaiveDateTime>)> = sessions::table
        .filter(sessions::revoked_at.ge(since))
        .select((sessions::id, sessions::revoked_at))
        .load(connection)?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, revoked_at)| Some((SessionId::from(id), revoked_at?)))
        .collect())
}

/// The user's sessions that are neither revoked nor past their absolute lifetime, most
/// recently used first.
pub fn list_active(
    connection: &mut AnyConnection,
    user_id: &UserId,
) -> DbResult<Vec<ActiveSession>> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(user_id.as_str()))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(db::now()))
        .order((sessions::last_used_at.desc(), sessions::id.desc()))
        .select(ActiveSession::as_select())
        .load(connection)?)
}

/// What a purge deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub refresh_tokens: usize,
    pub sessions: usize,
}

/// Deletes refresh tokens that can no longer be used, and sessions that have ended, so the
/// tables do not grow without bound. Rotated tokens are kept until they expire: they are what
/// reuse detection recognises.
pub fn purge_expired(connection: &mut AnyConnection) -> DbResult<Purged> {
    let now = db::now();
    let refresh_tokens =
        diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.le(now)))
            .execute(connection)?;
    // A revoked session is kept until its natural end so late reuse is still recognised and
    // answered as invalid; after that nothing can refer to it.
    let sessions =
        diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(connection)?;
    Ok(Purged {
        refresh_tokens,
        sessions,
    })
}
