//! Proving the address: the link mailed at registration, asking for a new one, and the
//! stricter mode in which registration tells nobody which addresses have accounts and login
//! waits for the link.

use std::time::Duration;

use diesel::{ExpressionMethods, RunQueryDsl};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use todo_server::db::schema::account_tokens;

use crate::helpers::{PASSWORD, TestApp, spawn_app_with};
use crate::mailbox::{Mailbox, verification_token};

const WITHIN: Duration = Duration::from_secs(15);

async fn verify(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/api/auth/verify-email", &json!({"token": token}))
        .await
}

async fn email_verified(app: &TestApp, access_token: &str) -> bool {
    let me: Value = app.me(access_token).await.json().await.unwrap();
    me["email_verified"].as_bool().expect("email_verified")
}

async fn assert_invalid(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_verification_token");
}

fn links_issued_two_minutes_ago(app: &TestApp) {
    let earlier = chrono::Utc::now().naive_utc() - chrono::Duration::minutes(2);
    diesel::update(account_tokens::table)
        .set(account_tokens::created_at.eq(earlier))
        .execute(&mut app.connection())
        .unwrap();
}

#[actix_web::test]
async fn registration_mails_a_link_that_verifies_the_address_once() {
    let mailbox = Mailbox::start();
    let app = spawn_app_with(&[("SMTP_URL", &mailbox.url())]).await;
    let user = app.new_user().await;
    assert!(!email_verified(&app, &user.access_token).await);

    let messages = mailbox.wait_for(&user.email, "", 1, WITHIN).await;
    assert_eq!(messages.len(), 1);
    assert!(messages[0].contains("Subject: Confirm your todo-server address"));
    let token = verification_token(&messages[0]);

    assert_eq!(verify(&app, &token).await.status(), StatusCode::NO_CONTENT);
    assert!(email_verified(&app, &user.access_token).await);
    assert_invalid(verify(&app, &token).await).await;
    assert_invalid(verify(&app, "never-issued-never-issued-never-issued-nev").await).await;
}

#[actix_web::test]
async fn a_new_link_replaces_the_old_whether_asked_signed_in_or_by_address() {
    let mailbox = Mailbox::start();
    let app = spawn_app_with(&[("SMTP_URL", &mailbox.url())]).await;
    let user = app.new_user().await;
    let first = verification_token(&mailbox.wait_for(&user.email, "", 1, WITHIN).await[0]);

    links_issued_two_minutes_ago(&app);
    let signed_in = app
        .authed(
            Method::POST,
            "/api/auth/verify-email/resend",
            &user.access_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::ACCEPTED);
    let second = verification_token(&mailbox.wait_for(&user.email, "", 2, WITHIN).await[1]);
    assert_invalid(verify(&app, &first).await).await;

    links_issued_two_minutes_ago(&app);
    let by_address = app
        .post_json(
            "/api/auth/verify-email/resend",
            &json!({"email": user.email}),
        )
        .await;
    assert_eq!(by_address.status(), StatusCode::ACCEPTED);
    let third = verification_token(&mailbox.wait_for(&user.email, "", 3, WITHIN).await[2]);
    assert_invalid(verify(&app, &second).await).await;
    assert_eq!(verify(&app, &third).await.status(), StatusCode::NO_CONTENT);

    // Verified: asking again sends nothing. Unknown addresses get the same answer, and nothing.
    links_issued_two_minutes_ago(&app);
    let known = app
        .post_json(
            "/api/auth/verify-email/resend",
            &json!({"email": user.email}),
        )
        .await;
    let unknown = app
        .post_json(
            "/api/auth/verify-email/resend",
            &json!({"email": "nobody-here@example.org"}),
        )
        .await;
    assert_eq!(known.status(), StatusCode::ACCEPTED);
    assert_eq!(unknown.status(), StatusCode::ACCEPTED);
    assert_eq!(
        known.json::<Value>().await.unwrap(),
        unknown.json::<Value>().await.unwrap()
    );
    assert_eq!(mailbox.wait_for(&user.email, "", 3, WITHIN).await.len(), 3);
    assert!(mailbox.messages_to("nobody-here@example.org").is_empty());

    // Neither a token nor an address: say what is missing. A bad token: refused.
    let neither = app
        .request(Method::POST, "/api/auth/verify-email/resend")
        .send()
        .await
        .unwrap();
    assert_eq!(neither.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad_token = app
        .authed(Method::POST, "/api/auth/verify-email/resend", "not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_token.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn when_verification_is_required_registration_reveals_nothing_and_login_waits_for_the_link() {
    let mailbox = Mailbox::start();
    let app = spawn_app_with(&[
        ("SMTP_URL", &mailbox.url()),
        ("REQUIRE_EMAIL_VERIFICATION", "true"),
    ])
    .await;
    let email = format!("new-{}@example.org", uuid::Uuid::now_v7().simple());
    let first = app.register_raw(&email, PASSWORD).await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(
        first,
        json!({"status": "verification_required"}),
        "no tokens"
    );
    let link = mailbox.wait_for(&email, "", 1, WITHIN).await;
    let token = verification_token(&link[0]);

    // The same address again, by someone else: the same answer, and a notice to the owner.
    let second = app
        .register_raw(&email, "another long passphrase here")
        .await;
    assert_eq!(second.status(), StatusCode::ACCEPTED);
    assert_eq!(second.json::<Value>().await.unwrap(), first);
    let messages = mailbox.wait_for(&email, "", 2, WITHIN).await;
    assert!(messages[1].contains("Subject: Someone tried to sign up with your address"));
    assert!(
        !messages[1].contains("#verify-email="),
        "the notice carries no link"
    );

    // Login: a wrong password is 401 as ever; the right one waits for the link.
    assert_eq!(
        app.login(&email, "another long passphrase here")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let early = app.login(&email, PASSWORD).await;
    assert_eq!(early.status(), StatusCode::FORBIDDEN);
    let body: Value = early.json().await.unwrap();
    assert_eq!(body["error"]["code"], "email_not_verified");

    assert_eq!(verify(&app, &token).await.status(), StatusCode::NO_CONTENT);
    let login = app.login(&email, PASSWORD).await;
    assert_eq!(login.status(), StatusCode::OK);
    let login: Value = login.json().await.unwrap();
    assert_eq!(login["user"]["email_verified"], true);
}
