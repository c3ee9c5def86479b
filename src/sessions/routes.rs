//! HTTP in and out for `/api/auth/refresh`, `/logout`, `/logout-all` and `/sessions`: parse the
//! request, run the session rules in one transaction, shape the answer. Nothing else.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::input::{PresentedRefresh, RefreshRequest, TokenTransport};
use super::lifecycle::{self, Rotation};
use super::revocations::RevocationFeed;
use super::store;
use super::store::ClientInfo;
use super::transport::UserView;
use crate::config::SessionSettings;
use crate::db::Database;
use crate::errors::{ApiError, ApiResult, ErrorBody};
use crate::extract::OptionalJson;
use crate::ids::SessionId;
use crate::operations::metrics::{self, RefreshOutcome, RevocationReason};
use crate::timestamp::rfc3339;
use crate::tokens::{AccessTokenKeys, AuthenticatedUser, SuccessorKey};

const NOTHING_PRESENTED: &str = "no refresh token was presented; log in again";
const NOT_USABLE: &str = "the refresh token is invalid, expired or revoked; log in again";
const REUSED: &str = "the refresh token was already used; the session has been revoked for safety";

fn invalid_refresh_token(message: &str) -> ApiError {
    ApiError::unauthorized("invalid_refresh_token", message)
}

/// Exchange a refresh token for a new pair. The presented token is rotated: presented again
/// within `REFRESH_REUSE_GRACE_SECONDS` it gets the same successor (a safe retry); after that,
/// or once the successor has been used, it revokes the session.
#[utoipa::path(
    post, path = "/api/auth/refresh", tag = "auth",
    request_body(content = Option<RefreshRequest>, description = "Optional with the cookie transport"),
    params(("X-Token-Transport" = Option<String>, Header, description = "`cookie` to read and set the refresh token as an HttpOnly cookie")),
    responses(
        (status = 200, description = "A new token pair. A token presented again within the grace window (a retry after a lost response, or concurrent refreshes) gets the same refresh token as the first time, with a fresh access token", body = super::transport::TokenResponse),
        (status = 401, description = "Unknown, expired or revoked token; a token reused after the grace window, or after its successor was used, also revokes its session", body = ErrorBody),
        (status = 422, description = "No `refresh_token` in the body (body transport)", body = ErrorBody),
        (status = 429, description = "Too many requests from this address; see Retry-After", body = ErrorBody),
    )
)]
// Each argument is an extractor: the signature names exactly what the handler uses.
#[allow(clippy::too_many_arguments)]
pub async fn refresh(
    request: HttpRequest,
    keys: web::Data<AccessTokenKeys>,
    successor_key: web::Data<SuccessorKey>,
    settings: web::Data<SessionSettings>,
    db: web::Data<Database>,
    revocations: web::Data<RevocationFeed>,
    client: ClientInfo,
    transport: TokenTransport,
    OptionalJson(body): OptionalJson<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let presented = match PresentedRefresh::from_request(&request, transport, body)? {
        PresentedRefresh::Token(token) => token,
        PresentedRefresh::Nothing => {
            return transport.refused(&settings, invalid_refresh_token(NOTHING_PRESENTED));
        }
        PresentedRefresh::Oversized => {
            return transport.refused(&settings, invalid_refresh_token(NOT_USABLE));
        }
    };
    let policy = **settings;
    let successor_key = successor_key.into_inner();
    let rotation = db
        .transaction(move |connection| {
            lifecycle::rotate(connection, &presented, &successor_key, &policy)
        })
        .await?;
    match rotation {
        Rotation::Rotated {
            holder,
            refresh,
            retried,
        } => {
            metrics::refresh(if retried {
                RefreshOutcome::Retried
            } else {
                RefreshOutcome::Rotated
            });
            if retried {
                tracing::info!(
                    user_id = %holder.id,
                    session_id = %refresh.session_id,
                    "refresh retried within the grace window; the same successor was handed out"
                );
            }
            transport.token_response(
                &keys,
                &settings,
                StatusCode::OK,
                UserView::from(holder),
                refresh,
                None,
            )
        }
        Rotation::ReuseDetected(owner) => {
            metrics::refresh(RefreshOutcome::ReuseDetected);
            revocations
                .after_local_revocation(RevocationReason::Reuse)
                .await;
            tracing::warn!(
                user_id = %owner.user_id,
                session_id = %owner.session_id,
                ip = client.ip_address.as_deref().unwrap_or("-"),
                "refresh token reuse detected; session revoked"
            );
            transport.refused(&settings, invalid_refresh_token(REUSED))
        }
        Rotation::Invalid => {
            metrics::refresh(RefreshOutcome::Refused);
            transport.refused(&settings, invalid_refresh_token(NOT_USABLE))
        }
    }
}

impl From<store::SessionHolder> for UserView {
    fn from(holder: store::SessionHolder) -> Self {
        Self {
            id: holder.id,
            email: holder.email,
            name: holder.name,
            created_at: rfc3339(holder.created_at),
            email_verified: holder.email_verified_at.is_some(),
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
    settings: web::Data<SessionSettings>,
    db: web::Data<Database>,
    revocations: web::Data<RevocationFeed>,
    transport: TokenTransport,
    OptionalJson(body): OptionalJson<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    if let PresentedRefresh::Token(presented) =
        PresentedRefresh::from_request(&request, transport, body)?
        && let Some(owner) = db
            .transaction(move |connection| lifecycle::end_by_token(connection, &presented))
            .await?
    {
        revocations
            .after_local_revocation(RevocationReason::Logout)
            .await;
        tracing::warn!(user_id = %owner.user_id, session_id = %owner.session_id, "session revoked by logout");
    }
    Ok(transport.ended(&settings))
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
    caller: AuthenticatedUser,
    settings: web::Data<SessionSettings>,
    db: web::Data<Database>,
    revocations: web::Data<RevocationFeed>,
    transport: TokenTransport,
) -> ApiResult<HttpResponse> {
    let user_id = caller.user_id.clone();
    let revoked = db
        .write(move |connection| store::revoke_all_of(connection, &user_id, None))
        .await?;
    revocations
        .after_local_revocation(RevocationReason::LogoutAll)
        .await;
    tracing::warn!(user_id = %caller.user_id, revoked, "all sessions revoked");
    Ok(transport.ended(&settings))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    #[schema(value_type = String, format = Uuid)]
    pub id: SessionId,
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
        .read(move |connection| store::list_active(connection, &user_id))
        .await?;
    Ok(web::Json(SessionList {
        items: active
            .into_iter()
            .map(|session| SessionView {
                current: session.id == caller.session_id,
                id: session.id,
                created_at: rfc3339(session.created_at),
                last_used_at: rfc3339(session.last_used_at),
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
    session_id: web::Path<SessionId>,
    db: web::Data<Database>,
    revocations: web::Data<RevocationFeed>,
) -> ApiResult<HttpResponse> {
    let session_id = session_id.into_inner();
    let (user_id, revoked_id) = (caller.user_id.clone(), session_id.clone());
    let revoked = db
        .write(move |connection| store::revoke_owned(connection, &user_id, &revoked_id))
        .await?;
    if !revoked {
        return Err(ApiError::NotFound);
    }
    revocations
        .after_local_revocation(RevocationReason::Revoke)
        .await;
    tracing::warn!(user_id = %caller.user_id, %session_id, "session revoked by its owner");
    Ok(HttpResponse::NoContent().finish())
}
