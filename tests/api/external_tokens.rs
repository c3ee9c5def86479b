//! Tokens a frontend issued (part 1 of the interoperability issue): off by default; with
//! `EXTERNAL_JWT_SECRET`, HS256 tokens carrying `sub` and `exp` are accepted the way seed
//! frontends mint them, each subject mapped to a local user of its own on first use. The
//! attacks come first: forged, expired, wrong-issuer, wrong-audience and `alg`-switched tokens.

use diesel::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// What a seed deployment shares between its frontend and this service.
const FRONTEND_SECRET: &str = "better-auth-secret-of-the-frontend-0123456789";
const FRONTEND: &str = "https://app.example.org";

fn in_seconds(seconds: i64) -> i64 {
    chrono::Utc::now().timestamp() + seconds
}

/// A token as seed frontends sign it with `jose`'s `SignJWT`: HS256 over `claims`.
fn frontend_token(claims: &Value, secret: &str) -> String {
    hmac_token(
        &json!({"alg": "HS256", "typ": "JWT"}),
        claims,
        secret,
        jsonwebtoken::Algorithm::HS256,
    )
}

/// Better Auth's ids: 32 alphanumeric characters, not a UUID.
fn better_auth_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

async fn get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.authed(Method::GET, path, token).send().await.unwrap()
}

fn external_identities(app: &TestApp) -> i64 {
    schema::external_identities::table
        .count()
        .get_result(&mut app.connection())
        .unwrap()
}

#[actix_web::test]
async fn external_tokens_are_refused_unless_a_source_is_configured() {
    let app = spawn_app().await;
    let subject = better_auth_id();
    // Even signed with our own secret: a token without our claims is not ours, and no
    // external source is configured.
    for secret in [TEST_SECRET, FRONTEND_SECRET] {
        let token = frontend_token(&json!({"sub": subject, "exp": in_seconds(600)}), secret);
        for path in [format!("/api/{subject}/tasks"), "/api/tasks".to_owned()] {
            let response = get(&app, &path, &token).await;
            assert_error(response, StatusCode::UNAUTHORIZED, "invalid_token").await;
        }
    }
    assert_eq!(external_identities(&app), 0);
}

#[actix_web::test]
async fn forged_expired_wrong_issuer_wrong_audience_and_alg_switched_tokens_are_refused() {
    use jsonwebtoken::Algorithm::{HS256, HS512};
    let app = spawn_app_with(&[
        ("EXTERNAL_JWT_SECRET", FRONTEND_SECRET),
        ("EXTERNAL_JWT_ISSUER", FRONTEND),
        ("EXTERNAL_JWT_AUDIENCE", "todo-api"),
    ])
    .await;
    let subject = better_auth_id();
    let path = format!("/api/{subject}/tasks");
    let claims =
        json!({"sub": subject, "exp": in_seconds(600), "iss": FRONTEND, "aud": "todo-api"});
    let with = |changes: Value| {
        let mut changed = claims.clone();
        for (key, value) in changes.as_object().unwrap() {
            if value.is_null() {
                changed.as_object_mut().unwrap().remove(key);
            } else {
                changed[key] = value.clone();
            }
        }
        changed
    };
    let cases: Vec<(&str, String)> = vec![
        (
            "another secret",
            frontend_token(&claims, "attacker-secret-attacker-secret-attacker"),
        ),
        ("our own JWT_SECRET", frontend_token(&claims, TEST_SECRET)),
        (
            "expired beyond the leeway",
            frontend_token(&with(json!({"exp": in_seconds(-120)})), FRONTEND_SECRET),
        ),
        (
            "not yet valid",
            frontend_token(&with(json!({"nbf": in_seconds(600)})), FRONTEND_SECRET),
        ),
        (
            "no exp",
            frontend_token(&with(json!({"exp": null})), FRONTEND_SECRET),
        ),
        (
            "no sub",
            frontend_token(&with(json!({"sub": null})), FRONTEND_SECRET),
        ),
        (
            "empty sub",
            frontend_token(&with(json!({"sub": ""})), FRONTEND_SECRET),
        ),
        (
            "sub of 256 characters",
            frontend_token(&with(json!({"sub": "a".repeat(256)})), FRONTEND_SECRET),
        ),
        (
            "wrong issuer",
            frontend_token(
                &with(json!({"iss": "https://evil.example"})),
                FRONTEND_SECRET,
            ),
        ),
        (
            "no issuer",
            frontend_token(&with(json!({"iss": null})), FRONTEND_SECRET),
        ),
        (
            "wrong audience",
            frontend_token(&with(json!({"aud": "someone-else"})), FRONTEND_SECRET),
        ),
        (
            "no audience",
            frontend_token(&with(json!({"aud": null})), FRONTEND_SECRET),
        ),
        (
            "alg none",
            format!("{}.{}.", b64(&json!({"alg": "none"})), b64(&claims)),
        ),
        (
            "HS512 with the secret",
            hmac_token(&json!({"alg": "HS512"}), &claims, FRONTEND_SECRET, HS512),
        ),
        // The secret used as an HMAC key under an asymmetric algorithm's name: no JWKS is
        // configured, and HS256 keys never verify anything but HS256.
        (
            "EdDSA header, HMAC signature",
            hmac_token(&json!({"alg": "EdDSA"}), &claims, FRONTEND_SECRET, HS256),
        ),
        (
            "RS256 header, HMAC signature",
            hmac_token(&json!({"alg": "RS256"}), &claims, FRONTEND_SECRET, HS256),
        ),
        (
            "ES256 header, HMAC signature",
            hmac_token(&json!({"alg": "ES256"}), &claims, FRONTEND_SECRET, HS256),
        ),
        (
            "a jku to fetch keys from",
            hmac_token(
                &json!({"alg": "EdDSA", "jku": "http://127.0.0.1:9/jwks"}),
                &claims,
                FRONTEND_SECRET,
                HS256,
            ),
        ),
        ("signature of another payload", {
            let honest = frontend_token(&claims, FRONTEND_SECRET);
            let signature = honest.rsplit('.').next().unwrap().to_owned();
            let other = b64(&with(json!({"sub": "someone-else"})));
            format!(
                "{}.{other}.{signature}",
                b64(&json!({"alg": "HS256", "typ": "JWT"}))
            )
        }),
    ];
    for (case, token) in cases {
        let response = get(&app, &path, &token).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}");
        assert_eq!(
            response.headers()["www-authenticate"],
            r#"Bearer error="invalid_token""#,
            "{case}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_token", "{case}");
        assert_eq!(body["detail"], body["error"]["message"], "{case}");
    }
    assert_eq!(
        external_identities(&app),
        0,
        "no refused token created a user"
    );

    // The control: the same claims, honestly signed, are accepted.
    let honest = frontend_token(&claims, FRONTEND_SECRET);
    assert_eq!(get(&app, &path, &honest).await.status(), StatusCode::OK);
    assert_eq!(external_identities(&app), 1);
}

#[actix_web::test]
async fn a_seed_frontends_token_reaches_its_tasks_under_the_subject_it_names() {
    let app = spawn_app_with(&[("EXTERNAL_JWT_SECRET", FRONTEND_SECRET)]).await;
    let (ann, bob) = (better_auth_id(), better_auth_id());
    let token_of = |subject: &str, ttl: i64| {
        frontend_token(
            &json!({"sub": subject, "exp": in_seconds(ttl)}),
            FRONTEND_SECRET,
        )
    };
    let ann_token = token_of(&ann, 600);
    let ann_tasks = format!("/api/{ann}/tasks");
    let created = app
        .authed(Method::POST, &ann_tasks, &ann_token)
        .json(&json!({"title": "Buy milk", "priority": "high"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(
        created["user_id"],
        ann.as_str(),
        "the subject as the issuer wrote it"
    );
    let task_path = format!("{ann_tasks}/{}", created["id"].as_str().unwrap());

    // A later token for the same subject is the same user; the canonical routes serve it too.
    let later = token_of(&ann, 900);
    let listed: Value = get(&app, &ann_tasks, &later).await.json().await.unwrap();
    assert_eq!(listed, json!([created]));
    let canonical: Value = get(&app, "/api/tasks", &later).await.json().await.unwrap();
    assert_eq!(titles(&canonical), ["Buy milk"]);

    // Another subject sees nothing of it, and may not name it in the path.
    let bob_token = token_of(&bob, 600);
    let bobs: Value = get(&app, &format!("/api/{bob}/tasks"), &bob_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bobs, json!([]));
    assert_error(
        get(&app, &ann_tasks, &bob_token).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let bobs_view_of_anns_task = format!("/api/{bob}/tasks/{}", created["id"].as_str().unwrap());
    assert_error(
        get(&app, &bobs_view_of_anns_task, &bob_token).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(
        app.authed(Method::DELETE, &task_path, &bob_token)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(&app, &task_path, &ann_token).await.status(),
        StatusCode::OK
    );
}

/// A seed deployment may give us the frontend's secret as both `JWT_SECRET` and
/// `EXTERNAL_JWT_SECRET`; even then an external identity is never a local account, whatever
/// subject or email it claims, and it has no password or sessions here.
#[actix_web::test]
async fn an_external_identity_is_never_a_local_account() {
    let app = spawn_app_with(&[("EXTERNAL_JWT_SECRET", TEST_SECRET)]).await;
    let local = app.new_user().await;
    app.create_task(&local, json!({"title": "local secret"}))
        .await;

    // Same email, and the local user's id as the subject.
    let impostor = frontend_token(
        &json!({"sub": local.id, "email": local.email, "exp": in_seconds(600)}),
        TEST_SECRET,
    );
    let path = format!("/api/{}/tasks", local.id);
    let seen: Value = get(&app, &path, &impostor).await.json().await.unwrap();
    assert_eq!(
        seen,
        json!([]),
        "a new user of its own, not the local account"
    );
    let canonical: Value = get(&app, "/api/tasks", &impostor)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(titles(&canonical), Vec::<String>::new());
    assert_eq!(titles(&app.list_tasks(&local, "").await), ["local secret"]);

    // The routes that need a local account and a session refuse it cleanly.
    for (method, route) in [
        (Method::GET, "/api/auth/me"),
        (Method::GET, "/api/auth/sessions"),
        (Method::POST, "/api/auth/logout-all"),
        (Method::POST, "/api/auth/password"),
        (
            Method::DELETE,
            "/api/auth/sessions/0190f1a2-0000-7000-8000-0000000000cc",
        ),
    ] {
        let mut request = app.authed(method.clone(), route, &impostor);
        if route == "/api/auth/password" {
            request = request.json(&json!({"current_password": PASSWORD, "new_password": "another long passphrase here"}));
        }
        let response = request.send().await.unwrap();
        assert_error(response, StatusCode::FORBIDDEN, "external_identity").await;
    }
    // The local user's own token is still theirs, and their sessions are untouched.
    assert_eq!(app.me(&local.access_token).await.status(), StatusCode::OK);
    assert_refresh_accepted(&app, &local.refresh_token).await;

    // The external user's row cannot be logged into, with any password.
    let external_email: String = schema::users::table
        .filter(schema::users::email.like("external:%"))
        .select(schema::users::email)
        .first(&mut app.connection())
        .unwrap();
    for password in ["", "!", PASSWORD] {
        let response = app.login(&external_email, password).await;
        assert_ne!(response.status(), StatusCode::OK);
    }
}

#[actix_web::test]
async fn simultaneous_first_requests_of_a_subject_make_exactly_one_user() {
    let app = spawn_app_with(&[("EXTERNAL_JWT_SECRET", FRONTEND_SECRET)]).await;
    let subject = better_auth_id();
    let token = frontend_token(
        &json!({"sub": subject, "exp": in_seconds(600)}),
        FRONTEND_SECRET,
    );
    let path = format!("/api/{subject}/tasks");
    let (app_ref, path_ref, token_ref) = (&app, &path, &token);
    let statuses = simultaneous_statuses((0..12).map(|i| async move {
        app_ref
            .authed(Method::POST, path_ref, token_ref)
            .json(&json!({"title": format!("task {i}")}))
            .send()
            .await
            .unwrap()
    }))
    .await;
    assert_eq!(count_of(&statuses, StatusCode::CREATED), 12, "{statuses:?}");
    assert_eq!(external_identities(&app), 1);
    let listed: Value = get(&app, &path, &token).await.json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 12);
}

/// A seed frontend served from another origin calls the seed routes from the browser: the
/// preflight allows its bearer token, and the list's `Link` header is readable.
#[actix_web::test]
async fn a_frontend_on_another_origin_can_call_the_seed_routes_with_its_token() {
    let app = spawn_app_with(&[
        ("EXTERNAL_JWT_SECRET", FRONTEND_SECRET),
        ("CORS_ALLOWED_ORIGINS", FRONTEND),
    ])
    .await;
    let subject = better_auth_id();
    let path = format!("/api/{subject}/tasks");
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        let preflight = app
            .request(Method::OPTIONS, &format!("{path}/{PLACEHOLDER_TASK_ID}"))
            .header("Origin", FRONTEND)
            .header("Access-Control-Request-Method", method)
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type",
            )
            .send()
            .await
            .unwrap();
        assert!(
            preflight.status().is_success(),
            "{method}: {}",
            preflight.status()
        );
        assert_eq!(preflight.headers()["access-control-allow-origin"], FRONTEND);
        let allowed = preflight.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase();
        assert!(
            allowed.contains("authorization") && allowed.contains("content-type"),
            "{allowed}"
        );
    }

    let token = frontend_token(
        &json!({"sub": subject, "exp": in_seconds(600)}),
        FRONTEND_SECRET,
    );
    for i in 0..2 {
        let response = app
            .authed(Method::POST, &path, &token)
            .header("Origin", FRONTEND)
            .json(&json!({"title": format!("task {i}")}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let list = app
        .authed(Method::GET, &format!("{path}?limit=1"), &token)
        .header("Origin", FRONTEND)
        .send()
        .await
        .unwrap();
    assert_eq!(list.headers()["access-control-allow-origin"], FRONTEND);
    let exposed = list.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("link"), "{exposed}");
    assert!(list.headers().get("link").is_some());
}
