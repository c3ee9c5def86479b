//! An access token stops working within a second of its session's end (logout, logout-all, a
//! password change, a revoked session, a detected reuse), on the instance that ended it at
//! once and on every other instance sharing the database within a second, while tokens of
//! live sessions keep working.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

/// The README's bound on how long a revoked session's access token works on other instances.
const PROPAGATION_BOUND: Duration = Duration::from_secs(1);

async fn assert_refused_now(app: &TestApp, access_token: &str) {
    assert_error(
        app.me(access_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    )
    .await;
}

async fn assert_works(app: &TestApp, access_token: &str) {
    assert_eq!(app.me(access_token).await.status(), StatusCode::OK);
}

#[actix_web::test]
async fn logout_stops_the_sessions_access_token_at_once() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let other_device = app.login_user(&user.email).await;
    // Used once first, so the server has verified the token and kept it (tokens/verified.rs).
    assert_works(&app, &user.access_token).await;
    let logout = app
        .post_json(
            "/api/auth/logout",
            &json!({"refresh_token": user.refresh_token}),
        )
        .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_refused_now(&app, &user.access_token).await;
    // Tasks too, not only the profile.
    let tasks = app.authed(Method::GET, "/api/tasks", &user.access_token);
    assert_eq!(
        tasks.send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_works(&app, &other_device.access_token).await;
}

#[actix_web::test]
async fn logout_all_stops_every_access_token_of_the_user_only() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let other_device = app.login_user(&user.email).await;
    let someone_else = app.new_user().await;
    let response = app
        .send(&user, Method::POST, "/api/auth/logout-all", None)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_refused_now(&app, &user.access_token).await;
    assert_refused_now(&app, &other_device.access_token).await;
    assert_works(&app, &someone_else.access_token).await;
}

#[actix_web::test]
async fn a_password_change_stops_the_other_sessions_access_tokens() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let other_device = app.login_user(&user.email).await;
    let change = app
        .send(
            &user,
            Method::POST,
            "/api/auth/password",
            Some(json!({"current_password": PASSWORD, "new_password": "a different passphrase entirely"})),
        )
        .await;
    assert_eq!(change.status(), StatusCode::NO_CONTENT);
    assert_refused_now(&app, &other_device.access_token).await;
    // The session that changed it stays.
    assert_works(&app, &user.access_token).await;
}

#[actix_web::test]
async fn a_revoked_session_stops_its_access_token() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let lost_phone = app.login_user(&user.email).await;
    let sessions: serde_json::Value = app
        .send(&lost_phone, Method::GET, "/api/auth/sessions", None)
        .await
        .json()
        .await
        .unwrap();
    let phone_session = sessions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|session| session["current"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoke = app
        .send(
            &user,
            Method::DELETE,
            &format!("/api/auth/sessions/{phone_session}"),
            None,
        )
        .await;
    assert_eq!(revoke.status(), StatusCode::NO_CONTENT);
    assert_refused_now(&app, &lost_phone.access_token).await;
    assert_works(&app, &user.access_token).await;
}

#[actix_web::test]
async fn a_detected_reuse_stops_the_sessions_access_tokens() {
    let app = spawn_app_with(&[("REFRESH_REUSE_GRACE_SECONDS", "0")]).await;
    let stolen = app.new_user().await;
    let thief = app.refreshed(&stolen).await;
    assert_refresh_refused(&app, &stolen.refresh_token).await;
    assert_refused_now(&app, &thief.access_token).await;
}

#[actix_web::test]
async fn another_instance_refuses_a_logged_out_token_within_a_second() {
    let first = spawn_app().await;
    let second = first.another_instance(&[]).await;
    let user = first.new_user().await;
    let bystander = first.new_user().await;
    assert_works(&second, &user.access_token).await;

    let logout = first
        .post_json(
            "/api/auth/logout",
            &json!({"refresh_token": user.refresh_token}),
        )
        .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let delay = refused_after(&second, &user.access_token, PROPAGATION_BOUND).await;
    println!("revocation reached the other instance after {delay:?}");
    assert_works(&second, &bystander.access_token).await;
}
