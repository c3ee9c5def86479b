//! What a request tells about a session: the refresh token it presents (body or cookie), and
//! where a login comes from (user agent and address, kept for the user's list of sessions).

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, web};
use serde::Deserialize;

use super::transport::TokenTransport;
use crate::client_addr::TrustedProxies;
use crate::errors::{ApiError, ApiResult};
use crate::tokens::RefreshToken;

/// Longer than any token we issue; longer input is refused without touching the database.
const MAX_REFRESH_TOKEN_CHARS: usize = 256;
/// User agents are kept for display only; this is plenty.
const MAX_USER_AGENT_CHARS: usize = 256;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// Required with the body transport; the cookie transport sends it as a cookie instead.
    pub refresh_token: Option<String>,
}

/// The refresh token a request presents, as far as can be told without the database.
#[derive(Debug)]
pub enum PresentedRefresh {
    /// Nothing (or an empty string) was presented.
    Nothing,
    /// Longer than any token we issue: cannot be one of ours.
    Oversized,
    Token(RefreshToken),
}

impl PresentedRefresh {
    /// Reads the token from the body, or from the cookie with the cookie transport. The body
    /// transport must send it: a body without one is a 422 naming `refresh_token`.
    pub fn from_request(
        request: &HttpRequest,
        transport: TokenTransport,
        body: Option<RefreshRequest>,
    ) -> ApiResult<Self> {
        let from_body = body.and_then(|body| body.refresh_token);
        if from_body.is_none() && transport == TokenTransport::Body {
            return Err(ApiError::validation("refresh_token", "is required"));
        }
        Ok(match transport.presented(request, from_body) {
            None => Self::Nothing,
            Some(token) if token.is_empty() => Self::Nothing,
            Some(token) if token.chars().nth(MAX_REFRESH_TOKEN_CHARS).is_some() => Self::Oversized,
            Some(token) => Self::Token(RefreshToken::from_client(token)),
        })
    }
}

/// Where a login came from, kept for the user's list of sessions.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
}

impl FromRequest for ClientInfo {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let user_agent = request
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|value| value.chars().take(MAX_USER_AGENT_CHARS).collect());
        let ip_address = request
            .app_data::<web::Data<TrustedProxies>>()
            .map(|proxies| proxies.get_ref().clone())
            .unwrap_or_default()
            .client_ip(request.peer_addr(), request.headers())
            .map(|ip| ip.to_string());
        ready(Ok(ClientInfo {
            user_agent,
            ip_address,
        }))
    }
}
