//! The bearer guard and the extractor that hands handlers the authenticated user.
//!
//! [`bearer_guard`] wraps every protected scope in actix-web-httpauth's `HttpAuthentication`
//! middleware. It verifies the access token once, with no database query, refuses it if its
//! session is among the [`RevokedSessions`] (kept in memory, at most a fraction of a second
//! behind the database), and leaves an [`AuthenticatedUser`] in the request's extensions. Handlers ask for an `AuthenticatedUser`
//! argument and never read the `Authorization` header themselves.
//!
//! A token that is not ours may still come from a configured external issuer
//! ([`ExternalTokens`]); then the request carries an [`ExternalCaller`] instead, which only the
//! task routes accept ([`Caller`]).
//!
//! Failures follow RFC 6750 §3: no credentials gets `WWW-Authenticate: Bearer`; a token that was
//! presented and rejected gets `WWW-Authenticate: Bearer error="invalid_token"`.

use std::future::{Ready, ready};

use actix_web::dev::{Payload, ServiceRequest};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use actix_web_httpauth::extractors::bearer::BearerAuth;
use actix_web_httpauth::middleware::HttpAuthentication;
use futures_util::future::LocalBoxFuture;

use super::AccessTokenKeys;
use super::access::AuthenticatedUser;
use super::external::{ExternalCaller, ExternalTokens};
use super::revoked::{RevokedSessions, SessionStatus};
use crate::errors::ApiError;

type ValidatorResult = Result<ServiceRequest, (actix_web::Error, ServiceRequest)>;
type Validator = fn(ServiceRequest, Option<BearerAuth>) -> LocalBoxFuture<'static, ValidatorResult>;

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
) -> LocalBoxFuture<'static, ValidatorResult> {
    match credentials {
        None => Box::pin(async move { Ok(request) }),
        Some(credentials) => validate(request, Some(credentials)),
    }
}

fn validate(
    request: ServiceRequest,
    credentials: Option<BearerAuth>,
) -> LocalBoxFuture<'static, ValidatorResult> {
    Box::pin(async move {
        let Some(credentials) = credentials else {
            return Err((ApiError::missing_bearer().into(), request));
        };
        let (Some(keys), Some(revoked)) = (
            request.app_data::<web::Data<AccessTokenKeys>>(),
            request.app_data::<web::Data<RevokedSessions>>(),
        ) else {
            return Err((
                ApiError::internal("the access token keys are not configured").into(),
                request,
            ));
        };
        // Our own tokens first: they need nothing but the secret, so an external issuer's
        // outage never delays or refuses them.
        if let Some(caller) = keys.verify(credentials.token()) {
            return match revoked.status(&caller.session_id) {
                SessionStatus::Live => {
                    request.extensions_mut().insert(caller);
                    Ok(request)
                }
                SessionStatus::Revoked => Err((ApiError::invalid_token().into(), request)),
                SessionStatus::Unknown => Err((ApiError::Unavailable.into(), request)),
            };
        }
        let external = request
            .app_data::<web::Data<ExternalTokens>>()
            .filter(|external| external.is_enabled())
            .cloned();
        let Some(external) = external else {
            return Err((ApiError::invalid_token().into(), request));
        };
        match external.verify(credentials.token()).await {
            Some(caller) => {
                request.extensions_mut().insert(caller);
                Ok(request)
            }
            None => Err((ApiError::invalid_token().into(), request)),
        }
    })
}

/// The caller the guard let through: a local user with a session, or an identity another
/// service vouches for (see [`super::external`]).
#[derive(Debug, Clone)]
pub enum Caller {
    Local(AuthenticatedUser),
    External(ExternalCaller),
}

impl Caller {
    /// Only reachable without the guard through a routing mistake; refuse rather than serve.
    pub fn of(request: &HttpRequest) -> Result<Self, ApiError> {
        let extensions = request.extensions();
        if let Some(local) = extensions.get::<AuthenticatedUser>() {
            return Ok(Self::Local(local.clone()));
        }
        extensions
            .get::<ExternalCaller>()
            .cloned()
            .map(Self::External)
            .ok_or_else(ApiError::missing_bearer)
    }
}

/// A local user and their session. An external identity has neither a password nor sessions
/// here, so the routes that take this (the account and session routes) refuse it with 403.
impl FromRequest for AuthenticatedUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match Caller::of(request) {
            Ok(Caller::Local(caller)) => Ok(caller),
            Ok(Caller::External(_)) => Err(ApiError::ExternalIdentity),
            Err(error) => Err(error),
        })
    }
}
