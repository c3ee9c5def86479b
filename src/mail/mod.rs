//! Mail: what the service sends (one-time links) and how it gets there without ever holding up
//! a request or losing a message.
//!
//! The transactional outbox: a flow that decides to send mail writes it into `outbox` in the
//! same transaction as the change it is about ([`store::enqueue`]), so a token and the mail
//! that carries it exist together or not at all. A background task ([`delivery`]) claims one
//! due row at a time with a lease (a conditional `UPDATE`, so of several instances exactly one
//! wins), hands it to the SMTP server, and deletes it once accepted; a failure schedules a
//! retry with back-off. A slow or unreachable mail server therefore delays mail, never a
//! request, and a restart or `kill -9` leaves queued mail in the table for the next start.
//!
//! Delivery is at least once: an instance killed after the SMTP server accepted a message and
//! before its row was deleted sends it again when the lease runs out. Each message carries its
//! outbox id as `Message-ID`, so a duplicate is recognisable as one.
//!
//! Without `SMTP_URL`, in development, messages are written to the log instead (links
//! included), so `cargo run` works with nothing else installed; in production the flows that
//! need mail refuse with 503 `mail_unavailable` rather than pretend.

pub mod delivery;
pub mod message;
pub mod store;

pub use delivery::{MailDelivery, Mailer};
pub use message::OutgoingMail;
