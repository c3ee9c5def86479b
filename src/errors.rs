//! The one error type of the HTTP layer and its JSON rendering.
//!
//! Every failure a client can see is an [`ApiError`] variant with a status code and a stable
//! machine-readable `code`. Storage and the rules never produce one: they answer in domain
//! terms (`Option`, outcome enums, [`DbError`]), and the HTTP layer (each concept's
//! `routes.rs`, and the conversions at the end of this file) chooses the status. The body is always `{"error": {"code", "message", "details"?}}`.
//! Internal causes (database errors, pool time-outs) are logged here and never sent to the
//! client: a 500 says only that something went wrong.
//!
//! actix-web's own failures (unknown route, wrong method, an extractor we do not own) come out
//! of the framework as empty-bodied responses; [`render_framework_errors`] turns those into the
//! same JSON shape so a client never has to parse two kinds of error.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;

use crate::accounts::password_work::PasswordWorkLost;
use crate::db::DbError;

/// One field that failed validation, named as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// The request carried no usable credentials, or the credentials were wrong.
    #[error("{message}")]
    Unauthorized {
        code: &'static str,
        message: String,
        /// Whether a bearer token was presented; RFC 6750 §3.1 adds `error="invalid_token"` then.
        bearer_challenge: BearerChallenge,
    },
    #[error("you may not access this resource")]
    Forbidden,
    /// An identity another service vouches for, on a route that needs a local account.
    #[error(
        "this identity is managed by the service that issued its token: it has no password or sessions here"
    )]
    ExternalIdentity,
    #[error("not found")]
    NotFound,
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("request body is too large")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("request validation failed")]
    Validation(Vec<FieldError>),
    #[error("too many requests")]
    TooManyRequests { retry_after_seconds: u64 },
    #[error("the service is temporarily unavailable")]
    Unavailable,
    /// The password was right, but the address was never verified and must be.
    #[error(
        "confirm your email address first: follow the link we mailed you, or ask for a new one"
    )]
    EmailNotVerified,
    /// A flow that sends mail, on a server with no mail server configured.
    #[error("this server cannot send mail; ask its operator to configure SMTP_URL")]
    MailUnavailable,
    #[error("internal error")]
    Internal(String),
}

/// What a 401 tells the client in `WWW-Authenticate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerChallenge {
    /// Not a bearer-guarded request (login, refresh): no challenge header.
    None,
    /// No bearer credentials were sent: `WWW-Authenticate: Bearer`.
    Missing,
    /// A token was sent and rejected: `WWW-Authenticate: Bearer error="invalid_token"`.
    InvalidToken,
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            message: message.into(),
            bearer_challenge: BearerChallenge::None,
        }
    }

    pub fn missing_bearer() -> Self {
        Self::Unauthorized {
            code: "missing_token",
            message: "a bearer access token is required".into(),
            bearer_challenge: BearerChallenge::Missing,
        }
    }

    pub fn invalid_token() -> Self {
        Self::Unauthorized {
            code: "invalid_token",
            message: "the access token is invalid or has expired".into(),
            bearer_challenge: BearerChallenge::InvalidToken,
        }
    }

    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// Logs the real cause and hides it from the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let cause = cause.to_string();
        tracing::error!(%cause, "internal error");
        Self::Internal(cause)
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::BadRequest { code, .. } => code,
            Self::Unauthorized { code, .. } => code,
            Self::Forbidden => "forbidden",
            Self::ExternalIdentity => "external_identity",
            Self::NotFound => "not_found",
            Self::Conflict { code, .. } => code,
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Validation(_) => "validation_failed",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::Unavailable => "service_unavailable",
            Self::MailUnavailable => "mail_unavailable",
            Self::EmailNotVerified => "email_not_verified",
            Self::Internal(_) => "internal_error",
        }
    }
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `validation_failed`, `invalid_token`, `not_found`, ...
    pub code: String,
    /// Human-readable; may change between versions.
    pub message: String,
    /// Per-field problems, present on 422 `validation_failed` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<FieldError>>,
}

impl ErrorBody {
    pub fn new(code: &str, message: &str) -> Self {
        Self {
            error: ErrorDetail {
                code: code.to_owned(),
                message: message.to_owned(),
                details: None,
            },
        }
    }

    /// The body for an error the framework answered on its own, with no body of ours.
    pub fn for_framework_error(status: StatusCode) -> Self {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "no such resource"),
            StatusCode::METHOD_NOT_ALLOWED => {
                ("method_not_allowed", "method not allowed on this resource")
            }
            StatusCode::UNAUTHORIZED => ("missing_token", "a bearer access token is required"),
            StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "request body is too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ("unsupported_media_type", "unsupported content type")
            }
            status if status.is_server_error() => ("internal_error", "internal error"),
            _ => ("bad_request", "the request could not be understood"),
        };
        Self::new(code, message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::ExternalIdentity => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable | Self::MailUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::EmailNotVerified => StatusCode::FORBIDDEN,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut body = ErrorBody::new(self.code(), &self.to_string());
        if let Self::Validation(fields) = self {
            body.error.details = Some(fields.clone());
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::Unauthorized {
                bearer_challenge: BearerChallenge::Missing,
                ..
            } => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            Self::Unauthorized {
                bearer_challenge: BearerChallenge::InvalidToken,
                ..
            } => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#));
            }
            Self::TooManyRequests {
                retry_after_seconds,
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
            }
            Self::Unavailable => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            _ => {}
        }
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        response.json(body)
    }
}

impl From<PasswordWorkLost> for ApiError {
    fn from(error: PasswordWorkLost) -> Self {
        Self::internal(error)
    }
}

/// A database that cannot be reached is a 503 the client may retry; anything else that went
/// wrong in the database is a 500 whose cause goes to the log only. "No such row" never
/// arrives here: the stores answer it with `Option`, and each route decides what it means.
impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Unavailable => ApiError::Unavailable,
            DbError::Lost(cause) => ApiError::internal(cause),
            DbError::Query(error) => error.into(),
        }
    }
}

impl From<DieselError> for ApiError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                tracing::error!(message = info.message(), "database connection lost");
                ApiError::Unavailable
            }
            other => ApiError::internal(other),
        }
    }
}

/// Replaces the empty or plain-text body of a framework-generated error (404 for an unknown
/// route, 405 for a wrong method, ...) with the JSON error shape. Responses that already carry
/// JSON (every [`ApiError`]) pass through untouched.
pub fn render_framework_errors<B: MessageBody + 'static>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let already_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if already_json {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let (request, mut response) = response.into_parts();
    let body =
        serde_json::to_vec(&ErrorBody::for_framework_error(response.status())).unwrap_or_default();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let response = response.set_body(BoxBody::new(body));
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(request, response).map_into_right_body(),
    ))
}

/// Shorthand used by handlers that answer with an [`ApiError`].
pub type ApiResult<T> = Result<T, ApiError>;
