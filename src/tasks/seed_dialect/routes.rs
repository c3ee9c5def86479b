//! The seed dialect's handlers: the same store calls as [`crate::tasks::routes`], with the
//! seed design's shapes in and out.

use actix_web::http::header::{LINK, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::SeedErrorBody;
use super::input::{SeedCompleteRequest, SeedCreateRequest, SeedListQuery, SeedUpdateRequest};
use crate::config::Quotas;
use crate::db::Database;
use crate::errors::{ApiError, ApiResult};
use crate::extract::{Json, OptionalJson};
use crate::ids::TaskId;
use crate::tasks::input::TaskChanges;
use crate::tasks::list::{Cursor, ListRequest};
use crate::tasks::routes::{TaskOwner, insert_within_quota};
use crate::tasks::store::{self, Task};
use crate::timestamp::Rfc3339;

/// A task as seed clients read it: the canonical fields plus the owner's id as the path names
/// it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SeedTask {
    #[schema(value_type = String, format = Uuid)]
    pub id: TaskId,
    /// The `{user_id}` of the path.
    pub user_id: String,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    /// RFC 3339, UTC.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Rfc3339,
    /// RFC 3339, UTC; moves on every change.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Rfc3339,
}

impl SeedTask {
    fn new(task: Task, user_id: &str) -> Self {
        Self {
            id: task.id,
            user_id: user_id.to_owned(),
            title: task.title,
            description: task.description,
            completed: task.completed,
            created_at: Rfc3339(task.created_at),
            updated_at: Rfc3339(task.updated_at),
        }
    }
}

#[derive(Deserialize)]
pub struct SeedUserPath {
    user_id: String,
}

/// A path segment that is not a UUID fails to deserialize, which the app answers with 404.
#[derive(Deserialize)]
pub struct SeedTaskPath {
    user_id: String,
    task_id: TaskId,
}

/// The answer for a task the caller does not have.
fn found(task: Option<Task>, user_id: &str) -> ApiResult<web::Json<SeedTask>> {
    task.map(|task| web::Json(SeedTask::new(task, user_id)))
        .ok_or(ApiError::NotFound)
}

/// RFC 8288 §3: a `Link` header whose target is a URI reference, resolved against the request's
/// own URI, so the path is repeated as the client sent it.
fn next_page_link(path: &str, request: &ListRequest, next: &Cursor) -> String {
    format!(
        r#"<{path}?status={}&limit={}&cursor={}>; rel="next""#,
        request.status.as_str(),
        request.limit,
        next.encode()
    )
}

/// List the user's tasks, newest first, as a bare array.
#[utoipa::path(
    get, path = "/api/{user_id}/tasks", tag = "seed dialect",
    params(("user_id" = String, Path, description = "The authenticated user's id"), SeedListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Up to `limit` (default 1000) tasks; when more follow, a `Link: <…>; rel=\"next\"` header (RFC 8288) names the next page",
            body = Vec<SeedTask>,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when more tasks follow"))),
        (status = 401, description = "Missing or invalid access token", body = SeedErrorBody),
        (status = 403, description = "`{user_id}` is not the token's subject; nothing is read", body = SeedErrorBody),
        (status = 422, description = "Invalid status, limit or cursor", body = SeedErrorBody),
    )
)]
pub async fn list_tasks(
    request: HttpRequest,
    owner: TaskOwner,
    path: web::Path<SeedUserPath>,
    db: web::Data<Database>,
    query: web::Query<SeedListQuery>,
) -> ApiResult<HttpResponse> {
    let list = query.into_inner().parse()?;
    let asked = list.clone();
    let (tasks, next) = db
        .read(move |connection| store::list(connection, &owner.user_id, &list))
        .await?;
    let user_id = path.into_inner().user_id;
    let body: Vec<SeedTask> = tasks
        .into_iter()
        .map(|task| SeedTask::new(task, &user_id))
        .collect();
    let mut response = HttpResponse::Ok();
    if let Some(next) = next {
        response.insert_header((LINK, next_page_link(request.path(), &asked, &next)));
    }
    Ok(response.json(body))
}

/// Create a task; read-only and unknown fields are ignored.
#[utoipa::path(
    post, path = "/api/{user_id}/tasks", tag = "seed dialect",
    params(("user_id" = String, Path, description = "The authenticated user's id")),
    request_body = SeedCreateRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `Location` names the new task", body = SeedTask),
        (status = 401, description = "Missing or invalid access token", body = SeedErrorBody),
        (status = 403, description = "`{user_id}` is not the token's subject; nothing is written", body = SeedErrorBody),
        (status = 409, description = "`task_limit_reached`: the account holds `MAX_TASKS_PER_USER` tasks", body = SeedErrorBody),
        (status = 422, description = "Invalid title or description", body = SeedErrorBody),
    )
)]
pub async fn create_task(
    request: HttpRequest,
    owner: TaskOwner,
    path: web::Path<SeedUserPath>,
    quotas: web::Data<Quotas>,
    db: web::Data<Database>,
    Json(body): Json<SeedCreateRequest>,
) -> ApiResult<HttpResponse> {
    let task = insert_within_quota(&db, &quotas, owner, body.parse()?).await?;
    let location = format!("{}/{}", request.path().trim_end_matches('/'), task.id);
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, location))
        .json(SeedTask::new(task, &path.user_id)))
}

/// Read one task.
#[utoipa::path(
    get, path = "/api/{user_id}/tasks/{task_id}", tag = "seed dialect",
    params(
        ("user_id" = String, Path, description = "The authenticated user's id"),
        ("task_id" = String, Path, description = "Task id (UUID)"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The task", body = SeedTask),
        (status = 401, description = "Missing or invalid access token", body = SeedErrorBody),
        (status = 403, description = "`{user_id}` is not the token's subject; nothing is read", body = SeedErrorBody),
        (status = 404, description = "No such task for this user", body = SeedErrorBody),
    )
)]
pub async fn get_task(
    owner: TaskOwner,
    path: web::Path<SeedTaskPath>,
    db: web::Data<Database>,
) -> ApiResult<web::Json<SeedTask>> {
    let SeedTaskPath { user_id, task_id } = path.into_inner();
    let task = db
        .read(move |connection| store::find(connection, &owner.user_id, &task_id))
        .await?;
    found(task, &user_id)
}

/// Change the fields given (for `PUT` as for `PATCH`): absent fields stay as they are;
/// read-only and unknown fields are ignored.
#[utoipa::path(
    put, path = "/api/{user_id}/tasks/{task_id}", tag = "seed dialect",
    params(
        ("user_id" = String, Path, description = "The authenticated user's id"),
        ("task_id" = String, Path, description = "Task id (UUID)"),
    ),
    request_body = SeedUpdateRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The task, changed", body = SeedTask),
        (status = 401, description = "Missing or invalid access token", body = SeedErrorBody),
        (status = 403, description = "`{user_id}` is not the token's subject; nothing is written", body = SeedErrorBody),
        (status = 404, description = "No such task for this user", body = SeedErrorBody),
        (status = 422, description = "Invalid title or description", body = SeedErrorBody),
    )
)]
pub async fn replace_task(
    owner: TaskOwner,
    path: web::Path<SeedTaskPath>,
    db: web::Data<Database>,
    body: Json<SeedUpdateRequest>,
) -> ApiResult<web::Json<SeedTask>> {
    update(owner, path, db, body).await
}

/// Change the fields given; read-only and unknown fields are ignored.
#[utoipa::path(
    patch, path = "/api/{user_id}/tasks/{task_id}", tag = "seed dialect",
    params(
        ("user_id" = String, Path, description = "The authenticated user's id"),
        ("task_id" = String, Path, description = "Task id (UUID)"),
    ),
    request_body = SeedUpdateRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The task, changed", body = SeedTask),
        (status = 401, description = "Missing or invalid access token", body = SeedErrorBody),
        (status = 403, description = "`{user_id}` is not the token's subject; nothing is written", body = SeedErrorBody),
        (status = 404, description = "No such task for this user", body = SeedErrorBody),
        (status = 422, description = "Invalid title or description", body = SeedErrorBody),
    )
)]
pub async fn patch_task(
    owner: TaskOwner,
    path: web::Path<SeedTaskPath>,
    db: web::Data<Database>,
    body: Json<SeedUpdateRequest>,
) -> ApiResult<web::Json<SeedTask>> {
    update(owner, path, db, body).await
}

async fn update(
    owner: TaskOwner,
    path: web::Path<SeedTaskPath>,
    db: web::Data<Database>,
    Json(body): Json<SeedUpdateRequest>,
) -> ApiResult<web::Json<SeedTask>> {
    let SeedTaskPath { user_id, task_id } = path.into_inner();
    let changes = body.parse()?;
    let task = db
        .write(move |connection| store::patch(connection, &owner.user_id, &task_id, changes))
        .await?;
    found(task, &user_id)
}

/// Delete a task.
#[utoipa::path(
    delete, path = "/api/{user_id}/tasks/{task_id}", tag = "seed dialect",
    params(
        ("user_id" = String, Path, description = "The authenticated user's id"),
        ("task_id" = String, Path, description = "Task id (UUID)"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid access token", body = SeedErrorBody),
        (status = 403, description = "`{user_id}` is not the token's subject; nothing is written", body = SeedErrorBody),
        (status = 404, description = "No such task for this user", body = SeedErrorBody),
    )
)]
pub async fn delete_task(
    owner: TaskOwner,
    path: web::Path<SeedTaskPath>,
    db: web::Data<Database>,
) -> ApiResult<HttpResponse> {
    let task_id = path.into_inner().task_id;
    let deleted = db
        .write(move |connection| store::delete(connection, &owner.user_id, &task_id))
        .await?;
    if !deleted {
        return Err(ApiError::NotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

/// `{"completed": bool}` sets `completed`; without a body (or without `completed`) it toggles.
#[utoipa::path(
    patch, path = "/api/{user_id}/tasks/{task_id}/complete", tag = "seed dialect",
    params(
        ("user_id" = String, Path, description = "The authenticated user's id"),
        ("task_id" = String, Path, description = "Task id (UUID)"),
    ),
    request_body(content = Option<SeedCompleteRequest>, description = "Optional; without it `completed` is toggled"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The task with `completed` set or flipped", body = SeedTask),
        (status = 401, description = "Missing or invalid access token", body = SeedErrorBody),
        (status = 403, description = "`{user_id}` is not the token's subject; nothing is written", body = SeedErrorBody),
        (status = 404, description = "No such task for this user", body = SeedErrorBody),
        (status = 422, description = "`completed` is not a boolean", body = SeedErrorBody),
    )
)]
pub async fn complete_task(
    owner: TaskOwner,
    path: web::Path<SeedTaskPath>,
    db: web::Data<Database>,
    OptionalJson(body): OptionalJson<SeedCompleteRequest>,
) -> ApiResult<web::Json<SeedTask>> {
    let SeedTaskPath { user_id, task_id } = path.into_inner();
    let completed = body.and_then(|body| body.completed);
    let task = db
        .write(move |connection| match completed {
            Some(completed) => {
                let changes = TaskChanges {
                    completed: Some(completed),
                    ..TaskChanges::default()
                };
                store::patch(connection, &owner.user_id, &task_id, changes)
            }
            None => store::toggle(connection, &owner.user_id, &task_id),
        })
        .await?;
    found(task, &user_id)
}
