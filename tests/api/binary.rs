//! The binary itself: its subcommands, its refusal to start unsafely, and how it stops.

use std::process::Command;

fn todo_server() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_todo-server"));
    // Only what each test sets: no .env, no inherited settings.
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

#[test]
fn migrate_applies_the_schema_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("nested/todo.db");
    let migrate = || {
        todo_server()
            .current_dir(dir.path())
            .arg("migrate")
            .env("DATABASE_URL", &database)
            .env("JWT_SECRET", "a-secret-that-is-long-enough-for-hs256!")
            .output()
            .unwrap()
    };
    let output = migrate();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite"))
        .unwrap()
        .count();
    assert!(
        String::from_utf8_lossy(&output.stdout).contains(&format!(
            "applied {migrations} migration(s) to the sqlite database"
        )),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(database.exists(), "the directory and the file are created");
    // Applying again is a no-op.
    let again = migrate();
    assert!(String::from_utf8_lossy(&again.stdout).contains("applied 0 migration(s)"));
}

#[test]
fn production_refuses_to_start_without_a_strong_secret() {
    let dir = tempfile::tempdir().unwrap();
    for secret in [None, Some("too-short")] {
        let mut command = todo_server();
        command
            .current_dir(dir.path())
            .env("APP_ENV", "production")
            .env("DATABASE_URL", dir.path().join("todo.db"))
            .env("BIND_ADDR", "127.0.0.1:0");
        if let Some(secret) = secret {
            command.env("JWT_SECRET", secret);
        }
        let output = command.output().unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("JWT_SECRET"), "{stderr}");
        assert!(
            !dir.path().join("todo.db").exists(),
            "nothing is created before the check"
        );
    }
}

#[test]
fn a_misspelt_database_url_is_refused_rather_than_creating_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let output = todo_server()
        .current_dir(dir.path())
        .arg("migrate")
        .env("DATABASE_URL", "postgress://localhost/todo")
        .env("JWT_SECRET", "a-secret-that-is-long-enough-for-hs256!")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unsupported scheme"));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no stray file was created"
    );
}

#[actix_web::test]
async fn sigterm_lets_requests_in_flight_finish_refuses_new_ones_and_exits_0() {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use reqwest::StatusCode;

    use crate::helpers::*;

    let (database, url) = TestDatabase::create();
    let database = Arc::new(database);
    // Production-strength hashing: each login takes tens of milliseconds on a password thread,
    // so sixteen at once are still in flight well after the signal.
    let mut instance = start_instance(
        &url,
        &database,
        &[
            ("PASSWORD_HASH_MEMORY_KIB", "19456"),
            ("PASSWORD_HASH_ITERATIONS", "2"),
        ],
    )
    .await;
    let app = &instance.app;
    let mut users = Vec::new();
    for _ in 0..16 {
        users.push(app.new_user().await);
    }

    let logins =
        futures_util::future::join_all(users.iter().map(|user| app.login(&user.email, PASSWORD)));
    let signal = async {
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        let pid = i32::try_from(instance.process.id()).unwrap();
        // SAFETY: sends a signal to the child this test started.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        Instant::now()
    };
    let (responses, signalled) = futures_util::future::join(logins, signal).await;
    let finished_after = signalled.elapsed();
    let statuses: Vec<StatusCode> = responses.iter().map(|r| r.status()).collect();
    assert!(
        statuses.iter().all(|status| *status == StatusCode::OK),
        "every request in flight is answered: {statuses:?}"
    );

    // No new connection is served once the server has taken the signal, which it handles
    // asynchronously: on a loaded machine a request may still slip in just after `kill`.
    let refusing_since = Instant::now();
    loop {
        let fresh = client()
            .get(app.url("/healthz"))
            .timeout(Duration::from_secs(2))
            .send()
            .await;
        if fresh.is_err() {
            break;
        }
        assert!(
            refusing_since.elapsed() < Duration::from_secs(2),
            "new connections were still served 2 s after SIGTERM"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }

    let started = Instant::now();
    let status = loop {
        if let Some(status) = instance.process.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not exit"
        );
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "exit status {status:?}");
    println!("the last request in flight finished {finished_after:?} after SIGTERM");
}
