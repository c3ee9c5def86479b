//! The seed dialect: `/api/{user_id}/tasks…` as the design this service grew out of speaks it
//! (a Next.js + Better Auth frontend in front of a FastAPI backend), so clients written for
//! that design work against us unchanged. The canonical routes (`/api/tasks…`) keep their own
//! shapes and their strictness; nothing here changes them.
//!
//! What differs from the canonical routes, and why (each found in seed clients):
//! - the list is a bare JSON array, up to 1,000 tasks without a `limit`, with an RFC 8288
//!   `Link: <…>; rel="next"` header when more follow (clients that read one array keep working,
//!   and none is silently cut short without a signal);
//! - `PUT` changes only the fields it carries, like `PATCH` (seed clients send partial `PUT`s);
//! - bodies may carry read-only (`id`, `user_id`, `created_at`, `updated_at`) and unknown fields
//!   (`priority`, `due_date`): they are ignored, as FastAPI does by default, never a 422;
//! - `PATCH …/complete` with `{"completed": bool}` sets the flag; without a body it toggles;
//! - a task carries `user_id` (the path's id), and every error carries FastAPI's
//!   `"detail": "<message>"` beside our `error` object, since seed clients read `detail`.
//!
//! The alternative, one set of handlers with a lenient parser for both families, was rejected:
//! it would have made the canonical contract lenient too, and a typo in a field name there must
//! stay a 422.
//!
//! - [`input`]: the lenient bodies and the list query, handed on to the canonical parsers.
//! - [`routes`]: the handlers; same store calls as the canonical ones, other shapes.

pub mod input;
pub mod routes;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpResponse, web};
use serde::Serialize;
use serde_json::Value;

use crate::errors::{ErrorBody, ErrorDetail};
use crate::tokens::bearer_guard;

/// An error on the seed routes: our error object, and FastAPI's `detail` with the same message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SeedErrorBody {
    pub error: ErrorDetail,
    /// The same text as `error.message`, where FastAPI clients look for it.
    pub detail: String,
}

/// Mounts `/{user_id}/tasks…` inside the `/api` scope.
pub fn configure(config: &mut web::ServiceConfig) {
    config.service(
        web::scope("/{user_id}/tasks")
            .wrap(bearer_guard())
            // Outermost, so the guard's refusals get `detail` too.
            .wrap(from_fn(with_fastapi_detail))
            .service(
                web::resource("")
                    .route(web::get().to(routes::list_tasks))
                    .route(web::post().to(routes::create_task)),
            )
            .service(
                web::resource("/{task_id}")
                    .route(web::get().to(routes::get_task))
                    .route(web::put().to(routes::replace_task))
                    .route(web::patch().to(routes::patch_task))
                    .route(web::delete().to(routes::delete_task)),
            )
            .service(
                web::resource("/{task_id}/complete").route(web::patch().to(routes::complete_task)),
            ),
    );
}

/// Adds `"detail"` to every error answered under the seed routes: our own errors (whether a
/// handler, an extractor or the guard refused), and the framework's bodiless ones (405), which
/// get the body every other error has.
async fn with_fastapi_detail(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let response = match next.call(request).await {
        Ok(response) => response.map_into_boxed_body(),
        // A refusal by the guard arrives as an error, not a response. Its body is ours and
        // already in memory, so it is rewritten as it stands and passed on as an error.
        Err(error) => {
            let refusal = error.error_response();
            let status = refusal.status();
            let (head, body) = refusal.into_parts();
            let bytes = body.try_into_bytes().unwrap_or_default();
            let body = with_detail(&bytes, || ErrorBody::for_framework_error(status));
            let refusal = json_body(head, body);
            return Err(InternalError::from_response(error.to_string(), refusal).into());
        }
    };
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return Ok(response);
    }
    let (request, response) = response.into_parts();
    let (head, body) = response.into_parts();
    let bytes = actix_web::body::to_bytes(body).await.unwrap_or_default();
    let body = with_detail(&bytes, || ErrorBody::for_framework_error(status));
    Ok(ServiceResponse::new(request, json_body(head, body)))
}

fn json_body(head: HttpResponse<()>, body: Vec<u8>) -> HttpResponse {
    let mut response = head.set_body(BoxBody::new(body));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `body` (our JSON error, or `fallback` when it is not one) with `detail` beside `error`.
fn with_detail(body: &[u8], fallback: impl FnOnce() -> ErrorBody) -> Vec<u8> {
    let mut error = serde_json::from_slice::<Value>(body)
        .ok()
        .filter(|value| value["error"]["message"].is_string())
        .or_else(|| serde_json::to_value(fallback()).ok())
        .unwrap_or_default();
    if let Some(fields) = error.as_object_mut() {
        let message = fields["error"]["message"].clone();
        fields.insert("detail".into(), message);
    }
    serde_json::to_vec(&error).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::StatusCode;

    #[test]
    fn detail_repeats_the_message_and_keeps_the_error_object() {
        let ours = br#"{"error":{"code":"not_found","message":"not found"}}"#;
        let body: Value = serde_json::from_slice(&with_detail(ours, || unreachable!())).unwrap();
        assert_eq!(body["detail"], "not found");
        assert_eq!(body["error"]["code"], "not_found");
        let bodiless = with_detail(b"", || {
            ErrorBody::for_framework_error(StatusCode::METHOD_NOT_ALLOWED)
        });
        let body: Value = serde_json::from_slice(&bodiless).unwrap();
        assert_eq!(body["error"]["code"], "method_not_allowed");
        assert_eq!(body["detail"], body["error"]["message"]);
    }
}
