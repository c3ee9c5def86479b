//! Property tests through HTTP: whatever body a client sends to the task routes, the answer is
//! the documented success or a 4xx, and a refused request writes nothing at all.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::*;

fn any_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        ".{0,210}".prop_map(Value::from),
        "[ \\t]{0,2}[a-z<>\\u{0}é]{0,4}[ \\t]{0,2}".prop_map(Value::from),
        "x{995,1005}".prop_map(Value::from),
    ]
}

fn any_body() -> impl Strategy<Value = Value> {
    proptest::collection::btree_map(
        prop_oneof![
            Just("title"),
            Just("description"),
            Just("completed"),
            Just("owner")
        ],
        any_scalar(),
        0..4,
    )
    .prop_map(|fields| Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()))
}

/// Draws `count` bodies from a fixed seed, so a failure reproduces.
fn sample_bodies(count: usize) -> Vec<Value> {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    (0..count)
        .map(|_| {
            any_body()
                .new_tree(&mut runner)
                .expect("generate a body")
                .current()
        })
        .collect()
}

async fn all_tasks(app: &TestApp, user: &TestUser) -> Value {
    app.list_tasks(user, "?limit=100").await["items"].clone()
}

#[actix_web::test]
async fn any_task_body_is_applied_as_documented_or_refused_without_a_write() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let existing = app
        .create_task(
            &user,
            serde_json::json!({"title": "keep me", "description": "as is"}),
        )
        .await;
    let existing_path = format!("/api/tasks/{}", existing["id"].as_str().unwrap());

    let (mut applied, mut refused) = (0, 0);
    for body in sample_bodies(48) {
        for (method, path) in [
            (Method::POST, "/api/tasks"),
            (Method::PUT, existing_path.as_str()),
            (Method::PATCH, existing_path.as_str()),
        ] {
            let before = all_tasks(&app, &user).await;
            let response = app
                .send(&user, method.clone(), path, Some(body.clone()))
                .await;
            let status = response.status();
            assert!(!status.is_server_error(), "{method} {body} -> {status}");
            let after = all_tasks(&app, &user).await;
            if status.is_client_error() {
                assert_eq!(
                    before, after,
                    "{method} {body} was refused ({status}) yet wrote"
                );
                refused += 1;
                continue;
            }
            applied += 1;
            let task: Value = response.json().await.unwrap();
            if let Some(title) = body.get("title") {
                assert_eq!(
                    task["title"].as_str(),
                    title.as_str().map(str::trim),
                    "{method} {body}"
                );
            }
            if method == Method::POST {
                assert_eq!(status, StatusCode::CREATED);
                assert_eq!(
                    after.as_array().unwrap().len(),
                    before.as_array().unwrap().len() + 1
                );
                // Clean up so the list stays within one page.
                let created = format!("/api/tasks/{}", task["id"].as_str().unwrap());
                app.send(&user, Method::DELETE, &created, None).await;
            } else {
                assert_eq!(status, StatusCode::OK);
                assert_eq!(
                    after.as_array().unwrap().len(),
                    before.as_array().unwrap().len()
                );
                if let Some(description) = body.get("description") {
                    assert_eq!(&task["description"], description, "{method} {body}");
                }
            }
        }
    }
    // The sample must exercise both outcomes, or the property says nothing.
    assert!(
        applied >= 10 && refused >= 10,
        "applied {applied}, refused {refused}"
    );
}

/// Any `cursor` a client can send: well-formed ones with any date (far before 4713 BC, past
/// year 9999, around 1970) and any id, and arbitrary text.
fn any_cursor() -> impl Strategy<Value = String> {
    use base64::Engine as _;
    let encode = |text: String| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
    prop_oneof![
        (
            any::<i64>(),
            "[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
        )
            .prop_map(move |(micros, id)| encode(format!("{micros}.{id}"))),
        (
            -100_000_000_000_000_000i64..300_000_000_000_000_000i64,
            ".{0,40}"
        )
            .prop_map(move |(micros, id)| encode(format!("{micros}.{id}"))),
        "[A-Za-z0-9_-]{0,80}",
        ".{0,40}",
    ]
}

#[actix_web::test]
async fn any_cursor_is_a_page_or_a_422_never_a_server_error() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    app.create_task(&user, serde_json::json!({"title": "one"}))
        .await;
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    // Dates PostgreSQL cannot store at all, then a sample of everything else.
    let id = uuid::Uuid::now_v7();
    let mut cursors: Vec<String> = [
        "-210866803200000001",
        "-9223372036854775808",
        "253402300800000000",
    ]
    .iter()
    .map(|micros| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{micros}.{id}"))
    })
    .collect();
    cursors.extend((0..150).map(|_| {
        any_cursor()
            .new_tree(&mut runner)
            .expect("a cursor")
            .current()
    }));
    for cursor in cursors {
        let response = app
            .send(
                &user,
                Method::GET,
                &format!("/api/tasks?cursor={}", urlencode(&cursor)),
                None,
            )
            .await;
        let status = response.status();
        let body: Value = response.json().await.expect("a JSON answer");
        if could_have_been_issued(&cursor) {
            assert_eq!(status, StatusCode::OK, "cursor {cursor:?}: {body}");
        } else {
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "cursor {cursor:?}: {body}"
            );
            assert_eq!(error_fields(&body), ["cursor"], "{body}");
        }
    }
}

/// The model: a cursor the server could have issued is base64url of `<microseconds>.<UUID>`
/// with a date from 1970 to 9999.
fn could_have_been_issued(cursor: &str) -> bool {
    use base64::Engine as _;
    use chrono::Datelike;
    let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor) else {
        return false;
    };
    let Ok(text) = String::from_utf8(bytes) else {
        return false;
    };
    let Some((micros, id)) = text.split_once('.') else {
        return false;
    };
    let date = micros
        .parse()
        .ok()
        .and_then(chrono::DateTime::from_timestamp_micros);
    date.is_some_and(|date| (1970..=9999).contains(&date.year()))
        && uuid::Uuid::parse_str(id).is_ok()
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
