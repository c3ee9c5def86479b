//! Brings this instance's [`RevokedSessions`] up to date with the database, so an access token
//! stops working within a fraction of a second of its session's revocation, on every instance
//! sharing the database, while the guard still reads no database per request.
//!
//! Every [`POLL_INTERVAL`] one indexed query asks for the sessions revoked since the previous
//! one (less an [`OVERLAP`] for revocations committed late or stamped by a slower clock on
//! another instance). An instance that revokes a session itself catches up right away, before
//! it answers, so its own client never sees the old token work again.

use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;

use super::store;
use crate::db::{self, Database, DbResult};
use crate::operations::metrics::{self, RevocationReason};
use crate::tokens::RevokedSessions;
use crate::tokens::access::CLOCK_LEEWAY_SECONDS;

/// How often every instance asks the database for new revocations: the bound on how long a
/// revoked session's access token keeps working elsewhere (plus one query's time).
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// How far back each query reaches before the previous one's start.
const OVERLAP: Duration = Duration::from_secs(10);

/// The poller and the catch-up after a local revocation; cheap to clone.
#[derive(Clone)]
pub struct RevocationFeed {
    db: Database,
    revoked: Arc<RevokedSessions>,
    /// How long a revoked session can still have unexpired access tokens.
    remember_for: Duration,
    /// When the last successful query started (database clock of this instance).
    caught_up_to: Arc<Mutex<Option<NaiveDateTime>>>,
}

impl RevocationFeed {
    pub fn new(db: Database, revoked: Arc<RevokedSessions>, access_ttl: Duration) -> Self {
        Self {
            db,
            revoked,
            remember_for: access_ttl + Duration::from_secs(CLOCK_LEEWAY_SECONDS) + OVERLAP,
            caught_up_to: Arc::new(Mutex::new(None)),
        }
    }

    /// Reads the revocations since the last catch-up into the set.
    pub async fn catch_up(&self) -> DbResult<()> {
        let started = Instant::now();
        let now = db::now();
        let forget_before = now - db::span(self.remember_for);
        let since = match *self.caught_up_to.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(previous) => (previous - db::span(OVERLAP)).max(forget_before),
            None => forget_before,
        };
        let newly_revoked = self
            .db
            .read(move |connection| store::revoked_since(connection, since))
            .await?;
        self.revoked.update(newly_revoked, forget_before, started);
        let mut caught_up_to = self.caught_up_to.lock().unwrap_or_else(|e| e.into_inner());
        *caught_up_to = Some(caught_up_to.map_or(now, |previous| previous.max(now)));
        Ok(())
    }

    /// After a revocation made here: count it (by `reason`) and catch up now. A failure is
    /// logged and left to the poller, since the revocation itself has been committed.
    pub async fn after_local_revocation(&self, reason: RevocationReason) {
        metrics::revocation(reason);
        if let Err(error) = self.catch_up().await {
            tracing::warn!(%error, "could not refresh the revoked sessions after a revocation");
        }
    }

    /// Catches up every [`POLL_INTERVAL`] for as long as the server runs. Failures are logged
    /// once when they start and once when they end, not four times a second.
    pub fn spawn_polling(self) {
        actix_web::rt::spawn(async move {
            let mut interval = actix_web::rt::time::interval(POLL_INTERVAL);
            let mut failing_since: Option<Instant> = None;
            loop {
                interval.tick().await;
                match (self.catch_up().await, failing_since) {
                    (Ok(()), Some(since)) => {
                        tracing::info!(
                            failed_for_ms = since.elapsed().as_millis() as u64,
                            "revoked sessions are up to date again"
                        );
                        failing_since = None;
                    }
                    (Err(error), None) => {
                        tracing::error!(%error, "cannot read revoked sessions; access tokens are refused with 503 after a few seconds");
                        failing_since = Some(Instant::now());
                    }
                    _ => {}
                }
            }
        });
    }
}
