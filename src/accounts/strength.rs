//! Judging new passwords without stalling the server.
//!
//! zxcvbn is CPU-bound and, on hostile input, slow (see
//! [`super::credentials::SCORED_PREFIX_CHARS`]). Run on an async worker it stalled every
//! request that worker held: four connections posting 128-character l33t passwords took
//! `/healthz` from 2 ms to 1.1 s. So scoring runs on the low-priority password threads
//! (`password_work.rs`), and at most half the cores score at once; further requests wait their
//! turn without holding a thread, so password hashing for logins still gets threads.

use std::sync::Arc;

use tokio::sync::Semaphore;

use super::credentials::{CandidatePassword, NewPassword};
use super::password_work::{PasswordWork, PasswordWorkLost};
use crate::errors::FieldError;

#[derive(Clone)]
pub struct PasswordJudge {
    scoring: Arc<Semaphore>,
    work: PasswordWork,
}

impl PasswordJudge {
    pub fn new(work: PasswordWork) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            scoring: Arc::new(Semaphore::new((cores / 2).max(1))),
            work,
        }
    }
}

impl PasswordJudge {
    /// [`NewPassword::judge`], on the password threads and at most half the cores at a time.
    pub async fn judge(
        &self,
        candidate: CandidatePassword,
        field: &'static str,
        email: String,
        name: Option<String>,
    ) -> Result<Result<NewPassword, FieldError>, PasswordWorkLost> {
        // The semaphore is never closed, so acquiring cannot fail; if it ever did, scoring
        // without a permit is still correct, only less polite.
        let _permit = self.scoring.acquire().await.ok();
        self.work
            .run(move || NewPassword::judge(candidate, field, &email, name.as_deref()))
            .await
    }
}
