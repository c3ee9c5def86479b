//! The web client: the files of `web/`, embedded in the binary at build time and served at `/`.
//! No separate web server and no Node.js are needed to run or build the crate.
//!
//! Every page response carries a strict Content-Security-Policy with no inline script, so even
//! task text that slipped into the DOM as HTML could not run; the client renders it as text
//! anyway.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::errors::ApiError;

#[derive(rust_embed::Embed)]
#[folder = "web/"]
struct Assets;

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/", web::get().to(index))
        .route("/{file:.+}", web::get().to(asset));
}

async fn index() -> Result<HttpResponse, ApiError> {
    serve("index.html")
}

async fn asset(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    serve(request.match_info().get("file").unwrap_or_default())
}

fn serve(path: &str) -> Result<HttpResponse, ApiError> {
    let file = Assets::get(path).ok_or(ApiError::NotFound)?;
    let mime = file.metadata.mimetype();
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CONTENT_TYPE, mime))
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        // The page changes with each release; revalidate instead of caching stale code.
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")));
    Ok(response.body(file.data.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_embedded() {
        assert!(Assets::get("index.html").is_some());
    }
}
