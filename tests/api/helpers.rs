//! Spawns the real application on port 0 with a database of its own, and speaks HTTP to it.
//!
//! SQLite by default: a fresh file in a temporary directory per test. With
//! `TEST_DATABASE_URL=postgres://...` every test instead gets a fresh PostgreSQL database
//! (`CREATE DATABASE t_<uuid>`), dropped when the test ends, so tests run in parallel and never
//! see each other's rows. A PostgreSQL that cannot be reached fails the test; it is never
//! skipped.

#![allow(dead_code)]

use std::collections::HashMap;

use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use todo_server::Application;
use todo_server::config::Config;
use todo_server::tokens::AccessClaims;
use uuid::Uuid;

pub const TEST_SECRET: &str = "integration-test-secret-0123456789abcdef";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub address: String,
    pub database_url: String,
    pub client: reqwest::Client,
    pub database: TestDatabase,
}

pub enum TestDatabase {
    Sqlite(tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { admin_url, name } = self
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
                .execute(&mut admin);
        }
    }
}

impl TestDatabase {
    /// A fresh, empty database and the `DATABASE_URL` that reaches it.
    pub fn create() -> (Self, String) {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|url| !url.is_empty())
        {
            None => {
                let dir = tempfile::tempdir().expect("create a temporary directory");
                let url = dir.path().join("todo.db").to_string_lossy().into_owned();
                (TestDatabase::Sqlite(dir), url)
            }
            Some(admin_url) => {
                let name = format!("t_{}", Uuid::now_v7().simple());
                let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|e| {
                    panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}")
                });
                diesel::sql_query(format!(r#"CREATE DATABASE "{name}""#))
                    .execute(&mut admin)
                    .expect("create the test database");
                let url = database_url_with_name(&admin_url, &name);
                (TestDatabase::Postgres { admin_url, name }, url)
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDatabase::Postgres { .. })
    }
}

/// Replaces the database name (the path) of a PostgreSQL URL, keeping any query string.
fn database_url_with_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut result = format!("{}/{}", &base[..host_end], name);
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    result
}

/// The settings every test app uses; `overrides` replace or add variables.
pub fn test_config(database_url: &str, overrides: &[(&str, &str)]) -> Config {
    let mut env: HashMap<String, String> = [
        ("DATABASE_URL", database_url),
        ("BIND_ADDR", "127.0.0.1:0"),
        ("JWT_SECRET", TEST_SECRET),
        ("COOKIE_SECURE", "false"),
        ("DATABASE_POOL_SIZE", "8"),
        // Tests make many auth calls from one address; the rate-limit tests turn it back on.
        ("AUTH_RATE_LIMIT_PER_MINUTE", "0"),
        // Cheap hashing keeps the suite fast; the production defaults have their own unit test.
        ("PASSWORD_HASH_MEMORY_KIB", "1024"),
        ("PASSWORD_HASH_ITERATIONS", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for (key, value) in overrides {
        env.insert((*key).to_owned(), (*value).to_owned());
    }
    Config::from_lookup(|name| env.get(name).cloned()).expect("valid test configuration")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let (database, url) = TestDatabase::create();
    let config = test_config(&url, overrides);
    let app = Application::build(&config).expect("the application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address,
        database_url: url,
        client: client(),
        database,
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("build an HTTP client")
}

/// A logged-in user as the tests see it.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub access_token: String,
    pub refresh_token: String,
}

impl TestUser {
    fn from_token_response(body: &Value) -> Self {
        Self {
            id: body["user"]["id"].as_str().expect("user.id").to_owned(),
            email: body["user"]["email"]
                .as_str()
                .expect("user.email")
                .to_owned(),
            access_token: body["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned(),
            refresh_token: body["refresh_token"]
                .as_str()
                .expect("refresh_token")
                .to_owned(),
        }
    }
}

impl TestApp {
    /// A direct connection to the app's database, for asserting what was (not) written.
    pub fn connection(&self) -> todo_server::db::AnyConnection {
        use r2d2::ManageConnection;
        let url = todo_server::db::DatabaseUrl::parse(&self.database_url).expect("valid url");
        todo_server::db::ConnectionManager::new(url)
            .connect()
            .expect("connect to the test database")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    pub fn authed(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(token)
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn register_raw(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/auth/register",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    /// Registers a fresh user with a unique email.
    pub async fn new_user(&self) -> TestUser {
        let email = format!("user-{}@example.org", Uuid::now_v7().simple());
        let response = self.register_raw(&email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        TestUser::from_token_response(&response.json().await.expect("json"))
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post_json(
            "/api/auth/login",
            &json!({"email": email, "password": password}),
        )
        .await
    }

    pub async fn login_user(&self, email: &str) -> TestUser {
        let response = self.login(email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        TestUser::from_token_response(&response.json().await.expect("json"))
    }

    pub async fn refresh(&self, refresh_token: &str) -> Response {
        self.post_json(
            "/api/auth/refresh",
            &json!({"refresh_token": refresh_token}),
        )
        .await
    }

    /// Refreshes and returns the new pair, asserting success.
    pub async fn refreshed(&self, user: &TestUser) -> TestUser {
        let response = self.refresh(&user.refresh_token).await;
        assert_eq!(response.status(), StatusCode::OK);
        TestUser::from_token_response(&response.json().await.expect("json"))
    }

    pub async fn me(&self, access_token: &str) -> Response {
        self.authed(Method::GET, "/api/auth/me", access_token)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn create_task(&self, user: &TestUser, body: Value) -> Value {
        let response = self
            .authed(Method::POST, "/api/tasks", &user.access_token)
            .json(&body)
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.expect("json")
    }

    pub async fn get_task(&self, user: &TestUser, id: &str) -> Response {
        self.authed(Method::GET, &format!("/api/tasks/{id}"), &user.access_token)
            .send()
            .await
            .expect("request sent")
    }
}

/// Asserts the status and the JSON error code, and returns the body.
pub async fn assert_error(response: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status, "unexpected status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "error is not JSON: {content_type}"
    );
    let body: Value = response.json().await.expect("error body is JSON");
    assert_eq!(body["error"]["code"], code, "unexpected error body: {body}");
    assert!(
        body["error"]["message"].is_string(),
        "error has no message: {body}"
    );
    body
}

/// The fields a 422 names.
pub fn error_fields(body: &Value) -> Vec<String> {
    body["error"]["details"]
        .as_array()
        .map(|details| {
            details
                .iter()
                .filter_map(|d| d["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Signs arbitrary claims with the test secret (or another), for tokens the server never issued.
pub fn mint_token(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign test token")
}

/// Claims like the server's own, for `user`, valid for `ttl` seconds from now.
pub fn claims_for(user: &TestUser, ttl: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    serde_json::to_value(AccessClaims {
        sub: user.id.clone(),
        email: user.email.clone(),
        sid: Uuid::now_v7().to_string(),
        jti: Uuid::now_v7().to_string(),
        iat: now,
        exp: now + ttl,
        iss: "todo-server".into(),
        aud: "todo-server".into(),
    })
    .expect("claims serialize")
}
