//! The bearer guard: which tokens open the protected routes and how refusals look (RFC 6750).

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

pub const PLACEHOLDER_TASK_ID: &str = "0190f1a2-0000-7000-8000-000000000001";
pub const PLACEHOLDER_SESSION_ID: &str = "0190f1a2-0000-7000-8000-0000000000cc";

/// Every bearer-guarded route, with a concrete id where the path takes one.
pub fn protected_routes(user_id: &str) -> Vec<(Method, String)> {
    let task = PLACEHOLDER_TASK_ID;
    vec![
        (Method::GET, "/api/auth/me".into()),
        (Method::POST, "/api/auth/logout-all".into()),
        (Method::POST, "/api/auth/password".into()),
        (Method::GET, "/api/auth/sessions".into()),
        (
            Method::DELETE,
            format!("/api/auth/sessions/{PLACEHOLDER_SESSION_ID}"),
        ),
        (Method::GET, "/api/tasks".into()),
        (Method::POST, "/api/tasks".into()),
        (Method::GET, format!("/api/tasks/{task}")),
        (Method::PUT, format!("/api/tasks/{task}")),
        (Method::PATCH, format!("/api/tasks/{task}")),
        (Method::DELETE, format!("/api/tasks/{task}")),
        (Method::PATCH, format!("/api/tasks/{task}/complete")),
        (Method::GET, format!("/api/{user_id}/tasks")),
        (Method::POST, format!("/api/{user_id}/tasks")),
        (Method::GET, format!("/api/{user_id}/tasks/{task}")),
        (Method::PUT, format!("/api/{user_id}/tasks/{task}")),
        (Method::PATCH, format!("/api/{user_id}/tasks/{task}")),
        (Method::DELETE, format!("/api/{user_id}/tasks/{task}")),
        (
            Method::PATCH,
            format!("/api/{user_id}/tasks/{task}/complete"),
        ),
    ]
}

async fn assert_refused(
    app: &TestApp,
    authorization: Option<&str>,
    user_id: &str,
    challenge: &str,
    code: &str,
) {
    for (method, path) in protected_routes(user_id) {
        let mut request = app
            .request(method.clone(), &path)
            .json(&json!({"title": "x"}));
        if let Some(value) = authorization {
            request = request.header("Authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path}"
        );
        assert_eq!(
            response.headers()["www-authenticate"],
            challenge,
            "{method} {path}"
        );
        assert_error(response, StatusCode::UNAUTHORIZED, code).await;
    }
}

#[actix_web::test]
async fn no_credentials_get_a_bare_bearer_challenge() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    assert_refused(&app, None, &user.id, "Bearer", "missing_token").await;
    assert_refused(
        &app,
        Some("Basic dXNlcjpwYXNz"),
        &user.id,
        "Bearer",
        "missing_token",
    )
    .await;
}

#[actix_web::test]
async fn expired_tokens_are_refused() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    // Past the 30 s leeway.
    let expired = mint_token(&claims_for(&user, -120), TEST_SECRET);
    assert_refused(
        &app,
        Some(&format!("Bearer {expired}")),
        &user.id,
        r#"Bearer error="invalid_token""#,
        "invalid_token",
    )
    .await;
}

#[actix_web::test]
async fn tampered_tokens_are_refused() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut parts: Vec<String> = user.access_token.split('.').map(str::to_owned).collect();
    // Same signature, someone else's payload.
    let mut claims = claims_for(&user, 600);
    claims["sub"] = json!("0190f1a2-0000-7000-8000-0000000000ff");
    let forged = mint_token(&claims, TEST_SECRET);
    parts[1] = forged.split('.').nth(1).unwrap().to_owned();
    let tampered = parts.join(".");
    assert_refused(
        &app,
        Some(&format!("Bearer {tampered}")),
        &user.id,
        r#"Bearer error="invalid_token""#,
        "invalid_token",
    )
    .await;
}

#[actix_web::test]
async fn alg_none_tokens_are_refused() {
    use base64::Engine as _;
    let app = spawn_app().await;
    let user = app.new_user().await;
    let encode = |value: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&value).unwrap())
    };
    let unsigned = format!(
        "{}.{}.",
        encode(json!({"alg": "none", "typ": "JWT"})),
        encode(claims_for(&user, 600))
    );
    assert_refused(
        &app,
        Some(&format!("Bearer {unsigned}")),
        &user.id,
        r#"Bearer error="invalid_token""#,
        "invalid_token",
    )
    .await;
}

#[actix_web::test]
async fn tokens_from_another_secret_issuer_or_audience_are_refused() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let other_secret = mint_token(
        &claims_for(&user, 600),
        "some-other-secret-some-other-secret-!!",
    );
    let mut wrong_issuer = claims_for(&user, 600);
    wrong_issuer["iss"] = json!("someone-else");
    let mut wrong_audience = claims_for(&user, 600);
    wrong_audience["aud"] = json!("someone-else");
    let mut no_exp = claims_for(&user, 600);
    no_exp.as_object_mut().unwrap().remove("exp");
    for token in [
        other_secret,
        mint_token(&wrong_issuer, TEST_SECRET),
        mint_token(&wrong_audience, TEST_SECRET),
        mint_token(&no_exp, TEST_SECRET),
        "not.a.jwt".to_owned(),
        "garbage".to_owned(),
    ] {
        let response = app.me(&token).await;
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer error="invalid_token""#
        );
        assert_error(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
    }
}

#[actix_web::test]
async fn a_token_minted_with_the_shared_secret_is_accepted_without_a_database_lookup() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    // What a Better Auth deployment sharing BETTER_AUTH_SECRET would sign.
    let token = mint_token(&claims_for(&user, 600), TEST_SECRET);
    let response = app
        .authed(Method::GET, "/api/tasks", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[actix_web::test]
async fn access_token_lifetime_follows_the_configuration() {
    use base64::Engine as _;
    let app = spawn_app_with(&[("ACCESS_TOKEN_TTL_SECONDS", "60")]).await;
    let user = app.new_user().await;
    let payload = user.access_token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        60
    );
    for claim in ["sub", "email", "sid", "jti", "iss", "aud"] {
        assert!(claims[claim].is_string(), "{claim} missing from {claims}");
    }
}

#[actix_web::test]
async fn a_token_whose_user_was_deleted_is_refused_and_writes_nothing() {
    use diesel::prelude::*;
    use todo_server::db::schema::{tasks, users};
    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut connection = app.connection();
    diesel::delete(users::table.filter(users::id.eq(&user.id)))
        .execute(&mut connection)
        .unwrap();
    assert_error(
        app.me(&user.access_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
    let create = app
        .authed(Method::POST, "/api/tasks", &user.access_token)
        .json(&json!({"title": "orphan"}))
        .send()
        .await
        .unwrap();
    assert_error(create, StatusCode::UNAUTHORIZED, "invalid_token").await;
    let count: i64 = tasks::table.count().get_result(&mut connection).unwrap();
    assert_eq!(count, 0);
}
