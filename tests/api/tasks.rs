//! Tasks: their life cycle (create, read, replace, patch, toggle, delete), text kept exactly,
//! cursor pagination and filters, input validation that writes nothing, and concurrent toggles.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

#[actix_web::test]
async fn a_user_can_create_read_replace_patch_toggle_and_delete_a_task() {
    let app = spawn_app().await;
    let user = app.new_user().await;

    let response = app
        .send(
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

    let read = app.read_task(&user, &id).await;
    assert_eq!(read, created);

    let replaced = app
        .send_json(
            &user,
            Method::PUT,
            &location,
            Some(json!({"title": "Buy oat milk", "completed": true})),
        )
        .await;
    assert_eq!(replaced["title"], "Buy oat milk");
    assert_eq!(
        replaced["description"],
        Value::Null,
        "PUT replaces the description too"
    );
    assert_eq!(replaced["completed"], true);
    assert_eq!(replaced["created_at"], created["created_at"]);
    assert_ne!(replaced["updated_at"], created["updated_at"]);

    let patched = app
        .send_json(
            &user,
            Method::PATCH,
            &location,
            Some(json!({"description": "barista edition"})),
        )
        .await;
    assert_eq!(patched["title"], "Buy oat milk");
    assert_eq!(patched["description"], "barista edition");
    assert_eq!(patched["completed"], true);
    assert_ne!(patched["updated_at"], replaced["updated_at"]);

    let cleared = app
        .send_json(
            &user,
            Method::PATCH,
            &location,
            Some(json!({"description": null})),
        )
        .await;
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["title"], "Buy oat milk");

    let toggle = format!("{location}/complete");
    let toggled = app.send_json(&user, Method::PATCH, &toggle, None).await;
    assert_eq!(toggled["completed"], false);
    let toggled_back = app.send_json(&user, Method::PATCH, &toggle, None).await;
    assert_eq!(toggled_back["completed"], true);
    assert_eq!(toggled_back["created_at"], created["created_at"]);

    assert_eq!(
        app.send(&user, Method::DELETE, &location, None)
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
        app.send(&user, Method::DELETE, &location, None).await,
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
    let read = app.read_task(&user, created["id"].as_str().unwrap()).await;
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
    let first = app.list_tasks(&user, "?limit=2").await;
    assert_eq!(titles(&first), ["task 5", "task 4"]);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();

    // Added between pages: must not shift what follows.
    app.create_task(&user, json!({"title": "task 6"})).await;

    let second = app
        .list_tasks(&user, &format!("?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(titles(&second), ["task 3", "task 2"]);
    let cursor = second["next_cursor"].as_str().unwrap().to_owned();
    let last = app
        .list_tasks(&user, &format!("?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(titles(&last), ["task 1"]);
    assert_eq!(last["next_cursor"], Value::Null);

    let everything = app.list_tasks(&user, "").await;
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
        titles(&app.list_tasks(&user, "?status=pending").await),
        ["open"]
    );
    assert_eq!(
        titles(&app.list_tasks(&user, "?status=completed").await),
        ["done"]
    );
    assert_eq!(
        titles(&app.list_tasks(&user, "?status=all").await),
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
        let response = app
            .send(&user, Method::GET, &format!("/api/tasks{query}"), None)
            .await;
        let body = assert_validation_failed(response).await;
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
            let response = app
                .send(&user, method.clone(), target, Some(body.clone()))
                .await;
            let error = assert_validation_failed(response).await;
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
        let response = app
            .send(&user, Method::PATCH, &path, Some(body.clone()))
            .await;
        let error = assert_validation_failed(response).await;
        assert_eq!(error_fields(&error), [field], "{body}");
    }
    let page = app.list_tasks(&user, "").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0], task, "the task is unchanged");
}

#[actix_web::test]
async fn malformed_task_ids_are_404s() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    for (method, path) in [
        (Method::GET, "/api/tasks/42"),
        (Method::GET, "/api/tasks/not-a-uuid"),
        (Method::PATCH, "/api/tasks/42/complete"),
    ] {
        assert_error(
            app.send(&user, method, path, None).await,
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
    let id = task["id"].as_str().unwrap();
    let path = format!("/api/tasks/{id}/complete");
    let toggles = (0..10).map(|_| app.send(&user, Method::PATCH, &path, None));
    for response in futures_util::future::join_all(toggles).await {
        assert_eq!(response.status(), StatusCode::OK);
    }
    let read = app.read_task(&user, id).await;
    assert_eq!(read["completed"], false, "ten toggles return to the start");
}
