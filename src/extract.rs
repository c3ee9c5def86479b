//! Request-body extraction that fails with [`ApiError`], so malformed input gets the same JSON
//! error shape as everything else and names the field that was wrong.
//!
//! actix's own `web::Json` reports only "Json deserialize error" and cannot tell a client which
//! field failed; [`Json`] deserializes through `serde_path_to_error` instead. Size limits come
//! from the app's `web::PayloadConfig` (16 KiB), so an oversized body is refused before it is
//! parsed, and serde_json's recursion limit refuses deeply nested input cheaply.
//!
//! Each concept's `input.rs` turns the extracted wire types into domain values, collecting
//! failures in [`FieldErrors`].

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::errors::{ApiError, FieldError};

/// The largest request body any route accepts.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// A JSON request body, required.
pub struct Json<T>(pub T);

/// A JSON request body that may be absent (empty), for routes whose input can also arrive in a
/// cookie. A body that is present must still be valid JSON of the right shape.
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = OptionalJson::<T>::from_request(request, payload);
        Box::pin(async move {
            body.await?.0.map(Json).ok_or_else(|| {
                ApiError::bad_request("malformed_json", "a JSON request body is required")
            })
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(request, payload);
        Box::pin(async move {
            match body.await? {
                None => Ok(OptionalJson(None)),
                Some(bytes) => parse_json(&bytes).map(|value| OptionalJson(Some(value))),
            }
        })
    }
}

/// Reads the body within the size limit. `None` for an empty body; a non-empty body must be
/// declared as JSON.
fn read_body(
    request: &HttpRequest,
    payload: &mut Payload,
) -> LocalBoxFuture<'static, Result<Option<web::Bytes>, ApiError>> {
    let declared_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(is_json_media_type);
    let bytes = web::Bytes::from_request(request, payload);
    Box::pin(async move {
        let bytes = bytes.await.map_err(|error| {
            if error.as_response_error().status_code() == 413 {
                ApiError::PayloadTooLarge
            } else {
                ApiError::bad_request("malformed_body", "the request body could not be read")
            }
        })?;
        if bytes.is_empty() {
            return Ok(None);
        }
        match declared_json {
            Some(true) => Ok(Some(bytes)),
            _ => Err(ApiError::UnsupportedMediaType(
                "the request body must be sent as Content-Type: application/json".into(),
            )),
        }
    })
}

fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Collects every field that failed while a request body is parsed, so one 422 names them
/// all, each field once (its first problem), in the order the checks ran.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// The value of a field the body must carry; records "is required" when it is absent.
    pub fn required<T>(&mut self, value: Option<T>, field: &str) -> Option<T> {
        if value.is_none() {
            self.push(FieldError::new(field, "is required"));
        }
        value
    }

    /// The parsed value, or `None` with the failure recorded.
    pub fn check<T>(&mut self, parsed: Result<T, FieldError>) -> Option<T> {
        parsed.map_err(|error| self.push(error)).ok()
    }

    pub fn push(&mut self, error: FieldError) {
        if !self.0.iter().any(|seen| seen.field == error.field) {
            self.0.push(error);
        }
    }

    /// `Ok` when nothing failed, otherwise the 422 naming every failed field.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }

    /// The 422 when anything failed; otherwise the value `build` assembles from the fields
    /// that all parsed (every `Option` it unwraps with `?` is `Some` then).
    pub fn finish_with<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, ApiError> {
        self.finish()?;
        build().ok_or_else(|| ApiError::internal("a field passed validation without a value"))
    }
}

/// Parses JSON and turns serde's complaint into a per-field 422, or a 400 for text that is not
/// JSON at all.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        json_error(&path, &inner)
    })?;
    deserializer.end().map_err(|_| {
        ApiError::bad_request("malformed_json", "unexpected data after the JSON value")
    })?;
    Ok(value)
}

fn json_error(path: &str, error: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    let message = error.to_string();
    // serde appends the position; the field name says more to a client.
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_owned();
    match error.classify() {
        Category::Data => {
            // serde's path stops at the parent of a missing field but already includes an
            // unknown one.
            let field = match quoted_field(&message, "missing field `") {
                Some(name) => join_path(path, &name),
                None if path == "." => {
                    quoted_field(&message, "unknown field `").unwrap_or_else(|| "body".into())
                }
                None => path.to_owned(),
            };
            ApiError::Validation(vec![FieldError::new(field, message)])
        }
        Category::Syntax | Category::Eof | Category::Io => ApiError::bad_request(
            "malformed_json",
            format!("the request body is not valid JSON: {message}"),
        ),
    }
}

fn quoted_field(message: &str, prefix: &str) -> Option<String> {
    let rest = message.split_once(prefix)?.1;
    Some(rest.split_once('`')?.0.to_owned())
}

fn join_path(path: &str, field: &str) -> String {
    if path == "." || path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        title: String,
        count: Option<u32>,
    }

    fn field_of(error: ApiError) -> String {
        match error {
            ApiError::Validation(fields) => fields[0].field.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn wrong_type_names_the_field() {
        let error = parse_json::<Sample>(br#"{"title": 5}"#).unwrap_err();
        assert_eq!(field_of(error), "title");
    }

    #[test]
    fn missing_and_unknown_fields_are_named() {
        assert_eq!(
            field_of(parse_json::<Sample>(br#"{}"#).unwrap_err()),
            "title"
        );
        let unknown = parse_json::<Sample>(br#"{"title": "a", "colour": 1}"#).unwrap_err();
        assert_eq!(field_of(unknown), "colour");
    }

    #[test]
    fn text_that_is_not_json_is_a_bad_request() {
        assert_eq!(
            parse_json::<Sample>(b"{oops").unwrap_err().code(),
            "malformed_json"
        );
        assert_eq!(
            parse_json::<Sample>(br#"{"title":"a"} x"#)
                .unwrap_err()
                .code(),
            "malformed_json"
        );
    }

    #[test]
    fn deep_nesting_is_refused_without_recursing_forever() {
        let deep = "[".repeat(10_000);
        assert_eq!(
            parse_json::<serde_json::Value>(deep.as_bytes())
                .unwrap_err()
                .code(),
            "malformed_json"
        );
    }

    #[test]
    fn each_failed_field_is_named_once() {
        let mut errors = FieldErrors::default();
        assert_eq!(errors.required(None::<String>, "email"), None);
        errors.check::<()>(Err(FieldError::new(
            "email",
            "must be a valid email address",
        )));
        errors.check::<()>(Err(FieldError::new("password", "is required")));
        match errors.finish().unwrap_err() {
            ApiError::Validation(fields) => {
                let named: Vec<_> = fields
                    .iter()
                    .map(|f| (f.field.as_str(), f.message.as_str()))
                    .collect();
                assert_eq!(
                    named,
                    [("email", "is required"), ("password", "is required")]
                );
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
        assert!(FieldErrors::default().finish().is_ok());
    }

    #[test]
    fn json_media_types_are_recognised() {
        assert!(is_json_media_type("application/json"));
        assert!(is_json_media_type("application/json; charset=utf-8"));
        assert!(is_json_media_type("application/merge-patch+json"));
        assert!(!is_json_media_type("text/plain"));
        assert!(!is_json_media_type("application/x-www-form-urlencoded"));
    }
}
