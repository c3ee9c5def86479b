//! The threads that do the deliberately slow password work: argon2id hashing and verification
//! and zxcvbn scoring.
//!
//! That work is CPU-bound by design, and a flood of it (registrations and password changes
//! with the slowest passwords to score, measured in the benchmark) took up to a third of the
//! task list's throughput on this 2-core machine while it ran on actix's blocking pool beside
//! the database queries. Here it gets threads of its own, at a lower scheduling priority (nice
//! 10): when the machine is busy, task requests come first and password work gets what is
//! left; on an idle machine it runs at full speed. Their number also bounds how many argon2
//! buffers (19 MiB each) exist at once.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};

use crate::operations::metrics;

/// The nice value of the password threads: a tenth of the CPU share of a normal thread when
/// both want to run.
const NICENESS: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// A password job that panicked (its cause is in the log), so there is no answer.
#[derive(Debug, thiserror::Error)]
#[error("the password work did not complete")]
pub struct PasswordWorkLost;

/// A handle on the password threads; cheap to clone.
#[derive(Clone)]
pub struct PasswordWork {
    jobs: Sender<Job>,
}

impl PasswordWork {
    /// Starts `threads` password threads (at least one), for as long as the process runs.
    pub fn start(threads: usize) -> std::io::Result<Self> {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("password-{index}"))
                .spawn(move || work(&queue))?;
        }
        Ok(Self { jobs })
    }

    /// One thread per core, so logins use the whole machine when it is otherwise idle.
    pub fn start_per_core() -> std::io::Result<Self> {
        Self::start(std::thread::available_parallelism().map_or(1, usize::from))
    }

    /// Runs `job` on a password thread and waits for its result without holding an async
    /// worker. Fails only if the job panicked.
    pub async fn run<T, F>(&self, job: F) -> Result<T, PasswordWorkLost>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (result, answer) = tokio::sync::oneshot::channel();
        let queued_at = metrics::password_job_queued();
        self.jobs
            .send(Box::new(move || {
                metrics::password_job_started(queued_at);
                let _ = result.send(job());
            }))
            .map_err(|_| PasswordWorkLost)?;
        answer.await.map_err(|_| PasswordWorkLost)
    }
}

/// One password thread: lower its priority, then take jobs until the process ends.
fn work(queue: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = job else { return };
        // A panicking job loses its own answer (the caller gets an error), not the thread.
        if catch_unwind(AssertUnwindSafe(job)).is_err() {
            tracing::error!("a password job panicked");
        }
    }
}

fn lower_priority() {
    // SAFETY: plain system call on the calling thread; on Linux, PRIO_PROCESS with id 0 sets
    // the nice value of the calling thread only.
    let failed = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, NICENESS) } != 0;
    if failed {
        tracing::warn!(
            error = %std::io::Error::last_os_error(),
            "could not lower the password threads' priority"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn jobs_run_off_the_caller_at_a_lower_priority() {
        let work = PasswordWork::start(2).unwrap();
        let (name, nice) = work
            .run(|| {
                let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
                (std::thread::current().name().map(str::to_owned), nice)
            })
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("password-"));
        assert_eq!(nice, NICENESS);
    }

    #[actix_web::test]
    async fn a_panicking_job_fails_alone() {
        let work = PasswordWork::start(1).unwrap();
        assert!(work.run(|| -> u8 { panic!("boom") }).await.is_err());
        assert_eq!(work.run(|| 7).await.unwrap(), 7);
    }
}
