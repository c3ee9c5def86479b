//! Accounts: who a user is and how they prove it. Creating an account, the credentials it is
//! made of, password hashing, the login check and its per-account back-off.
//!
//! - [`routes`]: `/api/auth/register`, `/login`, `/me`, `/password` — HTTP only.
//! - [`input`] and [`credentials`]: what people type, parsed into [`credentials::Email`],
//!   [`credentials::NewPassword`] and [`credentials::DisplayName`].
//! - [`login`] and [`backoff`]: the rules of a password check; [`password_hash`]: argon2id;
//!   [`strength`]: scoring new passwords off the async workers.
//! - [`store`]: the SQL for `users` and `login_throttles`.
//!
//! A successful login or registration starts a session, and a password change ends the
//! others, through `sessions/`; the token response is the sessions' too.

pub mod backoff;
pub mod credentials;
pub mod email_verification;
pub mod input;
pub mod login;
pub mod mailed_token;
pub mod password_hash;
pub mod password_reset;
pub mod password_work;
pub mod routes;
pub mod store;
pub mod strength;

use actix_web::middleware::from_fn;
use actix_web::web;

use crate::rate_limit::limit_per_address;
use crate::tokens::{bearer_guard, optional_bearer_guard};

/// Mounts `/api/account`: the caller's own account, as a whole.
pub fn configure_account(config: &mut web::ServiceConfig) {
    config
        .service(
            web::resource("")
                .wrap(bearer_guard())
                .route(web::delete().to(routes::delete_account)),
        )
        .service(
            web::resource("/export")
                .wrap(bearer_guard())
                .route(web::get().to(routes::export_account)),
        );
}

/// Mounts the account routes inside the `/api/auth` scope. Register, login and password change
/// guess or mint credentials, so they are rate limited per address.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            web::resource("/register")
                .wrap(from_fn(limit_per_address))
                .route(web::post().to(routes::register)),
        )
        .service(
            web::resource("/login")
                .wrap(from_fn(limit_per_address))
                .route(web::post().to(routes::login)),
        )
        .service(
            web::resource("/me")
                .wrap(bearer_guard())
                .route(web::get().to(routes::me)),
        )
        .service(
            web::resource("/password")
                .wrap(from_fn(limit_per_address))
                .wrap(bearer_guard())
                .route(web::post().to(routes::change_password)),
        )
        .service(
            web::resource("/verify-email")
                .wrap(from_fn(limit_per_address))
                .route(web::post().to(routes::verify_email)),
        )
        .service(
            web::resource("/verify-email/resend")
                .wrap(from_fn(limit_per_address))
                .wrap(optional_bearer_guard())
                .route(web::post().to(routes::resend_verification)),
        )
        // Asking floods mailboxes and confirming guesses tokens: both limited per address.
        .service(
            web::resource("/password-reset")
                .wrap(from_fn(limit_per_address))
                .route(web::post().to(routes::request_password_reset)),
        )
        .service(
            web::resource("/password-reset/confirm")
                .wrap(from_fn(limit_per_address))
                .route(web::post().to(routes::confirm_password_reset)),
        );
}
