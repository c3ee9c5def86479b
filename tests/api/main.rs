//! The HTTP surface, end to end, on the real application and a real database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod abuse;
mod account;
mod accounts;
mod better_auth;
mod binary;
mod email_verification;
mod errors;
mod external_tokens;
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
mod seed_dialect;
mod sessions;
mod signing_keys;
mod tasks;
