//! Publishing our access tokens' public keys (`JWT_ALGORITHM=EdDSA`): the JWKS route, the keys
//! in the database, the start-up key and the reload that keeps each instance's [`KeyRing`]
//! current. The rules (which key signs, which are published) are in `tokens/signing_keys.rs`.
//!
//! Keys live in the database, not in a file, so every instance sharing it signs with the same
//! key and publishes the same set. `todo-server keys rotate` ([`rotate`]) adds a key that signs
//! a propagation delay later (`SIGNING_KEY_PROPAGATION_SECONDS`); each instance reloads the keys
//! at least twice within that delay, so it holds the new key before the key starts signing
//! anywhere.
//!
//! - [`routes`]: `GET /.well-known/jwks.json`.
//! - [`store`]: the `signing_keys` table.

pub mod routes;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use actix_web::web;

use crate::config::TokenSettings;
use crate::db::{self, AnyConnection, Database, DbResult};
use crate::tokens::access::CLOCK_LEEWAY_SECONDS;
use crate::tokens::signing_keys::{self, KeyRing, SigningKey};

pub fn configure(config: &mut web::ServiceConfig) {
    config.route("/.well-known/jwks.json", web::get().to(routes::jwks));
}

/// The keys to publish now: those whose tokens may still be alive.
pub fn published_now<'a>(keys: &'a [SigningKey], settings: &TokenSettings) -> Vec<&'a SigningKey> {
    let token_lifetime = settings.access_ttl + Duration::from_secs(CLOCK_LEEWAY_SECONDS);
    signing_keys::published(keys, db::now(), token_lifetime)
}

/// Adds a key that is published at once and signs after `propagation`. Its `kid`.
pub fn rotate(connection: &mut AnyConnection, propagation: Duration) -> DbResult<SigningKey> {
    let now = db::now();
    let active_from =
        now + chrono::Duration::from_std(propagation).unwrap_or(chrono::Duration::MAX);
    let key = SigningKey::generate(now, active_from);
    store::insert(connection, &key)?;
    Ok(key)
}

/// The keys, with a first one (signing at once) when there are none yet: a fresh database, or
/// the first start with `JWT_ALGORITHM=EdDSA`.
pub fn keys_with_a_first_one(connection: &mut AnyConnection) -> DbResult<Vec<SigningKey>> {
    let keys = store::all(connection)?;
    if !keys.is_empty() {
        return Ok(keys);
    }
    let now = db::now();
    store::insert(connection, &SigningKey::generate(now, now))?;
    store::all(connection)
}

/// How often an instance reloads the keys: at least twice within the propagation delay, at
/// most every 30 s, at least every second.
pub fn reload_interval(propagation: Duration) -> Duration {
    (propagation / 2).clamp(Duration::from_secs(1), Duration::from_secs(30))
}

/// Keeps `ring` in step with the database.
pub fn spawn_reloading(db: Database, ring: Arc<KeyRing>, propagation: Duration) {
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(reload_interval(propagation));
        loop {
            interval.tick().await;
            match db.read(store::all).await {
                Ok(keys) if !keys.is_empty() => ring.replace(keys),
                Ok(_) => tracing::warn!("the signing keys table is empty; keeping the keys loaded"),
                Err(error) => tracing::warn!(%error, "could not reload the signing keys"),
            }
        }
    });
}
