//! The account as a whole: deleting it (everything goes, the address is free again, its
//! tokens stop on every instance) and exporting it (one JSON document, streamed).

use std::collections::HashSet;
use std::time::Duration;

use diesel::{Connection, ExpressionMethods, QueryDsl, RunQueryDsl};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use todo_server::db::schema::{refresh_tokens, sessions, tasks, users};

use crate::helpers::{PASSWORD, TestApp, TestUser, refused_after, spawn_app};

async fn delete_account(app: &TestApp, user: &TestUser, body: Value) -> reqwest::Response {
    app.authed(Method::DELETE, "/api/account", &user.access_token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn count_tasks_of(app: &TestApp, user_id: &str) -> i64 {
    tasks::table
        .filter(tasks::user_id.eq(user_id))
        .count()
        .get_result(&mut app.connection())
        .unwrap()
}

#[actix_web::test]
async fn deleting_the_account_needs_its_password_and_leaves_nothing_behind() {
    let app = spawn_app().await;
    let other_instance = app.another_instance(&[]).await;
    let user = app.new_user().await;
    let second_device = app.login_user(&user.email).await;
    let bystander = app.new_user().await;
    for title in ["one", "two", "three"] {
        app.create_task(&user, json!({"title": title})).await;
    }
    app.create_task(&bystander, json!({"title": "not theirs"}))
        .await;

    let missing = delete_account(&app, &user, json!({})).await;
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let wrong = delete_account(&app, &user, json!({"password": "not the password"})).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        count_tasks_of(&app, &user.id),
        3,
        "a wrong password deletes nothing"
    );

    let deleted = delete_account(&app, &user, json!({"password": PASSWORD})).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    assert_eq!(count_tasks_of(&app, &user.id), 0);
    let live_refresh_tokens: i64 = refresh_tokens::table
        .inner_join(sessions::table)
        .filter(sessions::user_id.eq(&user.id))
        .count()
        .get_result(&mut app.connection())
        .unwrap();
    assert_eq!(live_refresh_tokens, 0);
    let kept_email: String = users::table
        .find(&user.id)
        .select(users::email)
        .first(&mut app.connection())
        .unwrap();
    assert_ne!(kept_email, user.email, "no personal data is kept");
    assert_eq!(
        count_tasks_of(&app, &bystander.id),
        1,
        "nobody else's data is touched"
    );

    assert_eq!(
        app.login(&user.email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    for session in [&user, &second_device] {
        assert_eq!(
            app.refresh(&session.refresh_token).await.status(),
            StatusCode::UNAUTHORIZED
        );
        refused_after(&app, &session.access_token, Duration::from_millis(100)).await;
        refused_after(
            &other_instance,
            &session.access_token,
            Duration::from_secs(2),
        )
        .await;
    }
    let tasks = app
        .authed(Method::GET, "/api/tasks", &user.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(tasks.status(), StatusCode::UNAUTHORIZED);

    // The address is free: a new account, with nothing of the old one.
    let again = app.register_raw(&user.email, PASSWORD).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    let again: Value = again.json().await.unwrap();
    assert_ne!(again["user"]["id"], user.id.as_str());
    assert_eq!(
        count_tasks_of(&app, again["user"]["id"].as_str().unwrap()),
        0
    );
}

#[actix_web::test]
async fn the_export_holds_the_profile_and_every_task_across_pages() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let bystander = app.new_user().await;
    app.create_task(&bystander, json!({"title": "not theirs"}))
        .await;
    // More tasks than three pages of the export, written straight into the table.
    let total = 1_234;
    let now = chrono::Utc::now().naive_utc();
    let rows: Vec<_> = (0..total)
        .map(|index| {
            let at = now - chrono::Duration::seconds(index);
            (
                tasks::id.eq(uuid::Uuid::now_v7().to_string()),
                tasks::user_id.eq(user.id.clone()),
                tasks::title.eq(format!("task {index}")),
                tasks::description.eq(None::<String>),
                tasks::completed.eq(index % 3 == 0),
                tasks::created_at.eq(at),
                tasks::updated_at.eq(at),
            )
        })
        .collect();
    // One row a statement (the two-backend connection has no batch insert), one transaction.
    app.connection()
        .transaction(|connection| {
            for row in rows {
                diesel::insert_into(tasks::table)
                    .values(row)
                    .execute(connection)?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap();

    let response = app
        .authed(Method::GET, "/api/account/export", &user.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert!(
        response.headers().get("content-length").is_none(),
        "streamed, not built whole"
    );
    let export: Value = response.json().await.unwrap();
    assert_eq!(export["format"], "todo-server export 1");
    assert_eq!(export["user"]["id"], user.id.as_str());
    assert_eq!(export["user"]["email"], user.email.as_str());
    let tasks = export["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), total as usize);
    let ids: HashSet<&str> = tasks
        .iter()
        .map(|task| task["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), tasks.len(), "no task twice");
    assert_eq!(tasks[0]["title"], "task 0", "newest first");
    assert_eq!(
        tasks[total as usize - 1]["title"],
        format!("task {}", total - 1)
    );
    assert!(tasks.iter().all(|task| task["title"] != "not theirs"));
}

#[actix_web::test]
async fn an_empty_account_exports_an_empty_list() {
    let app = spawn_app().await;
    let user = app.new_user().await;
    let export: Value = app
        .authed(Method::GET, "/api/account/export", &user.access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(export["tasks"], json!([]));
    assert_eq!(export["user"]["email"], user.email.as_str());
}
