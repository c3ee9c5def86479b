//! The auth routes' buckets in PostgreSQL, shared by every instance: SQL only.
//!
//! GCRA, the token bucket as one timestamp per bucket: `full_at`, when the bucket is full
//! again. A request at `now` is allowed if `max(full_at, now)` is at most `burst - 1` periods
//! ahead of `now`, and moves `full_at` one period on. Deciding and recording happen in one
//! conditional upsert, so concurrent requests on several instances each take their own token
//! and never more than the bucket holds.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};

use crate::db::schema::auth_rate_limits;
use crate::db::{self, AnyConnection, DbResult};

#[derive(QueryableByName)]
struct Taken {
    #[diesel(sql_type = Timestamp)]
    #[allow(dead_code)]
    full_at: NaiveDateTime,
}

/// Takes one request from `bucket`, which refills one every `period` up to `burst`. `None`
/// when it was allowed; otherwise how long until the next request would be.
pub fn take(
    connection: &mut AnyConnection,
    bucket: &str,
    period: Duration,
    burst: u32,
    now: NaiveDateTime,
) -> DbResult<Option<Duration>> {
    let period_end = now + db::span(period);
    let latest_start = now + db::span(period * burst.saturating_sub(1));
    let taken: Vec<Taken> = db::prepared(
        diesel::sql_query(
            "INSERT INTO auth_rate_limits AS b (bucket, full_at) VALUES ($1, $3) \
             ON CONFLICT (bucket) DO UPDATE SET full_at = GREATEST(b.full_at, $2) + ($3 - $2) \
             WHERE GREATEST(b.full_at, $2) <= $4 \
             RETURNING full_at",
        )
        .bind::<Text, _>(bucket)
        .bind::<Timestamp, _>(now)
        .bind::<Timestamp, _>(period_end)
        .bind::<Timestamp, _>(latest_start),
    )
    .load(connection)?;
    if !taken.is_empty() {
        return Ok(None);
    }
    let full_at: Option<NaiveDateTime> = auth_rate_limits::table
        .find(bucket)
        .select(auth_rate_limits::full_at)
        .first(connection)
        .optional()?;
    let wait = full_at
        .map(|full_at| (full_at - latest_start).to_std().unwrap_or_default())
        .unwrap_or_default();
    Ok(Some(wait.max(Duration::from_secs(1))))
}

/// Deletes the buckets that are full again (recreated full, which is what they were).
pub fn prune(connection: &mut AnyConnection, now: NaiveDateTime) -> DbResult<usize> {
    Ok(
        diesel::delete(auth_rate_limits::table.filter(auth_rate_limits::full_at.le(now)))
            .execute(connection)?,
    )
}
