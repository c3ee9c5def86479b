//! What a request tells about a session: the transport it chose, the refresh token it
//! presents (body or cookie), and where a login comes from (user agent and address, kept for
//! the user's list of sessions).

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, web};
use serde::Deserialize;

use super::store::ClientInfo;
use crate::client_addr::TrustedProxies;
use crate::errors::{ApiError, ApiResult};
use crate::tokens::RefreshToken;

/// The refresh-token cookie of the browser transport.
pub const REFRESH_COOKIE: &str = "todo_refresh_token";
/// Request header that opts a browser into the cookie transport.
pub const TRANSPORT_HEADER: &str = "X-Token-Transport";
/// The device-token cookie of the browser transport (see `tokens/device.rs`).
pub const DEVICE_COOKIE: &str = "todo_device";
/// Request header in which API clients present their device token at login.
pub const DEVICE_HEADER: &str = "X-Device-Token";
/// Longer than any token we issue; longer input is refused without touching the database.
const MAX_REFRESH_TOKEN_CHARS: usize = 256;
/// User agents are kept for display only; this is plenty.
const MAX_USER_AGENT_CHARS: usize = 256;

/// How the refresh token travels: in JSON bodies (mobile and API clients, the default) or in
/// an HttpOnly cookie (browsers, opted into with `X-Token-Transport: cookie`). The opt-in
/// header also works as CSRF protection: a cross-site form cannot set it, and a cross-origin
/// script needs a CORS preflight to. Without it the cookie is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenTransport {
    Body,
    Cookie,
}

impl FromRequest for TokenTransport {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let transport = match request.headers().get(TRANSPORT_HEADER).map(|v| v.to_str()) {
            None => Ok(Self::Body),
            Some(Ok(value)) if value.trim().eq_ignore_ascii_case("cookie") => Ok(Self::Cookie),
            Some(Ok(value)) if value.trim().eq_ignore_ascii_case("body") => Ok(Self::Body),
            Some(_) => Err(ApiError::bad_request(
                "invalid_transport",
                "X-Token-Transport must be `cookie` or `body`",
            )),
        };
        ready(transport)
    }
}

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
        let presented = match (from_body, transport) {
            (Some(token), _) => Some(token),
            (None, TokenTransport::Cookie) => {
                request.cookie(REFRESH_COOKIE).map(|c| c.value().to_owned())
            }
            (None, TokenTransport::Body) => None,
        };
        Ok(match presented {
            None => Self::Nothing,
            Some(token) if token.is_empty() => Self::Nothing,
            Some(token) if token.chars().nth(MAX_REFRESH_TOKEN_CHARS).is_some() => Self::Oversized,
            Some(token) => Self::Token(RefreshToken::from_client(token)),
        })
    }
}

/// The device token a login presents: `X-Device-Token`, or with the cookie transport the
/// device cookie. Unchecked: the login judges it against the account.
pub fn presented_device_token(request: &HttpRequest, transport: TokenTransport) -> Option<String> {
    let from_header = request
        .headers()
        .get(DEVICE_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    match (from_header, transport) {
        (Some(token), _) => Some(token),
        (None, TokenTransport::Cookie) => {
            request.cookie(DEVICE_COOKIE).map(|c| c.value().to_owned())
        }
        (None, TokenTransport::Body) => None,
    }
}

/// The client's details as the request shows them.
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
