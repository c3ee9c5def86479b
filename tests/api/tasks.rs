//! Tasks: CRUD, pagination, filters, validation, strict per-user isolation, OpenAPI coverage.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

async fn send(
    app: &TestApp,
    user: &TestUser,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app.authed(method, path, &user.access_token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn list(app: &TestApp, user: &TestUser, query: &str) -> Value {
    let response = send(app, user, Method::GET, &format!("/api/tasks{query}"), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn a_user_can_create_read_replace_patch_toggle_and_delete_a_task() {
    let app = spawn_app().await;
    let user = app.new_user().await;

    let response = send(
        &app,
        &user,
        Method::POST,
        "/api/tasks",
        Some(json!({"title": "  Buy milk  ", "description": "2 litres"})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/tasks/{id}"));
    assert_eq!(created["title"], "Buy milk");
    assert_eq!(created["description"], "2 litres");
    assert_eq!(created["completed"], false);
    assert_eq!(created["created_at"], created["updated_at"]);
    assert!(chrono::DateTime::parse_from_rfc3339(created["created_at"].as_str().unwrap()).is_ok());

    let read: Value = app.get_task(&user, &id).await.json().await.unwrap();
    assert_eq!(read, created);

    let replaced: Value = send(
        &app,
        &user,
        Method::PUT,
        &location,
        Some(json!({"title": "Buy oat milk", "completed": true})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(replaced["title"], "Buy oat milk");
    assert_eq!(
        replaced["description"],
        Value::Null,
        "PUT replaces the description too"
    );
    assert_eq!(replaced["completed"], true);
    assert_eq!(replaced["created_at"], created["created_at"]);
    assert_ne!(replaced["updated_at"], created["updated_at"]);

    let patched: Value = send(
        &app,
        &user,
        Method::PATCH,
        &location,
        Some(json!({"description": "barista edition"})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(patched["title"], "Buy oat milk");
    assert_eq!(patched["description"], "barista edition");
    assert_eq!(patched["completed"], true);
    assert_ne!(patched["updated_at"], replaced["updated_at"]);

    let cleared: Value = send(
        &app,
        &user,
        Method::PATCH,
        &location,
        Some(json!({"description": null})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["title"], "Buy oat milk");

    let toggled: Value = send(
        &app,
        &user,
        Method::PATCH,
        &format!("{location}/complete"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(toggled["completed"], false);
    let toggled_back: Value = send(
        &app,
        &user,
        Method::PATCH,
        &format!("{location}/complete"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(toggled_back["completed"], true);
    assert_eq!(toggled_back["created_at"], created["created_at"]);

    assert_eq!(
        send(&app, &user, Method::DELETE, &location, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        app.get_task(&user, &id).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_error(
        send(&app, &user, Method::DELETE, &location, None).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
}

#[actix_web::test]
async fn text_is_stored_exactly_as_given() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let title = "<img src=x onerror=alert(1)> ' OR 1=1; -- 日本語 🎉";
    let description = "  \"quoted\" \n <script>alert(1)</script>  ";
    let created = app
        .create_task(&user, json!({"title": title, "description": description}))
        .await;
    let read: Value = app
        .get_task(&user, created["id"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["title"], title);
    assert_eq!(read["description"], description);
}

#[actix_web::test]
async fn the_list_is_paginated_newest_first_and_stable_while_tasks_are_added() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    for i in 1..=5 {
        app.create_task(&user, json!({"title": format!("task {i}")}))
            .await;
    }
    let first = list(&app, &user, "?limit=2").await;
    assert_eq!(titles(&first), ["task 5", "task 4"]);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();

    // Added between pages: must not shift what follows.
    app.create_task(&user, json!({"title": "task 6"})).await;

    let second = list(&app, &user, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(titles(&second), ["task 3", "task 2"]);
    let cursor = second["next_cursor"].as_str().unwrap().to_owned();
    let last = list(&app, &user, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(titles(&last), ["task 1"]);
    assert_eq!(last["next_cursor"], Value::Null);

    let everything = list(&app, &user, "").await;
    assert_eq!(
        titles(&everything),
        ["task 6", "task 5", "task 4", "task 3", "task 2", "task 1"]
    );
    assert_eq!(everything["next_cursor"], Value::Null);
}

#[actix_web::test]
async fn the_list_filters_by_status() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    app.create_task(&user, json!({"title": "open"})).await;
    app.create_task(&user, json!({"title": "done", "completed": true}))
        .await;
    assert_eq!(
        titles(&list(&app, &user, "?status=pending").await),
        ["open"]
    );
    assert_eq!(
        titles(&list(&app, &user, "?status=completed").await),
        ["done"]
    );
    assert_eq!(
        titles(&list(&app, &user, "?status=all").await),
        ["done", "open"]
    );
}

#[actix_web::test]
async fn bad_list_parameters_are_422s_that_name_the_parameter() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    for (query, field) in [
        ("?status=done", "status"),
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?limit=ten", "limit"),
        ("?cursor=bogus", "cursor"),
        ("?colour=red", "query"),
    ] {
        let response = send(
            &app,
            &user,
            Method::GET,
            &format!("/api/tasks{query}"),
            None,
        )
        .await;
        let body = assert_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(error_fields(&body), [field], "{query}");
    }
}

#[actix_web::test]
async fn invalid_task_input_is_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let task = app
        .create_task(&user, json!({"title": "original", "description": "kept"}))
        .await;
    let path = format!("/api/tasks/{}", task["id"].as_str().unwrap());
    let invalid = [
        (json!({}), "title"),
        (json!({"title": ""}), "title"),
        (json!({"title": "   "}), "title"),
        (json!({"title": "x".repeat(201)}), "title"),
        (json!({"title": 7}), "title"),
        (
            json!({"title": "ok", "description": "x".repeat(1001)}),
            "description",
        ),
        (json!({"title": "ok", "completed": "yes"}), "completed"),
        (json!({"title": "ok", "owner": "someone"}), "owner"),
        (json!({"title": "nul\u{0}byte"}), "title"),
    ];
    for (body, field) in &invalid {
        for (method, target) in [(Method::POST, "/api/tasks"), (Method::PUT, path.as_str())] {
            let response = send(&app, &user, method.clone(), target, Some(body.clone())).await;
            let error = assert_error(
                response,
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
            )
            .await;
            assert!(
                error_fields(&error).contains(&(*field).to_owned()),
                "{method} {body} -> {error}"
            );
        }
    }
    for (body, field) in [
        (json!({"title": null}), "title"),
        (json!({"completed": null}), "completed"),
        (json!({"title": " "}), "title"),
    ] {
        let response = send(&app, &user, Method::PATCH, &path, Some(body.clone())).await;
        let error = assert_error(
            response,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await;
        assert_eq!(error_fields(&error), [field], "{body}");
    }
    let page = list(&app, &user, "").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0], task, "the task is unchanged");
}

#[actix_web::test]
async fn malformed_task_ids_are_404s() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    for path in [
        "/api/tasks/42",
        "/api/tasks/not-a-uuid",
        "/api/tasks/42/complete",
    ] {
        let method = if path.ends_with("complete") {
            Method::PATCH
        } else {
            Method::GET
        };
        assert_error(
            send(&app, &user, method, path, None).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
}

#[actix_web::test]
async fn concurrent_toggles_each_apply_exactly_once() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let task = app.create_task(&user, json!({"title": "flip"})).await;
    let path = format!("/api/tasks/{}/complete", task["id"].as_str().unwrap());
    let toggles = (0..10).map(|_| send(&app, &user, Method::PATCH, &path, None));
    for response in futures_util::future::join_all(toggles).await {
        assert_eq!(response.status(), StatusCode::OK);
    }
    let read: Value = app
        .get_task(&user, task["id"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["completed"], false, "ten toggles return to the start");
}

#[actix_web::test]
async fn compatibility_routes_serve_the_same_tasks_under_the_users_own_id() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let base = format!("/api/{}/tasks", user.id);
    let response = send(
        &app,
        &user,
        Method::POST,
        &base,
        Some(json!({"title": "legacy"})),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!("{base}/{}", created["id"].as_str().unwrap())
    );

    // Same task through the primary routes and back.
    let read: Value = app
        .get_task(&user, created["id"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read, created);
    let listed: Value = send(&app, &user, Method::GET, &base, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(titles(&listed), ["legacy"]);
    let toggled: Value = send(
        &app,
        &user,
        Method::PATCH,
        &format!("{location}/complete"),
        None,
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(toggled["completed"], true);
    let patched: Value = send(
        &app,
        &user,
        Method::PATCH,
        &location,
        Some(json!({"title": "renamed"})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(patched["title"], "renamed");
    let replaced: Value = send(
        &app,
        &user,
        Method::PUT,
        &location,
        Some(json!({"title": "replaced"})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(replaced["completed"], false);
    assert_eq!(
        send(&app, &user, Method::DELETE, &location, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
}

/// Two users; every route and method, with the other user's task id and with the other
/// user's id in the compatibility path. Each must be refused, and the owner's task unchanged.
#[actix_web::test]
async fn isolation_matrix_no_user_can_reach_another_users_tasks() {
    let app = spawn_app().await;
    let owner = app.new_user().await;
    let intruder = app.new_user().await;
    let task = app
        .create_task(&owner, json!({"title": "private", "description": "secret"}))
        .await;
    let id = task["id"].as_str().unwrap();
    let missing = "0190f1a2-0000-7000-8000-00000000dead";

    let body = || Some(json!({"title": "pwned", "description": null, "completed": true}));
    for prefix in [
        "/api/tasks".to_owned(),
        format!("/api/{}/tasks", intruder.id),
    ] {
        for (method, suffix, with_body) in [
            (Method::GET, "", false),
            (Method::PUT, "", true),
            (Method::PATCH, "", true),
            (Method::DELETE, "", false),
            (Method::PATCH, "/complete", false),
        ] {
            let theirs = send(
                &app,
                &intruder,
                method.clone(),
                &format!("{prefix}/{id}{suffix}"),
                if with_body { body() } else { None },
            )
            .await;
            let absent = send(
                &app,
                &intruder,
                method.clone(),
                &format!("{prefix}/{missing}{suffix}"),
                if with_body { body() } else { None },
            )
            .await;
            assert_eq!(
                theirs.status(),
                StatusCode::NOT_FOUND,
                "{method} {prefix}/<owner's task>{suffix}"
            );
            let theirs: Value = theirs.json().await.unwrap();
            let absent: Value = absent.json().await.unwrap();
            assert_eq!(
                theirs, absent,
                "another user's task must look exactly like a missing one"
            );
        }
        let listed = send(&app, &intruder, Method::GET, &prefix, None).await;
        assert_eq!(titles(&listed.json().await.unwrap()), Vec::<String>::new());
    }

    // The owner's id in the compatibility path, with the intruder's token: 403, nothing read.
    let foreign = format!("/api/{}/tasks", owner.id);
    for (method, path, with_body) in [
        (Method::GET, foreign.clone(), false),
        (Method::POST, foreign.clone(), true),
        (Method::GET, format!("{foreign}/{id}"), false),
        (Method::PUT, format!("{foreign}/{id}"), true),
        (Method::PATCH, format!("{foreign}/{id}"), true),
        (Method::DELETE, format!("{foreign}/{id}"), false),
        (Method::PATCH, format!("{foreign}/{id}/complete"), false),
    ] {
        let response = send(
            &app,
            &intruder,
            method.clone(),
            &path,
            if with_body { body() } else { None },
        )
        .await;
        assert_error(response, StatusCode::FORBIDDEN, "forbidden").await;
    }
    for not_a_user in [
        "/api/not-a-uuid/tasks",
        "/api/00000000-0000-0000-0000-000000000000/tasks",
    ] {
        let response = send(&app, &intruder, Method::GET, not_a_user, None).await;
        assert_error(response, StatusCode::FORBIDDEN, "forbidden").await;
    }

    let after: Value = app.get_task(&owner, id).await.json().await.unwrap();
    assert_eq!(after, task, "the owner's task is untouched");
    assert_eq!(
        titles(&list(&app, &owner, "").await),
        ["private"],
        "nothing was created for the owner"
    );
}

#[actix_web::test]
async fn the_openapi_document_describes_every_registered_route() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let response = app
        .request(Method::GET, "/api/openapi.json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());

    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect();
    // Every route the app serves: the public auth routes and every bearer-guarded route (the
    // guard tests prove that list complete by refusing each one without a token).
    use crate::guard::{PLACEHOLDER_SESSION_ID, PLACEHOLDER_TASK_ID, protected_routes};
    let registered: BTreeSet<(String, String)> = [
        ("POST", "/api/auth/register"),
        ("POST", "/api/auth/login"),
        ("POST", "/api/auth/refresh"),
        ("POST", "/api/auth/logout"),
    ]
    .into_iter()
    .map(|(m, p)| (m.to_owned(), p.to_owned()))
    .chain(protected_routes("{user_id}").into_iter().map(|(m, p)| {
        let p = p
            .replace(PLACEHOLDER_TASK_ID, "{task_id}")
            .replace(PLACEHOLDER_SESSION_ID, "{session_id}");
        (m.to_string(), p)
    }))
    .collect();
    assert_eq!(documented, registered);

    // And the document matches what the server really routes: every documented method is
    // served, every other method on a documented path is a 405.
    let all_methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
    ];
    for path in documented
        .iter()
        .map(|(_, p)| p.clone())
        .collect::<BTreeSet<_>>()
    {
        let concrete = path
            .replace("{user_id}", &user.id)
            .replace("{task_id}", PLACEHOLDER_TASK_ID)
            .replace("{session_id}", PLACEHOLDER_SESSION_ID);
        for method in &all_methods {
            let response = app
                .authed(method.clone(), &concrete, &user.access_token)
                .header("content-type", "application/json")
                .body("{}")
                .send()
                .await
                .unwrap();
            let is_documented = documented.contains(&(method.to_string(), path.clone()));
            assert_eq!(
                response.status() == StatusCode::METHOD_NOT_ALLOWED,
                !is_documented,
                "{method} {path}: documented={is_documented}, status={}",
                response.status()
            );
        }
    }
}
