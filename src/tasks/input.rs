//! What clients send about tasks, parsed into values that are valid by construction.
//! The storage layer only ever sees a [`TaskTitle`] or a [`TaskDescription`].

use serde::{Deserialize, Deserializer};

use super::list::{Cursor, DEFAULT_PAGE_SIZE, ListRequest, MAX_PAGE_SIZE, StatusFilter};
use crate::errors::{ApiError, FieldError};
use crate::extract::FieldErrors;

pub const TITLE_MAX_CHARS: usize = 200;
pub const DESCRIPTION_MAX_CHARS: usize = 1000;

/// A title: trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTitle(String);

impl TaskTitle {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let title = raw.trim();
        if title.is_empty() {
            return Err(FieldError::new("title", "must not be empty"));
        }
        if title.chars().count() > TITLE_MAX_CHARS {
            return Err(FieldError::new(
                "title",
                format!("must be at most {TITLE_MAX_CHARS} characters"),
            ));
        }
        reject_nul("title", title)?;
        Ok(Self(title.to_owned()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// An optional description, stored exactly as given, up to 1000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDescription(Option<String>);

impl TaskDescription {
    pub fn parse(raw: Option<String>) -> Result<Self, FieldError> {
        let Some(description) = raw else {
            return Ok(Self(None));
        };
        if description.chars().count() > DESCRIPTION_MAX_CHARS {
            return Err(FieldError::new(
                "description",
                format!("must be at most {DESCRIPTION_MAX_CHARS} characters"),
            ));
        }
        reject_nul("description", &description)?;
        Ok(Self(Some(description)))
    }

    pub fn into_inner(self) -> Option<String> {
        self.0
    }
}

/// PostgreSQL cannot store U+0000 in text, so both backends refuse it the same way.
fn reject_nul(field: &str, text: &str) -> Result<(), FieldError> {
    if text.contains('\0') {
        return Err(FieldError::new(field, "must not contain the NUL character"));
    }
    Ok(())
}

/// Distinguishes a field that is absent (`None`) from one sent as `null` (`Some(None)`).
pub(super) fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// `POST` and `PUT`: a whole task. A missing description means none; missing `completed`
/// means false.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskRequest {
    /// 1 to 200 characters after trimming.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    pub completed: Option<bool>,
}

/// `PATCH`: only the fields given change; `"description": null` clears the description.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTaskRequest {
    /// 1 to 200 characters after trimming; not null.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, required = false, min_length = 1, max_length = 200)]
    pub title: Option<Option<String>>,
    /// `null` clears the description.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, required = false, max_length = 1000)]
    pub description: Option<Option<String>>,
    /// Not null.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = bool, required = false)]
    pub completed: Option<Option<bool>>,
}

/// A complete, valid task body for insert or replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFields {
    pub title: TaskTitle,
    pub description: TaskDescription,
    pub completed: bool,
}

/// A valid partial change: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskChanges {
    pub title: Option<TaskTitle>,
    pub description: Option<TaskDescription>,
    pub completed: Option<bool>,
}

impl TaskRequest {
    pub fn parse(self) -> Result<TaskFields, ApiError> {
        let mut errors = FieldErrors::default();
        let title = errors
            .required(self.title, "title")
            .and_then(|title| errors.check(TaskTitle::parse(&title)));
        let description = errors.check(TaskDescription::parse(self.description));
        errors.finish_with(|| {
            Some(TaskFields {
                title: title?,
                description: description?,
                completed: self.completed.unwrap_or(false),
            })
        })
    }
}

impl PatchTaskRequest {
    pub fn parse(self) -> Result<TaskChanges, ApiError> {
        let mut errors = FieldErrors::default();
        let title = match self.title {
            None => None,
            Some(None) => {
                errors.push(FieldError::new("title", "must not be null"));
                None
            }
            Some(Some(title)) => errors.check(TaskTitle::parse(&title)),
        };
        let description = self
            .description
            .and_then(|description| errors.check(TaskDescription::parse(description)));
        let completed = match self.completed {
            None => None,
            Some(None) => {
                errors.push(FieldError::new("completed", "must not be null"));
                None
            }
            Some(Some(completed)) => Some(completed),
        };
        errors.finish()?;
        Ok(TaskChanges {
            title,
            description,
            completed,
        })
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListTasksQuery {
    /// `all` (default), `pending` or `completed`.
    #[param(inline, value_type = Option<StatusFilter>)]
    pub status: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// The query keeps raw text so that a wrong value gets a 422 naming the parameter, rather
/// than serde's generic complaint.
impl ListTasksQuery {
    pub fn parse(self) -> Result<ListRequest, ApiError> {
        self.parse_with_page_sizes(DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    }

    /// As [`parse`](Self::parse), with the page size `default_limit` when none is asked for and
    /// at most `max_limit`.
    pub fn parse_with_page_sizes(
        self,
        default_limit: i64,
        max_limit: i64,
    ) -> Result<ListRequest, ApiError> {
        let mut errors = FieldErrors::default();
        let status = match self.status.as_deref() {
            None => Some(StatusFilter::All),
            Some(raw) => StatusFilter::parse(raw).or_else(|| {
                errors.push(FieldError::new(
                    "status",
                    "must be one of all, pending, completed",
                ));
                None
            }),
        };
        let limit = match self.limit.as_deref().map(str::parse::<i64>) {
            None => Some(default_limit),
            Some(Ok(limit)) if (1..=max_limit).contains(&limit) => Some(limit),
            Some(_) => {
                errors.push(FieldError::new(
                    "limit",
                    format!("must be a whole number from 1 to {max_limit}"),
                ));
                None
            }
        };
        let cursor = match self.cursor.as_deref() {
            None => Some(None),
            Some(raw) => Cursor::decode(raw).map(Some).or_else(|| {
                errors.push(FieldError::new(
                    "cursor",
                    "is not a cursor from a previous page",
                ));
                None
            }),
        };
        errors.finish_with(|| {
            Some(ListRequest {
                status: status?,
                limit: limit?,
                cursor: cursor?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::parse_json;

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(
            TaskTitle::parse("  buy milk ").unwrap().into_string(),
            "buy milk"
        );
        assert!(TaskTitle::parse("   \t\n").is_err());
        assert!(TaskTitle::parse(&"é".repeat(200)).is_ok());
        assert!(TaskTitle::parse(&"é".repeat(201)).is_err());
        assert!(TaskTitle::parse("a\0b").is_err());
    }

    #[test]
    fn descriptions_are_kept_as_given() {
        let kept = TaskDescription::parse(Some("  <b>x</b>  ".into())).unwrap();
        assert_eq!(kept.into_inner().as_deref(), Some("  <b>x</b>  "));
        assert!(TaskDescription::parse(Some("x".repeat(1001))).is_err());
    }

    #[test]
    fn patch_tells_null_from_absent() {
        let cleared: PatchTaskRequest = parse_json(br#"{"description": null}"#).unwrap();
        let changes = cleared.parse().unwrap();
        assert_eq!(changes.description, Some(TaskDescription(None)));
        assert_eq!(changes.title, None);
        let untouched: PatchTaskRequest = parse_json(br#"{"completed": true}"#).unwrap();
        assert_eq!(untouched.parse().unwrap().description, None);
        let null_title: PatchTaskRequest = parse_json(br#"{"title": null}"#).unwrap();
        assert!(null_title.parse().is_err());
    }

    #[test]
    fn create_reports_every_bad_field() {
        let request = TaskRequest {
            title: Some(" ".into()),
            description: Some("x".repeat(1001)),
            completed: None,
        };
        match request.parse().unwrap_err() {
            ApiError::Validation(fields) => {
                let names: Vec<_> = fields.iter().map(|f| f.field.as_str()).collect();
                assert_eq!(names, ["title", "description"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn list_query_bounds_are_enforced() {
        let query = |status: Option<&str>, limit: Option<&str>| ListTasksQuery {
            status: status.map(Into::into),
            limit: limit.map(Into::into),
            cursor: None,
        };
        assert_eq!(query(None, None).parse().unwrap().limit, 50);
        assert_eq!(
            query(Some("pending"), Some("100")).parse().unwrap().status,
            StatusFilter::Pending
        );
        assert!(query(Some("done"), None).parse().is_err());
        assert!(query(None, Some("0")).parse().is_err());
        assert!(query(None, Some("101")).parse().is_err());
        assert!(query(None, Some("ten")).parse().is_err());
    }
}

/// Whatever a client sends, parsing either yields values that obey every rule or refuses with
/// a field-level 422 or a 400; it never panics and never lets a rule-breaking value through.
#[cfg(test)]
mod properties {
    use super::*;
    use crate::extract::parse_json;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn any_json_scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            ".{0,260}".prop_map(Value::from),
            "[ \\t\\n]{0,3}[a-z\\u{0}<>'\"é🎉]{0,5}[ \\t\\n]{0,3}".prop_map(Value::from),
        ]
    }

    fn any_body() -> impl Strategy<Value = Value> {
        (
            proptest::option::of(any_json_scalar()),
            proptest::option::of(any_json_scalar()),
            proptest::option::of(any_json_scalar()),
            proptest::option::of(any_json_scalar()),
        )
            .prop_map(|(title, description, completed, extra)| {
                let mut body = serde_json::Map::new();
                for (key, value) in [
                    ("title", title),
                    ("description", description),
                    ("completed", completed),
                    ("other", extra),
                ] {
                    if let Some(value) = value {
                        body.insert(key.into(), value);
                    }
                }
                Value::Object(body)
            })
    }

    fn assert_obeys_rules(fields: &TaskFields) {
        let title = fields.title.clone().into_string();
        assert_eq!(title.trim(), title);
        assert!((1..=TITLE_MAX_CHARS).contains(&title.chars().count()));
        assert!(!title.contains('\0'));
        if let Some(description) = fields.description.clone().into_inner() {
            assert!(description.chars().count() <= DESCRIPTION_MAX_CHARS);
            assert!(!description.contains('\0'));
        }
    }

    proptest! {
        #[test]
        fn titles_are_accepted_exactly_when_the_rules_hold(raw in ".{0,250}") {
            let trimmed = raw.trim();
            let valid = !trimmed.is_empty() && trimmed.chars().count() <= TITLE_MAX_CHARS && !trimmed.contains('\0');
            match TaskTitle::parse(&raw) {
                Ok(title) => {
                    prop_assert!(valid);
                    prop_assert_eq!(title.into_string(), trimmed);
                }
                Err(error) => {
                    prop_assert!(!valid);
                    prop_assert_eq!(error.field, "title");
                }
            }
        }

        #[test]
        fn create_bodies_parse_to_valid_fields_or_a_client_error(body in any_body()) {
            let bytes = serde_json::to_vec(&body).unwrap();
            let parsed = parse_json::<TaskRequest>(&bytes).and_then(TaskRequest::parse);
            match parsed {
                Ok(fields) => {
                    assert_obeys_rules(&fields);
                    let title = fields.title.into_string();
                    prop_assert_eq!(body["title"].as_str().map(str::trim), Some(title.as_str()));
                    prop_assert!(body.get("other").is_none());
                }
                Err(ApiError::Validation(details)) => prop_assert!(!details.is_empty()),
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
        }

        #[test]
        fn patch_bodies_parse_to_valid_changes_or_a_client_error(body in any_body()) {
            let bytes = serde_json::to_vec(&body).unwrap();
            match parse_json::<PatchTaskRequest>(&bytes).and_then(PatchTaskRequest::parse) {
                Ok(changes) => {
                    if let Some(title) = changes.title {
                        let title = title.into_string();
                        prop_assert!(!title.is_empty() && title.chars().count() <= TITLE_MAX_CHARS);
                    }
                    prop_assert_eq!(changes.completed.is_some(), body.get("completed").is_some());
                    prop_assert!(body.get("other").is_none());
                }
                Err(ApiError::Validation(details)) => prop_assert!(!details.is_empty()),
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic_the_parser(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse_json::<TaskRequest>(&bytes).and_then(TaskRequest::parse);
            let _ = parse_json::<PatchTaskRequest>(&bytes).and_then(PatchTaskRequest::parse);
        }
    }

    #[test]
    fn a_known_good_body_parses() {
        let fields =
            parse_json::<TaskRequest>(&serde_json::to_vec(&json!({"title": " a "})).unwrap())
                .and_then(TaskRequest::parse)
                .unwrap();
        assert_eq!(fields.title.into_string(), "a");
    }
}
