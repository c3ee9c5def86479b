//! Liveness and readiness probes for load balancers and orchestrators.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::db::Database;
use crate::errors::ApiResult;

/// `GET /healthz`: the process is up and serving. Never touches the database.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// `GET /readyz`: the database answers. 503 (from [`Database::ping`]) while it does not.
pub async fn readyz(db: web::Data<Database>) -> ApiResult<HttpResponse> {
    db.ping().await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ready"})))
}
