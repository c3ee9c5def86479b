//! HTTP handlers for `/api/auth`. Thin: parse the input, call the rules in [`super::sessions`]
//! and [`super::accounts`] through the database, shape the response.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, PRAGMA};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use std::future::{Ready, ready};

use super::accounts::{self, UserView};
use super::credentials::{DisplayName, Email, NewPassword};
use super::guard::AuthenticatedUser;
use super::sessions::{self, ClientInfo, IssuedRefresh, Rotation};
use super::tokens::{RefreshToken, seconds_until};
use super::{AuthState, throttle};
use crate::client_addr::TrustedProxies;
use crate::db::{self, Database};
use crate::errors::{ApiError, ApiResult, ErrorBody, FieldError};
use crate::extract::{Json, OptionalJson, path_id};

/// The refresh-token cookie of the browser transport, scoped to the auth routes only.
pub const REFRESH_COOKIE: &str = "todo_refresh_token";
const REFRESH_COOKIE_PATH: &str = "/api/auth";
/// Request header that opts a browser into the cookie transport.
pub const TRANSPORT_HEADER: &str = "X-Token-Transport";
/// Longer than any token we issue; longer input is refused without touching the database.
const MAX_REFRESH_TOKEN_CHARS: usize = 256;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(value_type = String, required = true, format = Email)]
    pub email: Option<String>,
    /// 8 to 128 characters, and not easy to guess.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 128)]
    pub password: Option<String>,
    #[schema(max_length = 100)]
    pub name: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(value_type = String, required = true)]
    pub email: Option<String>,
    #[schema(value_type = String, required = true)]
    pub password: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// Required with the body transport; the cookie transport sends it as a cookie instead.
    pub refresh_token: Option<String>,
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
}

/// How the refresh token travels: in JSON bodies (mobile and API clients, the default) or in
/// an HttpOnly cookie (browsers, opted into with `X-Token-Transport: cookie`). The opt-in
/// header also works as CSRF protection: a cross-site form cannot set it, and a cross-origin
/// script needs a CORS preflight to.
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

impl FromRequest for ClientInfo {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let user_agent = request
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|value| value.chars().take(256).collect());
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

/// Checks `password` for the account `user` (or, when there is none, spends the same work on a
/// dummy hash), under the per-address back-off of [`throttle`]: an attempt made while the
/// back-off runs is refused unchecked, and a wrong password lengthens it. On success the
/// caller resets the back-off in the same transaction that acts on the login.
async fn check_password(
    state: &AuthState,
    db: &Database,
    throttle_key: String,
    password: String,
    user: Option<accounts::User>,
    client: &ClientInfo,
) -> ApiResult<Option<accounts::User>> {
    let key = throttle_key.clone();
    if let Some(wait) = db
        .run(move |connection| throttle::remaining_wait(connection, &key, db::now()))
        .await?
    {
        tracing::warn!(
            user_id = user.as_ref().map(|u| u.id.as_str()).unwrap_or("-"),
            ip = client.ip_address.as_deref().unwrap_or("-"),
            wait_seconds = wait.as_secs(),
            "login attempt refused during back-off"
        );
        return Err(throttle::too_many_attempts(wait));
    }
    let hasher = state.hasher.clone();
    let (verified, user) = web::block(move || match user {
        Some(user) => (hasher.verify(&password, &user.password_hash), Some(user)),
        None => {
            hasher.verify_against_dummy(&password);
            (false, None)
        }
    })
    .await?;
    if verified {
        return Ok(user);
    }
    tracing::warn!(
        user_id = user.as_ref().map(|u| u.id.as_str()).unwrap_or("-"),
        ip = client.ip_address.as_deref().unwrap_or("-"),
        "failed login"
    );
    db.run(move |connection| throttle::record_failure(connection, &throttle_key))
        .await?;
    Ok(None)
}

fn token_response(
    state: &AuthState,
    status: StatusCode,
    transport: TokenTransport,
    user: &accounts::User,
    refresh: IssuedRefresh,
) -> ApiResult<HttpResponse> {
    let access_token = state
        .access_keys
        .issue(&user.id, &user.email, &refresh.session_id)
        .map_err(ApiError::internal)?;
    let refresh_expires_in = seconds_until(refresh.expires_at, db::now());
    let mut response = HttpResponse::build(status);
    // RFC 6749 §5.1: responses carrying tokens must not be cached.
    response.insert_header((CACHE_CONTROL, "no-store"));
    response.insert_header((PRAGMA, "no-cache"));
    let refresh_token = match transport {
        TokenTransport::Body => Some(refresh.token.into_string()),
        TokenTransport::Cookie => {
            response.cookie(refresh_cookie(
                state,
                refresh.token.into_string(),
                refresh_expires_in,
            ));
            None
        }
    };
    Ok(response.json(TokenResponse {
        user: UserView::from(user),
        access_token,
        token_type: "Bearer",
        expires_in: state.access_keys.ttl().as_secs(),
        refresh_token,
        refresh_token_expires_in: refresh_expires_in,
    }))
}

fn refresh_cookie(state: &AuthState, value: String, max_age_seconds: u64) -> Cookie<'static> {
    Cookie::build(REFRESH_COOKIE, value)
        .path(REFRESH_COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.cookie_secure)
        .max_age(CookieDuration::seconds(
            max_age_seconds.min(i64::MAX as u64) as i64,
        ))
        .finish()
}

fn expired_refresh_cookie(state: &AuthState) -> Cookie<'static> {
    let mut cookie = refresh_cookie(state, String::new(), 0);
    cookie.make_removal();
    cookie
}

/// The refresh token a request presents: in the body, or (cookie transport) in the cookie.
fn presented_refresh_token(
    request: &HttpRequest,
    transport: TokenTransport,
    body: Option<RefreshRequest>,
) -> ApiResult<Option<RefreshToken>> {
    let from_body = body.and_then(|body| body.refresh_token);
    let token = match (from_body, transport) {
        (Some(token), _) => Some(token),
        (None, TokenTransport::Cookie) => {
            request.cookie(REFRESH_COOKIE).map(|c| c.value().to_owned())
        }
        (None, TokenTransport::Body) => {
            return Err(ApiError::validation("refresh_token", "is required"));
        }
    };
    Ok(token
        .filter(|token| !token.is_empty())
        .map(|token| {
            token
                .chars()
                .take(MAX_REFRESH_TOKEN_CHARS + 1)
                .collect::<String>()
        })
        .map(RefreshToken::from_client))
}

fn required(value: Option<String>, field: &str, errors: &mut Vec<FieldError>) -> String {
    value.unwrap_or_else(|| {
        errors.push(FieldError::new(field, "is required"));
        String::new()
    })
}

/// Create an account and start its first session.
#[utoipa::path(
    post, path = "/api/auth/register", tag = "auth",
    request_body = RegisterRequest,
    params(("X-Token-Transport" = Option<String>, Header, description = "`cookie` to receive the refresh token as an HttpOnly cookie")),
    responses(
        (status = 201, description = "Account created", body = TokenResponse),
        (status = 409, description = "Email already registered", body = ErrorBody),
        (status = 422, description = "Invalid email, password or name", body = ErrorBody),
        (status = 429, description = "Too many requests from this address; see Retry-After", body = ErrorBody),
    )
)]
pub async fn register(
    state: web::Data<AuthState>,
    db: web::Data<Database>,
    client: ClientInfo,
    transport: TokenTransport,
    Json(request): Json<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    let mut errors = Vec::new();
    let raw_email = required(request.email, "email", &mut errors);
    let email = Email::parse(&raw_email);
    let name = DisplayName::parse(request.name);
    let password = NewPassword::parse(
        required(request.password, "password", &mut errors),
        "password",
        &raw_email,
        name.as_ref().ok().and_then(DisplayName::as_str),
    );
    let (email, password, name) = match (email, password, name) {
        (Ok(email), Ok(password), Ok(name)) if errors.is_empty() => (email, password, name),
        (email, password, name) => {
            errors.extend(
                [email.err(), password.err(), name.err()]
                    .into_iter()
                    .flatten(),
            );
            errors.dedup_by(|a, b| a.field == b.field);
            return Err(ApiError::Validation(errors));
        }
    };

    let hasher = state.hasher.clone();
    let password_hash = web::block(move || hasher.hash(password.expose()))
        .await?
        .map_err(ApiError::internal)?;
    let policy = state.session_policy;
    let (user, refresh) = db
        .transaction(move |connection| {
            let user = accounts::create(connection, email, name, password_hash)?;
            let refresh = sessions::start(connection, &user.id, &client, &policy)?;
            Ok((user, refresh))
        })
        .await?;
    tracing::info!(user_id = %user.id, "account registered");
    token_response(&state, StatusCode::CREATED, transport, &user, refresh)
}

/// Log in with email and password; starts a new session.
#[utoipa::path(
    post, path = "/api/auth/login", tag = "auth",
    request_body = LoginRequest,
    params(("X-Token-Transport" = Option<String>, Header, description = "`cookie` to receive the refresh token as an HttpOnly cookie")),
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 401, description = "Unknown email or wrong password (indistinguishable)", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address, or too many failures for this email; see Retry-After", body = ErrorBody),
        (status = 422, description = "Missing fields", body = ErrorBody),
    )
)]
pub async fn login(
    state: web::Data<AuthState>,
    db: web::Data<Database>,
    client: ClientInfo,
    transport: TokenTransport,
    Json(request): Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let mut errors = Vec::new();
    let email = required(request.email, "email", &mut errors);
    let password = required(request.password, "password", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    // An address that cannot be an account is still answered like a wrong password, after the
    // same amount of work.
    let throttle_key = throttle::key_for(&email);
    let user = match Email::parse(&email) {
        Ok(email) => {
            db.run(move |connection| accounts::find_by_email(connection, &email))
                .await?
        }
        Err(_) => None,
    };
    let Some(user) =
        check_password(&state, &db, throttle_key.clone(), password, user, &client).await?
    else {
        return Err(ApiError::unauthorized(
            "invalid_credentials",
            "email or password is incorrect",
        ));
    };

    let policy = state.session_policy;
    let user_id = user.id.clone();
    let refresh = db
        .transaction(move |connection| {
            throttle::reset(connection, &throttle_key)?;
            sessions::start(connection, &user_id, &client, &policy)
        })
        .await?;
    token_response(&state, StatusCode::OK, transport, &user, refresh)
}

/// Exchange a refresh token for a new pair. The presented token never works again.
#[utoipa::path(
    post, path = "/api/auth/refresh", tag = "auth",
    request_body(content = Option<RefreshRequest>, description = "Optional with the cookie transport"),
    params(("X-Token-Transport" = Option<String>, Header, description = "`cookie` to read and set the refresh token as an HttpOnly cookie")),
    responses(
        (status = 200, description = "A new token pair", body = TokenResponse),
        (status = 401, description = "Unknown, expired or revoked token; a reused token also revokes its session", body = ErrorBody),
        (status = 409, description = "`refresh_conflict`: reused within the grace window; retry with the newest token", body = ErrorBody),
        (status = 422, description = "No `refresh_token` in the body (body transport)", body = ErrorBody),
        (status = 429, description = "Too many requests from this address; see Retry-After", body = ErrorBody),
    )
)]
pub async fn refresh(
    request: HttpRequest,
    state: web::Data<AuthState>,
    db: web::Data<Database>,
    client: ClientInfo,
    transport: TokenTransport,
    OptionalJson(body): OptionalJson<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let invalid = |message: &str| -> ApiResult<HttpResponse> {
        let error = ApiError::unauthorized("invalid_refresh_token", message);
        if transport == TokenTransport::Cookie {
            let mut response = actix_web::ResponseError::error_response(&error);
            let _ = response.add_cookie(&expired_refresh_cookie(&state));
            return Ok(response);
        }
        Err(error)
    };
    let Some(presented) = presented_refresh_token(&request, transport, body)? else {
        return invalid("no refresh token was presented; log in again");
    };
    if presented.expose().chars().count() > MAX_REFRESH_TOKEN_CHARS {
        return invalid("the refresh token is invalid, expired or revoked; log in again");
    }
    let policy = state.session_policy;
    let rotation = db
        .transaction(move |connection| sessions::rotate(connection, &presented, &policy))
        .await?;
    match rotation {
        Rotation::Rotated { user, refresh } => {
            token_response(&state, StatusCode::OK, transport, &user, refresh)
        }
        Rotation::Conflict => Err(ApiError::conflict(
            "refresh_conflict",
            "this refresh token was just used; retry with the newest one",
        )),
        Rotation::ReuseDetected {
            user_id,
            session_id,
        } => {
            tracing::warn!(
                %user_id,
                %session_id,
                ip = client.ip_address.as_deref().unwrap_or("-"),
                "refresh token reuse detected; session revoked"
            );
            invalid("the refresh token was already used; the session has been revoked for safety")
        }
        Rotation::Invalid => {
            invalid("the refresh token is invalid, expired or revoked; log in again")
        }
    }
}

/// End the session the refresh token belongs to. Idempotent.
#[utoipa::path(
    post, path = "/api/auth/logout", tag = "auth",
    request_body(content = Option<RefreshRequest>, description = "Optional with the cookie transport"),
    params(("X-Token-Transport" = Option<String>, Header, description = "`cookie` to read the refresh token from its cookie (and clear it)")),
    responses(
        (status = 204, description = "The session is revoked (or already was)"),
        (status = 422, description = "No `refresh_token` in the body (body transport)", body = ErrorBody),
    )
)]
pub async fn logout(
    request: HttpRequest,
    state: web::Data<AuthState>,
    db: web::Data<Database>,
    transport: TokenTransport,
    OptionalJson(body): OptionalJson<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    if let Some(presented) = presented_refresh_token(&request, transport, body)?
        && let Some((session_id, user_id)) = db
            .run(move |connection| sessions::revoke_by_token(connection, &presented))
            .await?
    {
        tracing::warn!(%user_id, %session_id, "session revoked by logout");
    }
    Ok(no_content(&state, transport))
}

fn no_content(state: &AuthState, transport: TokenTransport) -> HttpResponse {
    let mut response = HttpResponse::NoContent();
    if transport == TokenTransport::Cookie {
        response.cookie(expired_refresh_cookie(state));
    }
    response.finish()
}

/// End every session of the caller, on every device.
#[utoipa::path(
    post, path = "/api/auth/logout-all", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Every session is revoked"),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
    )
)]
pub async fn logout_all(
    user: AuthenticatedUser,
    state: web::Data<AuthState>,
    db: web::Data<Database>,
    transport: TokenTransport,
) -> ApiResult<HttpResponse> {
    let user_id = user.user_id.clone();
    let revoked = db
        .run(move |connection| sessions::revoke_all_for_user(connection, &user_id))
        .await?;
    tracing::warn!(user_id = %user.user_id, revoked, "all sessions revoked");
    Ok(no_content(&state, transport))
}

/// The caller's account.
#[utoipa::path(
    get, path = "/api/auth/me", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The authenticated user", body = UserView),
        (status = 401, description = "Missing or invalid access token, or the account no longer exists", body = ErrorBody),
    )
)]
pub async fn me(
    user: AuthenticatedUser,
    db: web::Data<Database>,
) -> ApiResult<web::Json<UserView>> {
    let found = db
        .run(move |connection| accounts::find_by_id(connection, &user.user_id))
        .await?;
    // A token can outlive its account; it is no longer valid then.
    let user = found.ok_or_else(ApiError::invalid_token)?;
    Ok(web::Json(UserView::from(&user)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[schema(value_type = String, required = true)]
    pub current_password: Option<String>,
    /// 8 to 128 characters, and not easy to guess.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 128)]
    pub new_password: Option<String>,
}

/// Change the caller's password. Every other session is revoked; this one stays.
#[utoipa::path(
    post, path = "/api/auth/password", tag = "auth",
    request_body = ChangePasswordRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Changed; every other session is revoked"),
        (status = 401, description = "Wrong current password, or a missing or invalid access token", body = ErrorBody),
        (status = 422, description = "Missing fields, or a new password that is too short, too long or too easy to guess", body = ErrorBody),
        (status = 429, description = "Too many wrong passwords for this account; see Retry-After", body = ErrorBody),
    )
)]
pub async fn change_password(
    caller: AuthenticatedUser,
    state: web::Data<AuthState>,
    db: web::Data<Database>,
    client: ClientInfo,
    Json(request): Json<ChangePasswordRequest>,
) -> ApiResult<HttpResponse> {
    let mut errors = Vec::new();
    let current = required(request.current_password, "current_password", &mut errors);
    let new = required(request.new_password, "new_password", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let user_id = caller.user_id.clone();
    let user = db
        .run(move |connection| accounts::find_by_id(connection, &user_id))
        .await?
        .ok_or_else(ApiError::invalid_token)?;
    let new = NewPassword::parse(new, "new_password", &user.email, user.name.as_deref())
        .map_err(|e| ApiError::Validation(vec![e]))?;

    let throttle_key = throttle::key_for(&user.email);
    let Some(user) = check_password(
        &state,
        &db,
        throttle_key.clone(),
        current,
        Some(user),
        &client,
    )
    .await?
    else {
        return Err(ApiError::unauthorized(
            "invalid_credentials",
            "the current password is incorrect",
        ));
    };
    let hasher = state.hasher.clone();
    let new_hash = web::block(move || hasher.hash(new.expose()))
        .await?
        .map_err(ApiError::internal)?;
    let (user_id, keep) = (user.id.clone(), caller.session_id.clone());
    let revoked = db
        .transaction(move |connection| {
            accounts::update_password(connection, &user_id, &new_hash)?;
            throttle::reset(connection, &throttle_key)?;
            sessions::revoke_all_except(connection, &user_id, &keep)
        })
        .await?;
    tracing::warn!(
        user_id = %user.id,
        ip = client.ip_address.as_deref().unwrap_or("-"),
        other_sessions_revoked = revoked,
        "password changed"
    );
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_used_at: String,
    pub user_agent: Option<String>,
    pub ip_address: Option<String>,
    /// The session the calling access token belongs to.
    pub current: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionView>,
}

/// The caller's active sessions (logins), most recently used first.
#[utoipa::path(
    get, path = "/api/auth/sessions", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Active sessions", body = SessionList),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
    )
)]
pub async fn list_sessions(
    caller: AuthenticatedUser,
    db: web::Data<Database>,
) -> ApiResult<web::Json<SessionList>> {
    let user_id = caller.user_id.clone();
    let active = db
        .run(move |connection| sessions::list_active(connection, &user_id))
        .await?;
    Ok(web::Json(SessionList {
        items: active
            .into_iter()
            .map(|session| SessionView {
                current: session.id == caller.session_id,
                id: session.id,
                created_at: accounts::rfc3339(session.created_at),
                last_used_at: accounts::rfc3339(session.last_used_at),
                user_agent: session.user_agent,
                ip_address: session.ip_address,
            })
            .collect(),
    }))
}

/// Revoke one of the caller's sessions (log out another device).
#[utoipa::path(
    delete, path = "/api/auth/sessions/{session_id}", tag = "auth",
    params(("session_id" = String, Path, description = "Session id (UUID)")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 404, description = "No such active session for this user", body = ErrorBody),
    )
)]
pub async fn revoke_session(
    caller: AuthenticatedUser,
    path: web::Path<String>,
    db: web::Data<Database>,
) -> ApiResult<HttpResponse> {
    let session_id = path_id(&path.into_inner())?;
    let (user_id, revoked_id) = (caller.user_id.clone(), session_id.clone());
    db.run(move |connection| sessions::revoke_one(connection, &user_id, &revoked_id))
        .await?;
    tracing::warn!(user_id = %caller.user_id, %session_id, "session revoked by its owner");
    Ok(HttpResponse::NoContent().finish())
}
