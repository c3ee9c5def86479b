//! Proving the address: a link mailed at registration (and on request), valid for
//! [`LIFETIME`], usable once; asking again replaces it, at most once per [`MIN_INTERVAL`] per
//! account.
//!
//! With `REQUIRE_EMAIL_VERIFICATION`, registration answers 202 for every address before doing
//! anything that depends on it ([`register_unverified`] runs after the response): a new
//! address gets an account and a link, a taken one gets a "someone tried to sign up" mail to
//! its owner. So registration, like password reset, no longer tells anyone which addresses
//! have accounts; and logging in before the link was followed answers 403.

use std::time::Duration;

use super::credentials::{DisplayName, Email};
use super::mailed_token;
use super::store::{self, CreateUserError, TokenPurpose};
use diesel::Connection;

use crate::db::{self, AnyConnection, Database, DbError};
use crate::ids::UserId;
use crate::mail::{MailDelivery, message, store as outbox};

/// How long a verification link works.
pub const LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// The least time between two links (or sign-up notices) for one account.
pub const MIN_INTERVAL: Duration = Duration::from_secs(60);

/// Issues a link for `user_id` and queues its mail, inside the caller's transaction. `false`
/// (nothing sent) when a link went out less than [`MIN_INTERVAL`] ago.
pub fn queue_link(
    connection: &mut AnyConnection,
    user_id: &UserId,
    email: &Email,
    public_url: &str,
) -> Result<bool, DbError> {
    let Some(issued) = mailed_token::issue(
        connection,
        user_id,
        TokenPurpose::VerifyEmail,
        MIN_INTERVAL,
        LIFETIME,
    )?
    else {
        return Ok(false);
    };
    let link = message::verify_email_link(public_url, &issued.token);
    let mail = message::verify_email(email, &link, LIFETIME.as_secs() / 3600);
    outbox::enqueue(connection, &mail, db::now(), issued.expires_at)?;
    Ok(true)
}

/// Who asks for a new link: the signed-in owner, or anyone naming an address.
pub enum Resend {
    Caller(UserId),
    Address(Email),
}

/// Sends a new link if the account exists and is not verified yet. Run after answering.
pub async fn resend(db: &Database, mail: &MailDelivery, to: Resend) -> Result<(), DbError> {
    let public_url = mail.public_url.clone();
    let queued = db
        .transaction(move |connection| {
            let user = match &to {
                Resend::Caller(user_id) => store::find_by_id(connection, user_id)?,
                Resend::Address(email) => store::find_by_email(connection, email)?,
            };
            let Some(user) = user.filter(|user| user.email_verified_at.is_none()) else {
                return Ok::<_, DbError>(false);
            };
            let Ok(email) = Email::parse(&user.email) else {
                return Ok(false);
            };
            queue_link(connection, &user.id, &email, &public_url)
        })
        .await?;
    if queued {
        mail.wake();
    }
    Ok(())
}

/// Registration when verification is required, after the 202: creates the account and mails
/// its link, or tells the owner of a taken address that someone tried.
pub async fn register_unverified(
    db: &Database,
    mail: &MailDelivery,
    email: Email,
    name: DisplayName,
    password_hash: String,
) -> Result<(), DbError> {
    let public_url = mail.public_url.clone();
    let queued = db
        .transaction(move |connection| {
            // In a savepoint: on PostgreSQL a failed insert would abort the whole transaction.
            let created = connection
                .transaction(|connection| store::create(connection, &email, &name, &password_hash));
            match created {
                Ok(user) => {
                    crate::operations::metrics::registration();
                    queue_link(connection, &user.id, &email, &public_url)
                }
                Err(CreateUserError::EmailTaken(_)) => {
                    let Some(owner) = store::find_by_email(connection, &email)? else {
                        return Ok(false);
                    };
                    // The notice is spaced like a link (its token is never mailed, only its
                    // time counts), so nobody can flood the owner.
                    let spaced = mailed_token::issue(
                        connection,
                        &owner.id,
                        TokenPurpose::SignupNotice,
                        MIN_INTERVAL,
                        MIN_INTERVAL,
                    )?;
                    if spaced.is_none() {
                        return Ok(false);
                    }
                    let notice = message::signup_attempt(&email, &public_url);
                    let now = db::now();
                    outbox::enqueue(connection, &notice, now, now + db::span(LIFETIME))?;
                    Ok(true)
                }
                Err(CreateUserError::Query(error)) => Err(error.into()),
            }
        })
        .await?;
    if queued {
        mail.wake();
    }
    Ok(())
}
