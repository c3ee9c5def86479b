//! Spawns the real application on port 0 with a database of its own, and speaks HTTP to it.
//!
//! SQLite by default: a fresh file in a temporary directory per test. With
//! `TEST_DATABASE_URL=postgres://...` every test instead gets a fresh PostgreSQL database
//! (`CREATE DATABASE t_<uuid>`), dropped when the test ends, so tests run in parallel and never
//! see each other's rows. A PostgreSQL that cannot be reached fails the test; it is never
//! skipped.
//!
//! Also everything the test files share: requests as a user, the assertions for common answers
//! (an error body, a refused refresh, a 422), the refresh cookie, and the list of every route
//! the application registers. And the only paths into the crate under test.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

// Every path into the crate under test is named here and nowhere else in the suite, so a move
// inside the crate is fixed in this one place. Test files take what they need from here.
use todo_server::Application;
use todo_server::config::Config;
pub use todo_server::db::AnyConnection;
use todo_server::db::{ConnectionManager, DatabaseUrl};
use todo_server::tokens::AccessClaims;

/// The tables, for tests that look at what was (not) written.
pub use todo_server::db::schema;

/// Deletes expired refresh tokens and the sessions nothing refers to any more.
pub use todo_server::sessions::store::purge_expired;

/// The stores and the values they take, for the query-plan test, which calls them directly.
pub mod stores {
    pub use todo_server::accounts::backoff::BackoffKey;
    pub use todo_server::accounts::credentials::Email;
    pub use todo_server::accounts::store as accounts;
    pub use todo_server::ids::{SessionId, TaskId, UserId};
    pub use todo_server::rate_limit::store as rate_limits;
    pub use todo_server::sessions::store as sessions;
    pub use todo_server::tasks::input::{TaskChanges, TaskRequest};
    pub use todo_server::tasks::list::{Cursor, ListRequest, StatusFilter};
    pub use todo_server::tasks::store as tasks;
}

pub const TEST_SECRET: &str = "integration-test-secret-0123456789abcdef";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub address: String,
    pub database_url: String,
    pub client: reqwest::Client,
    /// Shared by every instance started on it; dropped with the last.
    pub database: Arc<TestDatabase>,
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
    let env = test_env(database_url, overrides);
    Config::from_lookup(|name| env.get(name).cloned()).expect("valid test configuration")
}

/// [`test_config`] as environment variables, for tests that start the binary itself.
pub fn test_env(database_url: &str, overrides: &[(&str, &str)]) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = [
        ("DATABASE_URL", database_url),
        ("BIND_ADDR", "127.0.0.1:0"),
        ("JWT_SECRET", TEST_SECRET),
        ("COOKIE_SECURE", "false"),
        ("DATABASE_POOL_SIZE", "8"),
        // Tests make many auth calls from one address; the rate-limit tests turn it back on.
        ("AUTH_RATE_LIMIT_PER_MINUTE", "0"),
        ("TASK_WRITES_PER_MINUTE", "0"),
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
    env
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    let (database, url) = TestDatabase::create();
    start(url, Arc::new(database), overrides).await
}

async fn start(
    database_url: String,
    database: Arc<TestDatabase>,
    overrides: &[(&str, &str)],
) -> TestApp {
    let config = test_config(&database_url, overrides);
    let app = Application::build(&config)
        .await
        .expect("the application starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address,
        database_url,
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
    /// Another instance of the server on this app's database, as a second deployment
    /// of it would run (its own memory, its own port), with `overrides` to the test settings.
    pub async fn another_instance(&self, overrides: &[(&str, &str)]) -> TestApp {
        start(self.database_url.clone(), self.database.clone(), overrides).await
    }

    /// A direct connection to the app's database, for asserting what was (not) written.
    pub fn connection(&self) -> AnyConnection {
        let url = DatabaseUrl::parse(&self.database_url).expect("valid url");
        ConnectionManager::new(url)
            .open()
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

    /// How many refresh tokens the database holds, of every session.
    pub fn refresh_tokens_stored(&self) -> i64 {
        use diesel::QueryDsl as _;
        schema::refresh_tokens::table
            .count()
            .get_result(&mut self.connection())
            .expect("count refresh tokens")
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

    /// The task's JSON as `user` reads it, whatever the status.
    pub async fn read_task(&self, user: &TestUser, id: &str) -> Value {
        self.get_task(user, id).await.json().await.expect("json")
    }

    /// `GET /api/tasks{query}` as `user`, asserting 200; the page.
    pub async fn list_tasks(&self, user: &TestUser, query: &str) -> Value {
        let response = self
            .send(user, Method::GET, &format!("/api/tasks{query}"), None)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("json")
    }

    /// Sends `method path` with `user`'s access token and, when given, a JSON body.
    pub async fn send(
        &self,
        user: &TestUser,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        let mut request = self.authed(method, path, &user.access_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request sent")
    }

    /// [`TestApp::send`], then the answer's JSON body, whatever the status.
    pub async fn send_json(
        &self,
        user: &TestUser,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        self.send(user, method, path, body)
            .await
            .json()
            .await
            .expect("json")
    }

    /// Posts `body` as it is, under any content type: for bodies a JSON encoder never writes.
    pub async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.request(Method::POST, path)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    /// A request that opts into the cookie transport for the refresh token.
    pub fn cookie_transport(&self, method: Method, path: &str) -> RequestBuilder {
        self.request(method, path)
            .header("X-Token-Transport", "cookie")
    }
}

/// Asserts that refreshing with `refresh_token` is refused: 401 `invalid_refresh_token`.
pub async fn assert_refresh_refused(app: &TestApp, refresh_token: &str) {
    assert_error(
        app.refresh(refresh_token).await,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    )
    .await;
}

/// Asserts that refreshing with `refresh_token` succeeds.
pub async fn assert_refresh_accepted(app: &TestApp, refresh_token: &str) {
    assert_eq!(app.refresh(refresh_token).await.status(), StatusCode::OK);
}

/// The `Retry-After` header, in seconds.
pub fn retry_after(response: &Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .expect("retry-after is text")
        .parse()
        .expect("retry-after is a number of seconds")
}

pub const REFRESH_COOKIE: &str = "todo_refresh_token";

/// The `Cookie` header that carries `refresh_token`.
pub fn refresh_cookie_header(refresh_token: &str) -> String {
    format!("{REFRESH_COOKIE}={refresh_token}")
}

/// The `Set-Cookie` line for the refresh cookie, asserting the response sets one.
pub fn refresh_set_cookie(response: &Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().expect("set-cookie is text").to_owned())
        .find(|c| c.starts_with(&format!("{REFRESH_COOKIE}=")))
        .expect("a refresh cookie is set")
}

/// The token a `Set-Cookie` line for the refresh cookie carries.
pub fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .expect("a cookie pair")
        .trim_start_matches(&format!("{REFRESH_COOKIE}="))
        .to_owned()
}

/// The titles on a page of tasks, in order.
pub fn titles(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("a page of tasks")
        .iter()
        .map(|t| t["title"].as_str().expect("a title").to_owned())
        .collect()
}

pub const PLACEHOLDER_TASK_ID: &str = "0190f1a2-0000-7000-8000-000000000001";
pub const PLACEHOLDER_SESSION_ID: &str = "0190f1a2-0000-7000-8000-0000000000cc";

/// Every route the application registers: its method, its path as the OpenAPI document writes
/// it, and whether the bearer guard protects it. The guard tests prove the guarded part
/// complete by refusing each route without a token; the OpenAPI test proves the document names
/// exactly these.
pub fn registered_routes() -> Vec<(Method, &'static str, bool)> {
    vec![
        (Method::POST, "/api/auth/register", false),
        (Method::POST, "/api/auth/login", false),
        (Method::POST, "/api/auth/refresh", false),
        (Method::POST, "/api/auth/logout", false),
        (Method::POST, "/api/auth/password-reset", false),
        (Method::POST, "/api/auth/verify-email", false),
        (Method::POST, "/api/auth/verify-email/resend", false),
        (Method::POST, "/api/auth/password-reset/confirm", false),
        (Method::GET, "/healthz", false),
        (Method::GET, "/readyz", false),
        (Method::GET, "/api/auth/me", true),
        (Method::POST, "/api/auth/logout-all", true),
        (Method::POST, "/api/auth/password", true),
        (Method::GET, "/api/auth/sessions", true),
        (Method::DELETE, "/api/auth/sessions/{session_id}", true),
        (Method::DELETE, "/api/account", true),
        (Method::GET, "/api/account/export", true),
        (Method::GET, "/api/tasks", true),
        (Method::POST, "/api/tasks", true),
        (Method::GET, "/api/tasks/{task_id}", true),
        (Method::PUT, "/api/tasks/{task_id}", true),
        (Method::PATCH, "/api/tasks/{task_id}", true),
        (Method::DELETE, "/api/tasks/{task_id}", true),
        (Method::PATCH, "/api/tasks/{task_id}/complete", true),
        (Method::GET, "/api/{user_id}/tasks", true),
        (Method::POST, "/api/{user_id}/tasks", true),
        (Method::GET, "/api/{user_id}/tasks/{task_id}", true),
        (Method::PUT, "/api/{user_id}/tasks/{task_id}", true),
        (Method::PATCH, "/api/{user_id}/tasks/{task_id}", true),
        (Method::DELETE, "/api/{user_id}/tasks/{task_id}", true),
        (
            Method::PATCH,
            "/api/{user_id}/tasks/{task_id}/complete",
            true,
        ),
    ]
}

/// A route's path template with `user_id` and the placeholder task and session ids filled in.
pub fn concrete_path(template: &str, user_id: &str) -> String {
    template
        .replace("{user_id}", user_id)
        .replace("{task_id}", PLACEHOLDER_TASK_ID)
        .replace("{session_id}", PLACEHOLDER_SESSION_ID)
}

/// Every bearer-guarded route, with `user_id` and a placeholder id where the path takes one.
pub fn protected_routes(user_id: &str) -> Vec<(Method, String)> {
    registered_routes()
        .into_iter()
        .filter(|(_, _, guarded)| *guarded)
        .map(|(method, template, _)| (method, concrete_path(template, user_id)))
        .collect()
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

/// Asserts a 422 `validation_failed`, and returns the body.
pub async fn assert_validation_failed(response: Response) -> Value {
    assert_error(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await
}

/// Sends every request at once; their statuses, in order.
pub async fn simultaneous_statuses<F>(requests: impl IntoIterator<Item = F>) -> Vec<StatusCode>
where
    F: std::future::Future<Output = Response>,
{
    futures_util::future::join_all(requests)
        .await
        .into_iter()
        .map(|response| response.status())
        .collect()
}

/// How many of `statuses` are `status`.
pub fn count_of(statuses: &[StatusCode], status: StatusCode) -> usize {
    statuses.iter().filter(|s| **s == status).count()
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

/// base64url of a JSON value, as a JWT segment.
pub fn b64(value: &Value) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// Signs `header.payload` with HMAC and the given secret, whatever `alg` says.
pub fn hmac_token(
    header: &Value,
    claims: &Value,
    secret: &str,
    algorithm: jsonwebtoken::Algorithm,
) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    let signing_input = format!("{}.{}", b64(header), b64(claims));
    let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), &key, algorithm).unwrap();
    format!("{signing_input}.{signature}")
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

/// Asks `app` with `access_token` until it is refused; how long that took. Panics if the token
/// still works after `bound`.
pub async fn refused_after(app: &TestApp, access_token: &str, bound: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let status = app.me(access_token).await.status();
        if status == StatusCode::UNAUTHORIZED {
            return started.elapsed();
        }
        assert_eq!(status, StatusCode::OK, "only 200 or 401 are expected");
        assert!(
            started.elapsed() < bound,
            "the access token still works {:?} after its session ended",
            started.elapsed()
        );
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `interop/`, where the independent peers live (a real Better Auth server, a `jose` verifier),
/// asserting their npm packages are installed.
pub fn interop_dir() -> std::path::PathBuf {
    let interop = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("interop");
    assert!(
        interop.join("node_modules/better-auth").is_dir()
            && interop.join("node_modules/jose").is_dir(),
        "the interoperability peers are not installed: run `npm ci` in {} (Node 20+)",
        interop.display()
    );
    interop
}

/// A running `todo-server` process; killed when dropped.
pub struct Instance {
    pub process: Child,
    pub app: TestApp,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// Starts the binary on `database_url` with the test settings and `overrides`, and waits until
/// it answers `/healthz`.
pub async fn start_instance(
    database_url: &str,
    database: &Arc<TestDatabase>,
    overrides: &[(&str, &str)],
) -> Instance {
    launch(database_url, database, overrides, Stdio::null()).await
}

/// Like [`start_instance`], with the process's log (its stdout) written to `log`.
pub async fn start_instance_logging_to(
    database_url: &str,
    database: &Arc<TestDatabase>,
    overrides: &[(&str, &str)],
    log: &std::path::Path,
) -> Instance {
    let file = std::fs::File::create(log).expect("create the log file");
    launch(database_url, database, overrides, Stdio::from(file)).await
}

/// A port free now, to hand to a process (the tiny window before it binds is harmless here).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

async fn launch(
    database_url: &str,
    database: &Arc<TestDatabase>,
    overrides: &[(&str, &str)],
    stdout: Stdio,
) -> Instance {
    let bind_addr = format!("127.0.0.1:{}", free_port());
    let mut env = test_env(database_url, overrides);
    env.insert("BIND_ADDR".into(), bind_addr.clone());
    env.entry("RUST_LOG".into())
        .or_insert_with(|| "warn".into());
    let process = Command::new(env!("CARGO_BIN_EXE_todo-server"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env)
        .stdout(stdout)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the binary");
    let instance = Instance {
        process,
        app: TestApp {
            address: format!("http://{bind_addr}"),
            database_url: database_url.to_owned(),
            client: client(),
            database: database.clone(),
        },
    };
    let started = Instant::now();
    while instance
        .app
        .request(Method::GET, "/healthz")
        .send()
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the instance did not start"
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
    instance
}
