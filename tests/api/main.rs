//! The HTTP surface, end to end, on the real application and a real database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod abuse;
mod account;
mod accounts;
mod binary;
mod email_verification;
mod errors;
mod guard;
mod helpers;
mod instances;
mod isolation;
mod mailbox;
mod openapi;
mod operations;
mod password_reset;
mod plans;
mod properties;
mod revocation;
mod sessions;
mod tasks;
