//! The OpenAPI 3.1 document served at `GET /api/openapi.json`, generated from the handlers'
//! annotations and the request/response types so it cannot drift from the code, and the
//! interactive reference at `GET /docs/` that reads it.
//!
//! The reference is Swagger UI, embedded in the binary by `utoipa-swagger-ui`'s `vendored`
//! feature: nothing is fetched from a CDN, at build time or at run time. It runs under a
//! Content-Security-Policy as strict as the web client's: scripts and styles from this origin
//! only, no inline script, no framing.
//!
//! The compatibility routes `/api/{user_id}/tasks...` speak the seed dialect
//! (`tasks/seed_dialect`) and are documented with their own shapes: bare arrays, lenient
//! bodies, `user_id` on tasks and `detail` on errors.

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpResponse, web};
use utoipa::openapi::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

use crate::accounts::routes as accounts;
use crate::health;
use crate::sessions::input::TRANSPORT_HEADER;
use crate::sessions::routes as sessions;
use crate::tasks::routes as tasks;
use crate::tasks::seed_dialect::routes as seed;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "todo-server",
        description = "Private task lists behind short-lived JWT access tokens and rotating refresh tokens. Every error is `{\"error\": {\"code\", \"message\", \"details\"?}}`."
    ),
    paths(
        accounts::register,
        accounts::login,
        sessions::refresh,
        sessions::logout,
        sessions::logout_all,
        accounts::me,
        accounts::change_password,
        accounts::request_password_reset,
        accounts::confirm_password_reset,
        accounts::verify_email,
        accounts::resend_verification,
        accounts::delete_account,
        accounts::export_account,
        sessions::list_sessions,
        sessions::revoke_session,
        tasks::list_tasks,
        tasks::create_task,
        tasks::get_task,
        tasks::replace_task,
        tasks::patch_task,
        tasks::delete_task,
        tasks::toggle_task,
        seed::list_tasks,
        seed::create_task,
        seed::get_task,
        seed::replace_task,
        seed::patch_task,
        seed::delete_task,
        seed::complete_task,
        health::healthz,
        health::readyz,
    ),
    components(schemas(crate::errors::ErrorBody, crate::errors::ErrorDetail, crate::errors::FieldError, crate::tasks::seed_dialect::SeedErrorBody)),
    modifiers(&BearerScheme),
    tags((name = "auth", description = "Accounts and sessions"), (name = "tasks", description = "The caller's tasks"), (name = "seed dialect", description = "The caller's tasks in the shapes of the original Next.js + FastAPI design: bare arrays, lenient bodies, `detail` on errors"), (name = "account", description = "The caller's account as a whole: export and deletion"), (name = "health", description = "Probes for load balancers and orchestrators"))
)]
struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

const TASKS_PREFIX: &str = "/api/tasks";
const ACCOUNT_PREFIX: &str = "/api/auth/";
const COMPAT_TASKS_PREFIX: &str = "/api/{user_id}/tasks";

/// The complete document, with the answers every task write and every body can give.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut openapi = ApiDoc::openapi();
    for (path, item) in openapi.paths.paths.iter_mut() {
        let error_schema = error_schema_of(path);
        if path.starts_with(TASKS_PREFIX) || path.starts_with(COMPAT_TASKS_PREFIX) {
            for operation in [
                item.post.as_mut(),
                item.put.as_mut(),
                item.patch.as_mut(),
                item.delete.as_mut(),
            ]
            .into_iter()
            .flatten()
            {
                operation.responses.responses.insert(
                    "429".into(),
                    error_response(
                        "Too many task writes from this account (`TASK_WRITES_PER_MINUTE`); see Retry-After",
                        error_schema,
                    )
                    .into(),
                );
            }
        }
        for operation in operations_mut(item) {
            document_shared_failures(operation, error_schema);
            let needs_bearer = operation
                .security
                .as_ref()
                .is_some_and(|requirements| !requirements.is_empty());
            if needs_bearer && path.starts_with(ACCOUNT_PREFIX) {
                operation.responses.responses.insert(
                    "403".into(),
                    error_response(
                        "`external_identity`: the token was issued by an external service (`EXTERNAL_JWT_SECRET`, `EXTERNAL_JWKS_URL`); such identities have no password or sessions here",
                        error_schema,
                    )
                    .into(),
                );
            }
        }
    }
    openapi
}

/// The seed dialect's errors carry FastAPI's `detail` too.
fn error_schema_of(path: &str) -> &'static str {
    if path.starts_with(COMPAT_TASKS_PREFIX) {
        "SeedErrorBody"
    } else {
        "ErrorBody"
    }
}

/// Answers every operation of a kind can give, added here once instead of on each handler:
/// the body extractor's 400/413/415 and the transport header's 400.
fn document_shared_failures(operation: &mut utoipa::openapi::path::Operation, schema: &str) {
    let mut add = |status: &str, description: &str| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description, schema).into());
    };
    if operation.request_body.is_some() {
        add("400", "The body is not valid JSON (`malformed_json`)");
        add(
            "413",
            "The body is larger than 16 KiB (`payload_too_large`)",
        );
        add(
            "415",
            "A body was sent without `Content-Type: application/json` (`unsupported_media_type`)",
        );
    }
    let transport = operation
        .parameters
        .iter_mut()
        .flatten()
        .find(|parameter| parameter.name == TRANSPORT_HEADER);
    if let Some(parameter) = transport {
        parameter.schema = Some(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .enum_values(Some(["cookie", "body"]))
                .into(),
        );
        let response = error_response(
            "The body is not valid JSON, or `X-Token-Transport` is neither `cookie` nor `body`",
            schema,
        );
        operation
            .responses
            .responses
            .insert("400".into(), response.into());
    }
}

fn error_response(description: &str, schema: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name(schema)))
                .build(),
        )
        .build()
}

fn operations_mut(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// `GET /api/openapi.json`
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

/// The reference's policy: the web client's, except for one inline style. Swagger UI inserts
/// exactly one `<style>` of its own; it is allowed by its SHA-256 hash alone, never by
/// `'unsafe-inline'`, so no other inline style (nor any inline script) can apply. A Swagger UI
/// upgrade that changes it shows up as a CSP violation in the browser test
/// (`e2e/tests/docs.test.mjs`).
const DOCS_CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

/// Mounts `/docs/` (and `/docs`, which redirects there so relative asset paths resolve).
pub fn configure_docs(routes: &mut web::ServiceConfig) {
    routes
        .route(
            "/docs",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header((header::LOCATION, "/docs/"))
                    .finish()
            }),
        )
        .service(
            web::scope("/docs")
                .wrap(
                    DefaultHeaders::new()
                        .add((
                            header::CONTENT_SECURITY_POLICY,
                            DOCS_CONTENT_SECURITY_POLICY,
                        ))
                        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                        .add((header::REFERRER_POLICY, "no-referrer"))
                        .add((header::X_FRAME_OPTIONS, "DENY"))
                        .add((header::CACHE_CONTROL, "no-cache")),
                )
                // The document is the one at /api/openapi.json, not a second copy.
                .service(
                    SwaggerUi::new("/{_:.*}")
                        .config(utoipa_swagger_ui::Config::new(["/api/openapi.json"])),
                ),
        );
}
