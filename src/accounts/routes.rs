//! HTTP in and out for `/api/auth/register`, `/login`, `/me`, `/password` and
//! `/password-reset`: parse the body, run the account rules, start or end sessions through
//! `sessions/`, shape the answer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::backoff::BackoffKey;
use super::credentials::Email;
use super::input::{
    ChangePasswordRequest, DeleteAccountRequest, LoginRequest, PasswordResetConfirmRequest,
    PasswordResetRequest, RegisterRequest, ResendVerificationRequest, VerifyEmailRequest,
};
use super::login::{self, PasswordCheck};
use super::password_hash::PasswordHasher;
use super::store::{self, CreateUserError, TokenPurpose, User};
use super::strength::PasswordJudge;
use super::{email_verification, password_reset};
use crate::config::{AccountSettings, SessionSettings};
use crate::db::{self, Database};
use crate::errors::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, OptionalJson};
use crate::mail::MailDelivery;
use crate::operations::metrics::{self, LoginOutcome, RevocationReason};
use crate::sessions::input::{TokenTransport, presented_device_token};
use crate::sessions::revocations::RevocationFeed;
use crate::sessions::store::ClientInfo;
use crate::sessions::transport::{TokenResponse, UserView};
use crate::sessions::{lifecycle, store as session_store};
use crate::timestamp::rfc3339;
use crate::tokens::{AccessTokenKeys, AuthenticatedUser, DeviceTokens, sha256_hex};

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            created_at: rfc3339(user.created_at),
            email_verified: user.email_verified_at.is_some(),
        }
    }
}

impl From<CreateUserError> for ApiError {
    fn from(error: CreateUserError) -> Self {
        match error {
            CreateUserError::EmailTaken(taken) => {
                ApiError::conflict("email_taken", taken.to_string())
            }
            CreateUserError::Query(error) => error.into(),
        }
    }
}

/// The user whose password checked out, or the answer for a wrong password (401, with
/// `wrong`) or an attempt made while the back-off runs (429).
fn verified_user(check: PasswordCheck, wrong: &str) -> ApiResult<User> {
    match check {
        PasswordCheck::Verified(user) => Ok(user),
        PasswordCheck::Wrong => Err(ApiError::unauthorized("invalid_credentials", wrong)),
        PasswordCheck::Throttled(wait) => Err(ApiError::TooManyRequests {
            retry_after_seconds: wait.as_secs().max(1),
        }),
    }
}

/// The caller's account, once `password` checked out as a login's would (with the account's
/// back-off), and the back-off key to clear; 401 with `wrong` otherwise.
async fn confirm_password(
    caller: &AuthenticatedUser,
    db: &Database,
    hasher: &PasswordHasher,
    client: &ClientInfo,
    password: String,
    wrong: &str,
) -> ApiResult<(User, BackoffKey)> {
    let user_id = caller.user_id.clone();
    let user = db
        .read(move |connection| store::find_by_id(connection, &user_id))
        .await?
        .ok_or_else(ApiError::invalid_token)?;
    let key = BackoffKey::for_email(&user.email);
    let check = login::check_password::<ApiError>(
        db,
        hasher,
        &key,
        password,
        Some(user),
        client.ip_address.as_deref(),
    )
    .await?;
    Ok((verified_user(check, wrong)?, key))
}

/// Create an account and start its first session.
#[utoipa::path(
    post, path = "/api/auth/register", tag = "auth",
    request_body = RegisterRequest,
    params(("X-Token-Transport" = Option<String>, Header, description = "`cookie` to receive the refresh token as an HttpOnly cookie")),
    responses(
        (status = 201, description = "Account created", body = TokenResponse),
        (status = 202, description = "With REQUIRE_EMAIL_VERIFICATION, for every address: a new one gets a verification link, a taken one's owner a notice", body = VerificationPending),
        (status = 409, description = "Email already registered", body = ErrorBody),
        (status = 422, description = "Invalid email, password or name", body = ErrorBody),
        (status = 429, description = "Too many requests from this address; see Retry-After", body = ErrorBody),
    )
)]
#[expect(
    clippy::too_many_arguments,
    reason = "an actix handler takes one extractor per thing it needs, and shows them all"
)]
pub async fn register(
    judge: web::Data<PasswordJudge>,
    hasher: web::Data<PasswordHasher>,
    keys: web::Data<AccessTokenKeys>,
    devices: web::Data<DeviceTokens>,
    settings: web::Data<SessionSettings>,
    accounts: web::Data<AccountSettings>,
    mail: web::Data<MailDelivery>,
    db: web::Data<Database>,
    client: ClientInfo,
    transport: TokenTransport,
    Json(request): Json<RegisterRequest>,
) -> ApiResult<HttpResponse> {
    let registration = request.parse()?;
    let password = judge
        .judge(
            registration.password,
            "password",
            registration.email.as_str().to_owned(),
            registration.name.as_str().map(str::to_owned),
        )
        .await?
        .map_err(|weak| ApiError::Validation(vec![weak]))?;
    let password_hash = hasher
        .run(move |hasher| hasher.hash(password.expose()))
        .await?
        .map_err(ApiError::internal)?;
    if accounts.require_email_verification {
        // Everything that depends on the address happens after the answer, which is the same
        // for a new and a taken one (email_verification.rs).
        let (db, mail) = (db.into_inner(), mail.into_inner());
        actix_web::rt::spawn(async move {
            let registered = email_verification::register_unverified(
                &db,
                &mail,
                registration.email,
                registration.name,
                password_hash,
            )
            .await;
            if let Err(error) = registered {
                tracing::warn!(%error, "could not finish a registration");
            }
        });
        return Ok(HttpResponse::Accepted().json(VerificationPending {
            status: "verification_required",
        }));
    }
    let policy = **settings;
    let (public_url, send_link) = (mail.public_url.clone(), mail.available());
    let (user, refresh) = db
        .transaction(move |connection| {
            let user = store::create(
                connection,
                &registration.email,
                &registration.name,
                &password_hash,
            )?;
            let refresh = lifecycle::start(connection, &user.id, &client, &policy)?;
            if send_link {
                email_verification::queue_link(
                    connection,
                    &user.id,
                    &registration.email,
                    &public_url,
                )?;
            }
            Ok::<_, ApiError>((user, refresh))
        })
        .await?;
    mail.wake();
    tracing::info!(user_id = %user.id, "account registered");
    metrics::registration();
    let device_token = devices.issue(&user.id);
    transport.token_response(
        &keys,
        &settings,
        StatusCode::CREATED,
        UserView::from(&user),
        refresh,
        device_token,
    )
}

/// The answer to a registration while addresses must be verified, whatever the address.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct VerificationPending {
    /// Always `verification_required`: follow the mailed link, then log in.
    pub status: &'static str,
}

/// Log in with email and password; starts a new session.
#[utoipa::path(
    post, path = "/api/auth/login", tag = "auth",
    request_body = LoginRequest,
    params(
        ("X-Token-Transport" = Option<String>, Header, description = "`cookie` to receive the refresh token as an HttpOnly cookie"),
        ("X-Device-Token" = Option<String>, Header, description = "The `device_token` of an earlier login from this client: failed logins from elsewhere do not slow it down"),
    ),
    responses(
        (status = 200, description = "Logged in", body = TokenResponse),
        (status = 401, description = "Unknown email or wrong password (indistinguishable)", body = ErrorBody),
        (status = 403, description = "Right password, but REQUIRE_EMAIL_VERIFICATION is on and the address is not verified yet (`email_not_verified`)", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address, or too many failures for this email; see Retry-After", body = ErrorBody),
        (status = 422, description = "Missing fields", body = ErrorBody),
    )
)]
#[expect(
    clippy::too_many_arguments,
    reason = "an actix handler takes one extractor per thing it needs, and shows them all"
)]
pub async fn login(
    request: HttpRequest,
    hasher: web::Data<PasswordHasher>,
    keys: web::Data<AccessTokenKeys>,
    devices: web::Data<DeviceTokens>,
    settings: web::Data<SessionSettings>,
    accounts: web::Data<AccountSettings>,
    db: web::Data<Database>,
    client: ClientInfo,
    transport: TokenTransport,
    Json(body): Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let attempt = body.parse()?;
    let user = match Email::parse(&attempt.email) {
        Ok(email) => {
            db.read(move |connection| store::find_by_email(connection, &email))
                .await?
        }
        Err(_) => None,
    };
    // A device that logged in to this account before is judged by its own back-off, so
    // failures from anywhere else cannot hold it back (tokens/device.rs).
    let trusted_device = user.as_ref().and_then(|user| {
        presented_device_token(&request, transport)
            .and_then(|token| devices.verify(&token, &user.id))
    });
    let key = match &trusted_device {
        Some(device) => BackoffKey::for_device(device),
        None => BackoffKey::for_email(&attempt.email),
    };
    let check = login::check_password::<ApiError>(
        &db,
        &hasher,
        &key,
        attempt.password,
        user,
        client.ip_address.as_deref(),
    )
    .await?;
    metrics::login(match &check {
        PasswordCheck::Verified(_) => LoginOutcome::Ok,
        PasswordCheck::Wrong => LoginOutcome::Failed,
        PasswordCheck::Throttled(_) => LoginOutcome::Throttled,
    });
    let user = verified_user(check, "email or password is incorrect")?;
    // Only after the password checked out, so it reveals nothing to anyone else.
    if accounts.require_email_verification && user.email_verified_at.is_none() {
        return Err(ApiError::EmailNotVerified);
    }

    let policy = **settings;
    let (user_id, checked_hash) = (user.id.clone(), user.password_hash.clone());
    let refresh = db
        .transaction(move |connection| {
            // The password was checked against the hash read before; a change that committed
            // since then means it is no longer the password.
            if !store::confirm_credentials(connection, &user_id, &checked_hash)? {
                return Err(ApiError::unauthorized(
                    "invalid_credentials",
                    "email or password is incorrect",
                ));
            }
            store::reset_backoff(connection, &key)?;
            Ok(lifecycle::start(connection, &user_id, &client, &policy)?)
        })
        .await?;
    let device_token = devices.issue(&user.id);
    transport.token_response(
        &keys,
        &settings,
        StatusCode::OK,
        UserView::from(&user),
        refresh,
        device_token,
    )
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
    caller: AuthenticatedUser,
    db: web::Data<Database>,
) -> ApiResult<web::Json<UserView>> {
    let found = db
        .read(move |connection| store::find_by_id(connection, &caller.user_id))
        .await?;
    // A token can outlive its account; it is no longer valid then.
    let user = found.ok_or_else(ApiError::invalid_token)?;
    Ok(web::Json(UserView::from(&user)))
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
    judge: web::Data<PasswordJudge>,
    hasher: web::Data<PasswordHasher>,
    db: web::Data<Database>,
    revocations: web::Data<RevocationFeed>,
    client: ClientInfo,
    Json(request): Json<ChangePasswordRequest>,
) -> ApiResult<HttpResponse> {
    let change = request.parse()?;
    // The current password (and the back-off) first: scoring the new one is the expensive
    // step, and only the account's owner gets to make the server spend it.
    let (user, key) = confirm_password(
        &caller,
        &db,
        &hasher,
        &client,
        change.current_password,
        "the current password is incorrect",
    )
    .await?;
    let new_password = judge
        .judge(
            change.new_password,
            "new_password",
            user.email.clone(),
            user.name.clone(),
        )
        .await?
        .map_err(|weak| ApiError::Validation(vec![weak]))?;
    let new_hash = hasher
        .run(move |hasher| hasher.hash(new_password.expose()))
        .await?
        .map_err(ApiError::internal)?;
    let (user_id, keep) = (user.id.clone(), caller.session_id.clone());
    let revoked = db
        .transaction(move |connection| {
            if !store::update_password(connection, &user_id, &new_hash)? {
                // Deleted meanwhile: the token outlived its account.
                return Err(ApiError::invalid_token());
            }
            store::reset_backoff(connection, &key)?;
            Ok(session_store::revoke_all_of(
                connection,
                &user_id,
                Some(&keep),
            )?)
        })
        .await?;
    revocations
        .after_local_revocation(RevocationReason::PasswordChange)
        .await;
    tracing::warn!(
        user_id = %user.id,
        ip = client.ip_address.as_deref().unwrap_or("-"),
        other_sessions_revoked = revoked,
        "password changed"
    );
    Ok(HttpResponse::NoContent().finish())
}

/// The answer to a reset request, whatever the address.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ResetRequested {
    /// Always `accepted`.
    pub status: &'static str,
}

fn mail_unavailable() -> ApiError {
    ApiError::MailUnavailable
}

fn invalid_reset_token() -> ApiError {
    ApiError::bad_request(
        "invalid_reset_token",
        "this reset link is invalid, used or expired; ask for a new one",
    )
}

/// Ask for a password reset link by mail. The answer is the same, in content and timing, for
/// every address: whether it has an account is never revealed.
#[utoipa::path(
    post, path = "/api/auth/password-reset", tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If the address has an account, a link valid for 30 minutes is on its way (at most one a minute per account)", body = ResetRequested),
        (status = 422, description = "Not an email address", body = ErrorBody),
        (status = 429, description = "Too many requests from this address; see Retry-After", body = ErrorBody),
        (status = 503, description = "No mail server is configured (`mail_unavailable`)", body = ErrorBody),
    )
)]
pub async fn request_password_reset(
    db: web::Data<Database>,
    mail: web::Data<MailDelivery>,
    Json(request): Json<PasswordResetRequest>,
) -> ApiResult<HttpResponse> {
    if !mail.available() {
        return Err(mail_unavailable());
    }
    let email = request.parse()?;
    // Decided after answering, so the answer's timing cannot tell addresses apart.
    let (db, mail) = (db.into_inner(), mail.into_inner());
    actix_web::rt::spawn(async move {
        if let Err(error) = password_reset::start(&db, &mail, email).await {
            tracing::warn!(%error, "could not issue a password reset link");
        }
    });
    Ok(HttpResponse::Accepted().json(ResetRequested { status: "accepted" }))
}

/// Set a new password with the token of a reset link. Every session of the account ends and
/// its login back-off is cleared.
#[utoipa::path(
    post, path = "/api/auth/password-reset/confirm", tag = "auth",
    request_body = PasswordResetConfirmRequest,
    responses(
        (status = 204, description = "The password is changed; log in with it"),
        (status = 400, description = "The token is wrong, used, replaced by a newer link or expired (`invalid_reset_token`)", body = ErrorBody),
        (status = 422, description = "Missing fields, or a new password that is too short, too long or too easy to guess", body = ErrorBody),
        (status = 429, description = "Too many requests from this address; see Retry-After", body = ErrorBody),
    )
)]
pub async fn confirm_password_reset(
    judge: web::Data<PasswordJudge>,
    hasher: web::Data<PasswordHasher>,
    db: web::Data<Database>,
    revocations: web::Data<RevocationFeed>,
    Json(request): Json<PasswordResetConfirmRequest>,
) -> ApiResult<HttpResponse> {
    let confirm = request.parse()?;
    let token_hash = sha256_hex(&confirm.token);
    let lookup = token_hash.clone();
    let user = db
        .read(move |connection| {
            match store::token_holder(connection, &lookup, TokenPurpose::PasswordReset, db::now())?
            {
                Some(user_id) => store::find_by_id(connection, &user_id),
                None => Ok(None),
            }
        })
        .await?
        .ok_or_else(invalid_reset_token)?;
    let new_password = judge
        .judge(
            confirm.new_password,
            "new_password",
            user.email.clone(),
            user.name.clone(),
        )
        .await?
        .map_err(|weak| ApiError::Validation(vec![weak]))?;
    let new_hash = hasher
        .run(move |hasher| hasher.hash(new_password.expose()))
        .await?
        .map_err(ApiError::internal)?;
    let backoff = BackoffKey::for_email(&user.email);
    let revoked = db
        .transaction(move |connection| {
            // Used up first: of two uses of one link, one gets here.
            let Some(user_id) = store::consume_token(
                connection,
                &token_hash,
                TokenPurpose::PasswordReset,
                db::now(),
            )?
            else {
                return Err(invalid_reset_token());
            };
            if !store::update_password(connection, &user_id, &new_hash)? {
                return Err(invalid_reset_token());
            }
            store::reset_backoff(connection, &backoff)?;
            Ok(session_store::revoke_all_of(connection, &user_id, None)?)
        })
        .await?;
    revocations
        .after_local_revocation(RevocationReason::PasswordReset)
        .await;
    tracing::warn!(user_id = %user.id, sessions_revoked = revoked, "password reset by mailed link");
    Ok(HttpResponse::NoContent().finish())
}

/// Delete the caller's account, confirmed with its password: its tasks, sessions and tokens
/// are gone, its access tokens stop as sessions' do, and the address can register again.
#[utoipa::path(
    delete, path = "/api/account", tag = "account",
    request_body = DeleteAccountRequest,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid access token, or a wrong password (`invalid_credentials`)", body = ErrorBody),
        (status = 422, description = "No password", body = ErrorBody),
        (status = 429, description = "Too many wrong passwords; see Retry-After", body = ErrorBody),
    )
)]
pub async fn delete_account(
    caller: AuthenticatedUser,
    hasher: web::Data<PasswordHasher>,
    db: web::Data<Database>,
    revocations: web::Data<RevocationFeed>,
    client: ClientInfo,
    Json(request): Json<DeleteAccountRequest>,
) -> ApiResult<HttpResponse> {
    let password = request.parse()?;
    // A stolen access token alone cannot delete.
    let (user, key) = confirm_password(
        &caller,
        &db,
        &hasher,
        &client,
        password,
        "the password is incorrect",
    )
    .await?;
    let user_id = user.id.clone();
    let erased = db
        .transaction(move |connection| {
            let erased = store::erase_account(connection, &user_id, db::now())?;
            store::reset_backoff(connection, &key)?;
            Ok::<_, ApiError>(erased)
        })
        .await?;
    if !erased {
        return Err(ApiError::invalid_token());
    }
    revocations
        .after_local_revocation(RevocationReason::AccountDeleted)
        .await;
    tracing::warn!(user_id = %user.id, "account deleted by its owner");
    Ok(HttpResponse::NoContent().finish())
}

/// How many tasks the export reads and writes at a time: what it holds in memory.
const EXPORT_PAGE: i64 = 500;

/// Everything the service holds about the caller, as one JSON document (GDPR Art. 20):
/// `{"format", "exported_at", "user", "tasks": [...]}`. Streamed a page of tasks at a time, so a
/// long list never sits in memory.
#[utoipa::path(
    get, path = "/api/account/export", tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account and every task, as a download", body = AccountExport),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
    )
)]
pub async fn export_account(
    caller: AuthenticatedUser,
    db: web::Data<Database>,
) -> ApiResult<HttpResponse> {
    let user_id = caller.user_id.clone();
    let user = db
        .read(move |connection| store::find_by_id(connection, &user_id))
        .await?
        .ok_or_else(ApiError::invalid_token)?;
    let head = serde_json::json!({
        "format": "todo-server export 1",
        "exported_at": rfc3339(db::now()),
        "user": UserView::from(&user),
    });
    let mut opening = serde_json::to_vec(&head).map_err(ApiError::internal)?;
    // `{…, "user": {…}}` becomes `{…, "user": {…}, "tasks": [`: the tasks follow.
    opening.pop();
    opening.extend_from_slice(br#","tasks":["#);
    let pages = futures_util::stream::unfold(ExportState::Opening(opening), move |state| {
        let (db, owner) = (db.clone(), caller.user_id.clone());
        async move { state.next(&db, owner).await }
    });
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            actix_web::http::header::CONTENT_DISPOSITION,
            "attachment; filename=\"todo-export.json\"",
        ))
        .streaming(pages))
}

/// The shape of the export, for the OpenAPI document.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct AccountExport {
    /// `todo-server export 1`.
    pub format: String,
    #[schema(format = DateTime)]
    pub exported_at: String,
    pub user: UserView,
    pub tasks: Vec<crate::tasks::view::TaskView>,
}

/// Where the export stream is: the opening still to send, the page after `cursor`, or done.
enum ExportState {
    Opening(Vec<u8>),
    Tasks {
        cursor: Option<crate::tasks::list::Cursor>,
        first: bool,
    },
    Done,
}

impl ExportState {
    async fn next(
        self,
        db: &Database,
        owner: crate::ids::UserId,
    ) -> Option<(Result<actix_web::web::Bytes, ApiError>, Self)> {
        use crate::tasks::list::{ListRequest, StatusFilter};
        match self {
            Self::Done => None,
            Self::Opening(bytes) => Some((
                Ok(bytes.into()),
                Self::Tasks {
                    cursor: None,
                    first: true,
                },
            )),
            Self::Tasks { cursor, first } => {
                let request = ListRequest {
                    status: StatusFilter::All,
                    limit: EXPORT_PAGE,
                    cursor,
                };
                let page = db
                    .read(move |connection| crate::tasks::store::list(connection, &owner, &request))
                    .await;
                let (tasks, next) = match page {
                    Ok(page) => page,
                    // The download ends unfinished (the client sees a truncated document).
                    Err(error) => return Some((Err(error.into()), Self::Done)),
                };
                let mut chunk = Vec::with_capacity(tasks.len() * 200);
                for (index, task) in tasks.into_iter().enumerate() {
                    if !(first && index == 0) {
                        chunk.push(b',');
                    }
                    let view = crate::tasks::view::TaskView::from(task);
                    if let Err(error) = view.write_json(&mut chunk) {
                        return Some((Err(ApiError::internal(error)), Self::Done));
                    }
                }
                match next {
                    Some(cursor) => Some((
                        Ok(chunk.into()),
                        Self::Tasks {
                            cursor: Some(cursor),
                            first: false,
                        },
                    )),
                    None => {
                        chunk.extend_from_slice(b"]}");
                        Some((Ok(chunk.into()), Self::Done))
                    }
                }
            }
        }
    }
}

fn invalid_verification_token() -> ApiError {
    ApiError::bad_request(
        "invalid_verification_token",
        "this verification link is invalid, used or expired; ask for a new one",
    )
}

/// Prove the address with the token of the mailed link.
#[utoipa::path(
    post, path = "/api/auth/verify-email", tag = "auth",
    request_body = VerifyEmailRequest,
    responses(
        (status = 204, description = "The address is verified"),
        (status = 400, description = "The token is wrong, used, replaced by a newer link or expired (`invalid_verification_token`)", body = ErrorBody),
        (status = 422, description = "No token", body = ErrorBody),
        (status = 429, description = "Too many requests from this address; see Retry-After", body = ErrorBody),
    )
)]
pub async fn verify_email(
    db: web::Data<Database>,
    Json(request): Json<VerifyEmailRequest>,
) -> ApiResult<HttpResponse> {
    let token = request.parse()?;
    let token_hash = sha256_hex(&token);
    let verified = db
        .transaction(move |connection| {
            let now = db::now();
            match store::consume_token(connection, &token_hash, TokenPurpose::VerifyEmail, now)? {
                Some(user_id) => store::mark_email_verified(connection, &user_id, now),
                None => Ok(false),
            }
        })
        .await?;
    if !verified {
        return Err(invalid_verification_token());
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Ask for a new verification link: signed in (bearer, no body), or naming the address
/// (`{"email"}`, for someone who cannot log in before verifying). 202 whatever the address;
/// the newest link replaces the older ones.
#[utoipa::path(
    post, path = "/api/auth/verify-email/resend", tag = "auth",
    request_body(content = Option<ResendVerificationRequest>, description = "Without a bearer token"),
    responses(
        (status = 202, description = "If the account exists and is not verified, a new link is on its way (at most one a minute)", body = ResetRequested),
        (status = 401, description = "A bearer token was presented and is invalid", body = ErrorBody),
        (status = 422, description = "Neither a bearer token nor an email", body = ErrorBody),
        (status = 429, description = "Too many requests from this address; see Retry-After", body = ErrorBody),
        (status = 503, description = "No mail server is configured (`mail_unavailable`)", body = ErrorBody),
    )
)]
pub async fn resend_verification(
    caller: Option<AuthenticatedUser>,
    db: web::Data<Database>,
    mail: web::Data<MailDelivery>,
    OptionalJson(body): OptionalJson<ResendVerificationRequest>,
) -> ApiResult<HttpResponse> {
    if !mail.available() {
        return Err(mail_unavailable());
    }
    let to = match caller {
        Some(caller) => email_verification::Resend::Caller(caller.user_id),
        None => email_verification::Resend::Address(
            body.map_or(ResendVerificationRequest { email: None }, |body| body)
                .parse()?,
        ),
    };
    let (db, mail) = (db.into_inner(), mail.into_inner());
    actix_web::rt::spawn(async move {
        if let Err(error) = email_verification::resend(&db, &mail, to).await {
            tracing::warn!(%error, "could not send a verification link");
        }
    });
    Ok(HttpResponse::Accepted().json(ResetRequested { status: "accepted" }))
}
