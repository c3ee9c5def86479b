//! Sessions: refresh-token rotation and reuse detection, lifetimes, logout, the cookie
//! transport, the user's list of sessions with revocation, and the purge of expired tokens.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

#[actix_web::test]
async fn refresh_rotates_and_the_old_token_never_works_again() {
    let app = spawn_app_with(&[("REFRESH_REUSE_GRACE_SECONDS", "0")]).await;
    let first = app.new_user().await;
    let second = app.refreshed(&first).await;
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
    assert_eq!(app.me(&second.access_token).await.status(), StatusCode::OK);

    assert_refresh_refused(&app, &first.refresh_token).await;
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
    assert_refresh_refused(&app, &stolen.refresh_token).await;
    // Every descendant of that login is dead now, for the victim too.
    assert_refresh_refused(&app, &victim_next.refresh_token).await;
    // And it stays dead.
    assert_refresh_refused(&app, &victim_next.refresh_token).await;
    // The other session is untouched.
    assert_refresh_accepted(&app, &other_device.refresh_token).await;
}

#[actix_web::test]
async fn a_client_whose_refresh_response_was_lost_gets_the_same_successor_again() {
    let app = spawn_app().await; // default grace: 10 s
    let first = app.new_user().await;
    // The server rotated, but the response never reached the client.
    let lost = app.refreshed(&first).await;

    // So the client retries with the only token it has.
    let retried = app.refresh(&first.refresh_token).await;
    assert_eq!(retried.status(), StatusCode::OK);
    let retried: Value = retried.json().await.unwrap();
    assert_eq!(retried["refresh_token"], lost.refresh_token.as_str());
    let access_token = retried["access_token"].as_str().unwrap();
    assert_eq!(app.me(access_token).await.status(), StatusCode::OK);
    assert!(retried["refresh_token_expires_in"].as_u64().unwrap() <= 7 * 24 * 3600);

    // And carries on from there: the session is intact.
    let next = app.refresh(&lost.refresh_token).await;
    assert_eq!(next.status(), StatusCode::OK);
    let next: Value = next.json().await.unwrap();
    assert_refresh_accepted(&app, next["refresh_token"].as_str().unwrap()).await;
}

#[actix_web::test]
async fn presenting_a_token_whose_successor_was_used_is_theft_even_within_the_window() {
    let app = spawn_app().await;
    let stolen = app.new_user().await;
    // The thief refreshes first and moves on with the successor.
    let thief = app.refreshed(&stolen).await;
    let thief_next = app.refreshed(&thief).await;

    // The victim presents the token it still holds, seconds later: the chain has moved on
    // from its successor, so two parties hold this session.
    assert_refresh_refused(&app, &stolen.refresh_token).await;
    // The thief's branch dies with the session.
    assert_refresh_refused(&app, &thief_next.refresh_token).await;
    assert_eq!(
        app.me(&thief_next.access_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn a_retry_in_a_revoked_session_gets_nothing() {
    let app = spawn_app().await;
    let first = app.new_user().await;
    let second = app.refreshed(&first).await;
    let logout = app
        .post_json(
            "/api/auth/logout",
            &json!({"refresh_token": second.refresh_token}),
        )
        .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert_refresh_refused(&app, &first.refresh_token).await;
    assert_refresh_refused(&app, &second.refresh_token).await;
}

#[actix_web::test]
async fn reuse_just_after_the_grace_window_is_theft() {
    let app = spawn_app_with(&[("REFRESH_REUSE_GRACE_SECONDS", "1")]).await;
    let first = app.new_user().await;
    let second = app.refreshed(&first).await;
    actix_web::rt::time::sleep(Duration::from_millis(2100)).await;
    assert_refresh_refused(&app, &first.refresh_token).await;
    assert_refresh_refused(&app, &second.refresh_token).await;
}

#[actix_web::test]
async fn concurrent_refreshes_of_one_token_all_get_the_one_successor() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let attempts = (0..20).map(|_| app.refresh(&user.refresh_token));
    let responses = futures_util::future::join_all(attempts).await;
    let mut successors = Vec::new();
    for response in responses {
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        successors.push(body["refresh_token"].as_str().unwrap().to_owned());
    }
    successors.dedup();
    assert_eq!(successors.len(), 1, "every caller gets the same successor");
    // Exactly one successor was stored: the login's token and that one.
    assert_eq!(app.refresh_tokens_stored(), 2);
    assert_refresh_accepted(&app, &successors[0]).await;
}

#[actix_web::test]
async fn refresh_refuses_unknown_and_missing_tokens() {
    let app = spawn_app().await;
    assert_refresh_refused(&app, "not-a-token").await;
    assert_refresh_refused(&app, &"x".repeat(5000)).await;
    let missing = app.post_json("/api/auth/refresh", &json!({})).await;
    let body = assert_validation_failed(missing).await;
    assert_eq!(error_fields(&body), ["refresh_token"]);
}

#[actix_web::test]
async fn an_expired_refresh_token_is_refused() {
    let app = spawn_app_with(&[("REFRESH_TOKEN_TTL_SECONDS", "1")]).await;
    let user = app.new_user().await;
    actix_web::rt::time::sleep(Duration::from_millis(2100)).await;
    assert_refresh_refused(&app, &user.refresh_token).await;
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
    assert_refresh_refused(&app, body["refresh_token"].as_str().unwrap()).await;
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
    assert_refresh_refused(&app, &user.refresh_token).await;
    assert_refresh_accepted(&app, &other_device.refresh_token).await;
}

#[actix_web::test]
async fn logout_all_revokes_every_session_of_the_user_only() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let phone = app.login_user(&user.email).await;
    let someone_else = app.new_user().await;
    let response = app
        .send(&user, Method::POST, "/api/auth/logout-all", None)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    for token in [&user.refresh_token, &phone.refresh_token] {
        assert_refresh_refused(&app, token).await;
    }
    assert_refresh_accepted(&app, &someone_else.refresh_token).await;
    // Needs a bearer token.
    let anonymous = app
        .request(Method::POST, "/api/auth/logout-all")
        .send()
        .await
        .unwrap();
    assert_error(anonymous, StatusCode::UNAUTHORIZED, "missing_token").await;
}

#[actix_web::test]
async fn cookie_transport_keeps_the_refresh_token_out_of_the_body() {
    let app = spawn_app_with(&[("COOKIE_SECURE", "true")]).await;
    let response = app
        .cookie_transport(Method::POST, "/api/auth/register")
        .json(&json!({"email": "cookie@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = refresh_set_cookie(&response);
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
        .cookie_transport(Method::POST, "/api/auth/refresh")
        .header("Cookie", refresh_cookie_header(&first))
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::OK);
    let second = cookie_value(&refresh_set_cookie(&refreshed));
    assert_ne!(first, second);
    let body: Value = refreshed.json().await.unwrap();
    assert!(body.get("refresh_token").is_none());

    // Logout reads the cookie, revokes the session and clears the cookie.
    let logout = app
        .cookie_transport(Method::POST, "/api/auth/logout")
        .header("Cookie", refresh_cookie_header(&second))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert!(refresh_set_cookie(&logout).contains("Max-Age=0"));
    assert_refresh_refused(&app, &second).await;
}

#[actix_web::test]
async fn the_cookie_is_ignored_without_the_transport_header() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    // A cross-site request could carry the cookie but cannot set the opt-in header.
    let response = app
        .request(Method::POST, "/api/auth/refresh")
        .header("Cookie", refresh_cookie_header(&user.refresh_token))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_validation_failed(response).await;
    assert_refresh_accepted(&app, &user.refresh_token).await;
}

#[actix_web::test]
async fn cookie_secure_can_be_turned_off_for_plain_http_development() {
    let app = spawn_app().await; // COOKIE_SECURE=false in tests
    let response = app
        .cookie_transport(Method::POST, "/api/auth/register")
        .json(&json!({"email": "dev@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert!(!refresh_set_cookie(&response).contains("Secure"));
}

#[actix_web::test]
async fn users_can_list_their_sessions_and_revoke_one() {
    let app = spawn_app().await;
    let laptop = app.new_user().await;
    let phone: Value = app
        .request(Method::POST, "/api/auth/login")
        .header("User-Agent", "PhoneApp/1.0")
        .json(&json!({"email": laptop.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let response = app
        .send(&laptop, Method::GET, "/api/auth/sessions", None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let list: Value = response.json().await.unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);
    let phone_session = items
        .iter()
        .find(|s| s["user_agent"] == "PhoneApp/1.0")
        .unwrap();
    assert_eq!(phone_session["current"], false);
    assert_eq!(phone_session["ip_address"], "127.0.0.1");
    assert!(phone_session["created_at"].is_string() && phone_session["last_used_at"].is_string());

    // Another user cannot revoke it, or even tell that it exists.
    let stranger = app.new_user().await;
    let path = format!(
        "/api/auth/sessions/{}",
        phone_session["id"].as_str().unwrap()
    );
    let foreign = app.send(&stranger, Method::DELETE, &path, None).await;
    assert_error(foreign, StatusCode::NOT_FOUND, "not_found").await;
    let phone_rotated: Value = app
        .refresh(phone["refresh_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let phone_token = phone_rotated["refresh_token"].as_str().unwrap();

    let phone_next: Value = app
        .login(&laptop.email, PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let list = app
        .send_json(&laptop, Method::GET, "/api/auth/sessions", None)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    let revoked = app.send(&laptop, Method::DELETE, &path, None).await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let again = app.send(&laptop, Method::DELETE, &path, None).await;
    assert_error(again, StatusCode::NOT_FOUND, "not_found").await;
    let malformed = app
        .send(&laptop, Method::DELETE, "/api/auth/sessions/42", None)
        .await;
    assert_error(malformed, StatusCode::NOT_FOUND, "not_found").await;
    // The revoked session's tokens are dead; the others live.
    assert_refresh_refused(&app, phone_token).await;
    assert_refresh_accepted(&app, &laptop.refresh_token).await;
    assert_refresh_accepted(&app, phone_next["refresh_token"].as_str().unwrap()).await;
}

#[actix_web::test]
async fn expired_refresh_tokens_are_purged_but_live_ones_kept() {
    use diesel::prelude::*;

    use crate::helpers::schema::refresh_tokens;
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
    let tokens = purge_expired(&mut connection).unwrap().refresh_tokens;
    assert_eq!(tokens, 2, "the two expired tokens go");
    let after: i64 = refresh_tokens::table
        .count()
        .get_result(&mut connection)
        .unwrap();
    assert_eq!(after, 1);
    assert_refresh_accepted(&app, &fresh.refresh_token).await;
}
