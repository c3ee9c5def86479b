//! The background task that sends what the outbox holds, and the transport it sends with.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Notify;

use super::store::{self, QueuedMail};
use crate::config::{AppEnv, ConfigError, MailSettings};
use crate::db::{self, Database, DbError};

/// How often the outbox is looked at without being woken: mail queued by another instance, and
/// retries that came due.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How long a claimed message is this instance's alone; one not delivered by then (the
/// instance died mid-send) is sent again by whoever claims it next.
const LEASE: Duration = Duration::from_secs(60);
/// Retries wait 1, 2, 4, … seconds, at most this long.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(300);
/// How long one SMTP conversation may take before it counts as a failure.
const SMTP_TIMEOUT: Duration = Duration::from_secs(10);

/// How mail leaves the service.
pub enum Mailer {
    Smtp {
        // Boxed: built once, and much larger than the other variants.
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        from: Mailbox,
    },
    /// Development without `SMTP_URL`: each message is written to the log, link included.
    Log,
    /// Production without `SMTP_URL`: flows that need mail refuse.
    Unavailable,
}

impl Mailer {
    pub fn from_settings(settings: &MailSettings, app_env: AppEnv) -> Result<Self, ConfigError> {
        let Some(url) = &settings.smtp_url else {
            return Ok(match app_env {
                AppEnv::Development => Self::Log,
                AppEnv::Production => Self::Unavailable,
            });
        };
        let transport = Box::new(
            AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map_err(|error| ConfigError(format!("SMTP_URL is not usable: {error}")))?
                .timeout(Some(SMTP_TIMEOUT))
                .build(),
        );
        let from = settings
            .from
            .parse::<Mailbox>()
            .map_err(|error| ConfigError(format!("MAIL_FROM is not an address: {error}")))?;
        Ok(Self::Smtp { transport, from })
    }

    async fn send(&self, mail: &QueuedMail) -> Result<(), String> {
        match self {
            Self::Smtp { transport, from } => {
                let message = compose(from, mail)?;
                transport
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|error| error.to_string())
            }
            Self::Log => {
                tracing::info!(
                    to = %mail.recipient,
                    subject = %mail.subject,
                    "SMTP_URL is not set; this mail is logged instead of sent:\n{}",
                    mail.text_body
                );
                Ok(())
            }
            Self::Unavailable => Err("no SMTP server is configured".into()),
        }
    }
}

fn compose(from: &Mailbox, mail: &QueuedMail) -> Result<Message, String> {
    let to = mail
        .recipient
        .parse::<Mailbox>()
        .map_err(|error| format!("recipient: {error}"))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        // The outbox id: a duplicate after a crash mid-send is recognisable as one.
        .message_id(Some(format!("<{}@todo-server>", mail.id)))
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(mail.text_body.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(mail.html_body.clone()),
                ),
        )
        .map_err(|error| error.to_string())
}

/// The handle the flows hold: whether mail can be sent, and a nudge for the sender.
#[derive(Clone)]
pub struct MailDelivery {
    mailer: Arc<Mailer>,
    wake: Arc<Notify>,
    pub public_url: String,
}

impl MailDelivery {
    pub fn new(mailer: Mailer, public_url: String) -> Self {
        Self {
            mailer: Arc::new(mailer),
            wake: Arc::new(Notify::new()),
            public_url,
        }
    }

    /// False in production without `SMTP_URL`.
    pub fn available(&self) -> bool {
        !matches!(*self.mailer, Mailer::Unavailable)
    }

    /// Something was queued: send it now rather than at the next poll.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Sends queued mail for as long as the server runs.
    pub fn spawn_sender(&self, database: Database) {
        if !self.available() {
            return;
        }
        let delivery = self.clone();
        actix_web::rt::spawn(async move {
            loop {
                delivery.send_due(&database).await;
                let _ = actix_web::rt::time::timeout(POLL_INTERVAL, delivery.wake.notified()).await;
            }
        });
    }

    /// Sends every message that is due, one claim at a time.
    async fn send_due(&self, database: &Database) {
        loop {
            let now = db::now();
            let lease_until = now + db::span(LEASE);
            let claimed = database
                .write(move |connection| store::claim_next(connection, now, lease_until))
                .await;
            let mail = match claimed {
                Ok(Some(mail)) => mail,
                Ok(None) => return,
                Err(error) => {
                    tracing::warn!(%error, "could not read the outbox; retrying");
                    return;
                }
            };
            let id = mail.id.clone();
            let outcome = if mail.discard_after < now {
                tracing::warn!(outbox_id = %id, attempts = mail.attempts, "mail discarded: its link expired before it could be sent");
                Ok(())
            } else {
                self.mailer.send(&mail).await
            };
            let recorded = match outcome {
                Ok(()) => {
                    database
                        .write(move |connection| store::delivered(connection, &id))
                        .await
                }
                Err(error) => {
                    let retry_at = db::now() + db::span(retry_delay(mail.attempts));
                    tracing::warn!(outbox_id = %id, attempts = mail.attempts, %error, "mail not sent; will retry");
                    database
                        .write(move |connection| store::failed(connection, &id, &error, retry_at))
                        .await
                }
            };
            if let Err(error) = recorded {
                let error: DbError = error;
                tracing::warn!(%error, "could not record a mail's outcome; it will be retried when its lease ends");
                return;
            }
        }
    }
}

/// 1 s after the first failure, doubling, at most [`MAX_RETRY_DELAY`].
fn retry_delay(attempts: i32) -> Duration {
    let exponent = attempts.saturating_sub(1).clamp(0, 16) as u32;
    Duration::from_secs(1u64 << exponent).min(MAX_RETRY_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_a_ceiling() {
        assert_eq!(retry_delay(1), Duration::from_secs(1));
        assert_eq!(retry_delay(2), Duration::from_secs(2));
        assert_eq!(retry_delay(5), Duration::from_secs(16));
        assert_eq!(retry_delay(30), MAX_RETRY_DELAY);
        assert_eq!(retry_delay(i32::MAX), MAX_RETRY_DELAY);
    }
}
