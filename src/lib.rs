//! todo-server: private task lists behind short-lived JWT access tokens and rotating refresh
//! tokens, on SQLite or PostgreSQL, from one actix-web binary.
//!
//! The folders are the concepts, each laid out the same way — `routes` (HTTP in and out) →
//! `input` (wire formats parsed into valid values) → rules → `store` (SQL only):
//! [`accounts`] (users, credentials, the login check), [`sessions`] (logins, refresh rotation,
//! the token response), [`tokens`] (access tokens and the bearer guard) and [`tasks`]. [`db`]
//! is the one place that talks to the database; [`operations`] is what the operator sees
//! (metrics, request ids, logs); [`startup`] puts it all together, and `main.rs`
//! only reads the configuration and calls [`Application::build`].

pub mod accounts;
pub mod client_addr;
pub mod config;
pub mod db;
pub mod errors;
pub mod extract;
pub mod health;
pub mod ids;
pub mod jwks;
pub mod mail;
pub mod openapi;
pub mod operations;
pub mod rate_limit;
pub mod sessions;
pub mod startup;
pub mod tasks;
pub mod timestamp;
pub mod tokens;
pub mod web_client;

pub use startup::{Application, StartupError};
