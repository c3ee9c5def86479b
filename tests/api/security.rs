//! Attacks the service must hold up against: floods, password guessing spread over addresses,
//! hostile tokens, races, and cross-origin access. Plus the session controls users rely on
//! after an incident.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// Signs `header.payload` with HMAC-SHA-`bits` and the given secret, whatever `alg` says.
fn hmac_token(
    header: &Value,
    claims: &Value,
    secret: &str,
    algorithm: jsonwebtoken::Algorithm,
) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    let signing_input = format!("{}.{}", b64(header), b64(claims));
    let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, algorithm).unwrap();
    format!("{signing_input}.{signature}")
}

async fn assert_token_accepted(app: &TestApp, token: &str) {
    let response = app
        .authed(Method::GET, "/api/tasks", token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn assert_token_refused(app: &TestApp, token: &str, what: &str) {
    let response = app
        .authed(Method::GET, "/api/tasks", token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer error="invalid_token""#,
        "{what}"
    );
    assert_error(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
}

#[actix_web::test]
async fn hostile_tokens_are_all_refused_with_401() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let claims = claims_for(&user, 600);
    use jsonwebtoken::Algorithm::{HS256, HS384, HS512};

    // Sanity: the forging helper makes tokens the server accepts when nothing is wrong.
    let honest = hmac_token(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims,
        TEST_SECRET,
        HS256,
    );
    assert_token_accepted(&app, &honest).await;

    let mut cases: Vec<(String, String)> = vec![
        (
            "alg none".into(),
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                b64(&claims)
            ),
        ),
        (
            "alg None".into(),
            format!("{}.{}.", b64(&json!({"alg": "None"})), b64(&claims)),
        ),
        (
            "HS384 with the secret".into(),
            hmac_token(&json!({"alg": "HS384"}), &claims, TEST_SECRET, HS384),
        ),
        (
            "HS512 with the secret".into(),
            hmac_token(&json!({"alg": "HS512"}), &claims, TEST_SECRET, HS512),
        ),
        // Algorithm confusion: an RS256/ES256 header over an HMAC made with the shared secret.
        (
            "RS256 header, HMAC signature".into(),
            hmac_token(&json!({"alg": "RS256"}), &claims, TEST_SECRET, HS256),
        ),
        (
            "ES256 header, HMAC signature".into(),
            hmac_token(&json!({"alg": "ES256"}), &claims, TEST_SECRET, HS256),
        ),
        (
            "signature stripped".into(),
            honest.rsplit_once('.').unwrap().0.to_owned() + ".",
        ),
        (
            "no signature segment".into(),
            honest.rsplit_once('.').unwrap().0.to_owned(),
        ),
        (
            "another secret".into(),
            hmac_token(
                &json!({"alg": "HS256"}),
                &claims,
                "attacker-secret-attacker-secret-attacker",
                HS256,
            ),
        ),
        ("segments not base64url".into(), "e30!.e30!.sig!".into()),
        (
            "segments not JSON".into(),
            format!(
                "{}.{}.{}",
                URL_SAFE_NO_PAD.encode("not json"),
                URL_SAFE_NO_PAD.encode("{"),
                "c2ln"
            ),
        ),
        ("a 100 KB token".into(), "a".repeat(100 * 1024)),
    ];
    // Payload edited after signing.
    let mut edited = claims.clone();
    edited["sub"] = json!("0190f1a2-0000-7000-8000-0000000000aa");
    let parts: Vec<&str> = honest.split('.').collect();
    cases.push((
        "payload edited".into(),
        format!("{}.{}.{}", parts[0], b64(&edited), parts[2]),
    ));
    // Claims the server must check.
    let now = chrono::Utc::now().timestamp();
    for (what, change) in [
        ("exp in the past", json!({"exp": now - 120})),
        ("nbf in the future", json!({"nbf": now + 600})),
        ("wrong iss", json!({"iss": "https://evil.example"})),
        ("wrong aud", json!({"aud": "another-service"})),
        ("sub not a user id", json!({"sub": "admin"})),
    ] {
        let mut altered = claims.clone();
        for (key, value) in change.as_object().unwrap() {
            altered[key] = value.clone();
        }
        cases.push((what.into(), mint_token(&altered, TEST_SECRET)));
    }
    for missing in ["exp", "iss", "aud", "sub"] {
        let mut altered = claims.clone();
        altered.as_object_mut().unwrap().remove(missing);
        cases.push((
            format!("{missing} missing"),
            mint_token(&altered, TEST_SECRET),
        ));
    }
    // Key-locating headers that point elsewhere, over an attacker's signature: never fetched,
    // never trusted.
    for header in [
        json!({"alg": "HS256", "kid": "../../../../dev/null"}),
        json!({"alg": "HS256", "jku": "http://127.0.0.1:9/jwks.json"}),
        json!({"alg": "HS256", "x5u": "http://127.0.0.1:9/cert.pem"}),
    ] {
        cases.push((
            format!("{header}"),
            hmac_token(
                &header,
                &claims,
                "attacker-secret-attacker-secret-attacker",
                HS256,
            ),
        ));
    }
    for (what, token) in cases {
        assert_token_refused(&app, &token, &what).await;
    }
    // "Bearer " with nothing after it presents no token at all.
    let empty = app
        .request(Method::GET, "/api/tasks")
        .header("Authorization", "Bearer ")
        .send()
        .await
        .unwrap();
    assert_eq!(empty.headers()["www-authenticate"], "Bearer");
    assert_error(empty, StatusCode::UNAUTHORIZED, "missing_token").await;

    // A `kid` on an otherwise valid token is simply ignored.
    let with_kid = hmac_token(
        &json!({"alg": "HS256", "kid": "whatever"}),
        &claims,
        TEST_SECRET,
        HS256,
    );
    assert_token_accepted(&app, &with_kid).await;
}

#[actix_web::test]
async fn a_flood_of_failed_logins_from_one_address_is_cut_off() {
    let app = spawn_app_with(&[("AUTH_RATE_LIMIT_PER_MINUTE", "30")]).await;
    let mut first_refusal = None;
    for attempt in 1..=50 {
        let response = app.login("victim@example.org", "not the password").await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            let retry_after: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(retry_after >= 1);
            assert_error(response, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
            first_refusal.get_or_insert(attempt);
        }
    }
    let first = first_refusal.expect("the flood is stopped");
    assert!(first <= 10, "the first 429 came only at attempt {first}");
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
async fn failed_logins_for_one_account_back_off_whatever_the_address_and_reset_on_success() {
    // Per-address limits off: this is the per-account rule, which holds across addresses.
    let app = spawn_app().await;
    let user = app.new_user().await;
    for _ in 0..5 {
        assert_error(
            app.login(&user.email, "wrong password").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
    // Even the right password waits now; it is not checked during the back-off.
    let refused = app.login(&user.email, PASSWORD).await;
    assert!(
        refused.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_error(refused, StatusCode::TOO_MANY_REQUESTS, "rate_limited").await;
    // Other accounts are unaffected.
    let other = app.new_user().await;
    assert_eq!(
        app.login(&other.email, PASSWORD).await.status(),
        StatusCode::OK
    );

    actix_web::rt::time::sleep(Duration::from_millis(2200)).await;
    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::OK
    );
    // The success reset the count: five more failures are free again.
    for _ in 0..5 {
        assert_error(
            app.login(&user.email, "wrong password").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
}

#[actix_web::test]
async fn the_back_off_does_not_reveal_whether_an_account_exists() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let mut answers = Vec::new();
    for email in [user.email.as_str(), "nobody-here@example.org"] {
        let mut statuses = Vec::new();
        for _ in 0..7 {
            statuses.push(app.login(email, "wrong password").await.status());
        }
        answers.push(statuses);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].last(), Some(&StatusCode::TOO_MANY_REQUESTS));
}

#[actix_web::test]
async fn users_can_list_their_sessions_and_revoke_one() {
    let app = spawn_app().await;
    let laptop = app.new_user().await;
    let phone_response = app
        .request(Method::POST, "/api/auth/login")
        .header("User-Agent", "PhoneApp/1.0")
        .json(&json!({"email": laptop.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let phone: Value = phone_response.json().await.unwrap();

    let response = app
        .authed(Method::GET, "/api/auth/sessions", &laptop.access_token)
        .send()
        .await
        .unwrap();
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
    let foreign = app
        .authed(Method::DELETE, &path, &stranger.access_token)
        .send()
        .await
        .unwrap();
    assert_error(foreign, StatusCode::NOT_FOUND, "not_found").await;
    assert_eq!(
        app.refresh(phone["refresh_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );

    let phone_next: Value = app
        .login(&laptop.email, PASSWORD)
        .await
        .json()
        .await
        .unwrap();
    let response = app
        .authed(Method::GET, "/api/auth/sessions", &laptop.access_token)
        .send()
        .await
        .unwrap();
    let list: Value = response.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    let revoked = app
        .authed(Method::DELETE, &path, &laptop.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let again = app
        .authed(Method::DELETE, &path, &laptop.access_token)
        .send()
        .await
        .unwrap();
    assert_error(again, StatusCode::NOT_FOUND, "not_found").await;
    let malformed = app
        .authed(
            Method::DELETE,
            "/api/auth/sessions/42",
            &laptop.access_token,
        )
        .send()
        .await
        .unwrap();
    assert_error(malformed, StatusCode::NOT_FOUND, "not_found").await;
    // The revoked session's tokens are dead; the others live.
    assert_eq!(
        app.refresh(&laptop.refresh_token).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.refresh(phone_next["refresh_token"].as_str().unwrap())
            .await
            .status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn changing_the_password_revokes_every_other_session() {
    let app = spawn_app().await;
    let here = app.new_user().await;
    let elsewhere = app.login_user(&here.email).await;
    let change = |current: &str, new: &str| {
        app.authed(Method::POST, "/api/auth/password", &here.access_token)
            .json(&json!({"current_password": current, "new_password": new}))
            .send()
    };
    let new_password = "a completely different passphrase";

    assert_error(
        change("wrong password", new_password).await.unwrap(),
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let weak = assert_error(
        change(PASSWORD, "password1").await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&weak), ["new_password"]);
    let missing = app
        .authed(Method::POST, "/api/auth/password", &here.access_token)
        .json(&json!({"new_password": new_password}))
        .send()
        .await
        .unwrap();
    let missing = assert_error(
        missing,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await;
    assert_eq!(error_fields(&missing), ["current_password"]);

    assert_eq!(
        change(PASSWORD, new_password).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        app.refresh(&elsewhere.refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
    assert_eq!(
        app.refresh(&here.refresh_token).await.status(),
        StatusCode::OK,
        "the caller's session stays"
    );
    assert_error(
        app.login(&here.email, PASSWORD).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    assert_eq!(
        app.login(&here.email, new_password).await.status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn twenty_concurrent_registrations_of_one_email_create_exactly_one_account() {
    let app = spawn_app().await;
    let attempts = (0..20).map(|_| app.register_raw("race@example.org", PASSWORD));
    let mut created = 0;
    for response in futures_util::future::join_all(attempts).await {
        match response.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {
                assert_error(response, StatusCode::CONFLICT, "email_taken").await;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 1);
}

#[actix_web::test]
async fn twenty_concurrent_refreshes_of_one_token_succeed_exactly_once() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let attempts = (0..20).map(|_| app.refresh(&user.refresh_token));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
        "{statuses:?}"
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
    let actual = app
        .authed(Method::GET, "/api/tasks", &user.access_token)
        .header("Origin", "https://app.example.org")
        .send()
        .await
        .unwrap();
    assert_eq!(
        actual.headers()["access-control-allow-origin"],
        "https://app.example.org"
    );
    let other = app
        .authed(Method::GET, "/api/tasks", &user.access_token)
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
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
