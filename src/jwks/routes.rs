//! `GET /.well-known/jwks.json`: the public keys that verify our access tokens.

use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, web};
use serde::Serialize;

use super::{published_now, store};
use crate::config::TokenSettings;
use crate::db::Database;
use crate::errors::ApiResult;

/// RFC 7517 §4 and RFC 8037 §2: an Ed25519 public key.
#[derive(Serialize)]
struct PublicJwk {
    kty: &'static str,
    crv: &'static str,
    x: String,
    kid: String,
    alg: &'static str,
    #[serde(rename = "use")]
    usage: &'static str,
}

#[derive(Serialize)]
struct JwkSet {
    keys: Vec<PublicJwk>,
}

/// Read from the database on every request, so a rotated key is published at once by every
/// instance. Empty with `JWT_ALGORITHM=HS256`, which has no public keys.
pub async fn jwks(
    db: web::Data<Database>,
    settings: web::Data<TokenSettings>,
) -> ApiResult<HttpResponse> {
    let keys = match settings.algorithm {
        crate::config::AccessAlgorithm::Hs256 => Vec::new(),
        crate::config::AccessAlgorithm::EdDsa => db.read(store::all).await?,
    };
    let keys = published_now(&keys, &settings)
        .into_iter()
        .map(|key| PublicJwk {
            kty: "OKP",
            crv: "Ed25519",
            x: key.public_x.clone(),
            kid: key.kid.clone(),
            alg: "EdDSA",
            usage: "sig",
        })
        .collect();
    Ok(HttpResponse::Ok()
        // Verifiers may cache it for a minute; the propagation delay covers far more.
        .insert_header((CACHE_CONTROL, "public, max-age=60"))
        .json(JwkSet { keys }))
}
