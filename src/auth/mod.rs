//! Accounts, sessions and tokens: everything about who the caller is.
//!
//! - [`credentials`]: parsing what people type (email, password, name).
//! - [`password`]: argon2id hashing.
//! - [`tokens`]: JWT access tokens and opaque refresh tokens.
//! - [`accounts`] and [`sessions`]: the rules, as plain functions over a connection.
//! - [`throttle`] and [`rate_limit`]: back-off per account and rate limits per address.
//! - [`guard`]: the bearer middleware and the [`AuthenticatedUser`] extractor.
//! - [`routes`]: the `/api/auth` handlers.

pub mod accounts;
pub mod credentials;
pub mod guard;
pub mod password;
pub mod rate_limit;
pub mod routes;
pub mod sessions;
pub mod throttle;
pub mod tokens;

use std::time::Duration;

use actix_web::web;

pub use guard::{AuthenticatedUser, bearer_guard};
pub use rate_limit::AuthRateLimit;

use crate::config::Config;
use crate::db::Database;
use password::PasswordHasher;
use sessions::SessionPolicy;
use tokens::AccessTokenKeys;

/// How often expired refresh tokens and sessions are deleted.
const PURGE_INTERVAL: Duration = Duration::from_secs(3600);

/// What the auth handlers share, built once from the configuration.
#[derive(Clone)]
pub struct AuthState {
    pub hasher: PasswordHasher,
    pub access_keys: AccessTokenKeys,
    pub session_policy: SessionPolicy,
    pub cookie_secure: bool,
}

impl AuthState {
    pub fn from_config(config: &Config) -> Result<Self, password::HashError> {
        Ok(Self {
            hasher: PasswordHasher::new(config.password_hash)?,
            access_keys: AccessTokenKeys::from_config(config),
            session_policy: SessionPolicy::from_config(config),
            cookie_secure: config.cookie_secure,
        })
    }
}

/// Mounts `/auth/...` inside the `/api` scope. Each path is a resource, so a wrong method gets
/// 405 rather than 404. The routes that check or mint credentials are rate limited per address.
pub fn configure(config: &mut web::ServiceConfig, rate_limit: &AuthRateLimit) {
    config.service(
        web::scope("/auth")
            .service(
                web::resource("/register")
                    .wrap(rate_limit.middleware())
                    .route(web::post().to(routes::register)),
            )
            .service(
                web::resource("/login")
                    .wrap(rate_limit.middleware())
                    .route(web::post().to(routes::login)),
            )
            .service(
                web::resource("/refresh")
                    .wrap(rate_limit.middleware())
                    .route(web::post().to(routes::refresh)),
            )
            .service(web::resource("/logout").route(web::post().to(routes::logout)))
            .service(
                web::resource("/logout-all")
                    .wrap(bearer_guard())
                    .route(web::post().to(routes::logout_all)),
            )
            .service(
                web::resource("/me")
                    .wrap(bearer_guard())
                    .route(web::get().to(routes::me)),
            )
            .service(
                web::resource("/password")
                    .wrap(bearer_guard())
                    .route(web::post().to(routes::change_password)),
            )
            .service(
                web::resource("/sessions")
                    .wrap(bearer_guard())
                    .route(web::get().to(routes::list_sessions)),
            )
            .service(
                web::resource("/sessions/{session_id}")
                    .wrap(bearer_guard())
                    .route(web::delete().to(routes::revoke_session)),
            ),
    );
}

/// Deletes dead refresh tokens, ended sessions and stale login back-off now and then, so the
/// tables stay bounded.
pub fn spawn_purge_task(db: Database) {
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(PURGE_INTERVAL);
        loop {
            interval.tick().await;
            let purged = db
                .run(|connection| {
                    let (tokens, sessions) = sessions::purge_expired(connection)?;
                    Ok((tokens, sessions, throttle::purge_stale(connection)?))
                })
                .await;
            match purged {
                Ok((tokens, sessions, throttles)) if tokens + sessions + throttles > 0 => {
                    tracing::info!(
                        tokens,
                        sessions,
                        throttles,
                        "purged expired sessions and stale login back-off"
                    );
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "could not purge expired sessions"),
            }
        }
    });
}
