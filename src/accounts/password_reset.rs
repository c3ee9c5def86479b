//! Password reset by mail: the rules of who gets a link, and when.
//!
//! Asking for a link answers 202 at once and decides afterwards ([`start`] runs after the
//! response), so neither the answer nor its timing tells whether the address has an account.
//! A link is a random 256-bit token, stored only as its SHA-256 ([`mailed_token::issue`]),
//! usable once within [`LIFETIME`]; asking again replaces it. One account gets at most one
//! new link per [`MIN_INTERVAL`] (further requests still answer 202 and send nothing), so
//! nobody can flood a mailbox through us; the per-address limit of the route covers floods of
//! different addresses.
//!
//! Using a link ([`routes::confirm_password_reset`](super::routes::confirm_password_reset))
//! sets the new password, ends every session and clears the login back-off of the account.

use std::time::Duration;

use super::credentials::Email;
use super::mailed_token;
use super::store::{self, TokenPurpose};
use crate::db::{self, Database, DbError};
use crate::mail::{MailDelivery, message, store as outbox};

/// How long a mailed link works.
pub const LIFETIME: Duration = Duration::from_secs(30 * 60);
/// The least time between two links for one account.
pub const MIN_INTERVAL: Duration = Duration::from_secs(60);

/// Issues a link for `email` if it has an account and had no link in the last
/// [`MIN_INTERVAL`], and queues the mail in the same transaction. Says whether it did.
pub async fn start(db: &Database, mail: &MailDelivery, email: Email) -> Result<bool, DbError> {
    let public_url = mail.public_url.clone();
    let issued = db
        .transaction(move |connection| {
            let Some(user) = store::find_by_email(connection, &email)? else {
                return Ok::<_, DbError>(false);
            };
            let Some(issued) = mailed_token::issue(
                connection,
                &user.id,
                TokenPurpose::PasswordReset,
                MIN_INTERVAL,
                LIFETIME,
            )?
            else {
                return Ok(false);
            };
            let link = message::password_reset_link(&public_url, &issued.token);
            let message = message::password_reset(&email, &link, LIFETIME.as_secs() / 60);
            outbox::enqueue(connection, &message, db::now(), issued.expires_at)?;
            Ok(true)
        })
        .await?;
    if issued {
        mail.wake();
    }
    Ok(issued)
}
