//! User accounts in the database: creating them and finding them. Only this module and
//! [`super::sessions`] touch the `users` table.

use chrono::{NaiveDateTime, SecondsFormat};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::credentials::{DisplayName, Email};
use crate::db::schema::users;
use crate::db::{self, AnyConnection};
use crate::errors::ApiError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub password_hash: String,
    pub created_at: NaiveDateTime,
}

/// A user as clients see it: never the password hash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    #[schema(format = Uuid)]
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.clone(),
            email: user.email.clone(),
            name: user.name.clone(),
            created_at: rfc3339(user.created_at),
        }
    }
}

/// Formats a stored UTC timestamp as RFC 3339 with a `Z`.
pub fn rfc3339(timestamp: NaiveDateTime) -> String {
    timestamp
        .and_utc()
        .to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Inserts a new user. A taken email (even by a concurrent registration) is a 409: the UNIQUE
/// index decides, so there is no check-then-insert race.
pub fn create(
    connection: &mut AnyConnection,
    email: Email,
    name: DisplayName,
    password_hash: String,
) -> Result<User, ApiError> {
    let now = db::now();
    let user = User {
        id: Uuid::now_v7().to_string(),
        email: email.into_string(),
        name: name.into_inner(),
        password_hash,
        created_at: now,
    };
    diesel::insert_into(users::table)
        .values((
            users::id.eq(&user.id),
            users::email.eq(&user.email),
            users::name.eq(&user.name),
            users::password_hash.eq(&user.password_hash),
            users::created_at.eq(now),
            users::updated_at.eq(now),
        ))
        .execute(connection)
        .map_err(|error| {
            if db::is_unique_violation(&error) {
                ApiError::conflict("email_taken", "an account with this email already exists")
            } else {
                error.into()
            }
        })?;
    Ok(user)
}

pub fn find_by_email(
    connection: &mut AnyConnection,
    email: &Email,
) -> Result<Option<User>, ApiError> {
    Ok(users::table
        .filter(users::email.eq(email.as_str()))
        .select(User::as_select())
        .first(connection)
        .optional()?)
}

pub fn find_by_id(connection: &mut AnyConnection, user_id: &str) -> Result<Option<User>, ApiError> {
    Ok(users::table
        .find(user_id)
        .select(User::as_select())
        .first(connection)
        .optional()?)
}

/// Stores a new password hash. A user deleted meanwhile is not found.
pub fn update_password(
    connection: &mut AnyConnection,
    user_id: &str,
    password_hash: &str,
) -> Result<(), ApiError> {
    let updated = diesel::update(users::table.find(user_id))
        .set((
            users::password_hash.eq(password_hash),
            users::updated_at.eq(db::now()),
        ))
        .execute(connection)?;
    if updated == 0 {
        return Err(ApiError::invalid_token());
    }
    Ok(())
}
