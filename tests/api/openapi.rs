//! The OpenAPI document: it describes exactly the routes the application registers, with the
//! methods the server really serves, so clients generated from it are neither short nor wrong.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::*;

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
    // guard tests prove the guarded part complete by refusing each one without a token).
    let registered: BTreeSet<(String, String)> = registered_routes()
        .into_iter()
        .map(|(method, template, _)| (method.to_string(), template.to_owned()))
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
    let mut access_token = user.access_token.clone();
    for path in documented
        .iter()
        .map(|(_, p)| p.clone())
        .collect::<BTreeSet<_>>()
    {
        let concrete = concrete_path(&path, &user.id);
        for method in &all_methods {
            let response = app
                .authed(method.clone(), &concrete, &access_token)
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
            // Logging out everywhere ends this session, and its access token with it.
            if path == "/api/auth/logout-all" && response.status() == StatusCode::NO_CONTENT {
                access_token = app.login_user(&user.email).await.access_token;
            }
        }
    }
}

#[actix_web::test]
async fn refresh_is_documented_with_the_retry_rule_and_no_conflict() {
    let app = spawn_app().await;
    let doc: Value = app
        .request(Method::GET, "/api/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let responses = &doc["paths"]["/api/auth/refresh"]["post"]["responses"];
    assert!(responses["409"].is_null(), "{responses}");
    assert!(
        responses["200"]["description"]
            .as_str()
            .unwrap()
            .contains("same refresh token")
    );
    assert!(!doc.to_string().contains("refresh_conflict"));
}

/// The compatibility routes are documented in their own dialect: a bare array of tasks that
/// carry `user_id`, bodies that accept fields they do not name, `detail` on every error.
#[actix_web::test]
async fn the_seed_routes_are_documented_with_their_own_shapes() {
    let app = spawn_app().await;
    let doc: Value = app
        .request(Method::GET, "/api/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = &doc["paths"];
    let schemas = &doc["components"]["schemas"];
    let list = &paths["/api/{user_id}/tasks"]["get"]["responses"]["200"];
    let list_schema = &list["content"]["application/json"]["schema"];
    assert_eq!(list_schema["type"], "array", "{list}");
    assert_eq!(
        list_schema["items"]["$ref"],
        "#/components/schemas/SeedTask"
    );
    assert!(list["headers"]["Link"].is_object(), "{list}");
    assert!(
        schemas["SeedTask"]["required"]
            .as_array()
            .unwrap()
            .contains(&Value::from("user_id"))
    );
    // Lenient bodies on the seed routes, strict ones on the canonical routes.
    for name in [
        "SeedCreateRequest",
        "SeedUpdateRequest",
        "SeedCompleteRequest",
    ] {
        assert!(
            schemas[name]["additionalProperties"].is_null(),
            "{name}: {}",
            schemas[name]
        );
    }
    assert_eq!(schemas["TaskRequest"]["additionalProperties"], false);
    let complete = &paths["/api/{user_id}/tasks/{task_id}/complete"]["patch"];
    assert_ne!(complete["requestBody"]["required"], true, "{complete}");
    for (path, method) in [
        ("/api/{user_id}/tasks", "get"),
        ("/api/{user_id}/tasks", "post"),
        ("/api/{user_id}/tasks/{task_id}", "put"),
        ("/api/{user_id}/tasks/{task_id}/complete", "patch"),
    ] {
        let responses = paths[path][method]["responses"].as_object().unwrap();
        for (status, response) in responses.iter().filter(|(s, _)| s.as_str() >= "400") {
            assert_eq!(
                response["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/SeedErrorBody",
                "{method} {path} {status}"
            );
        }
    }
    assert!(schemas["SeedErrorBody"]["properties"]["detail"].is_object());
    let canonical = &paths["/api/tasks/{task_id}"]["get"]["responses"]["404"];
    assert_eq!(
        canonical["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
}
