//! Abuse from outside: floods of auth requests cut off per client address (and who decides what
//! that address is), and cross-origin access limited to the configured origins.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn a_flood_of_failed_logins_from_one_address_is_cut_off() {
    let app = spawn_app_with(&[("AUTH_RATE_LIMIT_PER_MINUTE", "30")]).await;
    let mut first_refusal = None;
    for attempt in 1..=50 {
        let response = app.login("victim@example.org", "not the password").await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(retry_after(&response) >= 1);
            assert_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
            first_refusal.get_or_insert(attempt);
        }
    }
    let first = first_refusal.expect("the flood is stopped");
    assert!(first <= 10, "the first 429 came only at attempt {first}");
}

#[actix_web::test]
async fn instances_sharing_postgresql_share_one_budget_per_address() {
    // 6 a minute: bursts of 3, then one every 10 s, far longer than this test.
    let limit = [("AUTH_RATE_LIMIT_PER_MINUTE", "6")];
    let first = spawn_app_with(&limit).await;
    let second = first.another_instance(&limit).await;
    const GUESS: &str = "a-guessed-refresh-token";
    // Simultaneous guesses from one address, spread over both instances.
    let instances = [&first, &second];
    let statuses = simultaneous_statuses((0..20).map(|i| instances[i % 2].refresh(GUESS))).await;
    let allowed = 20 - count_of(&statuses, StatusCode::TOO_MANY_REQUESTS);
    if first.database.is_postgres() {
        // The buckets are rows both instances update: one budget.
        assert_eq!(allowed, 3, "{statuses:?}");
        assert_eq!(
            second.refresh(GUESS).await.status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    } else {
        // On SQLite, one process is the deployment, and each process keeps its own buckets
        // (as the README says): two of them allow two budgets.
        assert_eq!(allowed, 6, "{statuses:?}");
    }
}

#[actix_web::test]
async fn rate_limits_follow_forwarded_addresses_only_from_trusted_proxies() {
    let send = |app: &TestApp, forwarded: &'static str| {
        app.request(Method::POST, "/api/auth/login")
            .header("X-Forwarded-For", forwarded)
            .json(&json!({"email": "x@example.org", "password": "wrong password"}))
            .send()
    };
    // Behind a trusted proxy (the tests connect from 127.0.0.1), each client has its own bucket.
    let proxied = spawn_app_with(&[
        ("AUTH_RATE_LIMIT_PER_MINUTE", "6"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    let mut limited = false;
    for _ in 0..10 {
        limited |=
            send(&proxied, "198.51.100.1").await.unwrap().status() == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(limited, "one forwarded client is limited");
    assert_ne!(
        send(&proxied, "198.51.100.2").await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    // Without trusted proxies the header is the client's own claim, and changing it buys nothing.
    let direct = spawn_app_with(&[("AUTH_RATE_LIMIT_PER_MINUTE", "6")]).await;
    for _ in 0..10 {
        send(&direct, "198.51.100.1").await.unwrap();
    }
    assert_eq!(
        send(&direct, "203.0.113.99").await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[actix_web::test]
async fn a_malformed_forwarded_entry_does_not_move_a_client_out_of_its_bucket() {
    let app = spawn_app_with(&[
        ("AUTH_RATE_LIMIT_PER_MINUTE", "6"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    let send = |forwarded: &'static str| {
        app.request(Method::POST, "/api/auth/login")
            .header("X-Forwarded-For", forwarded)
            .json(&json!({"email": "x@example.org", "password": "wrong password"}))
            .send()
    };
    // The client exhausts its own bucket...
    let mut limited = false;
    for _ in 0..10 {
        limited |= send("198.51.100.7").await.unwrap().status() == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(limited, "the client is limited");
    // ...and prepending garbage to what the proxy appended does not give it a fresh one (before,
    // the walk stopped at the garbage and filed the request under the proxy's own address).
    assert_eq!(
        send("garbage, 198.51.100.7").await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Nor does it push the proxy's other clients into a shared bucket.
    assert_ne!(
        send("198.51.100.8").await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[actix_web::test]
async fn cors_answers_only_the_configured_origins() {
    let app = spawn_app_with(&[("CORS_ALLOWED_ORIGINS", "https://app.example.org")]).await;
    let preflight = |origin: &'static str| {
        app.request(Method::OPTIONS, "/api/tasks")
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type",
            )
            .send()
    };
    let allowed = preflight("https://app.example.org").await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://app.example.org"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    let methods = allowed.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        methods.contains("POST") && methods.contains("PATCH"),
        "{methods}"
    );

    let denied = preflight("https://evil.example").await.unwrap();
    assert!(
        denied
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );

    let user = app.new_user().await;
    let from = |origin: &'static str| {
        app.authed(Method::GET, "/api/tasks", &user.access_token)
            .header("Origin", origin)
            .send()
    };
    let actual = from("https://app.example.org").await.unwrap();
    assert_eq!(
        actual.headers()["access-control-allow-origin"],
        "https://app.example.org"
    );
    let other = from("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[actix_web::test]
async fn without_configured_origins_no_cors_headers_are_sent() {
    let app = spawn_app().await;
    let response = app
        .request(Method::OPTIONS, "/api/tasks")
        .header("Origin", "https://app.example.org")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

/// The statuses of `count` creates sent by `user` at once, titled `task 0`, `task 1`, ….
async fn create_simultaneously(app: &TestApp, user: &TestUser, count: usize) -> Vec<StatusCode> {
    let creates = (0..count).map(|i| {
        app.send(
            user,
            Method::POST,
            "/api/tasks",
            Some(json!({"title": format!("task {i}")})),
        )
    });
    simultaneous_statuses(creates).await
}

#[actix_web::test]
async fn without_a_task_limit_every_concurrent_create_lands_once() {
    let app = spawn_app_with(&[("MAX_TASKS_PER_USER", "0")]).await;
    let user = app.new_user().await;
    let statuses = create_simultaneously(&app, &user, 20).await;
    assert_eq!(count_of(&statuses, StatusCode::CREATED), 20, "{statuses:?}");
    let listed = app.list_tasks(&user, "?limit=100").await;
    let mut titles: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|task| task["title"].as_str().unwrap())
        .collect();
    titles.sort_unstable();
    let mut expected: Vec<String> = (0..20).map(|i| format!("task {i}")).collect();
    expected.sort_unstable();
    assert_eq!(titles, expected);
}

#[actix_web::test]
async fn an_account_holds_at_most_its_task_limit_even_when_creating_concurrently() {
    let app = spawn_app_with(&[("MAX_TASKS_PER_USER", "3")]).await;
    let user = app.new_user().await;
    let statuses = create_simultaneously(&app, &user, 10).await;
    let created = count_of(&statuses, StatusCode::CREATED);
    let refused = count_of(&statuses, StatusCode::CONFLICT);
    assert_eq!((created, refused), (3, 7), "{statuses:?}");
    assert_eq!(
        app.list_tasks(&user, "").await["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let more = app
        .send(
            &user,
            Method::POST,
            "/api/tasks",
            Some(json!({"title": "one more"})),
        )
        .await;
    let body = assert_error(more, StatusCode::CONFLICT, "task_limit_reached").await;
    assert!(
        body["error"]["message"].as_str().unwrap().contains('3'),
        "{body}"
    );
    // Another account is not affected, and deleting makes room again.
    let other = app.new_user().await;
    app.create_task(&other, json!({"title": "mine"})).await;
    let first = app.list_tasks(&user, "").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deleted = app
        .send(&user, Method::DELETE, &format!("/api/tasks/{first}"), None)
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    app.create_task(&user, json!({"title": "room again"})).await;
}

#[actix_web::test]
async fn task_writes_are_rate_limited_per_account_not_per_address() {
    let app = spawn_app_with(&[("TASK_WRITES_PER_MINUTE", "6")]).await;
    let user = app.new_user().await;
    let mut limited = None;
    for attempt in 0..10 {
        let response = app
            .send(
                &user,
                Method::POST,
                "/api/tasks",
                Some(json!({"title": "flood"})),
            )
            .await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(retry_after(&response) >= 1);
            assert_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
            limited = Some(attempt);
            break;
        }
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    assert!(limited.is_some(), "ten writes in a row were never limited");
    // A second session of the same account draws on the same bucket...
    let again = app.login_user(&user.email).await;
    let response = app
        .send(
            &again,
            Method::POST,
            "/api/tasks",
            Some(json!({"title": "flood"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    // ...reads are not limited, and another account writes freely.
    assert_eq!(
        app.send(&user, Method::GET, "/api/tasks", None)
            .await
            .status(),
        StatusCode::OK
    );
    let other = app.new_user().await;
    app.create_task(&other, json!({"title": "mine"})).await;
}

#[actix_web::test]
async fn a_login_beyond_the_session_limit_revokes_the_least_recently_used_session() {
    let app = spawn_app_with(&[("MAX_SESSIONS_PER_USER", "2")]).await;
    let first = app.new_user().await;
    let second = app.login_user(&first.email).await;
    // The first session is used after the second, so the second is the least recently used.
    let first = app.refreshed(&first).await;
    let third = app.login_user(&first.email).await;
    let sessions = app
        .send_json(&third, Method::GET, "/api/auth/sessions", None)
        .await;
    assert_eq!(sessions["items"].as_array().unwrap().len(), 2, "{sessions}");
    assert_refresh_refused(&app, &second.refresh_token).await;
    assert_refresh_accepted(&app, &first.refresh_token).await;
    assert_refresh_accepted(&app, &third.refresh_token).await;
}

/// Registers `email` and returns the device token the registration hands out.
async fn register_with_device(app: &TestApp, email: &str) -> String {
    let registered: serde_json::Value = app
        .register_raw(email, PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    registered["device_token"]
        .as_str()
        .expect("a device token")
        .to_owned()
}

/// A login for `email` that presents `device_token` in `X-Device-Token`.
async fn login_from_device(
    app: &TestApp,
    email: &str,
    password: &str,
    device_token: &str,
) -> reqwest::Response {
    app.request(Method::POST, "/api/auth/login")
        .header("X-Device-Token", device_token)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

#[actix_web::test]
async fn an_attacker_cannot_lock_the_owner_out_of_a_device_that_logged_in_before() {
    let app = spawn_app().await;
    let device_token = register_with_device(&app, "owner@example.org").await;
    // The attacker guesses until the account's back-off refuses it.
    for _ in 0..6 {
        app.login("owner@example.org", "a wrong guess").await;
    }
    assert_eq!(
        app.login("owner@example.org", "another guess")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // A client that never logged in is held back too: a distributed guesser stays slowed...
    assert_eq!(
        app.login("owner@example.org", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // ...but the owner's own device logs in, and gets a fresh device token.
    let owner = login_from_device(&app, "owner@example.org", PASSWORD, &device_token).await;
    assert_eq!(owner.status(), StatusCode::OK);
    let body: serde_json::Value = owner.json().await.unwrap();
    assert!(body["device_token"].is_string(), "{body}");

    // Another account's device token, or a forged one, exempts nothing.
    let stranger = register_with_device(&app, "stranger@example.org").await;
    for token in [stranger.as_str(), "forged.device.token"] {
        let response = login_from_device(&app, "owner@example.org", PASSWORD, token).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{token}");
    }
}

#[actix_web::test]
async fn a_trusted_device_has_a_back_off_of_its_own() {
    let app = spawn_app().await;
    let device_token = register_with_device(&app, "owner@example.org").await;
    // A thief with the device token gets that device's five free guesses, no more.
    for _ in 0..5 {
        let guess =
            login_from_device(&app, "owner@example.org", "a wrong guess", &device_token).await;
        assert_eq!(guess.status(), StatusCode::UNAUTHORIZED);
    }
    let held = login_from_device(&app, "owner@example.org", PASSWORD, &device_token).await;
    assert_eq!(held.status(), StatusCode::TOO_MANY_REQUESTS);
    // The account's own back-off was not touched: the owner elsewhere still logs in.
    assert_eq!(
        app.login("owner@example.org", PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn browsers_keep_the_device_token_in_a_cookie_for_the_login_route_only() {
    let app = spawn_app().await;
    app.register_raw("owner@example.org", PASSWORD).await;
    let login = app
        .request(Method::POST, "/api/auth/login")
        .header("X-Token-Transport", "cookie")
        .json(&json!({"email": "owner@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let device_cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|cookie| cookie.starts_with("todo_device="))
        .expect("a device cookie")
        .to_owned();
    assert!(device_cookie.contains("HttpOnly"), "{device_cookie}");
    assert!(device_cookie.contains("SameSite=Strict"), "{device_cookie}");
    assert!(
        device_cookie.contains("Path=/api/auth/login"),
        "{device_cookie}"
    );
    let body: serde_json::Value = login.json().await.unwrap();
    assert!(
        body.get("device_token").is_none(),
        "script never sees it: {body}"
    );
    let token = device_cookie
        .trim_start_matches("todo_device=")
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    for _ in 0..7 {
        app.login("owner@example.org", "a wrong guess").await;
    }
    let from_browser = app
        .request(Method::POST, "/api/auth/login")
        .header("X-Token-Transport", "cookie")
        .header("Cookie", format!("todo_device={token}"))
        .json(&json!({"email": "owner@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(from_browser.status(), StatusCode::OK);
}
