//! HTTP in and out for tasks on the canonical routes, `/api/tasks/...`: parse, call the store
//! with the caller as owner, shape the answer. [`TaskOwner`] and [`insert_within_quota`] serve
//! the seed dialect's routes (`super::seed_dialect`) too.

use actix_web::http::Method;
use actix_web::http::header::LOCATION;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;

use super::input::{ListTasksQuery, PatchTaskRequest, TaskFields, TaskRequest};
use super::store::{self, InsertTaskError, Task};
use super::view::{TaskPage, TaskView};
use crate::accounts;
use crate::config::Quotas;
use crate::db::Database;
use crate::errors::{ApiError, ApiResult, ErrorBody};
use crate::extract::Json;
use crate::ids::{TaskId, UserId};
use crate::rate_limit::TaskWriteLimit;
use crate::tokens::Caller;

/// Whose tasks a request may touch: always the caller's own. On the compatibility routes the
/// path names a user too (a local user's id, or an external subject as its issuer wrote it),
/// and naming anyone else is refused before anything is read. An external caller is mapped to
/// its local user here, created on first use.
pub struct TaskOwner {
    pub user_id: UserId,
}

impl FromRequest for TaskOwner {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let caller = Caller::of(request);
        let path_user = request.match_info().get("user_id").map(str::to_owned);
        let is_write = !matches!(*request.method(), Method::GET | Method::HEAD);
        let write_limit = request.app_data::<web::Data<TaskWriteLimit>>().cloned();
        let db = request.app_data::<web::Data<Database>>().cloned();
        Box::pin(async move {
            let user_id = match caller? {
                Caller::Local(caller) => {
                    if let Some(path_user) = &path_user
                        && UserId::parse(path_user).as_ref() != Some(&caller.user_id)
                    {
                        return Err(ApiError::Forbidden);
                    }
                    caller.user_id
                }
                Caller::External(caller) => {
                    if path_user.is_some_and(|path_user| path_user != caller.subject) {
                        return Err(ApiError::Forbidden);
                    }
                    let db = db.ok_or_else(|| ApiError::internal("no database configured"))?;
                    let known = db
                        .read({
                            let caller = caller.clone();
                            move |connection| {
                                accounts::store::find_external_user(
                                    connection,
                                    &caller.issuer,
                                    &caller.subject,
                                )
                            }
                        })
                        .await?;
                    match known {
                        Some(user_id) => user_id,
                        None => {
                            db.write(move |connection| {
                                accounts::store::external_user(
                                    connection,
                                    &caller.issuer,
                                    &caller.subject,
                                )
                            })
                            .await?
                        }
                    }
                }
            };
            // Every write draws on the caller's own bucket, whatever address or session it uses.
            if is_write && let Some(limit) = write_limit {
                limit.check(&user_id)?;
            }
            Ok(TaskOwner { user_id })
        })
    }
}

/// The `{task_id}` of the path. A segment that is not a UUID fails to deserialize, and the
/// app's `PathConfig` answers that with 404, like any missing task.
#[derive(Deserialize)]
pub struct TaskPath {
    task_id: TaskId,
}

/// The answer for a task the caller does not have.
fn found(task: Option<Task>) -> ApiResult<TaskView> {
    task.map(TaskView::from).ok_or(ApiError::NotFound)
}

impl From<InsertTaskError> for ApiError {
    fn from(error: InsertTaskError) -> Self {
        match error {
            // The token outlived its account: the user is gone, so is the right to write.
            InsertTaskError::OwnerGone(_) => ApiError::invalid_token(),
            InsertTaskError::LimitReached(limit) => ApiError::conflict(
                "task_limit_reached",
                format!("an account can hold at most {limit} tasks; delete some to add more"),
            ),
            InsertTaskError::Query(error) => error.into(),
        }
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
) -> ApiResult<TaskPage> {
    let request = query.into_inner().parse()?;
    let (tasks, next) = db
        .read(move |connection| store::list(connection, &owner.user_id, &request))
        .await?;
    Ok(TaskPage {
        items: tasks.into_iter().map(TaskView::from).collect(),
        next_cursor: next.map(|cursor| cursor.encode()),
    })
}

/// Create a task.
#[utoipa::path(
    post, path = "/api/tasks", tag = "tasks",
    request_body = TaskRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `Location` names the new task", body = TaskView),
        (status = 401, description = "Missing or invalid access token", body = ErrorBody),
        (status = 409, description = "`task_limit_reached`: the account holds `MAX_TASKS_PER_USER` tasks", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
pub async fn create_task(
    request: HttpRequest,
    owner: TaskOwner,
    quotas: web::Data<Quotas>,
    db: web::Data<Database>,
    Json(body): Json<TaskRequest>,
) -> ApiResult<HttpResponse> {
    let task = insert_within_quota(&db, &quotas, owner, body.parse()?).await?;
    let location = format!("{}/{}", request.path().trim_end_matches('/'), task.id);
    let mut created = HttpResponse::Created();
    created.insert_header((LOCATION, location));
    Ok(TaskView::from(task).respond_with(created))
}

/// Adds a task for `owner` unless they hold `MAX_TASKS_PER_USER` already. Counting against
/// the limit takes several statements, which must see one another, so they share a
/// transaction; without a limit the insert is one statement, atomic by itself, and skips the
/// `BEGIN` and `COMMIT` (two round trips on PostgreSQL).
pub(super) async fn insert_within_quota(
    db: &Database,
    quotas: &Quotas,
    owner: TaskOwner,
    fields: TaskFields,
) -> ApiResult<Task> {
    let max_tasks = quotas.tasks_per_user;
    let insert = move |connection: &mut _| {
        Ok::<_, ApiError>(store::insert(
            connection,
            &owner.user_id,
            fields,
            max_tasks,
        )?)
    };
    if max_tasks == 0 {
        db.write(insert).await
    } else {
        db.transaction(insert).await
    }
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
    path: web::Path<TaskPath>,
    db: web::Data<Database>,
) -> ApiResult<TaskView> {
    let task_id = path.into_inner().task_id;
    found(
        db.read(move |connection| store::find(connection, &owner.user_id, &task_id))
            .await?,
    )
}

/// Replace a task's title, description and completed flag.
#[utoipa::path(
    put, path = "/api/tasks/{task_id}", tag = "tasks",
    params(("task_id" = String, Path, description = "Task id (UUID)")),
    request_body = TaskRequest,
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
    path: web::Path<TaskPath>,
    db: web::Data<Database>,
    Json(body): Json<TaskRequest>,
) -> ApiResult<TaskView> {
    let task_id = path.into_inner().task_id;
    let fields = body.parse()?;
    found(
        db.write(move |connection| store::replace(connection, &owner.user_id, &task_id, fields))
            .await?,
    )
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
    path: web::Path<TaskPath>,
    db: web::Data<Database>,
    Json(body): Json<PatchTaskRequest>,
) -> ApiResult<TaskView> {
    let task_id = path.into_inner().task_id;
    let changes = body.parse()?;
    found(
        db.write(move |connection| store::patch(connection, &owner.user_id, &task_id, changes))
            .await?,
    )
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
    path: web::Path<TaskPath>,
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
    path: web::Path<TaskPath>,
    db: web::Data<Database>,
) -> ApiResult<TaskView> {
    let task_id = path.into_inner().task_id;
    found(
        db.write(move |connection| store::toggle(connection, &owner.user_id, &task_id))
            .await?,
    )
}
