//! Three instances of the real binary on one database, as the README's multi-instance
//! deployment runs them: concurrent refreshes of one token spread over all three mint one
//! successor that every caller gets; a session rotates from instance to instance; a logout on
//! one stops its access token on the others within a second; and the per-address auth limit
//! is one budget for all three on PostgreSQL (per process on SQLite, as the README says).

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

/// `POST /api/auth/refresh` as the client at `address`.
async fn refresh_from(app: &TestApp, address: &str, refresh_token: &str) -> reqwest::Response {
    app.request(Method::POST, "/api/auth/refresh")
        .header("X-Forwarded-For", address)
        .json(&json!({"refresh_token": refresh_token}))
        .send()
        .await
        .expect("request sent")
}

async fn token_pair(response: reqwest::Response) -> (String, String) {
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    (
        body["access_token"].as_str().unwrap().to_owned(),
        body["refresh_token"].as_str().unwrap().to_owned(),
    )
}

#[actix_web::test]
async fn three_instances_on_one_database_act_as_one_server() {
    let (database, url) = TestDatabase::create();
    let database = Arc::new(database);
    // One after another: the first applies the migrations.
    let mut instances = Vec::new();
    for _ in 0..3 {
        instances.push(
            start_instance(
                &url,
                &database,
                &[
                    // 6 a minute: bursts of 3, then one every 10 s, far longer than this test.
                    // Each client below has its own address, told by the trusted proxy (the
                    // test).
                    ("AUTH_RATE_LIMIT_PER_MINUTE", "6"),
                    ("TRUSTED_PROXIES", "127.0.0.1"),
                ],
            )
            .await,
        );
    }
    let [a, b, c] = [&instances[0].app, &instances[1].app, &instances[2].app];

    let registered = a
        .request(Method::POST, "/api/auth/register")
        .header("X-Forwarded-For", "198.51.100.1")
        .json(&json!({"email": "multi@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    let first: Value = registered.json().await.unwrap();
    let first_refresh = first["refresh_token"].as_str().unwrap().to_owned();

    // 1. Thirty simultaneous refreshes of one token, ten on each instance, from thirty clients
    //    (a tab storm behind one NAT would look the same): one successor, and all get it.
    let attempts = (0..30).map(|i| {
        let instance = [a, b, c][i % 3];
        let address = format!("198.51.100.{}", 10 + i);
        let token = first_refresh.clone();
        async move { token_pair(refresh_from(instance, &address, &token).await).await }
    });
    let pairs = futures_util::future::join_all(attempts).await;
    let successor = pairs[0].1.clone();
    assert!(
        pairs.iter().all(|(_, refresh)| *refresh == successor),
        "every caller gets the same successor"
    );
    assert_eq!(a.refresh_tokens_stored(), 2, "exactly one successor exists");
    for (access_token, _) in &pairs {
        assert_eq!(b.me(access_token).await.status(), StatusCode::OK);
    }

    // 2. The session rotates across instances: A, then B, then C.
    let mut refresh_token = successor;
    let mut access_token = String::new();
    for (instance, address) in [
        (a, "198.51.100.50"),
        (b, "198.51.100.51"),
        (c, "198.51.100.52"),
    ] {
        let (next_access, next_refresh) =
            token_pair(refresh_from(instance, address, &refresh_token).await).await;
        assert_ne!(next_refresh, refresh_token);
        (access_token, refresh_token) = (next_access, next_refresh);
    }
    for instance in [a, b, c] {
        assert_eq!(instance.me(&access_token).await.status(), StatusCode::OK);
    }

    // 3. A logout on A stops the access token on B and C within a second.
    let logout = a
        .post_json("/api/auth/logout", &json!({"refresh_token": refresh_token}))
        .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let logged_out = Instant::now();
    assert_eq!(a.me(&access_token).await.status(), StatusCode::UNAUTHORIZED);
    for instance in [b, c] {
        let bound = Duration::from_secs(1).saturating_sub(logged_out.elapsed());
        refused_after(instance, &access_token, bound).await;
    }
    println!(
        "logout reached both other instances within {:?}",
        logged_out.elapsed()
    );

    // 4. One address guessing refresh tokens on all three at once.
    let guesses = (0..30).map(|i| refresh_from([a, b, c][i % 3], "203.0.113.9", "a-guess"));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(guesses)
        .await
        .iter()
        .map(|response| response.status())
        .collect();
    let allowed = 30 - count_of(&statuses, StatusCode::TOO_MANY_REQUESTS);
    if database.is_postgres() {
        assert_eq!(allowed, 3, "one budget for all instances: {statuses:?}");
    } else {
        assert_eq!(allowed, 9, "one budget per process on SQLite: {statuses:?}");
    }
}

/// Two instances writing to one database at once: a transaction that reads before it writes
/// waits for the other instance's write instead of failing. On SQLite a plain `BEGIN` failed
/// such a transaction at once with "database is locked" (seen as a failed start of a second
/// EdDSA instance, whose first-key transaction reads the keys, then inserts one).
#[actix_web::test]
async fn a_transaction_that_reads_first_waits_for_another_instance_s_write() {
    use diesel::connection::SimpleConnection;
    use todo_server::db::{self, Database, DatabaseUrl, DbError};

    let app = spawn_app().await;
    let url = DatabaseUrl::parse(&app.database_url).unwrap();
    let open = || Database::new(db::build_pool(&url, 2).unwrap(), &url);
    let (first, second) = (open(), open());
    let insert = |name: &str| {
        format!(
            "INSERT INTO login_throttles (email_hash, failures, last_failed_at) \
             VALUES ('{name}', 1, CURRENT_TIMESTAMP)"
        )
    };
    let (reading_then_writing, other_write) = (insert("first"), insert("second"));
    let transaction = first.transaction(move |connection| -> Result<(), DbError> {
        connection.batch_execute("SELECT count(*) FROM users")?;
        std::thread::sleep(Duration::from_millis(300));
        connection.batch_execute(&reading_then_writing)?;
        Ok(())
    });
    let meanwhile = async {
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        second
            .write(move |connection| -> Result<(), DbError> {
                Ok(connection.batch_execute(&other_write)?)
            })
            .await
    };
    let (transaction, meanwhile) = futures_util::join!(transaction, meanwhile);
    transaction.expect("the transaction waits its turn");
    meanwhile.expect("the other instance's write waits its turn");
}
