//! The SQL of the outbox. Claims are conditional updates, so two instances never hold the same
//! message at once.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::message::OutgoingMail;
use crate::db::schema::outbox;
use crate::db::{AnyBackend, AnyConnection, DbResult, StoredTime};

/// A message claimed for sending.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct QueuedMail {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// Including the attempt this claim is for.
    pub attempts: i32,
    #[diesel(deserialize_as = StoredTime)]
    pub discard_after: NaiveDateTime,
}

/// Queues `mail`, to be sent as soon as possible and not after `discard_after`. Call it inside
/// the transaction that makes the mail true.
pub fn enqueue(
    connection: &mut AnyConnection,
    mail: &OutgoingMail,
    now: NaiveDateTime,
    discard_after: NaiveDateTime,
) -> DbResult<()> {
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(uuid::Uuid::now_v7().to_string()),
            outbox::recipient.eq(&mail.to),
            outbox::subject.eq(&mail.subject),
            outbox::text_body.eq(&mail.text),
            outbox::html_body.eq(&mail.html),
            outbox::created_at.eq(now),
            outbox::discard_after.eq(discard_after),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
        ))
        .execute(connection)?;
    Ok(())
}

/// Claims the next due message until `lease_until`, or `None` when nothing is due. The claim
/// is a conditional `UPDATE`: of several instances that picked the same row, one updates it
/// and the others find it claimed and look again.
pub fn claim_next(
    connection: &mut AnyConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> DbResult<Option<QueuedMail>> {
    loop {
        let candidate: Option<String> = outbox::table
            .select(outbox::id)
            .filter(outbox::next_attempt_at.le(now))
            .filter(
                outbox::claimed_until
                    .is_null()
                    .or(outbox::claimed_until.lt(now)),
            )
            .order(outbox::next_attempt_at)
            .first(connection)
            .optional()?;
        let Some(id) = candidate else {
            return Ok(None);
        };
        let claimed = diesel::update(
            outbox::table.filter(outbox::id.eq(&id)).filter(
                outbox::claimed_until
                    .is_null()
                    .or(outbox::claimed_until.lt(now)),
            ),
        )
        .set((
            outbox::claimed_until.eq(lease_until),
            outbox::attempts.eq(outbox::attempts + 1),
        ))
        .returning(<QueuedMail as Selectable<AnyBackend>>::construct_selection())
        .get_result(connection)
        .optional()?;
        if claimed.is_some() {
            return Ok(claimed);
        }
    }
}

/// The SMTP server accepted it: the message (and the link in it) leaves the database.
pub fn delivered(connection: &mut AnyConnection, id: &str) -> DbResult<()> {
    diesel::delete(outbox::table.filter(outbox::id.eq(id))).execute(connection)?;
    Ok(())
}

/// Sending failed: release the claim and try again at `retry_at`.
pub fn failed(
    connection: &mut AnyConnection,
    id: &str,
    error: &str,
    retry_at: NaiveDateTime,
) -> DbResult<()> {
    diesel::update(outbox::table.filter(outbox::id.eq(id)))
        .set((
            outbox::claimed_until.eq(None::<NaiveDateTime>),
            outbox::next_attempt_at.eq(retry_at),
            outbox::last_error.eq(error),
        ))
        .execute(connection)?;
    Ok(())
}

/// How many messages wait (for the metrics and the tests).
pub fn queued(connection: &mut AnyConnection) -> DbResult<i64> {
    Ok(outbox::table.count().get_result(connection)?)
}
