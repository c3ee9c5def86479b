//! Every failure is JSON with the right status: framework errors, bad bodies, unknown routes
//! and methods, a database outage. Also what every response shares: probes that answer, and
//! nothing cacheable.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

#[actix_web::test]
async fn malformed_json_is_a_400() {
    let app = spawn_app().await;
    for body in [
        &b"{\"email\": "[..],
        b"not json",
        b"{\"email\":\"a@b.co\"} trailing",
        b"\xff\xfe{}",
    ] {
        let response = app
            .post_raw("/api/auth/login", "application/json", body.to_vec())
            .await;
        assert_error(response, StatusCode::BAD_REQUEST, "malformed_json").await;
    }
}

#[actix_web::test]
async fn invalid_utf8_inside_a_json_string_is_refused() {
    let app = spawn_app().await;
    let response = app
        .post_raw(
            "/api/auth/login",
            "application/json",
            b"{\"email\": \"\xc3\x28@example.org\", \"password\": \"x\"}".to_vec(),
        )
        .await;
    assert_error(response, StatusCode::BAD_REQUEST, "malformed_json").await;
}

#[actix_web::test]
async fn a_wrong_content_type_is_a_415() {
    let app = spawn_app().await;
    let response = app
        .post_raw(
            "/api/auth/register",
            "text/plain",
            r#"{"email":"a@example.org","password":"correct horse"}"#,
        )
        .await;
    assert_error(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let form = app
        .request(Method::POST, "/api/auth/login")
        .form(&[("email", "a@example.org")])
        .send()
        .await
        .unwrap();
    assert_error(
        form,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
}

#[actix_web::test]
async fn a_body_over_16_kib_is_a_413() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let huge = json!({"title": "x", "description": "y".repeat(17 * 1024)});
    let response = app
        .send(&user, Method::POST, "/api/tasks", Some(huge))
        .await;
    assert_error(response, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    let login = app
        .post_json(
            "/api/auth/login",
            &json!({"email": "a@b.co", "password": "p".repeat(20_000)}),
        )
        .await;
    assert_error(login, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

#[actix_web::test]
async fn deeply_nested_json_is_refused_cheaply() {
    let app = spawn_app().await;
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let response = app
        .post_raw("/api/auth/login", "application/json", deep)
        .await;
    // An array where an object belongs is refused at the first bracket, without recursing.
    assert_validation_failed(response).await;
}

#[actix_web::test]
async fn unknown_api_routes_are_json_404s() {
    let app = spawn_app().await;
    for path in [
        "/api/nothing-here",
        "/api/auth/nothing",
        "/api/openapi.yaml",
        "/api",
    ] {
        let response = app.request(Method::GET, path).send().await.unwrap();
        assert_error(response, StatusCode::NOT_FOUND, "not_found").await;
    }
}

#[actix_web::test]
async fn wrong_methods_are_json_405s() {
    let app = spawn_app().await;
    for (method, path) in [
        (Method::GET, "/api/auth/login"),
        (Method::DELETE, "/api/auth/register"),
        (Method::PUT, "/api/auth/refresh"),
        (Method::POST, "/api/openapi.json"),
    ] {
        let response = app.request(method, path).send().await.unwrap();
        assert_error(
            response,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        )
        .await;
    }
    let user = app.new_user().await;
    let response = app.send(&user, Method::DELETE, "/api/tasks", None).await;
    assert_error(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
}

#[actix_web::test]
async fn health_and_readiness_probes_answer() {
    let app = spawn_app().await;
    let health = app.request(Method::GET, "/healthz").send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ready = app.request(Method::GET, "/readyz").send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "ready");
}

#[actix_web::test]
async fn every_api_response_is_marked_uncacheable() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let list = app.send(&user, Method::GET, "/api/tasks", None).await;
    assert_eq!(list.headers()["cache-control"], "no-store");
    let error = app.request(Method::GET, "/api/tasks").send().await.unwrap();
    assert_eq!(error.headers()["cache-control"], "no-store");
}

/// Ends every server process connected to `database` but the caller's, as a PostgreSQL restart
/// (or an operator's `pg_terminate_backend`) does.
fn terminate_connections(admin: &mut diesel::PgConnection, database: &str) {
    use diesel::RunQueryDsl;
    diesel::sql_query(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}' AND pid <> pg_backend_pid()"
    ))
    .execute(admin)
    .unwrap();
}

/// Sends `count` task lists at once, so that the pool holds that many connections, all given
/// back just now (as on a server under load).
async fn fill_the_pool(app: &TestApp, user: &TestUser, count: usize) {
    let lists = (0..count).map(|_| app.send(user, Method::GET, "/api/tasks", None));
    assert_eq!(
        simultaneous_statuses(lists).await,
        vec![StatusCode::OK; count]
    );
}

/// SQLite is embedded and cannot go away; a PostgreSQL server can. While it refuses
/// connections, requests get 503 quickly; once it is back, the same server recovers at once,
/// however many connections its pool held when the outage began.
#[actix_web::test]
async fn a_postgres_outage_gives_503_and_the_service_recovers() {
    use diesel::{Connection, PgConnection, RunQueryDsl};
    let app = spawn_app().await;
    let TestDatabase::Postgres { admin_url, name } = app.database.as_ref() else {
        eprintln!("SQLite backend: no outage to simulate");
        return;
    };
    let user = app.new_user().await;
    fill_the_pool(&app, &user, 6).await;
    let mut admin = PgConnection::establish(admin_url).unwrap();
    diesel::sql_query(format!(
        r#"ALTER DATABASE "{name}" ALLOW_CONNECTIONS false"#
    ))
    .execute(&mut admin)
    .unwrap();
    terminate_connections(&mut admin, name);

    // Requests fail fast with 503 instead of hanging: the pool gives up after its time-out.
    let no_hang = Duration::from_secs(15);
    let down = actix_web::rt::time::timeout(no_hang, app.request(Method::GET, "/readyz").send())
        .await
        .expect("an outage must not hang requests")
        .unwrap();
    assert_error(down, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable").await;
    let login = actix_web::rt::time::timeout(no_hang, app.login(&user.email, PASSWORD))
        .await
        .expect("an outage must not hang requests");
    assert_error(
        login,
        StatusCode::SERVICE_UNAVAILABLE,
        "service_unavailable",
    )
    .await;

    diesel::sql_query(format!(r#"ALTER DATABASE "{name}" ALLOW_CONNECTIONS true"#))
        .execute(&mut admin)
        .unwrap();
    let ready = app.request(Method::GET, "/readyz").send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::OK
    );
}

/// A PostgreSQL restart kills every pooled connection, including ones given back a moment
/// ago (which the pool hands out again without a `SELECT 1`). The request that meets the
/// first dead connection is answered 503 (try again), never 500; every other connection given
/// back before then is checked before its next use, so no second request fails.
#[actix_web::test]
async fn connections_killed_under_the_pool_fail_one_request_with_503_and_are_replaced() {
    use diesel::{Connection, PgConnection};
    let app = spawn_app().await;
    let TestDatabase::Postgres { admin_url, name } = app.database.as_ref() else {
        eprintln!("SQLite backend: no server to restart");
        return;
    };
    let user = app.new_user().await;
    fill_the_pool(&app, &user, 6).await;
    let mut admin = PgConnection::establish(admin_url).unwrap();
    terminate_connections(&mut admin, name);

    let mut statuses = Vec::new();
    for _ in 0..20 {
        let response = app.send(&user, Method::GET, "/api/tasks", None).await;
        let status = response.status();
        if status != StatusCode::OK {
            assert_error(
                response,
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
            )
            .await;
        }
        statuses.push(status);
    }
    let failed = statuses
        .iter()
        .filter(|status| **status != StatusCode::OK)
        .count();
    assert!(
        failed <= 1,
        "only the request that met the first dead connection fails: {statuses:?}"
    );
}
