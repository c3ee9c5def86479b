//! Password reset by mail: the rules of who gets a link, and when.
//!
//! Asking for a link answers 202 at once and decides afterwards ([`start`] runs after the
//! response), so neither the answer nor its timing tells whether the address has an account.
//! A link is a random 256-bit token, stored only as its SHA-256 ([`store::replace_token`]),
//! usable once within [`LIFETIME`]; asking again replaces it. One account gets at most one
//! new link per [`MIN_INTERVAL`] (further requests still answer 202 and send nothing), so
//! nobody can flood a mailbox through us; the per-address limit of the route covers floods of
//! different addresses.
//!
//! Using a link ([`routes::confirm_password_reset`](super::routes::confirm_password_reset))
//! sets the new password, ends every session and clears the login back-off of the account.

use std::time::Duration;

use super::credentials::Email;
use super::store::{self, TokenPurpose};
use crate::db::{self, Database, DbError};
use crate::mail::{MailDelivery, message, store as outbox};
use crate::tokens::{random_256_bits, sha256_hex};

/// How long a mailed link works.
pub const LIFETIME: Duration = Duration::from_secs(30 * 60);
/// The least time between two links for one account.
pub const MIN_INTERVAL: Duration = Duration::from_secs(60);

/// Issues a link for `email` if it has an account and had no link in the last
/// [`MIN_INTERVAL`], and queues the mail in the same transaction. Says whether it did.
pub async fn start(db: &Database, mail: &MailDelivery, email: Email) -> Result<bool, DbError> {
    let token = random_256_bits();
    let link = message::password_reset_link(&mail.public_url, &token);
    let token_hash = sha256_hex(&token);
    let issued = db
        .transaction(move |connection| {
            let Some(user) = store::find_by_email(connection, &email)? else {
                return Ok::<_, DbError>(false);
            };
            let now = db::now();
            let latest =
                store::latest_token_issued_at(connection, &user.id, TokenPurpose::PasswordReset)?;
            if latest.is_some_and(|issued| now - issued < db::span(MIN_INTERVAL)) {
                return Ok(false);
            }
            let expires_at = now + db::span(LIFETIME);
            store::replace_token(
                connection,
                &user.id,
                TokenPurpose::PasswordReset,
                &token_hash,
                now,
                expires_at,
            )?;
            let message = message::password_reset(&email, &link, LIFETIME.as_secs() / 60);
            outbox::enqueue(connection, &message, now, expires_at)?;
            Ok(true)
        })
        .await?;
    if issued {
        mail.wake();
    }
    Ok(issued)
}
