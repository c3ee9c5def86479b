//! HTTP handlers for tasks. One set of handlers serves both route families:
//! `/api/tasks/...` and the original design's `/api/{user_id}/tasks/...`.

use std::future::{Ready, ready};

use actix_web::http::header::LOCATION;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::input::{CreateTaskRequest, ListTasksQuery, PatchTaskRequest, ReplaceTaskRequest};
use super::store::{self, Task};
use crate::auth::AuthenticatedUser;
use crate::auth::accounts::rfc3339;
use crate::db::Database;
use crate::errors::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Json, path_id};

/// A task as clients see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaskView {
    #[schema(format = Uuid)]
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// RFC 3339, UTC; moves on every change.
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<Task> for TaskView {
    fn from(task: Task) -> Self {
        Self {
            id: task.id,
            title: task.title,
            description: task.description,
            completed: task.completed,
            created_at: rfc3339(task.created_at),
            updated_at: rfc3339(task.updated_at),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaskPage {
    pub items: Vec<TaskView>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Whose tasks a request may touch: always the token's subject. On the compatibility routes
/// the path names a user too, and naming anyone else is refused before anything is read.
pub struct TaskOwner {
    pub user_id: String,
}

impl FromRequest for TaskOwner {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let user = match AuthenticatedUser::from_request(request, payload).into_inner() {
            Ok(user) => user,
            Err(error) => return ready(Err(error)),
        };
        if let Some(path_user) = request.match_info().get("user_id") {
            let same_user = path_id(path_user).is_ok_and(|id| id == user.user_id);
            if !same_user {
                return ready(Err(ApiError::Forbidden));
            }
        }
        ready(Ok(TaskOwner {
            user_id: user.user_id,
        }))
    }
}

/// The `{task_id}` of the path, already known to be a UUID.
pub struct TaskId(pub String);

impl FromRequest for TaskId {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let raw = request.match_info().get("task_id").unwrap_or_default();
        ready(path_id(raw).map(TaskId))
    }
}

/// List the caller's tasks, newest first.
#[utoipa::path(
    get, path = "/api/tasks", tag = "tasks",
    params(ListTasksQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of tasks", body = TaskPage),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 422, description = "Invalid status, limit or cursor", body = ErrorBody),
    )
)]
pub async fn list_tasks(
    owner: TaskOwner,
    db: web::Data<Database>,
    query: web::Query<ListTasksQuery>,
) -> ApiResult<web::Json<TaskPage>> {
    let request = query.into_inner().parse()?;
    let (tasks, next) = db
        .run(move |connection| store::list(connection, &owner.user_id, &request))
        .await?;
    Ok(web::Json(TaskPage {
        items: tasks.into_iter().map(TaskView::from).collect(),
        next_cursor: next.map(|cursor| cursor.encode()),
    }))
}

/// Create a task.
#[utoipa::path(
    post, path = "/api/tasks", tag = "tasks",
    request_body = CreateTaskRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `Location` names the new task", body = TaskView),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
pub async fn create_task(
    request: HttpRequest,
    owner: TaskOwner,
    db: web::Data<Database>,
    Json(body): Json<CreateTaskRequest>,
) -> ApiResult<HttpResponse> {
    let fields = body.parse()?;
    let task = db
        .run(move |connection| store::insert(connection, &owner.user_id, fields))
        .await?;
    let location = format!("{}/{}", request.path().trim_end_matches('/'), task.id);
    Ok(HttpResponse::Created()
        .insert_header((LOCATION, location))
        .json(TaskView::from(task)))
}

/// Read one task.
#[utoipa::path(
    get, path = "/api/tasks/{task_id}", tag = "tasks",
    params(("task_id" = String, Path, description = "Task id (UUID)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The task", body = TaskView),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 404, description = "No such task for this user", body = ErrorBody),
    )
)]
pub async fn get_task(
    owner: TaskOwner,
    TaskId(task_id): TaskId,
    db: web::Data<Database>,
) -> ApiResult<web::Json<TaskView>> {
    let task = db
        .run(move |connection| store::find(connection, &owner.user_id, &task_id))
        .await?;
    Ok(web::Json(task.into()))
}

/// Replace a task's title, description and completed flag.
#[utoipa::path(
    put, path = "/api/tasks/{task_id}", tag = "tasks",
    params(("task_id" = String, Path, description = "Task id (UUID)")),
    request_body = ReplaceTaskRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The replaced task", body = TaskView),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 404, description = "No such task for this user", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
pub async fn replace_task(
    owner: TaskOwner,
    TaskId(task_id): TaskId,
    db: web::Data<Database>,
    Json(body): Json<ReplaceTaskRequest>,
) -> ApiResult<web::Json<TaskView>> {
    let fields = body.parse()?;
    let task = db
        .run(move |connection| store::replace(connection, &owner.user_id, &task_id, fields))
        .await?;
    Ok(web::Json(task.into()))
}

/// Change only the fields given; `"description": null` clears the description.
#[utoipa::path(
    patch, path = "/api/tasks/{task_id}", tag = "tasks",
    params(("task_id" = String, Path, description = "Task id (UUID)")),
    request_body = PatchTaskRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed task", body = TaskView),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 404, description = "No such task for this user", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
pub async fn patch_task(
    owner: TaskOwner,
    TaskId(task_id): TaskId,
    db: web::Data<Database>,
    Json(body): Json<PatchTaskRequest>,
) -> ApiResult<web::Json<TaskView>> {
    let changes = body.parse()?;
    let task = db
        .run(move |connection| store::patch(connection, &owner.user_id, &task_id, changes))
        .await?;
    Ok(web::Json(task.into()))
}

/// Delete a task.
#[utoipa::path(
    delete, path = "/api/tasks/{task_id}", tag = "tasks",
    params(("task_id" = String, Path, description = "Task id (UUID)")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 404, description = "No such task for this user", body = ErrorBody),
    )
)]
pub async fn delete_task(
    owner: TaskOwner,
    TaskId(task_id): TaskId,
    db: web::Data<Database>,
) -> ApiResult<HttpResponse> {
    db.run(move |connection| store::delete(connection, &owner.user_id, &task_id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Toggle `completed`.
#[utoipa::path(
    patch, path = "/api/tasks/{task_id}/complete", tag = "tasks",
    params(("task_id" = String, Path, description = "Task id (UUID)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The task with `completed` flipped", body = TaskView),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 404, description = "No such task for this user", body = ErrorBody),
    )
)]
pub async fn toggle_task(
    owner: TaskOwner,
    TaskId(task_id): TaskId,
    db: web::Data<Database>,
) -> ApiResult<web::Json<TaskView>> {
    let task = db
        .run(move |connection| store::toggle(connection, &owner.user_id, &task_id))
        .await?;
    Ok(web::Json(task.into()))
}
