//! Users and login back-off in the database: SQL only, answers in domain terms. A taken email
//! is [`EmailTaken`], a missing user is `None`; what either means to a client is decided in
//! `routes.rs`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::backoff::{self, BackoffKey};
use super::credentials::{DisplayName, Email};
use crate::db::schema::{
    account_tokens, external_identities, login_throttles, refresh_tokens, sessions, tasks, users,
};
use crate::db::{self, AnyBackend, AnyConnection, DbResult, StoredTime};
use crate::ids::UserId;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    #[diesel(deserialize_as = String)]
    pub id: UserId,
    pub email: String,
    pub name: Option<String>,
    pub password_hash: String,
    #[diesel(deserialize_as = StoredTime)]
    pub created_at: NaiveDateTime,
    pub email_verified_at: Option<NaiveDateTime>,
}

/// `None` binds NULL, so the statement is prepared once (see `tasks::store::NewTask`).
#[derive(Insertable)]
#[diesel(table_name = users, treat_none_as_default_value = false)]
struct NewUser<'a> {
    id: &'a str,
    email: &'a str,
    name: Option<&'a str>,
    password_hash: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// The address already belongs to an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an account with this email already exists")]
pub struct EmailTaken;

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error(transparent)]
    EmailTaken(#[from] EmailTaken),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// Inserts a new user. A taken email (even by a concurrent registration) is [`EmailTaken`]: the
/// UNIQUE index decides, so there is no check-then-insert race.
pub fn create(
    connection: &mut AnyConnection,
    email: &Email,
    name: &DisplayName,
    password_hash: &str,
) -> Result<User, CreateUserError> {
    let now = db::now();
    let id = UserId::generate();
    diesel::insert_into(users::table)
        .values(NewUser {
            id: id.as_str(),
            email: email.as_str(),
            name: name.as_str(),
            password_hash,
            created_at: now,
            updated_at: now,
        })
        .returning(<User as Selectable<AnyBackend>>::construct_selection())
        .get_result(connection)
        .map_err(|error| {
            if db::is_unique_violation(&error) {
                EmailTaken.into()
            } else {
                error.into()
            }
        })
}

/// The local user of an identity another service vouches for, created on first use. The row
/// can never be reached by a login: its `email` is `external:<id>`, which is not an address
/// (logins and registrations parse the address first), and its password hash is `!`, which no
/// password verifies. So it can never be confused with a local account, whatever email the
/// issuer gives it; the issuer's email is not stored.
pub fn external_user(
    connection: &mut AnyConnection,
    issuer: &str,
    subject: &str,
) -> DbResult<UserId> {
    if let Some(user_id) = find_external_user(connection, issuer, subject)? {
        return Ok(user_id);
    }
    // A savepoint, so that losing a race to a concurrent first use (the primary key decides)
    // leaves the surrounding connection usable on PostgreSQL.
    let created = connection.transaction(|connection| {
        let now = db::now();
        let user_id = UserId::generate();
        diesel::insert_into(users::table)
            .values(NewUser {
                id: user_id.as_str(),
                email: &format!("external:{user_id}"),
                name: None,
                password_hash: "!",
                created_at: now,
                updated_at: now,
            })
            .execute(connection)?;
        diesel::insert_into(external_identities::table)
            .values((
                external_identities::issuer.eq(issuer),
                external_identities::subject.eq(subject),
                external_identities::user_id.eq(user_id.as_str()),
                external_identities::created_at.eq(now),
            ))
            .execute(connection)?;
        Ok::<_, diesel::result::Error>(user_id)
    });
    match created {
        Ok(user_id) => Ok(user_id),
        Err(error) if db::is_unique_violation(&error) => {
            find_external_user(connection, issuer, subject)?.ok_or_else(|| error.into())
        }
        Err(error) => Err(error.into()),
    }
}

pub fn find_external_user(
    connection: &mut AnyConnection,
    issuer: &str,
    subject: &str,
) -> DbResult<Option<UserId>> {
    Ok(external_identities::table
        .find((issuer, subject))
        .select(external_identities::user_id)
        .first::<String>(connection)
        .optional()?
        .map(UserId::from))
}

pub fn find_by_email(connection: &mut AnyConnection, email: &Email) -> DbResult<Option<User>> {
    Ok(users::table
        .filter(users::email.eq(email.as_str()))
        .select(User::as_select())
        .first(connection)
        .optional()?)
}

/// The user, unless the account was deleted.
pub fn find_by_id(connection: &mut AnyConnection, user_id: &UserId) -> DbResult<Option<User>> {
    Ok(users::table
        .find(user_id.as_str())
        .filter(users::deleted_at.is_null())
        .select(User::as_select())
        .first(connection)
        .optional()?)
}

/// Stores a new password hash; `false` when the user no longer exists.
pub fn update_password(
    connection: &mut AnyConnection,
    user_id: &UserId,
    password_hash: &str,
) -> DbResult<bool> {
    let updated = diesel::update(users::table.find(user_id.as_str()))
        .set((
            users::password_hash.eq(password_hash),
            users::updated_at.eq(db::now()),
        ))
        .returning(users::id);
    Ok(db::prepared(updated).changed_a_row(connection)?)
}

/// Whether `password_hash` is still the user's, as the first write of the transaction that
/// acts on a login: the no-op update takes the row's write lock, so a concurrent password
/// change either committed before (and the answer is `false`) or waits until this
/// transaction's session exists (and then revokes it with the others).
pub fn confirm_credentials(
    connection: &mut AnyConnection,
    user_id: &UserId,
    password_hash: &str,
) -> DbResult<bool> {
    let confirmed = db::prepared(
        diesel::update(
            users::table
                .find(user_id.as_str())
                .filter(users::password_hash.eq(password_hash)),
        )
        .set(users::password_hash.eq(users::password_hash))
        .returning(users::id),
    )
    .changed_a_row(connection)?;
    Ok(confirmed)
}

/// The failures recorded for `key` and when the last one happened.
pub fn backoff_state(
    connection: &mut AnyConnection,
    key: &BackoffKey,
) -> DbResult<Option<(i32, NaiveDateTime)>> {
    Ok(login_throttles::table
        .find(key.as_str())
        .select((login_throttles::failures, login_throttles::last_failed_at))
        .first(connection)
        .optional()?)
}

/// How often a reservation retries after losing a race to a concurrent one before it gives up.
const RESERVATION_TRIES: usize = 16;

/// Reserves one password check for `key` at `now`, counting it as a failure (a correct
/// password resets the count afterwards), or tells how long to wait. The count moves only by
/// a compare-and-set of the state that allowed the attempt, one conditional statement, so of
/// concurrent attempts exactly as many are reserved as the back-off allows.
pub fn reserve_attempt(
    connection: &mut AnyConnection,
    key: &BackoffKey,
    now: NaiveDateTime,
) -> DbResult<Result<(), std::time::Duration>> {
    for _ in 0..RESERVATION_TRIES {
        let Some((failures, last_failed_at)) = backoff_state(connection, key)? else {
            let inserted = diesel::insert_into(login_throttles::table)
                .values((
                    login_throttles::email_hash.eq(key.as_str()),
                    login_throttles::failures.eq(1),
                    login_throttles::last_failed_at.eq(now),
                ))
                .execute(connection);
            match inserted {
                Ok(_) => return Ok(Ok(())),
                // A concurrent attempt inserted the row first: read it again.
                Err(error) if db::is_unique_violation(&error) => continue,
                Err(error) => return Err(error.into()),
            }
        };
        if let Some(wait) = backoff::remaining_wait(failures, last_failed_at, now) {
            return Ok(Err(wait));
        }
        let reserved = db::prepared(
            diesel::update(
                login_throttles::table
                    .find(key.as_str())
                    .filter(login_throttles::failures.eq(failures))
                    .filter(login_throttles::last_failed_at.eq(last_failed_at)),
            )
            .set((
                login_throttles::failures.eq(failures + 1),
                login_throttles::last_failed_at.eq(now),
            ))
            .returning(login_throttles::email_hash),
        )
        .changed_a_row(connection)?;
        if reserved {
            return Ok(Ok(()));
        }
    }
    // Still losing races after that many tries: a flood on this account. Refuse this one.
    Ok(Err(std::time::Duration::from_secs(1)))
}

/// A successful login forgets the failures.
pub fn reset_backoff(connection: &mut AnyConnection, key: &BackoffKey) -> DbResult<()> {
    diesel::delete(login_throttles::table.find(key.as_str())).execute(connection)?;
    Ok(())
}

/// Deletes back-off state nobody has touched for [`backoff::FORGET_AFTER`].
pub fn purge_stale_backoff(connection: &mut AnyConnection) -> DbResult<usize> {
    let cutoff = db::now() - db::span(backoff::FORGET_AFTER);
    Ok(
        diesel::delete(login_throttles::table.filter(login_throttles::last_failed_at.lt(cutoff)))
            .execute(connection)?,
    )
}

/// What a one-time token mailed to a user is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    PasswordReset,
    VerifyEmail,
    /// Not a link: marks when the owner of a taken address was last told that someone tried
    /// to register it, so the notices are spaced like links.
    SignupNotice,
}

impl TokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::PasswordReset => "password_reset",
            Self::VerifyEmail => "verify_email",
            Self::SignupNotice => "signup_notice",
        }
    }
}

/// Records that the owner proved the address (keeping the first proof); `false` if the
/// account is gone.
pub fn mark_email_verified(
    connection: &mut AnyConnection,
    user_id: &UserId,
    now: NaiveDateTime,
) -> DbResult<bool> {
    let live = users::table
        .find(user_id.as_str())
        .filter(users::deleted_at.is_null());
    let updated = diesel::update(live.filter(users::email_verified_at.is_null()))
        .set(users::email_verified_at.eq(now))
        .execute(connection)?;
    if updated == 1 {
        return Ok(true);
    }
    let exists: i64 = live.count().get_result(connection)?;
    Ok(exists == 1)
}

/// When the user's latest token for `purpose` was issued, if one is live.
pub fn latest_token_issued_at(
    connection: &mut AnyConnection,
    user_id: &UserId,
    purpose: TokenPurpose,
) -> DbResult<Option<NaiveDateTime>> {
    Ok(account_tokens::table
        .filter(account_tokens::user_id.eq(user_id.as_str()))
        .filter(account_tokens::purpose.eq(purpose.as_str()))
        .select(account_tokens::created_at)
        .order(account_tokens::created_at.desc())
        .first::<StoredTime>(connection)
        .optional()?
        .map(NaiveDateTime::from))
}

/// Stores a new token for `purpose` and deletes the user's older ones: only the latest link
/// works.
pub fn replace_token(
    connection: &mut AnyConnection,
    user_id: &UserId,
    purpose: TokenPurpose,
    token_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> DbResult<()> {
    diesel::delete(
        account_tokens::table
            .filter(account_tokens::user_id.eq(user_id.as_str()))
            .filter(account_tokens::purpose.eq(purpose.as_str())),
    )
    .execute(connection)?;
    diesel::insert_into(account_tokens::table)
        .values((
            account_tokens::token_hash.eq(token_hash),
            account_tokens::user_id.eq(user_id.as_str()),
            account_tokens::purpose.eq(purpose.as_str()),
            account_tokens::created_at.eq(now),
            account_tokens::expires_at.eq(expires_at),
        ))
        .execute(connection)?;
    Ok(())
}

/// The user a live token for `purpose` belongs to, without using it up.
pub fn token_holder(
    connection: &mut AnyConnection,
    token_hash: &str,
    purpose: TokenPurpose,
    now: NaiveDateTime,
) -> DbResult<Option<UserId>> {
    Ok(account_tokens::table
        .find(token_hash)
        .filter(account_tokens::purpose.eq(purpose.as_str()))
        .filter(account_tokens::expires_at.gt(now))
        .select(account_tokens::user_id)
        .first::<String>(connection)
        .optional()?
        .map(UserId::from))
}

/// Uses the token up: deleted if it is live, and its user returned; `None` if it was used,
/// replaced, expired or never issued. One statement, so of two concurrent uses one wins.
pub fn consume_token(
    connection: &mut AnyConnection,
    token_hash: &str,
    purpose: TokenPurpose,
    now: NaiveDateTime,
) -> DbResult<Option<UserId>> {
    Ok(diesel::delete(
        account_tokens::table
            .filter(account_tokens::token_hash.eq(token_hash))
            .filter(account_tokens::purpose.eq(purpose.as_str()))
            .filter(account_tokens::expires_at.gt(now)),
    )
    .returning(account_tokens::user_id)
    .get_result::<String>(connection)
    .optional()?
    .map(UserId::from))
}

/// Deletes an account: its tasks, one-time tokens and refresh tokens at once; its sessions
/// marked revoked (so every instance refuses their access tokens); and its row stripped of
/// personal data (email, name, password hash), freeing the address. `false` if it was already
/// deleted. The stripped row and the revoked sessions go with [`purge_deleted_accounts`].
pub fn erase_account(
    connection: &mut AnyConnection,
    user_id: &UserId,
    now: NaiveDateTime,
) -> DbResult<bool> {
    let erased = diesel::update(
        users::table
            .find(user_id.as_str())
            .filter(users::deleted_at.is_null()),
    )
    .set((
        // Unique like the address was, and never a valid address.
        users::email.eq(format!("deleted:{user_id}")),
        users::name.eq(None::<String>),
        users::password_hash.eq(""),
        users::deleted_at.eq(now),
        users::updated_at.eq(now),
    ))
    .execute(connection)?;
    if erased == 0 {
        return Ok(false);
    }
    diesel::delete(tasks::table.filter(tasks::user_id.eq(user_id.as_str()))).execute(connection)?;
    diesel::delete(account_tokens::table.filter(account_tokens::user_id.eq(user_id.as_str())))
        .execute(connection)?;
    let owned_sessions = sessions::table
        .filter(sessions::user_id.eq(user_id.as_str()))
        .select(sessions::id);
    diesel::delete(refresh_tokens::table.filter(refresh_tokens::session_id.eq_any(owned_sessions)))
        .execute(connection)?;
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id.as_str()))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(connection)?;
    Ok(true)
}

/// Removes the rows of accounts deleted before `before`, and by cascade their sessions.
pub fn purge_deleted_accounts(
    connection: &mut AnyConnection,
    before: NaiveDateTime,
) -> DbResult<usize> {
    Ok(diesel::delete(users::table.filter(users::deleted_at.lt(before))).execute(connection)?)
}
