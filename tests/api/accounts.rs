//! Accounts: registration and its validation, login, how passwords are stored and changed, and
//! the per-account back-off that slows password guessing.

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
    // Exactly the configured lifetime, as `expires_in` is for the access token.
    assert_eq!(body["refresh_token_expires_in"], 7 * 24 * 3600);
    let refreshed: Value = app
        .refresh(body["refresh_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(refreshed["refresh_token_expires_in"], 7 * 24 * 3600);

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
        let error = assert_validation_failed(response).await;
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
async fn an_empty_registration_names_each_missing_field_once() {
    let app = spawn_app().await;
    let response = app.post_json("/api/auth/register", &json!({})).await;
    let error = assert_validation_failed(response).await;
    assert_eq!(error_fields(&error), ["email", "password"]);
    for detail in error["error"]["details"].as_array().unwrap() {
        assert_eq!(detail["message"], "is required", "{error}");
    }
}

#[actix_web::test]
async fn a_weak_password_is_refused_with_the_reason() {
    let app = spawn_app().await;
    let response = app.register_raw("weak@example.org", "qwertyuiop").await;
    let body = assert_validation_failed(response).await;
    assert_eq!(error_fields(&body), ["password"]);
    let message = body["error"]["details"][0]["message"].as_str().unwrap();
    assert!(message.contains("too easy to guess"), "{message}");
}

#[actix_web::test]
async fn passwords_are_stored_as_argon2id_hashes_only() {
    use diesel::prelude::*;

    use crate::helpers::schema::users;
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
async fn a_password_change_checks_the_current_password_before_scoring_the_new_one() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    // A worst case for the strength meter: before, it was scored (up to a second of CPU on an
    // async worker) whoever asked; now a caller without the current password gets 401 first.
    let expensive: String = "4@8({[<3691!|70$5+%2".chars().cycle().take(128).collect();
    let weak_and_wrong = app
        .send(
            &user,
            Method::POST,
            "/api/auth/password",
            Some(json!({"current_password": "wrong password", "new_password": "password1"})),
        )
        .await;
    assert_error(
        weak_and_wrong,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let expensive_and_wrong = app
        .send(
            &user,
            Method::POST,
            "/api/auth/password",
            Some(json!({"current_password": "wrong password", "new_password": expensive})),
        )
        .await;
    assert_error(
        expensive_and_wrong,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
}

#[actix_web::test]
async fn password_changes_are_rate_limited_per_address_like_login() {
    let app = spawn_app_with(&[("AUTH_RATE_LIMIT_PER_MINUTE", "6")]).await;
    let user = app.new_user().await;
    let mut limited = None;
    for attempt in 0..10 {
        let response = app
            .send(
                &user,
                Method::POST,
                "/api/auth/password",
                // The right current password, so the per-account back-off never starts: any
                // 429 is the per-address limit.
                Some(json!({"current_password": PASSWORD, "new_password": "password1"})),
            )
            .await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(retry_after(&response) >= 1);
            limited = Some(attempt);
            break;
        }
    }
    assert!(
        limited.is_some(),
        "ten password changes in a row are never limited"
    );
}

#[actix_web::test]
async fn no_login_with_the_old_password_survives_a_concurrent_password_change() {
    let app = spawn_app().await;
    for round in 0..20 {
        let user = app.new_user().await;
        let new_password = format!("another long passphrase, round {round}");
        let change = app.send(
            &user,
            Method::POST,
            "/api/auth/password",
            Some(json!({"current_password": PASSWORD, "new_password": new_password})),
        );
        // Four logins and the change: five password checks at once, all within the back-off's
        // free attempts, so every one is really checked.
        let logins =
            futures_util::future::join_all((0..4).map(|_| app.login(&user.email, PASSWORD)));
        let (changed, logins) = futures_util::future::join(change, logins).await;
        assert_eq!(changed.status(), StatusCode::NO_CONTENT);
        for login in logins {
            match login.status() {
                // Checked against the old password: its session must not outlive the change.
                StatusCode::OK => {
                    let body: Value = login.json().await.unwrap();
                    let token = body["refresh_token"].as_str().unwrap();
                    let refreshed = app.refresh(token).await;
                    assert_eq!(
                        refreshed.status(),
                        StatusCode::UNAUTHORIZED,
                        "round {round}: a session from the old password survived the change"
                    );
                }
                // Refused: the password had changed by the time the session would have started.
                StatusCode::UNAUTHORIZED => {}
                other => panic!("round {round}: login answered {other}"),
            }
        }
    }
}

#[actix_web::test]
async fn changing_the_password_revokes_every_other_session() {
    let app = spawn_app().await;
    let here = app.new_user().await;
    let elsewhere = app.login_user(&here.email).await;
    let change = |body: Value| app.send(&here, Method::POST, "/api/auth/password", Some(body));
    let new_password = "a completely different passphrase";

    assert_error(
        change(json!({"current_password": "wrong password", "new_password": new_password})).await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    )
    .await;
    let weak = assert_validation_failed(
        change(json!({"current_password": PASSWORD, "new_password": "password1"})).await,
    )
    .await;
    assert_eq!(error_fields(&weak), ["new_password"]);
    let missing =
        assert_validation_failed(change(json!({"new_password": new_password})).await).await;
    assert_eq!(error_fields(&missing), ["current_password"]);

    assert_eq!(
        change(json!({"current_password": PASSWORD, "new_password": new_password}))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_refresh_refused(&app, &elsewhere.refresh_token).await;
    // The caller's session stays.
    assert_refresh_accepted(&app, &here.refresh_token).await;
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

/// Five wrong passwords in a row, each an ordinary 401 `invalid_credentials`.
async fn fail_five_logins(app: &TestApp, email: &str) {
    for _ in 0..5 {
        assert_error(
            app.login(email, "wrong password").await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }
}

/// Sends `count` wrong logins for `email` at once; returns how many were checked (401) and how
/// many refused unchecked (429). Nothing else is an acceptable answer.
async fn simultaneous_wrong_logins(app: &TestApp, email: &str, count: usize) -> (usize, usize) {
    let attempts = (0..count).map(|_| app.login(email, "not the password at all"));
    let statuses = simultaneous_statuses(attempts).await;
    let checked = count_of(&statuses, StatusCode::UNAUTHORIZED);
    let refused = count_of(&statuses, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(checked + refused, count, "{statuses:?}");
    (checked, refused)
}

#[actix_web::test]
async fn simultaneous_wrong_logins_get_exactly_the_allowed_number_of_checks() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    // A fresh account allows five free failures, however the guesses are timed.
    assert_eq!(
        simultaneous_wrong_logins(&app, &user.email, 100).await,
        (5, 95)
    );
    // Once the two-second wait has passed, exactly one more guess is checked.
    actix_web::rt::time::sleep(Duration::from_millis(2_200)).await;
    assert_eq!(
        simultaneous_wrong_logins(&app, &user.email, 40).await,
        (1, 39)
    );
}

#[actix_web::test]
async fn failed_logins_for_one_account_back_off_whatever_the_address_and_reset_on_success() {
    // Per-address limits off: this is the per-account rule, which holds across addresses.
    let app = spawn_app().await;
    let user = app.new_user().await;
    fail_five_logins(&app, &user.email).await;
    // Even the right password waits now; it is not checked during the back-off.
    let refused = app.login(&user.email, PASSWORD).await;
    assert!(retry_after(&refused) >= 1);
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
    fail_five_logins(&app, &user.email).await;
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
