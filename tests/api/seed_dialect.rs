//! The seed dialect on `/api/{user_id}/tasks…`: clients written for the original Next.js +
//! FastAPI design work unchanged (bare-array lists with a `Link` to the next page, partial
//! `PUT`s, read-only and unknown fields ignored, `PATCH …/complete` with or without a body,
//! `user_id` on tasks, `detail` on errors), while the canonical routes keep their shapes and
//! their strictness.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::stores::{TaskRequest, UserId, tasks};
use crate::helpers::*;

fn base(user: &TestUser) -> String {
    format!("/api/{}/tasks", user.id)
}

/// The `<…>` target of a `Link: <…>; rel="next"` header, if the response has one.
fn next_link(response: &Response) -> Option<String> {
    let link = response.headers().get("link")?.to_str().unwrap();
    let (target, relation) = link.split_once(';').unwrap();
    assert_eq!(relation.trim(), r#"rel="next""#, "{link}");
    Some(
        target
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_owned(),
    )
}

fn array_titles(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a bare array")
        .iter()
        .map(|task| task["title"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn the_list_is_a_bare_array_with_a_link_to_the_next_page() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    for i in 1..=5 {
        app.create_task(&user, json!({"title": format!("task {i}")}))
            .await;
    }
    let first = app
        .send(
            &user,
            Method::GET,
            &format!("{}?limit=2", base(&user)),
            None,
        )
        .await;
    assert_eq!(first.status(), StatusCode::OK);
    let next = next_link(&first).expect("a Link to the second page");
    assert!(next.starts_with(&format!("{}?", base(&user))), "{next}");
    let first: Value = first.json().await.unwrap();
    assert_eq!(array_titles(&first), ["task 5", "task 4"]);
    for task in first.as_array().unwrap() {
        assert_eq!(task["user_id"], user.id.as_str());
    }

    let second = app.send(&user, Method::GET, &next, None).await;
    let next = next_link(&second).expect("a Link to the third page");
    assert_eq!(
        array_titles(&second.json().await.unwrap()),
        ["task 3", "task 2"]
    );
    let last = app.send(&user, Method::GET, &next, None).await;
    assert_eq!(next_link(&last), None, "no Link on the last page");
    assert_eq!(array_titles(&last.json().await.unwrap()), ["task 1"]);

    let pending = app
        .send(
            &user,
            Method::GET,
            &format!("{}?status=pending&sort=due_date&priority=high", base(&user)),
            None,
        )
        .await;
    assert_eq!(
        pending.status(),
        StatusCode::OK,
        "unknown parameters are ignored"
    );
    assert_eq!(array_titles(&pending.json().await.unwrap()).len(), 5);
}

#[actix_web::test]
async fn without_a_limit_the_list_answers_a_thousand_tasks_then_links_to_the_rest() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let owner = UserId::parse(&user.id).unwrap();
    let mut connection = app.connection();
    for i in 0..1001 {
        let fields = TaskRequest {
            title: Some(format!("task {i}")),
            description: None,
            completed: None,
        }
        .parse()
        .unwrap();
        tasks::insert(&mut connection, &owner, fields, 0).unwrap();
    }
    let response = app.send(&user, Method::GET, &base(&user), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let next = next_link(&response).expect("a Link to the 1001st task");
    let page: Value = response.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 1000);
    let rest: Value = app.send_json(&user, Method::GET, &next, None).await;
    assert_eq!(array_titles(&rest), ["task 0"]);
}

#[actix_web::test]
async fn put_changes_only_the_fields_it_carries_and_ignores_read_only_and_unknown_ones() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let other = app.new_user().await;
    let created = app
        .send_json(
            &user,
            Method::POST,
            &base(&user),
            Some(
                json!({"title": "Buy milk", "description": "2 litres", "completed": true,
                        "priority": "high", "due_date": "2026-12-24", "id": 42}),
            ),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_ne!(created["id"], 42);
    assert_eq!(created["description"], "2 litres");
    let path = format!("{}/{id}", base(&user));

    let renamed = app
        .send(
            &user,
            Method::PUT,
            &path,
            Some(json!({"title": "Buy oat milk"})),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let renamed: Value = renamed.json().await.unwrap();
    assert_eq!(renamed["title"], "Buy oat milk");
    assert_eq!(renamed["description"], "2 litres", "absent: unchanged");
    assert_eq!(renamed["completed"], true, "absent: unchanged");

    // A client that sends back what it read, with read-only fields changed and extra fields.
    let mut echoed = renamed.clone();
    echoed["id"] = json!("0190f1a2-0000-7000-8000-00000000beef");
    echoed["user_id"] = json!(other.id);
    echoed["created_at"] = json!("2000-01-01T00:00:00Z");
    echoed["updated_at"] = json!("yesterday");
    echoed["priority"] = json!(3);
    echoed["completed"] = json!(false);
    for method in [Method::PUT, Method::PATCH] {
        let response = app
            .send(&user, method.clone(), &path, Some(echoed.clone()))
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{method}");
        let changed: Value = response.json().await.unwrap();
        assert_eq!(changed["id"], id.as_str());
        assert_eq!(changed["user_id"], user.id.as_str());
        assert_eq!(changed["created_at"], created["created_at"]);
        assert_eq!(changed["completed"], false);
        assert!(changed.get("priority").is_none());
    }
    assert_eq!(app.read_task(&user, &id).await["completed"], false);
    assert_eq!(
        app.get_task(&other, &id).await.status(),
        StatusCode::NOT_FOUND,
        "a user_id in the body moves nothing"
    );

    // The canonical routes stay strict about the same bodies.
    for method in [Method::PUT, Method::PATCH] {
        let response = app
            .send(
                &user,
                method,
                &format!("/api/tasks/{id}"),
                Some(echoed.clone()),
            )
            .await;
        assert_validation_failed(response).await;
    }
    let canonical_create = app
        .send(
            &user,
            Method::POST,
            "/api/tasks",
            Some(json!({"title": "x", "priority": "high"})),
        )
        .await;
    assert_validation_failed(canonical_create).await;

    // Known fields still obey the rules, and a refused change writes nothing.
    let blank = app
        .send(&user, Method::PUT, &path, Some(json!({"title": "  "})))
        .await;
    let body = assert_validation_failed(blank).await;
    assert_eq!(error_fields(&body), ["title"]);
    assert_eq!(app.read_task(&user, &id).await["title"], "Buy oat milk");
}

#[actix_web::test]
async fn complete_sets_the_flag_it_is_given_and_toggles_without_a_body() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let task = app.create_task(&user, json!({"title": "t"})).await;
    let complete = format!("{}/{}/complete", base(&user), task["id"].as_str().unwrap());
    for (body, expected) in [
        (Some(json!({"completed": true})), true),
        (Some(json!({"completed": true})), true),
        (None, false),
        (None, true),
        (Some(json!({"completed": false})), false),
        (Some(json!({})), true),
    ] {
        let changed = app
            .send(&user, Method::PATCH, &complete, body.clone())
            .await;
        assert_eq!(changed.status(), StatusCode::OK, "{body:?}");
        let changed: Value = changed.json().await.unwrap();
        assert_eq!(changed["completed"], expected, "{body:?}");
        assert_eq!(changed["user_id"], user.id.as_str());
    }
    let wrong_type = app
        .send(
            &user,
            Method::PATCH,
            &complete,
            Some(json!({"completed": "yes"})),
        )
        .await;
    let body = assert_validation_failed(wrong_type).await;
    assert_eq!(body["detail"], body["error"]["message"]);
}

/// Every kind of error on the seed routes carries `detail` with the error's message; the
/// canonical routes' errors do not.
#[actix_web::test]
async fn errors_carry_fastapis_detail_on_the_seed_routes_only() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let other = app.new_user().await;
    let missing = format!("{}/{PLACEHOLDER_TASK_ID}", base(&user));
    let cases: Vec<(Response, StatusCode, &str)> = vec![
        (
            app.send(&user, Method::GET, &missing, None).await,
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            app.request(Method::GET, &base(&user)).send().await.unwrap(),
            StatusCode::UNAUTHORIZED,
            "missing_token",
        ),
        (
            app.authed(Method::GET, &base(&user), "not.a.token")
                .send()
                .await
                .unwrap(),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        ),
        (
            app.send(&user, Method::GET, &base(&other), None).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            app.send(&user, Method::POST, &base(&user), Some(json!({})))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            app.send(&user, Method::DELETE, &base(&user), None).await,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            app.send(
                &user,
                Method::GET,
                &format!("{}?limit=0", base(&user)),
                None,
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
    ];
    for (response, status, code) in cases {
        let body = assert_error(response, status, code).await;
        assert!(body["detail"].is_string(), "{body}");
        assert_eq!(body["detail"], body["error"]["message"], "{body}");
    }
    let canonical = app
        .send(
            &user,
            Method::GET,
            &format!("/api/tasks/{PLACEHOLDER_TASK_ID}"),
            None,
        )
        .await;
    let body = assert_error(canonical, StatusCode::NOT_FOUND, "not_found").await;
    assert!(body.get("detail").is_none(), "{body}");
}
