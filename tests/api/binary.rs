//! The binary itself: its subcommands and its refusal to start unsafely.

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
