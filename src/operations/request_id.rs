//! Request ids: every request gets one, every log line written while it runs carries it, and
//! the response echoes it in `X-Request-Id`, so a client's bug report ("request 7f3c… failed")
//! leads straight to the server's lines for it.
//!
//! A client or proxy that already tagged the request keeps its id, so one id follows a request
//! through several services; but only a well-formed one ([`RequestId::accept`]): an arbitrary
//! header value would let anyone write control characters, fake fields or megabytes into our
//! logs. Anything else is replaced by a fresh UUID.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, web};
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;

use crate::client_addr::TrustedProxies;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest id accepted from a client: room for a UUID, a trace id or a proxy's own format.
const MAX_LEN: usize = 128;

/// The id of one request, as it appears in logs and in the `X-Request-Id` response header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

impl RequestId {
    /// The client's id if it is 1 to 128 characters of letters, digits and `-_.:`, the
    /// characters request and trace ids are made of; `None` otherwise.
    pub fn accept(presented: &str) -> Option<Self> {
        let well_formed = !presented.is_empty()
            && presented.len() <= MAX_LEN
            && presented
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || b"-_.:".contains(&byte));
        well_formed.then(|| Self(presented.to_owned()))
    }

    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Middleware, outermost: settles the request's id before anything logs, and echoes it on
/// the response.
pub async fn tag_request(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = request
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(RequestId::accept)
        .unwrap_or_else(RequestId::generate);
    let header = HeaderValue::from_str(id.as_str()).ok();
    request.extensions_mut().insert(id);
    // Errors from further in are responses by now (handlers, the bearer guard and the rate
    // limits answer with responses), so the header reaches every answer.
    let mut response = next.call(request).await?;
    if let Some(header) = header {
        response.headers_mut().insert(REQUEST_ID_HEADER, header);
    }
    Ok(response)
}

/// The span each request runs in (see `tracing-actix-web`): its id, method and route
/// *pattern*. Never the query string, headers or body, where tokens and passwords travel.
/// When the request ends, one access-log line is written inside it.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    // Field values are computed inside the macros, which evaluate them only when the level is
    // enabled: with `RUST_LOG=warn` a request pays for none of this.
    fn on_request_start(request: &ServiceRequest) -> Span {
        tracing::info_span!(
            "request",
            request_id = %request
                .extensions()
                .get::<RequestId>()
                .map_or("-", RequestId::as_str),
            method = %request.method(),
            route = request.match_pattern().as_deref().unwrap_or("unmatched"),
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let _entered = span.enter();
        match outcome {
            Ok(response) => {
                let request = response.request();
                match response.response().error() {
                    // The cause of a 500 is logged where it happened (errors.rs); a client
                    // error's message is what the client was told, and never holds a secret.
                    Some(error) if response.status().as_u16() < 500 => tracing::info!(
                        status = response.status().as_u16(),
                        client = %client_of(request),
                        path = request.path(),
                        error = %error,
                        "answered"
                    ),
                    _ => tracing::info!(
                        status = response.status().as_u16(),
                        client = %client_of(request),
                        path = request.path(),
                        "answered"
                    ),
                }
            }
            Err(error) => tracing::info!(
                status = error.as_response_error().status_code().as_u16(),
                error = %error,
                "answered"
            ),
        }
    }
}

/// The client's address as the rate limits see it: through trusted proxies only.
fn client_of(request: &HttpRequest) -> String {
    request
        .app_data::<web::Data<TrustedProxies>>()
        .and_then(|proxies| proxies.client_ip(request.peer_addr(), request.headers()))
        .map_or_else(|| "-".to_owned(), |address| address.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_uuid_or_a_trace_id_is_kept() {
        for id in [
            "0b6e2c8e-8a1f-4c77-9d55-3f1f0a9f2b11",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "req_42",
        ] {
            assert_eq!(RequestId::accept(id).map(|id| id.0), Some(id.to_owned()));
        }
    }

    #[test]
    fn ids_that_could_forge_or_flood_a_log_line_are_refused() {
        let too_long = "a".repeat(MAX_LEN + 1);
        for id in [
            "",
            "two words",
            "line\nbreak",
            "quote\"d",
            "{\"json\":1}",
            "ünïcode",
            too_long.as_str(),
        ] {
            assert_eq!(RequestId::accept(id), None, "{id:?}");
        }
        assert!(RequestId::accept(&"a".repeat(MAX_LEN)).is_some());
    }

    #[test]
    fn generated_ids_are_accepted_ids() {
        let id = RequestId::generate();
        assert_eq!(RequestId::accept(id.as_str()), Some(id));
    }
}
