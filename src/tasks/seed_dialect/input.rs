//! What seed clients send, read the way FastAPI reads a Pydantic model by default: fields we
//! do not know (`priority`, `due_date`) and read-only ones (`id`, `user_id`, `created_at`,
//! `updated_at`) are ignored, never used and never a 422. Each body is then handed to the
//! canonical parsers in [`crate::tasks::input`], so a title or description obeys exactly the
//! same rules on both route families.

use serde::Deserialize;

use crate::errors::ApiError;
use crate::tasks::input::{
    ListTasksQuery, PatchTaskRequest, TaskChanges, TaskFields, TaskRequest, present,
};
use crate::tasks::list::ListRequest;

/// Without a `limit`, a seed list answers everything up to this many tasks: seed clients read
/// one bare array and do not page. More than that are reached through the `Link` header.
pub const SEED_PAGE_SIZE: i64 = 1000;

/// `POST`: a new task. Other fields are ignored.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SeedCreateRequest {
    /// 1 to 200 characters after trimming.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    /// `false` when absent or null.
    pub completed: Option<bool>,
}

/// `PUT` and `PATCH`: only the fields given change, as the seed backends apply an update
/// (`exclude_unset`). `null` leaves `title` and `completed` as they are and clears
/// `description`. Other fields are ignored.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct SeedUpdateRequest {
    /// 1 to 200 characters after trimming; null or absent leaves it unchanged.
    #[schema(value_type = Option<String>, required = false, min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// `null` clears the description; absent leaves it unchanged.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, required = false, max_length = 1000)]
    pub description: Option<Option<String>>,
    /// Null or absent leaves it unchanged.
    #[schema(value_type = Option<bool>, required = false)]
    pub completed: Option<bool>,
}

/// `PATCH …/complete`: `{"completed": bool}` sets it; no body (or no `completed`) toggles.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct SeedCompleteRequest {
    #[schema(value_type = Option<bool>, required = false)]
    pub completed: Option<bool>,
}

/// The list's query; parameters we do not know are ignored, like FastAPI does.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeedListQuery {
    /// `all` (default), `pending` or `completed`.
    #[param(inline, value_type = Option<crate::tasks::list::StatusFilter>)]
    pub status: Option<String>,
    /// Page size, 1 to 1000 (default 1000).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
    /// From the `Link: <…>; rel="next"` header of the previous page.
    pub cursor: Option<String>,
}

impl SeedCreateRequest {
    pub fn parse(self) -> Result<TaskFields, ApiError> {
        TaskRequest {
            title: self.title,
            description: self.description,
            completed: self.completed,
        }
        .parse()
    }
}

impl SeedUpdateRequest {
    pub fn parse(self) -> Result<TaskChanges, ApiError> {
        PatchTaskRequest {
            title: self.title.map(Some),
            description: self.description,
            completed: self.completed.map(Some),
        }
        .parse()
    }
}

impl SeedListQuery {
    pub fn parse(self) -> Result<ListRequest, ApiError> {
        ListTasksQuery {
            status: self.status,
            limit: self.limit,
            cursor: self.cursor,
        }
        .parse_with_page_sizes(SEED_PAGE_SIZE, SEED_PAGE_SIZE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::parse_json;
    use crate::tasks::input::TaskDescription;

    #[test]
    fn read_only_and_unknown_fields_are_ignored() {
        let body = br#"{"id": 7, "user_id": "someone-else", "created_at": "yesterday",
            "updated_at": null, "priority": "high", "due_date": "2026-12-24",
            "title": " Buy milk ", "completed": true}"#;
        let fields = parse_json::<SeedCreateRequest>(body)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(fields.title.into_string(), "Buy milk");
        assert!(fields.completed);
        let changes = parse_json::<SeedUpdateRequest>(body)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(changes.completed, Some(true));
        assert_eq!(changes.description, None);
    }

    #[test]
    fn an_update_changes_only_what_it_carries() {
        let changes = parse_json::<SeedUpdateRequest>(br#"{"completed": false}"#)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            changes,
            TaskChanges {
                completed: Some(false),
                ..TaskChanges::default()
            }
        );
        let nulls = parse_json::<SeedUpdateRequest>(
            br#"{"title": null, "completed": null, "description": null}"#,
        )
        .unwrap()
        .parse()
        .unwrap();
        assert_eq!(nulls.title, None);
        assert_eq!(nulls.completed, None);
        assert_eq!(
            nulls.description,
            Some(TaskDescription::parse(None).unwrap())
        );
    }

    #[test]
    fn known_fields_still_obey_the_rules() {
        let blank = parse_json::<SeedUpdateRequest>(br#"{"title": "  "}"#)
            .unwrap()
            .parse();
        assert!(matches!(blank, Err(ApiError::Validation(_))));
        assert!(parse_json::<SeedCreateRequest>(br#"{"title": 5}"#).is_err());
        let missing = parse_json::<SeedCreateRequest>(br#"{"priority": 1}"#)
            .unwrap()
            .parse();
        assert!(matches!(missing, Err(ApiError::Validation(_))));
    }

    #[test]
    fn the_list_answers_up_to_a_thousand_without_a_limit() {
        let query = |limit: Option<&str>| SeedListQuery {
            status: None,
            limit: limit.map(Into::into),
            cursor: None,
        };
        assert_eq!(query(None).parse().unwrap().limit, SEED_PAGE_SIZE);
        assert_eq!(query(Some("1000")).parse().unwrap().limit, 1000);
        assert!(query(Some("1001")).parse().is_err());
        assert!(query(Some("0")).parse().is_err());
    }
}
