//! The bearer guard and the extractor that hands handlers the authenticated user.
//!
//! [`bearer_guard`] wraps every protected scope in actix-web-httpauth's `HttpAuthentication`
//! middleware. It verifies the access token once, with no database query, refuses it if its
//! session is among the [`RevokedSessions`] (kept in memory, at most a fraction of a second
//! behind the database), and leaves an [`AuthenticatedUser`] in the request's extensions. Handlers ask for an `AuthenticatedUser`
//! argument and never read the `Authorization` header themselves.
//!
//! Failures follow RFC 6750 §3: no credentials gets `WWW-Authenticate: Bearer`; a token that was
//! presented and rejected gets `WWW-Authenticate: Bearer error="invalid_token"`.

use std::future::{Ready, ready};

use actix_web::dev::{Payload, ServiceRequest};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use actix_web_httpauth::extractors::bearer::BearerAuth;
use actix_web_httpauth::middleware::HttpAuthentication;

use super::AccessTokenKeys;
use super::access::AuthenticatedUser;
use super::revoked::{RevokedSessions, SessionStatus};
use crate::errors::ApiError;

type ValidatorResult = Result<ServiceRequest, (actix_web::Error, ServiceRequest)>;
type Validator = fn(ServiceRequest, Option<BearerAuth>) -> Ready<ValidatorResult>;

/// The middleware for protected scopes. `Option<BearerAuth>` lets the validator answer a
/// missing or non-bearer `Authorization` header with our own JSON error.
pub fn bearer_guard() -> HttpAuthentication<Option<BearerAuth>, Validator> {
    HttpAuthentication::with_fn(validate as Validator)
}

/// For routes a caller may use signed in or not: no `Authorization` header passes without a
/// user (the handler takes `Option<AuthenticatedUser>`); a presented token is checked as on
/// protected routes, and a bad one is refused.
pub fn optional_bearer_guard() -> HttpAuthentication<Option<BearerAuth>, Validator> {
    HttpAuthentication::with_fn(validate_if_presented as Validator)
}

fn validate_if_presented(
    request: ServiceRequest,
    credentials: Option<BearerAuth>,
) -> Ready<ValidatorResult> {
    match credentials {
        None => ready(Ok(request)),
        Some(credentials) => validate(request, Some(credentials)),
    }
}

fn validate(request: ServiceRequest, credentials: Option<BearerAuth>) -> Ready<ValidatorResult> {
    let Some(credentials) = credentials else {
        return ready(Err((ApiError::missing_bearer().into(), request)));
    };
    let (Some(keys), Some(revoked)) = (
        request.app_data::<web::Data<AccessTokenKeys>>(),
        request.app_data::<web::Data<RevokedSessions>>(),
    ) else {
        return ready(Err((
            ApiError::internal("the access token keys are not configured").into(),
            request,
        )));
    };
    let Some(caller) = keys.verify(credentials.token()) else {
        return ready(Err((ApiError::invalid_token().into(), request)));
    };
    match revoked.status(&caller.session_id) {
        SessionStatus::Live => {
            request.extensions_mut().insert(caller);
            ready(Ok(request))
        }
        SessionStatus::Revoked => ready(Err((ApiError::invalid_token().into(), request))),
        SessionStatus::Unknown => ready(Err((ApiError::Unavailable.into(), request))),
    }
}

impl FromRequest for AuthenticatedUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Only reachable without the guard through a routing mistake; refuse rather than serve.
        ready(
            request
                .extensions()
                .get::<AuthenticatedUser>()
                .cloned()
                .ok_or_else(ApiError::missing_bearer),
        )
    }
}
