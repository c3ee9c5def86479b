//! The HTTP surface, end to end, on the real application and a real database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod binary;
mod errors;
mod guard;
mod helpers;
mod properties;
mod security;
mod tasks;
