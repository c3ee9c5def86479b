//! The login check: is this the account's password? Used by login and by a password change.
//!
//! The check runs under the per-account back-off of [`super::backoff`]: every attempt is first
//! reserved, counted as a failure in one conditional statement ([`store::reserve_attempt`]),
//! and only a reserved attempt has its password checked. Reading the back-off and recording
//! the failure afterwards let parallel guesses all be checked (100 simultaneous wrong logins:
//! 74 checks where 5 were allowed). An attempt made while the back-off runs is refused
//! unchecked. An address with
//! no account costs the same work as a real one (a dummy hash is verified), so neither the
//! answer nor its timing tells them apart. On success the caller resets the back-off in the
//! same transaction that acts on the login.

use std::time::Duration;

use super::backoff::BackoffKey;
use super::password_hash::PasswordHasher;
use super::password_work::PasswordWorkLost;
use super::store::{self, User};
use crate::db::{self, Database, DbError};

/// What checking a password led to.
#[derive(Debug)]
pub enum PasswordCheck {
    Verified(User),
    /// Wrong password, or no such account: the same answer.
    Wrong,
    /// Refused unchecked: the back-off for this account is running.
    Throttled(Duration),
}

/// Checks `password` for `user` (or, when there is none, spends the same work on a dummy
/// hash). `client_ip` is for the security log only.
pub async fn check_password<E>(
    db: &Database,
    hasher: &PasswordHasher,
    key: &BackoffKey,
    password: String,
    user: Option<User>,
    client_ip: Option<&str>,
) -> Result<PasswordCheck, E>
where
    E: From<DbError> + From<PasswordWorkLost> + Send + 'static,
{
    let user_id = user.as_ref().map(|user| user.id.to_string());
    let user_id = user_id.as_deref().unwrap_or("-");
    let ip = client_ip.unwrap_or("-");
    let reserving = key.clone();
    let reserved = db
        .write(move |connection| store::reserve_attempt(connection, &reserving, db::now()))
        .await?;
    if let Err(wait) = reserved {
        tracing::warn!(
            user_id,
            ip,
            wait_seconds = wait.as_secs(),
            "login attempt refused during back-off"
        );
        return Ok(PasswordCheck::Throttled(wait));
    }

    let verified = hasher
        .run(move |hasher| match user {
            Some(user) => hasher
                .verify(&password, &user.password_hash)
                .then_some(user),
            None => {
                hasher.verify_against_dummy(&password);
                None
            }
        })
        .await?;
    if let Some(user) = verified {
        return Ok(PasswordCheck::Verified(user));
    }
    // Already counted when the attempt was reserved.
    tracing::warn!(user_id, ip, "failed login");
    Ok(PasswordCheck::Wrong)
}
