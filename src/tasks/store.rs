//! Tasks in the database: SQL only. Every function takes the owner's id and puts it in the SQL
//! `WHERE`, so a task that belongs to someone else is indistinguishable from one that does not
//! exist (`None`, or `false` for a delete): isolation is not a check a handler could forget.
//!
//! Every statement runs on the backend's own connection ([`db::on_backend`]): there it is
//! prepared once per connection and found again by its type, where through the two-backend
//! connection Diesel renders its SQL text again on every execution (a ninth of the
//! instructions of a task list).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::input::{TaskChanges, TaskFields};
use super::list::{Cursor, ListRequest, StatusFilter};
use crate::db::schema::{tasks, users};
use crate::db::{self, AnyConnection, DbResult, StoredTime};
use crate::ids::{TaskId, UserId};

/// A stored task, as its owner sees it. The owner's id is not read back: every query already
/// names it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = tasks)]
pub struct Task {
    #[diesel(deserialize_as = String)]
    pub id: TaskId,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    #[diesel(deserialize_as = StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTime)]
    pub updated_at: NaiveDateTime,
}

/// `None` binds NULL rather than writing `DEFAULT` into the SQL: with `DEFAULT` the statement's
/// text depends on the values, so Diesel cannot prepare it once and PostgreSQL parsed and
/// planned every create anew.
#[derive(Insertable)]
#[diesel(table_name = tasks, treat_none_as_default_value = false)]
struct NewTask<'a> {
    id: &'a str,
    user_id: &'a str,
    title: String,
    description: Option<String>,
    completed: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// The user does not exist (any more): a token that outlived its account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the owner of the task does not exist")]
pub struct OwnerGone;

#[derive(Debug, thiserror::Error)]
pub enum InsertTaskError {
    #[error(transparent)]
    OwnerGone(#[from] OwnerGone),
    /// The owner already has as many tasks as they may.
    #[error("the owner already has {0} tasks, the most allowed")]
    LimitReached(u32),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

/// Adds a task unless its owner already has `max_tasks` (0: no limit). With a limit, call
/// inside a transaction; without one this is a single statement. The owner's row is locked
/// first (a no-op update), so concurrent inserts for one owner are counted one after another
/// and the limit holds exactly; that queues one owner's creates behind each other, which is
/// why it is skipped without a limit.
/// The no-op writes a column that is not a key: rewriting `users.id` made SQLite check every
/// row referring to the user (all their tasks and sessions) on each insert, and took
/// PostgreSQL's strongest row lock.
pub fn insert(
    connection: &mut AnyConnection,
    user_id: &UserId,
    fields: TaskFields,
    max_tasks: u32,
) -> Result<Task, InsertTaskError> {
    if max_tasks > 0 {
        let owner_exists = db::on_backend!(connection, |connection| {
            db::prepared(
                diesel::update(users::table.find(user_id.as_str()))
                    .set(users::updated_at.eq(users::updated_at))
                    .returning(users::id),
            )
            .changed_a_row(connection)
        })?;
        if !owner_exists {
            return Err(OwnerGone.into());
        }
        let owned: i64 = db::on_backend!(connection, |connection| {
            tasks::table
                .filter(tasks::user_id.eq(user_id.as_str()))
                .count()
                .get_result(connection)
        })?;
        if owned >= i64::from(max_tasks) {
            return Err(InsertTaskError::LimitReached(max_tasks));
        }
    }
    let now = db::now();
    let id = TaskId::generate();
    let task = NewTask {
        id: id.as_str(),
        user_id: user_id.as_str(),
        title: fields.title.into_string(),
        description: fields.description.into_inner(),
        completed: fields.completed,
        created_at: now,
        updated_at: now,
    };
    db::on_backend!(connection, |connection| {
        diesel::insert_into(tasks::table)
            .values(&task)
            .returning(Task::as_select())
            .get_result(connection)
    })
    .map_err(|error| {
        if db::is_foreign_key_violation(&error) {
            OwnerGone.into()
        } else {
            error.into()
        }
    })
}

/// One page, newest first, and the cursor of the next page if there is one.
///
/// One query type per shape (status filter or not, cursor or not), so each shape is prepared
/// once per connection like the other statements here.
pub fn list(
    connection: &mut AnyConnection,
    user_id: &UserId,
    request: &ListRequest,
) -> DbResult<(Vec<Task>, Option<Cursor>)> {
    let completed = match request.status {
        StatusFilter::All => None,
        StatusFilter::Pending => Some(false),
        StatusFilter::Completed => Some(true),
    };
    let cursor = request
        .cursor
        .as_ref()
        .map(|cursor| (cursor.created_at, cursor.id.as_str()));
    let mut page: Vec<Task> = db::on_backend!(connection, |connection| {
        let page = tasks::table
            .filter(tasks::user_id.eq(user_id.as_str()))
            .select(Task::as_select())
            .order((tasks::created_at.desc(), tasks::id.desc()))
            // One more than asked tells whether another page follows.
            .limit(request.limit + 1);
        // After the cursor in (created_at, id) descending order.
        let after = |(created_at, id): (NaiveDateTime, &str)| {
            tasks::created_at.lt(created_at).or(tasks::created_at
                .eq(created_at)
                .and(tasks::id.lt(id.to_owned())))
        };
        match (completed, cursor) {
            (None, None) => page.load(connection),
            (Some(completed), None) => page.filter(tasks::completed.eq(completed)).load(connection),
            (None, Some(cursor)) => page.filter(after(cursor)).load(connection),
            (Some(completed), Some(cursor)) => page
                .filter(tasks::completed.eq(completed))
                .filter(after(cursor))
                .load(connection),
        }
    })?;
    let next = if page.len() as i64 > request.limit {
        page.truncate(request.limit as usize);
        page.last().map(|task| Cursor {
            created_at: task.created_at,
            id: task.id.clone(),
        })
    } else {
        None
    };
    Ok((page, next))
}

/// The task `task_id` if `user_id` owns it: the one filter every statement on a single task
/// goes through.
#[diesel::dsl::auto_type]
fn owned_task<'a>(user_id: &'a str, task_id: &'a str) -> _ {
    tasks::table
        .filter(tasks::id.eq(task_id))
        .filter(tasks::user_id.eq(user_id))
}

pub fn find(
    connection: &mut AnyConnection,
    user_id: &UserId,
    task_id: &TaskId,
) -> DbResult<Option<Task>> {
    Ok(db::on_backend!(connection, |connection| {
        owned_task(user_id.as_str(), task_id.as_str())
            .select(Task::as_select())
            .first(connection)
            .optional()
    })?)
}

/// The columns a change writes; `None` leaves a column alone, `Some(None)` sets NULL.
#[derive(AsChangeset)]
#[diesel(table_name = tasks)]
struct TaskChangeset {
    title: Option<String>,
    description: Option<Option<String>>,
    completed: Option<bool>,
    updated_at: NaiveDateTime,
}

pub fn replace(
    connection: &mut AnyConnection,
    user_id: &UserId,
    task_id: &TaskId,
    fields: TaskFields,
) -> DbResult<Option<Task>> {
    write_changes(
        connection,
        user_id,
        task_id,
        TaskChangeset {
            title: Some(fields.title.into_string()),
            description: Some(fields.description.into_inner()),
            completed: Some(fields.completed),
            updated_at: db::now(),
        },
    )
}

pub fn patch(
    connection: &mut AnyConnection,
    user_id: &UserId,
    task_id: &TaskId,
    changes: TaskChanges,
) -> DbResult<Option<Task>> {
    if changes == TaskChanges::default() {
        // Nothing to change, so nothing moves (not even updated_at).
        return find(connection, user_id, task_id);
    }
    write_changes(
        connection,
        user_id,
        task_id,
        TaskChangeset {
            title: changes.title.map(|title| title.into_string()),
            description: changes.description.map(|d| d.into_inner()),
            completed: changes.completed,
            updated_at: db::now(),
        },
    )
}

fn write_changes(
    connection: &mut AnyConnection,
    user_id: &UserId,
    task_id: &TaskId,
    changeset: TaskChangeset,
) -> DbResult<Option<Task>> {
    Ok(db::on_backend!(connection, |connection| {
        db::prepared(
            diesel::update(owned_task(user_id.as_str(), task_id.as_str()))
                .set(&changeset)
                .returning(Task::as_select()),
        )
        .get_result(connection)
        .optional()
    })?)
}

/// Flips `completed` in one statement, so concurrent toggles each apply exactly once.
pub fn toggle(
    connection: &mut AnyConnection,
    user_id: &UserId,
    task_id: &TaskId,
) -> DbResult<Option<Task>> {
    let now = db::now();
    Ok(db::on_backend!(connection, |connection| {
        db::prepared(
            diesel::update(owned_task(user_id.as_str(), task_id.as_str()))
                .set((
                    tasks::completed.eq(diesel::dsl::not(tasks::completed)),
                    tasks::updated_at.eq(now),
                ))
                .returning(Task::as_select()),
        )
        .get_result(connection)
        .optional()
    })?)
}

/// Deletes the task; `false` when the owner has no such task.
pub fn delete(
    connection: &mut AnyConnection,
    user_id: &UserId,
    task_id: &TaskId,
) -> DbResult<bool> {
    let deleted = db::on_backend!(connection, |connection| {
        diesel::delete(owned_task(user_id.as_str(), task_id.as_str())).execute(connection)
    })?;
    Ok(deleted == 1)
}
