//! Per-user isolation: no user can read, change or even detect another user's tasks, through
//! the primary routes or the compatibility routes under `/api/{user_id}/tasks`, which serve a
//! user's own tasks under their own id only.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

#[actix_web::test]
async fn compatibility_routes_serve_the_same_tasks_under_the_users_own_id() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let base = format!("/api/{}/tasks", user.id);
    let response = app
        .send(&user, Method::POST, &base, Some(json!({"title": "legacy"})))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(location, format!("{base}/{id}"));
    assert_eq!(created["user_id"], user.id.as_str());

    // Same task through the canonical routes, which do not name the owner.
    let read = app.read_task(&user, id).await;
    let mut without_owner = created.clone();
    without_owner.as_object_mut().unwrap().remove("user_id");
    assert_eq!(read, without_owner);
    let listed = app.send_json(&user, Method::GET, &base, None).await;
    assert_eq!(listed, json!([created]));
    let toggled = app
        .send_json(&user, Method::PATCH, &format!("{location}/complete"), None)
        .await;
    assert_eq!(toggled["completed"], true);
    let patched = app
        .send_json(
            &user,
            Method::PATCH,
            &location,
            Some(json!({"title": "renamed"})),
        )
        .await;
    assert_eq!(patched["title"], "renamed");
    assert_eq!(app.read_task(&user, id).await["title"], "renamed");
    assert_eq!(
        app.send(&user, Method::DELETE, &location, None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get_task(&user, id).await.status(),
        StatusCode::NOT_FOUND
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

    let body = |with_body: bool| {
        with_body.then(|| json!({"title": "pwned", "description": null, "completed": true}))
    };
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
            let theirs = app
                .send(
                    &intruder,
                    method.clone(),
                    &format!("{prefix}/{id}{suffix}"),
                    body(with_body),
                )
                .await;
            let absent = app
                .send_json(
                    &intruder,
                    method.clone(),
                    &format!("{prefix}/{missing}{suffix}"),
                    body(with_body),
                )
                .await;
            assert_eq!(
                theirs.status(),
                StatusCode::NOT_FOUND,
                "{method} {prefix}/<owner's task>{suffix}"
            );
            let theirs: Value = theirs.json().await.unwrap();
            assert_eq!(
                theirs, absent,
                "another user's task must look exactly like a missing one"
            );
        }
        // A page on the canonical routes, a bare array on the compatibility routes.
        let listed = app.send_json(&intruder, Method::GET, &prefix, None).await;
        let listed = listed.get("items").cloned().unwrap_or(listed);
        assert_eq!(listed, json!([]));
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
        let response = app
            .send(&intruder, method.clone(), &path, body(with_body))
            .await;
        assert_error(response, StatusCode::FORBIDDEN, "forbidden").await;
    }
    for not_a_user in [
        "/api/not-a-uuid/tasks",
        "/api/00000000-0000-0000-0000-000000000000/tasks",
    ] {
        let response = app.send(&intruder, Method::GET, not_a_user, None).await;
        assert_error(response, StatusCode::FORBIDDEN, "forbidden").await;
    }

    let after = app.read_task(&owner, id).await;
    assert_eq!(after, task, "the owner's task is untouched");
    assert_eq!(
        titles(&app.list_tasks(&owner, "").await),
        ["private"],
        "nothing was created for the owner"
    );
}
