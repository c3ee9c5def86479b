//! Liveness and readiness probes for load balancers and orchestrators.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::db::Database;
use crate::errors::{ApiResult, ErrorBody};

/// The process is up and serving. Never touches the database.
#[utoipa::path(
    get, path = "/healthz", tag = "health",
    responses((status = 200, description = "Up", body = Object, example = json!({"status": "ok"})))
)]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// The database answers: ready for traffic. 503 (from [`Database::ping`]) while it does not.
#[utoipa::path(
    get, path = "/readyz", tag = "health",
    responses(
        (status = 200, description = "Ready", body = Object, example = json!({"status": "ready"})),
        (status = 503, description = "The database does not answer", body = ErrorBody),
    )
)]
pub async fn readyz(db: web::Data<Database>) -> ApiResult<HttpResponse> {
    db.ping().await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
}
