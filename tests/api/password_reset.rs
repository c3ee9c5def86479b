//! Password reset by mail, through a real SMTP server: the link works once, ends every
//! session, says nothing about which addresses exist, and the mail survives a mail server
//! that is down and a server killed with the mail still queued.

use std::sync::Arc;
use std::time::Duration;

use diesel::{ExpressionMethods, RunQueryDsl};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD, TestApp, TestDatabase, TestUser, free_port, refused_after, spawn_app_with,
    start_instance,
};
use crate::mailbox::{Mailbox, reset_token, smtp_url};

const NEW_PASSWORD: &str = "a brand new passphrase for this account";
const WITHIN: Duration = Duration::from_secs(15);
const RESET: &str = "Reset your todo-server password";

async fn ask_for_reset(app: &TestApp, email: &str) -> reqwest::Response {
    app.post_json("/api/auth/password-reset", &json!({"email": email}))
        .await
}

async fn confirm(app: &TestApp, token: &str, new_password: &str) -> reqwest::Response {
    app.post_json(
        "/api/auth/password-reset/confirm",
        &json!({"token": token, "new_password": new_password}),
    )
    .await
}

async fn mailed_token(app: &TestApp, mailbox: &Mailbox, user: &TestUser, nth: usize) -> String {
    let response = ask_for_reset(app, &user.email).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let messages = mailbox.wait_for(&user.email, RESET, nth, WITHIN).await;
    assert_eq!(messages.len(), nth, "exactly {nth} message(s)");
    reset_token(&messages[nth - 1])
}

async fn assert_invalid(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_reset_token");
}

#[actix_web::test]
async fn a_mailed_link_sets_a_new_password_once_and_ends_every_session() {
    let mailbox = Mailbox::start();
    let app = spawn_app_with(&[("SMTP_URL", &mailbox.url())]).await;
    let user = app.new_user().await;
    let other_device = app.login_user(&user.email).await;

    let token = mailed_token(&app, &mailbox, &user, 1).await;
    let message = &mailbox.messages(&user.email, RESET)[0];
    assert!(message.contains("Subject: Reset your todo-server password"));
    assert!(message.contains("text/plain") && message.contains("text/html"));
    assert_eq!(token.len(), 43, "256 bits, base64url");

    let response = confirm(&app, &token, NEW_PASSWORD).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&user.email, NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
    for session in [&user, &other_device] {
        assert_eq!(
            app.refresh(&session.refresh_token).await.status(),
            StatusCode::UNAUTHORIZED
        );
        refused_after(&app, &session.access_token, Duration::from_secs(2)).await;
    }
    // Used once: a replay changes nothing.
    assert_invalid(confirm(&app, &token, "yet another passphrase entirely").await).await;
    assert_eq!(
        app.login(&user.email, NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn the_answer_is_the_same_for_an_address_with_or_without_an_account() {
    let mailbox = Mailbox::start();
    let app = spawn_app_with(&[("SMTP_URL", &mailbox.url())]).await;
    let user = app.new_user().await;
    let known = ask_for_reset(&app, &user.email).await;
    let unknown = ask_for_reset(&app, "nobody-here@example.org").await;
    assert_eq!(known.status(), StatusCode::ACCEPTED);
    assert_eq!(unknown.status(), known.status());
    let (known, unknown): (Value, Value) =
        (known.json().await.unwrap(), unknown.json().await.unwrap());
    assert_eq!(known, unknown);
    mailbox.wait_for(&user.email, RESET, 1, WITHIN).await;
    assert!(mailbox.messages_to("nobody-here@example.org").is_empty());
    // A second request within the minute answers the same and sends nothing.
    let again = ask_for_reset(&app, &user.email).await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    assert_eq!(again.json::<Value>().await.unwrap(), known);
    assert_eq!(
        mailbox.wait_for(&user.email, RESET, 1, WITHIN).await.len(),
        1
    );
}

#[actix_web::test]
async fn a_new_link_replaces_the_old_and_expired_or_guessed_tokens_change_nothing() {
    use todo_server::db::schema::account_tokens;
    let mailbox = Mailbox::start();
    let app = spawn_app_with(&[("SMTP_URL", &mailbox.url())]).await;
    let user = app.new_user().await;
    let first = mailed_token(&app, &mailbox, &user, 1).await;
    // As if the first link were two minutes old: the next request issues a new one.
    let earlier = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(2);
    diesel::update(account_tokens::table)
        .set(account_tokens::created_at.eq(earlier))
        .execute(&mut app.connection())
        .unwrap();
    let second = mailed_token(&app, &mailbox, &user, 2).await;
    assert_ne!(first, second);

    assert_invalid(confirm(&app, &first, NEW_PASSWORD).await).await;
    assert_invalid(
        confirm(
            &app,
            "guessed-guessed-guessed-guessed-guessed-gue",
            NEW_PASSWORD,
        )
        .await,
    )
    .await;
    // Expired: thirty minutes passed.
    diesel::update(account_tokens::table)
        .set(account_tokens::expires_at.eq(earlier))
        .execute(&mut app.connection())
        .unwrap();
    assert_invalid(confirm(&app, &second, NEW_PASSWORD).await).await;
    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[actix_web::test]
async fn a_weak_new_password_is_refused_and_the_link_still_works() {
    let mailbox = Mailbox::start();
    let app = spawn_app_with(&[("SMTP_URL", &mailbox.url())]).await;
    let user = app.new_user().await;
    let token = mailed_token(&app, &mailbox, &user, 1).await;
    let weak = confirm(&app, &token, "password123").await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = weak.json().await.unwrap();
    assert_eq!(body["error"]["details"][0]["field"], "new_password");
    assert_eq!(
        confirm(&app, &token, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
}

#[actix_web::test]
async fn a_mail_server_that_is_down_at_first_gets_the_message_once_when_it_is_back() {
    let port = free_port();
    let app = spawn_app_with(&[("SMTP_URL", &smtp_url(port))]).await;
    let user = app.new_user().await;
    assert_eq!(
        ask_for_reset(&app, &user.email).await.status(),
        StatusCode::ACCEPTED
    );
    // A few failed attempts (1 s, 2 s apart) before the server comes up.
    actix_web::rt::time::sleep(Duration::from_millis(2500)).await;
    let mailbox = Mailbox::start_on(port);
    let messages = mailbox.wait_for(&user.email, RESET, 1, WITHIN).await;
    assert_eq!(messages.len(), 1);
    let token = reset_token(&messages[0]);
    assert_eq!(
        confirm(&app, &token, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
}

#[actix_web::test]
async fn mail_queued_when_the_server_is_killed_is_sent_after_it_restarts() {
    use todo_server::db::schema::outbox;
    let (database, url) = TestDatabase::create();
    let database = Arc::new(database);
    let port = free_port();
    let smtp = smtp_url(port);
    let first = start_instance(&url, &database, &[("SMTP_URL", &smtp)]).await;
    let user = first.app.new_user().await;
    assert_eq!(
        ask_for_reset(&first.app, &user.email).await.status(),
        StatusCode::ACCEPTED
    );
    // Queued (the reset mail, and the verification mail of the registration), each tried once
    // against the dead mail server, none held by a sender: waiting for their retries.
    let between_attempts = || -> bool {
        use diesel::QueryDsl;
        let rows: Vec<(i32, Option<chrono::NaiveDateTime>)> = outbox::table
            .select((outbox::attempts, outbox::claimed_until))
            .load(&mut first.app.connection())
            .unwrap();
        rows.len() == 2
            && rows
                .iter()
                .all(|(attempts, claimed)| *attempts >= 1 && claimed.is_none())
    };
    let started = std::time::Instant::now();
    while !between_attempts() {
        assert!(
            started.elapsed() < WITHIN,
            "the mail was never queued and tried"
        );
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    drop(first); // SIGKILL, with the mail undelivered

    let mailbox = Mailbox::start_on(port);
    let second = start_instance(&url, &database, &[("SMTP_URL", &smtp)]).await;
    let messages = mailbox.wait_for(&user.email, RESET, 1, WITHIN).await;
    assert_eq!(messages.len(), 1);
    let token = reset_token(&messages[0]);
    assert_eq!(
        confirm(&second.app, &token, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
}

#[actix_web::test]
async fn two_instances_send_each_queued_message_exactly_once() {
    let mailbox = Mailbox::start();
    let smtp = mailbox.url();
    let first = spawn_app_with(&[("SMTP_URL", &smtp)]).await;
    let second = first.another_instance(&[("SMTP_URL", &smtp)]).await;
    let mut users = Vec::new();
    for index in 0..8 {
        let user = first.new_user().await;
        let asked_at = if index % 2 == 0 { &first } else { &second };
        assert_eq!(
            ask_for_reset(asked_at, &user.email).await.status(),
            StatusCode::ACCEPTED
        );
        users.push(user);
    }
    for user in &users {
        assert_eq!(
            mailbox.wait_for(&user.email, RESET, 1, WITHIN).await.len(),
            1
        );
    }
}

#[actix_web::test]
async fn in_production_without_a_mail_server_reset_says_so() {
    let app = spawn_app_with(&[("APP_ENV", "production")]).await;
    let response = ask_for_reset(&app, "someone@example.org").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "mail_unavailable");
}
