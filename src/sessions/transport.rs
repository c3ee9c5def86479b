//! How tokens travel back to clients: the token response, in the transport the request chose
//! (see [`TokenTransport`]): the refresh token in the JSON body, or in an HttpOnly,
//! `SameSite=Strict` cookie scoped to `/api/auth` that script cannot read.

use actix_web::HttpResponse;
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, PRAGMA};
use serde::Serialize;

use super::input::{DEVICE_COOKIE, REFRESH_COOKIE, TokenTransport};
use super::lifecycle::IssuedRefresh;
use crate::config::SessionSettings;
use crate::errors::{ApiError, ApiResult};
use crate::ids::UserId;
use crate::tokens::AccessTokenKeys;
use crate::tokens::device::DEVICE_TOKEN_TTL;

/// The refresh cookie is sent to the auth routes only.
const REFRESH_COOKIE_PATH: &str = "/api/auth";
/// The device cookie is sent to the login route only.
const DEVICE_COOKIE_PATH: &str = "/api/auth/login";

/// A user as clients see it: never the password hash. The `user` of every token response, and
/// what `GET /api/auth/me` answers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    #[schema(value_type = String, format = Uuid)]
    pub id: UserId,
    pub email: String,
    pub name: Option<String>,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Whether the owner proved the address by following the mailed link.
    pub email_verified: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub user: UserView,
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Absent with the cookie transport, where the token travels in an HttpOnly cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Seconds until the refresh token expires.
    pub refresh_token_expires_in: u64,
    /// After a login or registration with the body transport: send it in `X-Device-Token` when
    /// logging in from this client again, so failed logins from elsewhere never hold it back.
    /// (The cookie transport sets it as an HttpOnly cookie instead.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
}

/// The answers of the session routes, shaped for the transport the request chose.
impl TokenTransport {
    /// A newly minted access token and refresh token for `user`, in this transport.
    pub fn token_response(
        self,
        keys: &AccessTokenKeys,
        settings: &SessionSettings,
        status: StatusCode,
        user: UserView,
        refresh: IssuedRefresh,
        device_token: Option<String>,
    ) -> ApiResult<HttpResponse> {
        let access_token = keys
            .issue(&user.id, &user.email, &refresh.session_id)
            .map_err(ApiError::internal)?;
        let refresh_expires_in = refresh.lifetime_seconds();
        let mut response = HttpResponse::build(status);
        // RFC 6749 §5.1: responses carrying tokens must not be cached.
        response.insert_header((CACHE_CONTROL, "no-store"));
        response.insert_header((PRAGMA, "no-cache"));
        let (refresh_token, device_token) = match self {
            Self::Body => (Some(refresh.token.into_string()), device_token),
            Self::Cookie => {
                response.cookie(refresh_cookie(
                    settings,
                    refresh.token.into_string(),
                    refresh_expires_in,
                ));
                if let Some(device_token) = device_token {
                    response.cookie(device_cookie(settings, device_token));
                }
                (None, None)
            }
        };
        Ok(response.json(TokenResponse {
            user,
            access_token,
            token_type: "Bearer",
            expires_in: keys.ttl().as_secs(),
            refresh_token,
            refresh_token_expires_in: refresh_expires_in,
            device_token,
        }))
    }

    /// A refused refresh. The cookie transport also clears the dead cookie.
    pub fn refused(self, settings: &SessionSettings, error: ApiError) -> ApiResult<HttpResponse> {
        if self == Self::Cookie {
            let mut response = actix_web::ResponseError::error_response(&error);
            let _ = response.add_cookie(&expired_refresh_cookie(settings));
            return Ok(response);
        }
        Err(error)
    }

    /// 204 for a session that ended; the cookie transport also clears the cookie.
    pub fn ended(self, settings: &SessionSettings) -> HttpResponse {
        let mut response = HttpResponse::NoContent();
        if self == Self::Cookie {
            response.cookie(expired_refresh_cookie(settings));
        }
        response.finish()
    }
}

fn refresh_cookie(
    settings: &SessionSettings,
    value: String,
    max_age_seconds: u64,
) -> Cookie<'static> {
    Cookie::build(REFRESH_COOKIE, value)
        .path(REFRESH_COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(settings.cookie_secure)
        .max_age(CookieDuration::seconds(
            max_age_seconds.min(i64::MAX as u64) as i64,
        ))
        .finish()
}

/// The device token, sent back by the browser to the login route only, for as long as the
/// device stays trusted.
fn device_cookie(settings: &SessionSettings, value: String) -> Cookie<'static> {
    Cookie::build(DEVICE_COOKIE, value)
        .path(DEVICE_COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(settings.cookie_secure)
        .max_age(CookieDuration::seconds(DEVICE_TOKEN_TTL.as_secs() as i64))
        .finish()
}

fn expired_refresh_cookie(settings: &SessionSettings) -> Cookie<'static> {
    let mut cookie = refresh_cookie(settings, String::new(), 0);
    cookie.make_removal();
    cookie
}
