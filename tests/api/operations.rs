//! What an operator relies on: request ids on every answer and in every log line of the
//! request, Prometheus metrics that move with the traffic and are served only where the
//! operator says, logs that never hold a secret, and the API reference at `/docs/`.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{
    PASSWORD, TEST_SECRET, TestDatabase, free_port, spawn_app, spawn_app_with, start_instance,
    start_instance_logging_to,
};

const METRICS_TOKEN: &str = "metrics-token-0123456789abcdef-0123456789";

// ---- request ids ----

async fn request_id_of(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("x-request-id")
        .expect("every response carries X-Request-Id")
        .to_str()
        .unwrap()
        .to_owned()
}

#[actix_web::test]
async fn a_well_formed_request_id_is_echoed_on_success_and_on_errors() {
    let app = spawn_app().await;
    for (method, path, status) in [
        (Method::GET, "/healthz", StatusCode::OK),
        (Method::GET, "/api/tasks", StatusCode::UNAUTHORIZED),
        (Method::GET, "/api/nothing-here", StatusCode::NOT_FOUND),
        (Method::POST, "/api/auth/login", StatusCode::BAD_REQUEST),
    ] {
        let response = app
            .request(method, path)
            .header("X-Request-Id", "client-chosen_id.42")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{path}");
        assert_eq!(
            request_id_of(&response).await,
            "client-chosen_id.42",
            "{path}"
        );
    }
}

#[actix_web::test]
async fn a_missing_or_malformed_request_id_is_replaced_by_a_fresh_uuid() {
    let app = spawn_app().await;
    let mut seen = Vec::new();
    for presented in [
        None,
        Some("has spaces"),
        Some("{\"forged\":true}"),
        Some(&*"x".repeat(129)),
    ] {
        let mut request = app.request(Method::GET, "/healthz");
        if let Some(presented) = presented {
            request = request.header("X-Request-Id", presented);
        }
        let response = request.send().await.unwrap();
        let id = request_id_of(&response).await;
        assert!(Uuid::parse_str(&id).is_ok(), "{presented:?} → {id}");
        seen.push(id);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 4, "each request gets its own id");
}

#[actix_web::test]
async fn a_rate_limited_answer_carries_its_request_id_too() {
    let app = spawn_app_with(&[("AUTH_RATE_LIMIT_PER_MINUTE", "6")]).await;
    let mut limited = None;
    for attempt in 0..10 {
        let response = app
            .request(Method::POST, "/api/auth/login")
            .header("X-Request-Id", format!("attempt-{attempt}"))
            .json(&json!({"email": "nobody@example.org", "password": "wrong"}))
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((attempt, request_id_of(&response).await));
            break;
        }
    }
    let (attempt, id) = limited.expect("the limit answers 429 within ten attempts");
    assert_eq!(id, format!("attempt-{attempt}"));
}

// ---- metrics ----

/// The samples of a Prometheus text exposition: (name, labels) → value.
fn samples(exposition: &str) -> BTreeMap<(String, BTreeMap<String, String>), f64> {
    exposition
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("`series value`");
            let (name, labels) = match series.split_once('{') {
                None => (series, BTreeMap::new()),
                Some((name, rest)) => {
                    let rest = rest.strip_suffix('}').expect("closing brace");
                    let labels = rest
                        .split("\",")
                        .map(|pair| {
                            let (key, value) = pair.split_once("=\"").expect("key=\"value\"");
                            (key.to_owned(), value.trim_end_matches('"').to_owned())
                        })
                        .collect();
                    (name, labels)
                }
            };
            ((name.to_owned(), labels), value.parse().expect("a number"))
        })
        .collect()
}

fn sample(exposition: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    let labels = labels
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    samples(exposition)
        .get(&(name.to_owned(), labels))
        .copied()
        .unwrap_or(0.0)
}

#[actix_web::test]
async fn metrics_count_requests_by_route_pattern_and_auth_events_and_report_the_pool() {
    let (database, url) = TestDatabase::create();
    let database = std::sync::Arc::new(database);
    let metrics_addr = format!("127.0.0.1:{}", free_port());
    let instance = start_instance(
        &url,
        &database,
        &[
            ("METRICS_ADDR", &metrics_addr),
            ("REFRESH_REUSE_GRACE_SECONDS", "0"),
        ],
    )
    .await;
    let app = &instance.app;
    let scrape = || async {
        let response = reqwest::get(format!("http://{metrics_addr}/metrics"))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.text().await.unwrap()
    };

    let user = app.new_user().await;
    let task = app.create_task(&user, json!({"title": "watched"})).await;
    let task_id = task["id"].as_str().unwrap();
    for _ in 0..2 {
        assert_eq!(app.get_task(&user, task_id).await.status(), StatusCode::OK);
    }
    assert_eq!(
        app.login(&user.email, "not the password").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let second = app.login_user(&user.email).await;
    let rotated = app.refreshed(&second).await;
    // The first token again, after it was rotated: theft, as far as the server can tell.
    assert_eq!(
        app.refresh(&second.refresh_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let third = app.login_user(&user.email).await;
    let logout = app
        .post_json(
            "/api/auth/logout",
            &json!({"refresh_token": third.refresh_token}),
        )
        .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    drop(rotated);

    let metrics = scrape().await;
    let http = |method: &str, route: &str, status: &str| {
        sample(
            &metrics,
            "http_requests_total",
            &[("method", method), ("route", route), ("status", status)],
        )
    };
    assert_eq!(http("GET", "/api/tasks/{task_id}", "200"), 2.0, "{metrics}");
    assert_eq!(http("POST", "/api/tasks", "201"), 1.0);
    assert_eq!(http("POST", "/api/auth/login", "401"), 1.0);
    assert_eq!(http("POST", "/api/auth/refresh", "401"), 1.0);
    assert_eq!(
        sample(
            &metrics,
            "http_request_duration_seconds_count",
            &[
                ("method", "GET"),
                ("route", "/api/tasks/{task_id}"),
                ("status", "200")
            ],
        ),
        2.0
    );
    let counter = |name: &str, label: &str, value: &str| sample(&metrics, name, &[(label, value)]);
    assert_eq!(sample(&metrics, "auth_registrations_total", &[]), 1.0);
    assert_eq!(counter("auth_logins_total", "outcome", "ok"), 2.0);
    assert_eq!(counter("auth_logins_total", "outcome", "failed"), 1.0);
    assert_eq!(counter("auth_refreshes_total", "outcome", "rotated"), 1.0);
    assert_eq!(
        counter("auth_refreshes_total", "outcome", "reuse_detected"),
        1.0
    );
    assert_eq!(
        counter("auth_session_revocations_total", "reason", "reuse"),
        1.0
    );
    assert_eq!(
        counter("auth_session_revocations_total", "reason", "logout"),
        1.0
    );
    assert_eq!(sample(&metrics, "db_pool_max_connections", &[]), 8.0);
    assert!(sample(&metrics, "db_pool_wait_seconds_count", &[]) >= 1.0);
    // Registration scores and hashes; each login verifies: at least five password jobs.
    assert!(sample(&metrics, "password_work_wait_seconds_count", &[]) >= 5.0);
    assert_eq!(sample(&metrics, "password_work_queued", &[]), 0.0);
    // Labels hold patterns, never what a client sent.
    assert!(!metrics.contains(task_id), "a task id leaked into a label");
    assert!(
        !metrics.contains(&user.email),
        "an email leaked into a label"
    );

    // The main listener has no /metrics when only METRICS_ADDR is set.
    let main = app.request(Method::GET, "/metrics").send().await.unwrap();
    assert_eq!(main.status(), StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn metrics_on_the_main_listener_need_the_token() {
    let app = spawn_app_with(&[("METRICS_TOKEN", METRICS_TOKEN)]).await;
    app.new_user().await;
    for presented in [
        None,
        Some("wrong"),
        Some(&METRICS_TOKEN[..METRICS_TOKEN.len() - 1]),
    ] {
        let mut request = app.request(Method::GET, "/metrics");
        if let Some(presented) = presented {
            request = request.bearer_auth(presented);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{presented:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_token");
    }
    let response = app
        .request(Method::GET, "/metrics")
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let metrics = response.text().await.unwrap();
    assert!(
        sample(&metrics, "auth_registrations_total", &[]) >= 1.0,
        "{metrics}"
    );
}

#[actix_web::test]
async fn without_metrics_settings_there_is_no_metrics_endpoint() {
    let app = spawn_app().await;
    let response = app.request(Method::GET, "/metrics").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

// ---- logs ----

#[actix_web::test]
async fn json_logs_tie_every_line_of_a_request_to_its_id_and_hold_no_secret() {
    let (database, url) = TestDatabase::create();
    let database = std::sync::Arc::new(database);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let instance = start_instance_logging_to(
        &url,
        &database,
        &[
            ("LOG_FORMAT", "json"),
            ("RUST_LOG", "info"),
            ("REFRESH_REUSE_GRACE_SECONDS", "0"),
        ],
        &log,
    )
    .await;
    let app = &instance.app;
    let user = app.new_user().await;
    let wrong_password = "a-wrong-password-that-must-never-be-logged";
    let response = app
        .request(Method::POST, "/api/auth/login")
        .header("X-Request-Id", "failed-login-1")
        .json(&json!({"email": user.email, "password": wrong_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let rotated = app.refreshed(&user).await;
    // Reuse detection logs a warning inside its request.
    let reuse = app
        .request(Method::POST, "/api/auth/refresh")
        .header("X-Request-Id", "reused-refresh-1")
        .json(&json!({"refresh_token": user.refresh_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(reuse.status(), StatusCode::UNAUTHORIZED);
    drop(instance);

    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let of = |id: &str| -> Vec<&Value> {
        lines
            .iter()
            .filter(|line| line["span"]["request_id"] == id)
            .collect()
    };
    let failed = of("failed-login-1");
    assert!(
        failed
            .iter()
            .any(|line| line["message"] == "answered" && line["status"] == 401),
        "{failed:?}"
    );
    let reused = of("reused-refresh-1");
    assert!(
        reused
            .iter()
            .any(|line| line["level"] == "WARN"
                && line["message"].as_str().unwrap().contains("reuse")),
        "the reuse warning is logged inside its request: {reused:?}"
    );
    assert!(
        reused
            .iter()
            .all(|line| line["span"]["route"] == "/api/auth/refresh")
    );
    for secret in [
        PASSWORD,
        wrong_password,
        TEST_SECRET,
        user.access_token.as_str(),
        user.refresh_token.as_str(),
        rotated.access_token.as_str(),
        rotated.refresh_token.as_str(),
    ] {
        assert!(!text.contains(secret), "a secret reached the log: {secret}");
    }
}

#[actix_web::test]
async fn text_logs_name_the_request_id_too() {
    let (database, url) = TestDatabase::create();
    let database = std::sync::Arc::new(database);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let instance = start_instance_logging_to(&url, &database, &[("RUST_LOG", "info")], &log).await;
    let response = instance
        .app
        .request(Method::GET, "/healthz")
        .header("X-Request-Id", "plain-text-7")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    drop(instance);
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text
        .lines()
        .find(|line| line.contains("request_id=plain-text-7"))
        .unwrap_or_else(|| panic!("no line names the request: {text}"));
    assert!(line.contains("answered"), "{line}");
    assert!(
        serde_json::from_str::<Value>(line).is_err(),
        "text, not JSON"
    );
}

// ---- the API reference ----

#[actix_web::test]
async fn the_api_reference_is_served_from_the_binary_under_a_strict_policy() {
    let app = spawn_app().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(redirect.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(redirect.headers()["location"], "/docs/");

    let page = app.request(Method::GET, "/docs/").send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let policy = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(
        !policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"),
        "{policy}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui-bundle.js"));
    assert!(!html.contains("<script>"), "no inline script");
    assert!(!html.contains("//"), "nothing from another origin: {html}");

    let initializer = app
        .request(Method::GET, "/docs/swagger-initializer.js")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        initializer.contains("\"/api/openapi.json\""),
        "{initializer}"
    );
    let bundle = app
        .request(Method::GET, "/docs/swagger-ui-bundle.js")
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), StatusCode::OK);
    assert!(
        bundle.bytes().await.unwrap().len() > 100_000,
        "the whole bundle is embedded"
    );
}
