//! Tasks in the database. Every function takes the owner's id and puts it in the SQL `WHERE`,
//! so a task that belongs to someone else is indistinguishable from one that does not exist:
//! isolation is not a check a handler could forget.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDateTime};
use diesel::prelude::*;
use uuid::Uuid;

use super::input::{ListRequest, StatusFilter, TaskChanges, TaskFields};
use crate::db::schema::tasks;
use crate::db::{self, AnyConnection};
use crate::errors::ApiError;

/// A stored task, fields in table order (the implicit `RETURNING *` relies on it).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = tasks)]
pub struct Task {
    pub id: String,
    pub user_id: String,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Position after the last task of a page: newest-first order is `(created_at, id)`
/// descending, so tasks added while a client pages through sort before the cursor and never
/// shift the pages that follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    created_at: NaiveDateTime,
    id: String,
}

impl Cursor {
    pub fn after(task: &Task) -> Self {
        Self {
            created_at: task.created_at,
            id: task.id.clone(),
        }
    }

    /// Opaque to clients: base64url of `<microseconds>.<id>`.
    pub fn encode(&self) -> String {
        let micros = self.created_at.and_utc().timestamp_micros();
        URL_SAFE_NO_PAD.encode(format!("{micros}.{}", self.id))
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw.as_bytes()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (micros, id) = text.split_once('.')?;
        let created_at = DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
        let id = Uuid::parse_str(id).ok()?.hyphenated().to_string();
        Some(Self { created_at, id })
    }
}

pub fn insert(
    connection: &mut AnyConnection,
    user_id: &str,
    fields: TaskFields,
) -> Result<Task, ApiError> {
    let now = db::now();
    let task = Task {
        id: Uuid::now_v7().to_string(),
        user_id: user_id.to_owned(),
        title: fields.title.into_string(),
        description: fields.description.into_inner(),
        completed: fields.completed,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(tasks::table)
        .values((
            tasks::id.eq(&task.id),
            tasks::user_id.eq(&task.user_id),
            tasks::title.eq(&task.title),
            tasks::description.eq(&task.description),
            tasks::completed.eq(task.completed),
            tasks::created_at.eq(task.created_at),
            tasks::updated_at.eq(task.updated_at),
        ))
        .execute(connection)
        .map_err(|error| {
            // The token outlived its account: the user is gone, so is the right to write.
            if db::is_foreign_key_violation(&error) {
                ApiError::invalid_token()
            } else {
                error.into()
            }
        })?;
    Ok(task)
}

/// One page, newest first, and the cursor of the next page if there is one.
pub fn list(
    connection: &mut AnyConnection,
    user_id: &str,
    request: &ListRequest,
) -> Result<(Vec<Task>, Option<Cursor>), ApiError> {
    let mut query = tasks::table
        .filter(tasks::user_id.eq(user_id))
        .select(Task::as_select())
        .order((tasks::created_at.desc(), tasks::id.desc()))
        // One more than asked tells whether another page follows.
        .limit(request.limit + 1)
        .into_boxed();
    match request.status {
        StatusFilter::All => {}
        StatusFilter::Pending => query = query.filter(tasks::completed.eq(false)),
        StatusFilter::Completed => query = query.filter(tasks::completed.eq(true)),
    }
    if let Some(cursor) = &request.cursor {
        query = query.filter(
            tasks::created_at.lt(cursor.created_at).or(tasks::created_at
                .eq(cursor.created_at)
                .and(tasks::id.lt(cursor.id.clone()))),
        );
    }
    let mut page = query.load(connection)?;
    let next = if page.len() as i64 > request.limit {
        page.truncate(request.limit as usize);
        page.last().map(Cursor::after)
    } else {
        None
    };
    Ok((page, next))
}

pub fn find(
    connection: &mut AnyConnection,
    user_id: &str,
    task_id: &str,
) -> Result<Task, ApiError> {
    Ok(tasks::table
        .filter(tasks::id.eq(task_id))
        .filter(tasks::user_id.eq(user_id))
        .select(Task::as_select())
        .first(connection)?)
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
    user_id: &str,
    task_id: &str,
    fields: TaskFields,
) -> Result<Task, ApiError> {
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
    user_id: &str,
    task_id: &str,
    changes: TaskChanges,
) -> Result<Task, ApiError> {
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
    user_id: &str,
    task_id: &str,
    changeset: TaskChangeset,
) -> Result<Task, ApiError> {
    Ok(diesel::update(
        tasks::table
            .filter(tasks::id.eq(task_id))
            .filter(tasks::user_id.eq(user_id)),
    )
    .set(changeset)
    .get_result(connection)?)
}

/// Flips `completed` in one statement, so concurrent toggles each apply exactly once.
pub fn toggle(
    connection: &mut AnyConnection,
    user_id: &str,
    task_id: &str,
) -> Result<Task, ApiError> {
    Ok(diesel::update(
        tasks::table
            .filter(tasks::id.eq(task_id))
            .filter(tasks::user_id.eq(user_id)),
    )
    .set((
        tasks::completed.eq(diesel::dsl::not(tasks::completed)),
        tasks::updated_at.eq(db::now()),
    ))
    .get_result(connection)?)
}

pub fn delete(
    connection: &mut AnyConnection,
    user_id: &str,
    task_id: &str,
) -> Result<(), ApiError> {
    let deleted = diesel::delete(
        tasks::table
            .filter(tasks::id.eq(task_id))
            .filter(tasks::user_id.eq(user_id)),
    )
    .execute(connection)?;
    if deleted == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = Cursor {
            created_at: db::now(),
            id: Uuid::now_v7().to_string(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        for garbage in ["", "abc", "!!!", &URL_SAFE_NO_PAD.encode("12.not-a-uuid")] {
            assert_eq!(Cursor::decode(garbage), None, "{garbage:?}");
        }
    }
}
