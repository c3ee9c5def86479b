//! The one rule every mailed one-time token follows: at most one per account and purpose per
//! interval, random 256 bits, stored only as its SHA-256, replacing the account's older ones.

use std::time::Duration;

use chrono::NaiveDateTime;

use super::store::{self, TokenPurpose};
use crate::db::{self, AnyConnection, DbResult};
use crate::ids::UserId;
use crate::tokens::{random_256_bits, sha256_hex};

/// A token just issued: the value to mail, and when it stops working.
pub struct Issued {
    pub token: String,
    pub expires_at: NaiveDateTime,
}

/// Issues a token for `purpose` lasting `lifetime`, unless the last one was issued less than
/// `interval` ago (then `None`, and nothing is sent). Call it in the transaction that queues
/// the mail.
pub fn issue(
    connection: &mut AnyConnection,
    user_id: &UserId,
    purpose: TokenPurpose,
    interval: Duration,
    lifetime: Duration,
) -> DbResult<Option<Issued>> {
    let now = db::now();
    let latest = store::latest_token_issued_at(connection, user_id, purpose)?;
    if latest.is_some_and(|issued| now - issued < db::span(interval)) {
        return Ok(None);
    }
    let token = random_256_bits();
    let expires_at = now + db::span(lifetime);
    store::replace_token(
        connection,
        user_id,
        purpose,
        &sha256_hex(&token),
        now,
        expires_at,
    )?;
    Ok(Some(Issued { token, expires_at }))
}
