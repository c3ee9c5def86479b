//! Sessions: what a login becomes. A session lives up to its absolute lifetime and is carried
//! by refresh tokens that each work once; this folder starts sessions, rotates their tokens,
//! ends them, and answers every token-bearing response.
//!
//! - [`routes`]: `/api/auth/refresh`, `/logout`, `/logout-all`, `/sessions` — HTTP only.
//! - [`input`] and [`transport`]: the presented refresh token (body or cookie), the client's
//!   details, and the token response in either transport.
//! - [`lifecycle`]: the rules — start, rotate with reuse detection, end.
//! - [`revocations`]: keeps the in-memory set of revoked sessions, which the bearer guard
//!   consults, within a fraction of a second of the database.
//! - [`store`]: the SQL for `sessions` and `refresh_tokens`.
//!
//! `accounts/` builds on this folder (a login or registration starts a session, a password
//! change ends the others); nothing here depends on `accounts/`.

pub mod input;
pub mod lifecycle;
pub mod revocations;
pub mod routes;
pub mod store;
pub mod transport;

use actix_web::middleware::from_fn;
use actix_web::web;

use crate::rate_limit::limit_per_address;
use crate::tokens::bearer_guard;

/// Mounts the session routes inside the `/api/auth` scope. Each path is a resource, so a wrong
/// method gets 405 rather than 404. Refresh mints credentials, so it is rate limited per
/// address.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            web::resource("/refresh")
                .wrap(from_fn(limit_per_address))
                .route(web::post().to(routes::refresh)),
        )
        .service(web::resource("/logout").route(web::post().to(routes::logout)))
        .service(
            web::resource("/logout-all")
                .wrap(bearer_guard())
                .route(web::post().to(routes::logout_all)),
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
        );
}
