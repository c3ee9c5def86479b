//! Every hot query is served by an index, whatever other users store: the plan of each query
//! the stores really send is read with `EXPLAIN` on tables seeded large enough for the planner
//! to care (60k tasks over 1,000 users, with sessions, refresh tokens and back-off rows to
//! match, `ANALYZE`d), and any full scan of a table fails the test.
//!
//! The SQL is never written here: a Diesel instrumentation records what the store functions
//! send on a real connection, binds included, and the same text is explained. On PostgreSQL
//! the statement is `PREPARE`d and `EXPLAIN EXECUTE`d with its binds as untyped literals (so
//! the parameters keep the types PostgreSQL infers from the query, as they do when the
//! application binds them); on SQLite `EXPLAIN QUERY PLAN` reads it with the parameters unbound.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use diesel::connection::{InstrumentationEvent, SimpleConnection};
use diesel::sql_types::{Integer, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};
use std::time::Duration as StdDuration;

use crate::helpers::stores::*;
use crate::helpers::{AnyConnection, TestApp, spawn_app};

const TABLES: [&str; 6] = [
    "tasks",
    "sessions",
    "refresh_tokens",
    "users",
    "login_throttles",
    "auth_rate_limits",
];

const SEED_POSTGRES: &str = r#"
INSERT INTO users (id, email, name, password_hash, created_at, updated_at)
  SELECT gen_random_uuid()::text, 'seed-' || g || '@example.org', NULL, 'x', now(), now()
  FROM generate_series(1, 1000) g;
INSERT INTO tasks (id, user_id, title, description, completed, created_at, updated_at)
  SELECT gen_random_uuid()::text, u.id, 'task ' || g, NULL, g % 3 = 0,
         now() - make_interval(secs => g), now()
  FROM users u, generate_series(1, 60) g;
INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, revoked_at)
  SELECT gen_random_uuid()::text, u.id, now(), now(), now() + interval '30 days',
         -- Revoked a day ago, as almost every revoked session is when the revocation
         -- poll asks for the last few seconds.
         CASE WHEN g = 3 THEN now() - interval '1 day' END
  FROM users u, generate_series(1, 3) g;
INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at, rotated_at)
  SELECT md5(s.id || g) || md5(g || s.id), s.id, now(), now() + interval '7 days',
         CASE WHEN g < 4 THEN now() END
  FROM sessions s, generate_series(1, 4) g;
INSERT INTO login_throttles (email_hash, failures, last_failed_at)
  SELECT md5('t' || g) || md5(g::text), g % 7, now() FROM generate_series(1, 5000) g;
INSERT INTO auth_rate_limits (bucket, full_at)
  SELECT '10.0.' || (g / 256) || '.' || (g % 256), now() + make_interval(secs => 1 + g % 60)
  FROM generate_series(1, 5000) g;
ANALYZE;
"#;

const SEED_SQLITE: &str = r#"
CREATE TEMP TABLE n (g INTEGER PRIMARY KEY);
WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < 5000)
  INSERT INTO n SELECT g FROM s;
INSERT INTO users (id, email, name, password_hash, created_at, updated_at)
  SELECT lower(hex(randomblob(16))), 'seed-' || g || '@example.org', NULL, 'x',
         datetime('now'), datetime('now')
  FROM n WHERE g <= 1000;
INSERT INTO tasks (id, user_id, title, description, completed, created_at, updated_at)
  SELECT lower(hex(randomblob(16))), u.id, 'task ' || n.g, NULL, n.g % 3 = 0,
         datetime('now', '-' || n.g || ' seconds'), datetime('now')
  FROM users u, n WHERE n.g <= 60;
INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, revoked_at)
  SELECT lower(hex(randomblob(16))), u.id, datetime('now'), datetime('now'),
         datetime('now', '+30 days'), CASE WHEN n.g = 3 THEN datetime('now', '-1 day') END
  FROM users u, n WHERE n.g <= 3;
INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at, rotated_at)
  SELECT lower(hex(randomblob(32))), s.id, datetime('now'), datetime('now', '+7 days'),
         CASE WHEN n.g < 4 THEN datetime('now') END
  FROM sessions s, n WHERE n.g <= 4;
INSERT INTO login_throttles (email_hash, failures, last_failed_at)
  SELECT lower(hex(randomblob(32))), g % 7, datetime('now') FROM n;
DROP TABLE n;
ANALYZE;
"#;

/// What a connection sent since the last [`Recorder::take`], as Diesel prints it
/// (`SQL -- binds: [...]`), and the SQL of every statement it prepared for its statement cache
/// since it was watched.
#[derive(Clone, Default)]
struct Recorder {
    sent: Arc<Mutex<Vec<String>>>,
    prepared: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn install(&self, connection: &mut AnyConnection) {
        let (sent, prepared) = (self.sent.clone(), self.prepared.clone());
        let record = move |event: InstrumentationEvent<'_>| match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                sent.lock().unwrap().push(query.to_string())
            }
            InstrumentationEvent::CacheQuery { sql, .. } => {
                prepared.lock().unwrap().push(sql.to_owned())
            }
            _ => {}
        };
        match connection {
            AnyConnection::Postgresql(pg) => pg.set_instrumentation(record),
            AnyConnection::Sqlite(sqlite) => sqlite.set_instrumentation(record),
        }
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.sent.lock().unwrap())
    }

    fn prepared(&self) -> Vec<String> {
        self.prepared.lock().unwrap().clone()
    }
}

#[derive(QueryableByName)]
struct PostgresPlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

#[derive(QueryableByName)]
struct SqlitePlanLine {
    #[diesel(sql_type = Integer)]
    #[allow(dead_code)]
    id: i32,
    #[diesel(sql_type = Text)]
    detail: String,
}

/// Splits Diesel's debug print of a bind list (`["a", 2026-01-01T00:00:00, 5, None]`) into
/// the SQL types Diesel binds them as and their literals. The types matter: a `text` parameter
/// compared with a `CHAR(n)` column cannot use its index, and that is what this test is for.
fn bind_literals(binds: &str) -> Vec<(&'static str, String)> {
    let inner = binds.trim().trim_start_matches('[').trim_end_matches(']');
    let mut values = Vec::new();
    let mut current = String::new();
    let (mut in_string, mut escaped, mut depth) = (false, false, 0);
    for c in inner.chars() {
        match c {
            _ if escaped => {
                current.push(c);
                escaped = false;
            }
            '\\' if in_string => escaped = true,
            '"' => {
                in_string = !in_string;
                current.push(c);
            }
            '(' if !in_string => {
                depth += 1;
                current.push(c);
            }
            ')' if !in_string => {
                depth -= 1;
                current.push(c);
            }
            ',' if !in_string && depth == 0 => values.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        values.push(current);
    }
    values
        .iter()
        .map(|value| {
            let value = value.trim();
            let value = value
                .strip_prefix("Some(")
                .and_then(|v| v.strip_suffix(')'))
                .unwrap_or(value);
            let quoted = |text: &str| format!("'{}'", text.replace('\'', "''"));
            if value == "None" {
                // The only nullable binds the stores send are texts (a cleared description).
                ("text", "NULL".to_owned())
            } else if let Some(text) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                ("text", quoted(text))
            } else if value == "true" || value == "false" {
                ("boolean", value.to_owned())
            } else if value.parse::<i64>().is_ok() {
                ("bigint", value.to_owned())
            } else if chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f").is_ok() {
                ("timestamp", quoted(value))
            } else {
                panic!("a bind of unknown type: {value}")
            }
        })
        .collect()
}

/// The plan of one recorded statement, one line per node.
fn plan_of(explainer: &mut AnyConnection, recorded: &str) -> Vec<String> {
    let (sql, binds) = recorded
        .split_once(" -- binds: ")
        .unwrap_or((recorded, "[]"));
    match explainer {
        AnyConnection::Postgresql(pg) => {
            pg.batch_execute("DEALLOCATE ALL").unwrap();
            let binds = bind_literals(binds);
            let (types, literals): (Vec<&str>, Vec<String>) = binds.into_iter().unzip();
            let (prepare, execute) = if types.is_empty() {
                (
                    format!("PREPARE hot_query AS {sql}"),
                    "EXPLAIN EXECUTE hot_query".to_owned(),
                )
            } else {
                (
                    format!("PREPARE hot_query ({}) AS {sql}", types.join(", ")),
                    format!("EXPLAIN EXECUTE hot_query({})", literals.join(", ")),
                )
            };
            pg.batch_execute(&prepare)
                .unwrap_or_else(|e| panic!("cannot prepare {sql}: {e}"));
            diesel::sql_query(&execute)
                .load::<PostgresPlanLine>(pg)
                .unwrap_or_else(|e| panic!("cannot explain {execute} for {sql}: {e}"))
                .into_iter()
                .map(|row| row.line)
                .collect()
        }
        AnyConnection::Sqlite(sqlite) => diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .load::<SqlitePlanLine>(sqlite)
            .unwrap_or_else(|e| panic!("cannot explain {sql}: {e}"))
            .into_iter()
            .map(|row| row.detail)
            .collect(),
    }
}

/// The full scans in a plan: PostgreSQL's `Seq Scan on t`, SQLite's `SCAN t` (a `SEARCH` uses
/// an index).
fn full_scans(plan: &[String]) -> Vec<&'static str> {
    TABLES
        .into_iter()
        .filter(|table| {
            plan.iter().any(|line| {
                let node = line.trim_start_matches([' ', '-', '>']);
                [format!("Seq Scan on {table}"), format!("SCAN {table}")]
                    .iter()
                    .any(|scan| node == scan || node.starts_with(&format!("{scan} ")))
            })
        })
        .collect()
}

fn one(connection: &mut AnyConnection, sql: &str) -> String {
    #[derive(QueryableByName)]
    struct Value {
        #[diesel(sql_type = Text)]
        value: String,
    }
    diesel::sql_query(sql)
        .load::<Value>(connection)
        .unwrap()
        .pop()
        .unwrap_or_else(|| panic!("no row for {sql}"))
        .value
}

#[test]
fn the_full_scan_detector_reads_both_backends_plans() {
    let plan = |lines: &[&str]| lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    assert_eq!(
        full_scans(&plan(&[
            "Seq Scan on tasks  (cost=0.00..1.00 rows=1 width=8)"
        ])),
        ["tasks"]
    );
    assert_eq!(
        full_scans(&plan(&[
            "Update on tasks",
            "  ->  Seq Scan on users  (cost=1)"
        ])),
        ["users"]
    );
    assert_eq!(full_scans(&plan(&["SCAN sessions"])), ["sessions"]);
    assert!(
        full_scans(&plan(&[
            "Index Scan using tasks_pkey on tasks  (cost=0.42..8.44)"
        ]))
        .is_empty()
    );
    assert!(
        full_scans(&plan(&[
            "SEARCH tasks USING COVERING INDEX tasks_user_created_covering (user_id=?)"
        ]))
        .is_empty()
    );
    assert_eq!(
        bind_literals(r#"["a'b", 2026-12-02T06:14:00.123456, 51, None, Some("x"), false]"#),
        [
            ("text", "'a''b'".to_owned()),
            ("timestamp", "'2026-12-02T06:14:00.123456'".to_owned()),
            ("bigint", "51".to_owned()),
            ("text", "NULL".to_owned()),
            ("text", "'x'".to_owned()),
            ("boolean", "false".to_owned()),
        ]
    );
}

#[actix_web::test]
async fn every_hot_query_uses_an_index_at_scale() {
    let app = spawn_app().await;
    let (mut explainer, rows) = seeded(&app);
    let mut connection = app.connection();
    let recorder = Recorder::default();
    recorder.install(&mut connection);
    let hot = send_hot_queries(
        &mut connection,
        &rows,
        &recorder,
        app.database.is_postgres(),
    );

    // On SQLite the list reads its columns from the index alone, never from the table.
    if !app.database.is_postgres() {
        for (name, statements) in hot.iter().filter(|(name, _)| name.starts_with("task list")) {
            for statement in statements {
                let plan = plan_of(&mut explainer, statement);
                assert!(
                    plan.iter()
                        .all(|line| line
                            .contains("USING COVERING INDEX tasks_user_created_covering")),
                    "{name} reads the table:\n  {}",
                    plan.join("\n  ")
                );
            }
        }
    }

    let mut scans = Vec::new();
    for (name, statements) in &hot {
        for statement in statements {
            let plan = plan_of(&mut explainer, statement);
            let scanned = full_scans(&plan);
            if !scanned.is_empty() {
                scans.push(format!(
                    "{name}: full scan of {scanned:?}\n  {statement}\n  {}",
                    plan.join("\n  ")
                ));
            }
        }
    }
    assert!(
        scans.is_empty(),
        "hot queries that scan:\n{}",
        scans.join("\n\n")
    );

    // A refresh reads one session, its own. An index range (say, every unexpired session)
    // is no scan, yet costs as much as there are live sessions of every user: SQLite chose
    // exactly that for an `id IN (...)` form of the claim.
    for name in [
        "refresh claim",
        "refresh lookup",
        "logout lookup",
        "session touch",
    ] {
        let (_, statements) = hot.iter().find(|(hot_name, _)| hot_name == name).unwrap();
        for statement in statements {
            let plan = plan_of(&mut explainer, statement);
            assert!(
                sessions_by_primary_key_only(&plan),
                "{name} reaches sessions other than by its primary key:\n  {statement}\n  {}",
                plan.join("\n  ")
            );
        }
    }
}

/// Each hot statement is compiled once per connection (parsed, and on PostgreSQL planned) and
/// then only executed. A statement Diesel keeps out of its cache is compiled anew on every
/// request: every UPDATE was, and so was a task insert, whose empty description wrote
/// `DEFAULT` into its SQL. On PostgreSQL that made a create's parsing and planning cost more
/// than its execution.
#[actix_web::test]
async fn every_hot_statement_is_prepared_once_per_connection() {
    let app = spawn_app().await;
    let (_, rows) = seeded(&app);
    let mut connection = app.connection();
    let recorder = Recorder::default();
    recorder.install(&mut connection);
    let postgres = app.database.is_postgres();
    // Twice, as two requests on one pooled connection would.
    let mut sent = send_hot_queries(&mut connection, &rows, &recorder, postgres);
    sent.extend(send_hot_queries(
        &mut connection,
        &rows,
        &recorder,
        postgres,
    ));
    let prepared = recorder.prepared();

    let mut compiled_each_time = Vec::new();
    for (name, statements) in &sent {
        for statement in statements {
            let sql = statement
                .split_once(" -- binds: ")
                .map_or(statement.as_str(), |(sql, _)| sql);
            // Transaction control is sent as plain text; there is nothing to prepare.
            let transaction_control = ["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"]
                .iter()
                .any(|keyword| sql.starts_with(keyword));
            let entry = format!("{name}: {sql}");
            if !transaction_control
                && !prepared.iter().any(|cached| cached == sql)
                && !compiled_each_time.contains(&entry)
            {
                compiled_each_time.push(entry);
            }
        }
    }
    assert!(
        compiled_each_time.is_empty(),
        "statements compiled on every execution:\n{}",
        compiled_each_time.join("\n")
    );
    let mut distinct = prepared.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        prepared.len(),
        "statements prepared more than once on one connection"
    );
}

/// The seeded rows the hot queries ask about: the first user, one of their tasks, one of their
/// live sessions and its current refresh token.
struct Seeded {
    user_id: UserId,
    email: String,
    task_id: TaskId,
    session_id: SessionId,
    token_hash: String,
}

/// Seeds the tables at scale (`SEED_POSTGRES`, `SEED_SQLITE`); returns the connection that
/// seeded them, for `EXPLAIN`, and the rows to ask about.
fn seeded(app: &TestApp) -> (AnyConnection, Seeded) {
    let mut explainer = app.connection();
    let seed = if app.database.is_postgres() {
        SEED_POSTGRES
    } else {
        SEED_SQLITE
    };
    explainer.batch_execute(seed).unwrap();

    let user_id = UserId::from(one(
        &mut explainer,
        "SELECT id AS value FROM users ORDER BY email LIMIT 1",
    ));
    let email = one(
        &mut explainer,
        &format!("SELECT email AS value FROM users WHERE id = '{user_id}'"),
    );
    let task_id = TaskId::from(one(
        &mut explainer,
        &format!("SELECT id AS value FROM tasks WHERE user_id = '{user_id}' ORDER BY id LIMIT 1"),
    ));
    let session_id = SessionId::from(one(
        &mut explainer,
        &format!(
            "SELECT id AS value FROM sessions WHERE user_id = '{user_id}' AND revoked_at IS NULL LIMIT 1"
        ),
    ));
    let token_hash = one(
        &mut explainer,
        &format!(
            "SELECT token_hash AS value FROM refresh_tokens WHERE session_id = '{session_id}' AND rotated_at IS NULL"
        ),
    );
    let rows = Seeded {
        user_id,
        email,
        task_id,
        session_id,
        token_hash,
    };
    (explainer, rows)
}

/// Sends every hot query once through the store functions on `c`, which `recorder` watches;
/// returns what each sent, by name.
fn send_hot_queries(
    c: &mut AnyConnection,
    rows: &Seeded,
    recorder: &Recorder,
    postgres: bool,
) -> Vec<(String, Vec<String>)> {
    let now = stored_now();
    let cursor = Cursor {
        created_at: now - Duration::seconds(30),
        id: rows.task_id.clone(),
    };
    let key = BackoffKey::for_email(&rows.email);
    let fields = || {
        TaskRequest {
            title: Some("planned".into()),
            description: None,
            completed: None,
        }
        .parse()
        .unwrap()
    };

    let mut hot: Vec<(String, Vec<String>)> = Vec::new();
    let mut record = |name: &str| {
        let statements = recorder.take();
        assert!(!statements.is_empty(), "{name} sent nothing");
        hot.push((name.to_owned(), statements));
    };
    for status in [
        StatusFilter::All,
        StatusFilter::Pending,
        StatusFilter::Completed,
    ] {
        for cursor in [None, Some(cursor.clone())] {
            let request = ListRequest {
                status,
                limit: 21,
                cursor: cursor.clone(),
            };
            tasks::list(c, &rows.user_id, &request).unwrap();
            record(&format!(
                "task list {status:?}, cursor {}",
                cursor.is_some()
            ));
        }
    }
    tasks::find(c, &rows.user_id, &rows.task_id).unwrap();
    record("task by id");
    tasks::replace(c, &rows.user_id, &rows.task_id, fields()).unwrap();
    record("task replace");
    tasks::patch(
        c,
        &rows.user_id,
        &rows.task_id,
        TaskChanges {
            completed: Some(true),
            ..TaskChanges::default()
        },
    )
    .unwrap();
    record("task patch");
    tasks::toggle(c, &rows.user_id, &rows.task_id).unwrap();
    record("task toggle");
    tasks::insert(c, &rows.user_id, fields(), 10_000).unwrap();
    record("task insert");
    tasks::delete(c, &rows.user_id, &rows.task_id).unwrap();
    record("task delete");
    accounts::find_by_id(c, &rows.user_id).unwrap();
    record("user by id");
    accounts::find_by_email(c, &Email::parse(&rows.email).unwrap()).unwrap();
    record("user by email");
    accounts::update_password(c, &rows.user_id, "x").unwrap();
    record("password update");
    accounts::backoff_state(c, &key).unwrap();
    record("back-off lookup");
    // The first reservation inserts the back-off row, the second updates it. Both are
    // allowed, on a repeated run too: the reset below deletes the row again.
    accounts::reserve_attempt(c, &key, now).unwrap().unwrap();
    accounts::reserve_attempt(c, &key, now).unwrap().unwrap();
    record("back-off reservation");
    accounts::reset_backoff(c, &key).unwrap();
    record("back-off reset");
    sessions::claim_refresh_token(c, &rows.token_hash, now).unwrap();
    record("refresh claim");
    sessions::find_presented(c, &rows.token_hash).unwrap();
    record("refresh lookup");
    sessions::touch_session(c, &rows.session_id, now).unwrap();
    record("session touch");
    sessions::find_holder(c, &rows.user_id).unwrap();
    record("session holder");
    sessions::owner_of_token(c, &rows.token_hash).unwrap();
    record("logout lookup");
    sessions::list_active(c, &rows.user_id).unwrap();
    record("session list");
    sessions::revoke_beyond(c, &rows.user_id, 20, now).unwrap();
    record("session limit");
    sessions::revoke_owned(c, &rows.user_id, &rows.session_id).unwrap();
    record("session revoke");
    sessions::revoke(c, &rows.session_id, now).unwrap();
    record("session revoke on reuse");
    sessions::revoke_all_of(c, &rows.user_id, Some(&rows.session_id)).unwrap();
    record("revoke the other sessions");
    sessions::revoke_all_of(c, &rows.user_id, None).unwrap();
    record("revoke every session");
    sessions::find_successor(c, &rows.token_hash).unwrap();
    record("refresh retry: the successor");
    sessions::revoked_since(c, now - Duration::seconds(10)).unwrap();
    record("sessions revoked recently");
    if postgres {
        // The shared per-address buckets exist on PostgreSQL only.
        for _ in 0..4 {
            rate_limits::take(c, "198.51.100.7", StdDuration::from_secs(10), 3, now).unwrap();
        }
        record("rate limit: take (allowed, then refused)");
        rate_limits::prune(c, now).unwrap();
        record("rate limit: prune");
    }
    hot
}

/// Whether every step of `plan` that reads `sessions` does so through its primary key.
fn sessions_by_primary_key_only(plan: &[String]) -> bool {
    plan.iter()
        .filter(|line| {
            (line.contains("Scan") && line.contains(" on sessions"))
                || line.contains("SEARCH sessions ")
                || line.contains("SCAN sessions")
        })
        .all(|line| line.contains("sessions_pkey") || line.contains("sqlite_autoindex_sessions_1"))
}

fn stored_now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}
