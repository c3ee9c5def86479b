//! Accounts and sessions: register, login, rotation with reuse detection, logout, cookies.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

#[actix_web::test]
async fn register_returns_the_user_and_a_token_pair() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            "/api/auth/register",
            &json!({"email": "  Ann@Example.ORG ", "password": PASSWORD, "name": "Ann"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["email"], "ann@example.org");
    assert_eq!(body["user"]["name"], "Ann");
    assert!(uuid::Uuid::parse_str(body["user"]["id"].as_str().unwrap()).is_ok());
    assert!(body["user"]["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(body["user"].get("password_hash").is_none());
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["refresh_token"].as_str().unwrap().len() >= 43);
    let refresh_ttl = body["refresh_token_expires_in"].as_u64().unwrap();
    assert!(
        (7 * 24 * 3600 - 5..=7 * 24 * 3600).contains(&refresh_ttl),
        "{refresh_ttl}"
    );

    let me = app.me(body["access_token"].as_str().unwrap()).await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["id"], body["user"]["id"]);
    assert_eq!(me["email"], "ann@example.org");
}

#[actix_web::test]
async fn email_is_unique_regardless_of_case() {
    let app = spawn_app().await;
    assert_eq!(
        app.register_raw("bob@example.org", PASSWORD).await.status(),
        StatusCode::CREATED
    );
    let again = app.register_raw(" BOB@Example.org", PASSWORD).await;
    assert_error(again, StatusCode::CONFLICT, "email_taken").await;
}

#[actix_web::test]
async fn registration_validates_every_field() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"email": "not-an-email", "password": PASSWORD}),
            "email",
        ),
        (
            json!({"email": "a@example.org", "password": "short"}),
            "password",
        ),
        (
            json!({"email": "a@example.org", "password": "x".repeat(129)}),
            "password",
        ),
        (json!({"password": PASSWORD}), "email"),
        (json!({"email": "a@example.org"}), "password"),
        (
            json!({"email": "a@example.org", "password": PASSWORD, "name": "x".repeat(101)}),
            "name",
        ),
        (
            json!({"email": "a@example.org", "password": PASSWORD, "admin": true}),
            "admin",
        ),
        (json!({"email": 42, "password": PASSWORD}), "email"),
    ];
    for (body, field) in cases {
        let response = app.post_json("/api/auth/register", &body).await;
        let error = assert_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert!(
            error_fields(&error).contains(&field.to_owned()),
            "{body} -> {error}"
        );
    }
    // Nothing was written: the address is still free.
    assert_eq!(
        app.register_raw("a@example.org", PASSWORD).await.status(),
        StatusCode::CREATED
    );
}

#[actix_web::test]
async fn a_weak_password_is_refused_with_the_reason() {
    let app = spawn_app().await;
    let response = app.register_raw("weak@example.org", "qwertyuiop").await;
    let body = assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&body), ["password"]);
    let message = body["error"]["details"][0]["message"].as_str().unwrap();
    assert!(message.contains("too easy to guess"), "{message}");
}

#[actix_web::test]
async fn login_works_with_any_case_of_the_email() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let response = app.login(&user.email.to_uppercase(), PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["id"], user.id.as_str());
}

#[actix_web::test]
async fn unknown_email_and_wrong_password_are_indistinguishable() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let wrong_password = assert_error(
        app.login(&user.email, "wrong password!").await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let unknown = assert_error(
        app.login("nobody@example.org", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let malformed = assert_error(
        app.login("nobody", PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(wrong_password, unknown);
    assert_eq!(unknown, malformed);
}

#[actix_web::test]
async fn refresh_rotates_and_the_old_token_never_works_again() {
    let app = spawn_app_with(&[("REFRESH_REUSE_GRACE_SECONDS", "0")]).await;
    let first = app.new_user().await;
    let second = app.refreshed(&first).await;
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
    assert_eq!(app.me(&second.access_token).await.status(), StatusCode::OK);

    let reused = app.refresh(&first.refresh_token).await;
    assert_error(reused, StatusCode::UNAUTHORIZED, "invalid_refresh_token").await;
}

#[actix_web::test]
async fn reuse_after_the_grace_window_revokes_the_whole_session() {
    let app = spawn_app_with(&[("REFRESH_REUSE_GRACE_SECONDS", "0")]).await;
    let stolen = app.new_user().await;
    let victim = app.refreshed(&stolen).await;
    let victim_next = app.refreshed(&victim).await;
    // Another login of the same user is a different session and must survive.
    let other_device = app.login_user(&stolen.email).await;

    // The thief replays the stolen token: theft detected.
    assert_error(
        app.refresh(&stolen.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    // Every descendant of that login is dead now, for the victim too.
    assert_error(
        app.refresh(&victim_next.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    // And it stays dead.
    assert_error(
        app.refresh(&victim_next.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    // The other session is untouched.
    assert_eq!(
        app.refresh(&other_device.refresh_token).await.status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn reuse_within_the_grace_window_is_a_conflict_that_revokes_nothing() {
    let app = spawn_app().await; // default grace: 10 s
    let first = app.new_user().await;
    let second = app.refreshed(&first).await;

    let retried = app.refresh(&first.refresh_token).await;
    assert_error(retried, StatusCode::CONFLICT, "refresh_conflict").await;
    // The newest token still works, and so does its successor.
    let third = app.refreshed(&second).await;
    assert_eq!(
        app.refresh(&third.refresh_token).await.status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn reuse_just_after_the_grace_window_is_theft() {
    let app = spawn_app_with(&[("REFRESH_REUSE_GRACE_SECONDS", "1")]).await;
    let first = app.new_user().await;
    let second = app.refreshed(&first).await;
    actix_web::rt::time::sleep(Duration::from_millis(2100)).await;
    assert_error(
        app.refresh(&first.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    assert_error(
        app.refresh(&second.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
}

#[actix_web::test]
async fn concurrent_refreshes_of_one_token_mint_exactly_one_pair() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let attempts = (0..10).map(|_| app.refresh(&user.refresh_token));
    let responses = futures_util::future::join_all(attempts).await;
    let mut winners = Vec::new();
    for response in responses {
        match response.status() {
            StatusCode::OK => winners.push(response.json::<Value>().await.unwrap()),
            StatusCode::CONFLICT => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one refresh may win");
    // The winner's pair keeps working.
    let token = winners[0]["refresh_token"].as_str().unwrap();
    assert_eq!(app.refresh(token).await.status(), StatusCode::OK);
}

#[actix_web::test]
async fn refresh_refuses_unknown_and_missing_tokens() {
    let app = spawn_app().await;
    assert_error(
        app.refresh("not-a-token").await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    assert_error(
        app.refresh(&"x".repeat(5000)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    let missing = app.post_json("/api/auth/refresh", &json!({})).await;
    let body = assert_error(
        missing,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&body), ["refresh_token"]);
}

#[actix_web::test]
async fn an_expired_refresh_token_is_refused() {
    let app = spawn_app_with(&[("REFRESH_TOKEN_TTL_SECONDS", "1")]).await;
    let user = app.new_user().await;
    actix_web::rt::time::sleep(Duration::from_millis(2100)).await;
    assert_error(
        app.refresh(&user.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
}

#[actix_web::test]
async fn a_session_ends_at_its_absolute_lifetime_however_often_it_rotates() {
    let app = spawn_app_with(&[("SESSION_MAX_AGE_SECONDS", "2")]).await;
    let user = app.new_user().await;
    let response = app.refresh(&user.refresh_token).await;
    let body: Value = response.json().await.unwrap();
    // The new refresh token is capped at the session's end.
    assert!(
        body["refresh_token_expires_in"].as_u64().unwrap() <= 2,
        "{body}"
    );
    actix_web::rt::time::sleep(Duration::from_millis(2600)).await;
    let token = body["refresh_token"].as_str().unwrap();
    assert_error(
        app.refresh(token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
}

#[actix_web::test]
async fn logout_revokes_the_session_and_is_idempotent() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let other_device = app.login_user(&user.email).await;
    let body = json!({"refresh_token": user.refresh_token});
    assert_eq!(
        app.post_json("/api/auth/logout", &body).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.post_json("/api/auth/logout", &body).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.post_json("/api/auth/logout", &json!({"refresh_token": "unknown"}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        app.refresh(&user.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    assert_eq!(
        app.refresh(&other_device.refresh_token).await.status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn logout_all_revokes_every_session_of_the_user_only() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let phone = app.login_user(&user.email).await;
    let someone_else = app.new_user().await;
    let response = app
        .authed(Method::POST, "/api/auth/logout-all", &user.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for token in [&user.refresh_token, &phone.refresh_token] {
        assert_error(
            app.refresh(token).await,
            StatusCode::UNAUTHORIZED,
            "invalid_refresh_token",
        )
        .await;
    }
    assert_eq!(
        app.refresh(&someone_else.refresh_token).await.status(),
        StatusCode::OK
    );
    // Needs a bearer token.
    let anonymous = app
        .request(Method::POST, "/api/auth/logout-all")
        .send()
        .await
        .unwrap();
    assert_error(anonymous, StatusCode::UNAUTHORIZED, "missing_token").await;
}

fn set_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("todo_refresh_token="))
        .expect("a refresh cookie is set")
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("todo_refresh_token=")
        .to_owned()
}

#[actix_web::test]
async fn cookie_transport_keeps_the_refresh_token_out_of_the_body() {
    let app = spawn_app_with(&[("COOKIE_SECURE", "true")]).await;
    let response = app
        .request(Method::POST, "/api/auth/register")
        .header("X-Token-Transport", "cookie")
        .json(&json!({"email": "cookie@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = set_cookie(&response);
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/api/auth",
        "Secure",
        "Max-Age=",
    ] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    let body: Value = response.json().await.unwrap();
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(body["access_token"].is_string());

    // Refresh reads the cookie, rotates it, and sets the successor.
    let first = cookie_value(&cookie);
    let refreshed = app
        .request(Method::POST, "/api/auth/refresh")
        .header("X-Token-Transport", "cookie")
        .header("Cookie", format!("todo_refresh_token={first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::OK);
    let second = cookie_value(&set_cookie(&refreshed));
    assert_ne!(first, second);
    let body: Value = refreshed.json().await.unwrap();
    assert!(body.get("refresh_token").is_none());

    // Logout reads the cookie, revokes the session and clears the cookie.
    let logout = app
        .request(Method::POST, "/api/auth/logout")
        .header("X-Token-Transport", "cookie")
        .header("Cookie", format!("todo_refresh_token={second}"))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert!(set_cookie(&logout).contains("Max-Age=0"));
    assert_error(
        app.refresh(&second).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
}

#[actix_web::test]
async fn the_cookie_is_ignored_without_the_transport_header() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    // A cross-site request could carry the cookie but cannot set the opt-in header.
    let response = app
        .request(Method::POST, "/api/auth/refresh")
        .header(
            "Cookie",
            format!("todo_refresh_token={}", user.refresh_token),
        )
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(
        app.refresh(&user.refresh_token).await.status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn cookie_secure_can_be_turned_off_for_plain_http_development() {
    let app = spawn_app().await; // COOKIE_SECURE=false in tests
    let response = app
        .request(Method::POST, "/api/auth/register")
        .header("X-Token-Transport", "cookie")
        .json(&json!({"email": "dev@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(!set_cookie(&response).contains("Secure"));
}

#[actix_web::test]
async fn passwords_are_stored_as_argon2id_hashes_only() {
    use diesel::prelude::*;
    use todo_server::db::schema::users;
    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut connection = app.connection();
    let hash: String = users::table
        .filter(users::id.eq(&user.id))
        .select(users::password_hash)
        .first(&mut connection)
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
}

#[actix_web::test]
async fn expired_refresh_tokens_are_purged_but_live_ones_kept() {
    use diesel::prelude::*;
    use todo_server::db::schema::refresh_tokens;
    let app = spawn_app_with(&[("REFRESH_TOKEN_TTL_SECONDS", "1")]).await;
    let first = app.new_user().await;
    app.refreshed(&first).await;
    actix_web::rt::time::sleep(Duration::from_millis(2100)).await;
    let fresh = app.login_user(&first.email).await;

    let mut connection = app.connection();
    let before: i64 = refresh_tokens::table
        .count()
        .get_result(&mut connection)
        .unwrap();
    assert_eq!(before, 3);
    let tokens = todo_server::sessions::store::purge_expired(&mut connection)
        .unwrap()
        .refresh_tokens;
    assert_eq!(tokens, 2, "the two expired tokens go");
    let after: i64 = refresh_tokens::table
        .count()
        .get_result(&mut connection)
        .unwrap();
    assert_eq!(after, 1);
    assert_eq!(
        app.refresh(&fresh.refresh_token).await.status(),
        StatusCode::OK
    );
}
