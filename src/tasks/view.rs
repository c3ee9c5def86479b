//! A task as clients see it ([`TaskView`], one page of them: [`TaskPage`]), and the bytes of
//! its JSON.
//!
//! Every task response is written by [`TaskView::write_json`], not by serde_json's derived
//! serializer. That serializer was 30% of a task list's instructions (callgrind, a page of 20
//! tasks): it sends every key and every value through its escaper, byte by byte, and writes
//! each through its own small `Vec` pushes. Here the keys, ids, timestamps, booleans and the
//! cursor, which are ASCII that JSON never escapes, are copied as they are, and only the
//! user's own text (title and description) goes through serde_json's escaper. The derived
//! `Serialize` stays as the reference, and the one the OpenAPI document is drawn from: the
//! tests hold both to the same bytes, for every character a title can hold.

use actix_web::body::BoxBody;
use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, Responder};
use serde::Serialize;

use super::store::Task;
use crate::errors::ApiError;
use crate::ids::TaskId;
use crate::timestamp::Rfc3339;

/// A task as clients see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaskView {
    #[schema(value_type = String, format = Uuid)]
    pub id: TaskId,
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

impl From<Task> for TaskView {
    fn from(task: Task) -> Self {
        Self {
            id: task.id,
            title: task.title,
            description: task.description,
            completed: task.completed,
            created_at: Rfc3339(task.created_at),
            updated_at: Rfc3339(task.updated_at),
        }
    }
}

/// What a task's JSON takes besides its title and description (keys, id, timestamps): room
/// reserved up front so the buffer is not grown while it is written.
const TASK_JSON_FRAME: usize = 200;

impl TaskView {
    /// Appends the task's JSON to `out`: the bytes `serde_json::to_writer(out, self)` writes.
    pub fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        out.extend_from_slice(b"{\"id\":\"");
        // A canonical UUID: hex digits and hyphens.
        out.extend_from_slice(self.id.as_str().as_bytes());
        out.extend_from_slice(b"\",\"title\":");
        write_text(out, &self.title)?;
        out.extend_from_slice(b",\"description\":");
        match &self.description {
            Some(description) => write_text(out, description)?,
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(if self.completed {
            b",\"completed\":true,\"created_at\":\""
        } else {
            b",\"completed\":false,\"created_at\":\""
        });
        out.extend_from_slice(&self.created_at.text());
        out.extend_from_slice(b"\",\"updated_at\":\"");
        out.extend_from_slice(&self.updated_at.text());
        out.extend_from_slice(b"\"}");
        Ok(())
    }

    /// This task as the body of `response`.
    pub fn respond_with(&self, response: HttpResponseBuilder) -> HttpResponse {
        let mut body = Vec::with_capacity(self.json_len_estimate());
        let json = self.write_json(&mut body).map(|()| body);
        json_response(response, json)
    }

    fn json_len_estimate(&self) -> usize {
        TASK_JSON_FRAME + self.title.len() + self.description.as_ref().map_or(0, String::len)
    }
}

/// The user's text as a JSON string, escaped by serde_json.
fn write_text(out: &mut Vec<u8>, text: &str) -> serde_json::Result<()> {
    text.serialize(&mut serde_json::Serializer::new(out))
}

/// One page of the caller's tasks, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaskPage {
    pub items: Vec<TaskView>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl TaskPage {
    /// The page's JSON: the bytes `serde_json::to_vec(self)` gives.
    pub fn to_json(&self) -> serde_json::Result<Vec<u8>> {
        let capacity = 64
            + self
                .items
                .iter()
                .map(TaskView::json_len_estimate)
                .sum::<usize>();
        let mut out = Vec::with_capacity(capacity);
        out.extend_from_slice(b"{\"items\":[");
        for (index, task) in self.items.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            task.write_json(&mut out)?;
        }
        out.extend_from_slice(b"],\"next_cursor\":");
        match &self.next_cursor {
            // Base64url: letters, digits, `-` and `_`.
            Some(cursor) => {
                out.push(b'"');
                out.extend_from_slice(cursor.as_bytes());
                out.push(b'"');
            }
            None => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
        Ok(out)
    }
}

/// `response` with `json` as its body, typed as JSON; a failure to write it is a 500.
fn json_response(
    mut response: HttpResponseBuilder,
    json: serde_json::Result<Vec<u8>>,
) -> HttpResponse {
    match json {
        Ok(body) => response.content_type(ContentType::json()).body(body),
        Err(error) => actix_web::ResponseError::error_response(&ApiError::internal(error)),
    }
}

/// `200 OK` with the task.
impl Responder for TaskView {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        self.respond_with(HttpResponse::Ok())
    }
}

/// `200 OK` with the page.
impl Responder for TaskPage {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        json_response(HttpResponse::Ok(), self.to_json())
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDateTime;

    use super::*;

    fn task(title: &str, description: Option<&str>, completed: bool) -> TaskView {
        let at = |raw: &str| Rfc3339(raw.parse::<NaiveDateTime>().unwrap());
        TaskView {
            id: TaskId::generate(),
            title: title.to_owned(),
            description: description.map(str::to_owned),
            completed,
            created_at: at("2026-12-02T06:14:00.123456"),
            updated_at: at("0999-01-09T23:59:59"),
        }
    }

    /// Every Unicode scalar value, in chunks: the control characters serde_json escapes, the
    /// quote and backslash, the line and paragraph separators, and four-byte characters.
    fn every_character() -> Vec<String> {
        let all: Vec<char> = (0..=0x10FFFF).filter_map(char::from_u32).collect();
        all.chunks(4096)
            .map(|chunk| chunk.iter().collect())
            .collect()
    }

    #[test]
    fn a_task_is_written_as_serde_json_writes_it() {
        let mut samples = vec![
            task("plain", None, false),
            task("", Some(""), true),
            task(
                "quote \" backslash \\ slash / \n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}",
                None,
                true,
            ),
            task(
                "ünïcødé 🎉 \u{2028}\u{2029}",
                Some("line one\nline two"),
                false,
            ),
        ];
        for text in every_character() {
            samples.push(task(&text, Some(&text), true));
        }
        for sample in samples {
            let mut ours = Vec::new();
            sample.write_json(&mut ours).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&sample).unwrap()
            );
        }
    }

    #[test]
    fn a_page_is_written_as_serde_json_writes_it() {
        let cursor = crate::tasks::list::Cursor {
            created_at: crate::db::now(),
            id: TaskId::generate(),
        };
        for (items, next_cursor) in [
            (vec![], None),
            (vec![task("one", None, false)], None),
            (
                vec![task("one", Some("first"), true), task("two", None, false)],
                Some(cursor.encode()),
            ),
        ] {
            let page = TaskPage { items, next_cursor };
            assert_eq!(
                String::from_utf8(page.to_json().unwrap()).unwrap(),
                serde_json::to_string(&page).unwrap()
            );
        }
    }
}
