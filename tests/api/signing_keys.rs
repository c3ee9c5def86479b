//! `JWT_ALGORITHM=EdDSA` (part 3 of the interoperability issue): our access tokens are signed
//! with Ed25519 keys the server keeps, published at `/.well-known/jwks.json`, and another
//! service verifies them from the JWKS alone (here `jose`, an independent implementation).
//! The algorithm is pinned by the setting: HS256 tokens signed with `JWT_SECRET` are refused.
//! `todo-server keys rotate` publishes a key at once and signs with it after the propagation
//! delay, while the old key stays published.

use std::process::Command;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

const EDDSA: (&str, &str) = ("JWT_ALGORITHM", "EdDSA");

async fn jwks(app: &TestApp) -> Value {
    let response = app
        .request(Method::GET, "/.well-known/jwks.json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn published_kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn header_of(token: &str) -> Value {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap()
}

/// `jose` verifies `token` from the app's JWKS alone: the claims, or jose's error code.
fn verify_with_jose(app: &TestApp, token: &str) -> Result<Value, String> {
    let output = Command::new("node")
        .arg("verify-with-jose.mjs")
        .arg(app.url("/.well-known/jwks.json"))
        .arg(token)
        .arg("todo-server")
        .arg("todo-server")
        .current_dir(interop_dir())
        .output()
        .expect("run node (Node 20+ must be installed)");
    let printed: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("jose printed {:?}", String::from_utf8_lossy(&output.stdout)));
    if output.status.success() {
        Ok(printed["claims"].clone())
    } else {
        Err(printed["error"].as_str().unwrap_or_default().to_owned())
    }
}

#[actix_web::test]
async fn with_eddsa_hs256_and_forged_tokens_are_refused_and_ours_verify_from_the_jwks_alone() {
    let app = spawn_app_with(&[EDDSA]).await;
    let user = app.new_user().await;
    let header = header_of(&user.access_token);
    assert_eq!(header["alg"], "EdDSA");
    let kid = header["kid"].as_str().unwrap().to_owned();

    // The attacks: a token with our claims signed with JWT_SECRET (valid under HS256), an
    // unsigned one, and one signed with another Ed25519 key under our kid.
    let claims = claims_for(&user, 600);
    let hs256 = mint_token(&claims, TEST_SECRET);
    let unsigned = format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&claims));
    let foreign_key = {
        let other = todo_server_signing_key();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
        header.kid = Some(kid.clone());
        jsonwebtoken::encode(&header, &claims, &other).unwrap()
    };
    for (attack, token) in [
        ("HS256 with JWT_SECRET", &hs256),
        ("alg none", &unsigned),
        ("another Ed25519 key", &foreign_key),
    ] {
        let response = app
            .authed(Method::GET, "/api/tasks", token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{attack}");
        assert!(
            verify_with_jose(&app, token).is_err(),
            "jose accepts {attack}"
        );
    }

    // Ours work here and verify elsewhere with nothing but the JWKS.
    assert_eq!(
        app.authed(Method::GET, "/api/tasks", &user.access_token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let published = jwks(&app).await;
    assert_eq!(published_kids(&published), [kid]);
    let key = &published["keys"][0];
    assert_eq!(
        (&key["kty"], &key["crv"], &key["alg"], &key["use"]),
        (
            &json!("OKP"),
            &json!("Ed25519"),
            &json!("EdDSA"),
            &json!("sig")
        )
    );
    assert!(key.get("d").is_none(), "never the private key");
    let verified = verify_with_jose(&app, &user.access_token).unwrap();
    assert_eq!(verified["sub"], user.id.as_str());

    // The refresh token is opaque: refreshing gives another EdDSA token.
    let refreshed = app.refreshed(&user).await;
    assert_eq!(header_of(&refreshed.access_token)["alg"], "EdDSA");
}

/// An Ed25519 key the server never saw.
fn todo_server_signing_key() -> jsonwebtoken::EncodingKey {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&[7u8; 32]);
    jsonwebtoken::EncodingKey::from_ed_der(&der)
}

#[actix_web::test]
async fn switching_to_eddsa_refuses_old_hs256_tokens_and_a_refresh_carries_on() {
    let hs256 = spawn_app().await;
    let user = hs256.new_user().await;
    let eddsa = hs256.another_instance(&[EDDSA]).await;
    assert_error(
        eddsa.me(&user.access_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    let refreshed = eddsa.refreshed(&user).await;
    assert_eq!(header_of(&refreshed.access_token)["alg"], "EdDSA");
    assert_eq!(
        eddsa.me(&refreshed.access_token).await.status(),
        StatusCode::OK
    );
    // And the HS256 instance, pinned to HS256, refuses the EdDSA token.
    assert_eq!(
        hs256.me(&refreshed.access_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(published_kids(&jwks(&hs256).await), Vec::<String>::new());
}

#[actix_web::test]
async fn a_rotated_key_is_published_at_once_and_signs_after_the_propagation_delay() {
    let settings = [EDDSA, ("SIGNING_KEY_PROPAGATION_SECONDS", "2")];
    let app = spawn_app_with(&settings).await;
    let user = app.new_user().await;
    let old_kid = header_of(&user.access_token)["kid"]
        .as_str()
        .unwrap()
        .to_owned();

    let rotated = Command::new(env!("CARGO_BIN_EXE_todo-server"))
        .args(["keys", "rotate"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(test_env(&app.database_url, &settings))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(rotated.status.success(), "{rotated:?}");
    let kids = published_kids(&jwks(&app).await);
    assert_eq!(kids.len(), 2, "published at once: {kids:?}");
    assert_eq!(kids[0], old_kid);
    let new_kid = kids[1].clone();
    let printed = String::from_utf8_lossy(&rotated.stdout);
    assert!(printed.contains(&new_kid), "{printed}");

    // Not signing yet.
    let before = app.login_user(&user.email).await;
    assert_eq!(header_of(&before.access_token)["kid"], old_kid.as_str());

    // After the propagation delay (2 s) and a reload (every second here), it signs.
    actix_web::rt::time::sleep(Duration::from_millis(3500)).await;
    let after = app.login_user(&user.email).await;
    assert_eq!(header_of(&after.access_token)["kid"], new_kid.as_str());

    // The old key stays published while its tokens live; both verify, here and with jose.
    assert_eq!(published_kids(&jwks(&app).await), [old_kid, new_kid]);
    for token in [
        &user.access_token,
        &before.access_token,
        &after.access_token,
    ] {
        assert_eq!(app.me(token).await.status(), StatusCode::OK);
        assert!(verify_with_jose(&app, token).is_ok());
    }
}
