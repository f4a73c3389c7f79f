//! The `partnerhub` binary as an operator meets it: one clear line and a non-zero exit for every
//! start-up problem, working admin commands, and a demo that serves and stops gracefully.

use crate::support::app::for_each_backend;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn partnerhub(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_partnerhub"))
        .args(args)
        .env_remove("PARTNERHUB_DATABASE_URL")
        .env("PARTNERHUB_LOG", "error")
        .output()
        .expect("run partnerhub")
}

/// Start `partnerhub` in the background; its standard output arrives line by line on the
/// receiver (a thread reads it, so a test can wait for a line with a timeout).
fn spawn_reading_stdout(
    args: &[&str],
    log: &str,
    stderr: Stdio,
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_partnerhub"))
        .args(args)
        .env("PARTNERHUB_LOG", log)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

fn one_line_error(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "expected failure, got {:?}",
        out.status
    );
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    assert_eq!(stderr.lines().count(), 1, "one clear line, got:\n{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );
    stderr
}

#[test]
fn start_up_failures_print_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();

    let err = one_line_error(&partnerhub(&["serve", "--bogus"]));
    assert!(err.contains("unexpected argument '--bogus'"), "{err}");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let err = one_line_error(&partnerhub(&["serve", "--bind", &addr, "--data-dir", data]));
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");

    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let below_file = file.join("data");
    let err = one_line_error(&partnerhub(&[
        "serve",
        "--data-dir",
        below_file.to_str().unwrap(),
    ]));
    assert!(
        err.contains("data directory") && err.contains("cannot create it"),
        "{err}"
    );

    let err = one_line_error(&partnerhub(&["serve", "--database-url", "mysql://db/hub"]));
    assert!(
        err.contains("--database-url") && err.contains("postgres://"),
        "{err}"
    );

    let err = one_line_error(&partnerhub(&[
        "migrate",
        "--database-url",
        "postgres://postgres@127.0.0.1:1/nothing",
    ]));
    assert!(err.contains("cannot open the database"), "{err}");

    let err = one_line_error(&partnerhub(&[
        "serve",
        "--public-url",
        "not a url",
        "--data-dir",
        data,
    ]));
    assert!(err.contains("--public-url"), "{err}");

    let err = one_line_error(&partnerhub(&["serve", "--bind", "localhost:port"]));
    assert!(err.contains("--bind"), "{err}");
}

#[test]
fn config_is_printed_with_secrets_redacted() {
    let out = partnerhub(&[
        "config",
        "--database-url",
        "postgres://app:hunter2@db:5432/hub",
        "--smtp-url",
        "smtp://mailer:s3cret@mail:587",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let config: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(config["bind"], "127.0.0.1:8082");
    assert_eq!(
        config["database_url"],
        "postgres://app:REDACTED@db:5432/hub"
    );
    assert!(
        !text.contains("hunter2") && !text.contains("s3cret"),
        "{text}"
    );
}

#[test]
fn credentials_in_a_url_query_are_redacted_too() {
    let out = partnerhub(&[
        "config",
        "--database-url",
        "postgres://h/db?user=u&password=S3cret&sslpassword=K3yPass&sslmode=require",
        "--smtp-url",
        "smtp://mail:587?token=T0ken",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for secret in ["S3cret", "K3yPass", "T0ken"] {
        assert!(!text.contains(secret), "{secret} printed: {text}");
    }
    let config: serde_json::Value = serde_json::from_str(&text).unwrap();
    let url = config["database_url"].as_str().unwrap();
    // The rest still says which server and options are meant.
    assert!(
        url.contains("user=u") && url.contains("sslmode=require"),
        "{url}"
    );
}

#[test]
fn admin_commands_create_partners_and_staff() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = partnerhub(&["migrate", "--data-dir", data]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Migrations applied."));

    let out = partnerhub(&[
        "partner",
        "create",
        "--data-dir",
        data,
        "--name",
        "Acme",
        "--owner-email",
        "boss@acme.test",
        "--currency",
        "usd",
        "--payment-model",
        "direct_payment",
        "--public-url",
        "https://hub.example.com",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let id = text
        .lines()
        .find_map(|l| l.strip_prefix("Partner ID: "))
        .expect("partner id");
    assert!(domain::PartnerId::parse(id).is_ok(), "{id}");
    assert!(text.contains("https://hub.example.com/invite/"), "{text}");

    let err = one_line_error(&partnerhub(&[
        "partner",
        "create",
        "--data-dir",
        data,
        "--name",
        "X",
        "--owner-email",
        "nope",
        "--currency",
        "gbp",
    ]));
    assert!(
        err.contains("owner_email") && err.contains("currency"),
        "{err}"
    );

    let staff = |password: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_partnerhub"))
            .args([
                "staff",
                "create",
                "--data-dir",
                data,
                "--email",
                "sam@bsp.test",
                "--name",
                "Sam",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = staff("short");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("at least 10 characters"),
        "{stderr}"
    );
    let out = staff("a long staff passphrase");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Staff account sam@bsp.test is ready"));
}

#[tokio::test]
async fn demo_serves_prints_logins_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, rx) = spawn_reading_stdout(
        &[
            "demo",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--password",
            "demo-password-1",
        ],
        "warn",
        Stdio::null(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut printed = Vec::new();
    let url = loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("demo prints its URL");
        printed.push(line.clone());
        if let Some(rest) = line.strip_prefix("Partner Hub demo is running at ") {
            break rest.trim_end_matches('/').to_owned();
        }
    };
    while printed.iter().all(|l| !l.contains("Staff console")) {
        printed.push(rx.recv_timeout(Duration::from_secs(5)).unwrap());
    }
    let printed = printed.join("\n");
    for login in [
        "owner@demo.test",
        "member@demo.test",
        "owner@other.test",
        "agency@demo.test",
        "client@demo.test",
        "staff@demo.test",
        "demo-password-1",
    ] {
        assert!(printed.contains(login), "{login} missing from:\n{printed}");
    }

    hub::install_crypto_provider();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = client
        .post(format!("{url}/login"))
        .form(&[
            ("email", "agency@demo.test"),
            ("password", "demo-password-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = client.get(format!("{url}/")).send().await.unwrap();
    let dashboard = res.headers()["location"].to_str().unwrap().to_owned();
    let html = client
        .get(format!("{url}{dashboard}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("development mode"), "the dev badge shows");
    assert!(html.contains("Switch account") && html.contains("Other Partner"));

    // The printed curl sends a template message with the printed messaging key, metered.
    let key = printed
        .lines()
        .find_map(|l| l.split("D360-API-KEY: ").nth(1))
        .and_then(|rest| rest.split('\'').next())
        .expect("a messaging key is printed")
        .to_owned();
    let body = printed
        .lines()
        .find_map(|l| l.trim().strip_prefix("-d '"))
        .and_then(|rest| rest.strip_suffix('\''))
        .expect("the curl's body is printed")
        .to_owned();
    let res = client
        .post(format!("{url}/messages"))
        .header("D360-API-KEY", &key)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let billing = client
        .get(format!(
            "{url}{}",
            dashboard.replace("/accounts", "/billing")
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(billing.contains("Current prepayment balance"), "{billing}");
    assert!(billing.contains("Opening prepayment") || billing.contains("Usage"));

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "demo did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
}

#[tokio::test]
async fn demo_seeding_is_idempotent() {
    for_each_backend(|app| async move {
        let first = hub::demo::seed(&app.state, "first password").await.unwrap();
        let second = hub::demo::seed(&app.state, "second password")
            .await
            .unwrap();
        assert_eq!(first.demo_partner, second.demo_partner);
        assert_eq!(
            store::partners::count_all(app.state.db.pool())
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            store::partners::members(app.state.db.pool(), &first.demo_partner)
                .await
                .unwrap()
                .len(),
            3
        );
        let other = store::partners::members(app.state.db.pool(), &first.other_partner)
            .await
            .unwrap();
        assert_eq!(other.len(), 2);
        assert!(
            other
                .iter()
                .any(|m| m.email.as_str() == "agency@demo.test" && m.role == domain::Role::Member)
        );
        let res = app
            .client()
            .post(app.link("/login"))
            .form(&[
                ("email", "owner@demo.test"),
                ("password", "second password"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            303,
            "the password printed last is the one that works"
        );
        // The Client Hub login, and one pending partner change request (not one per run).
        let clara = app.client();
        let res = clara
            .post(app.link("/login"))
            .form(&[
                ("email", "client@demo.test"),
                ("password", "second password"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let res = clara.get(app.link("/client")).send().await.unwrap();
        assert_eq!(res.status(), 303, "the Client Hub user has a client");
        let open: Vec<(String, String)> =
            sqlx::query_as("SELECT status, to_partner_id FROM partner_change_requests")
                .fetch_all(app.state.db.pool())
                .await
                .unwrap();
        assert_eq!(
            open,
            vec![("requested".to_owned(), first.other_partner.to_string())]
        );
    })
    .await;
}

/// Run `partnerhub` and wait at most `limit`; a process still running then is killed and the
/// test fails (a `serve` that should have refused to start would otherwise run forever).
fn partnerhub_within(args: &[&str], limit: std::time::Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_partnerhub"))
        .args(args)
        .env_remove("PARTNERHUB_DATABASE_URL")
        .env("PARTNERHUB_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run partnerhub");
    let deadline = std::time::Instant::now() + limit;
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("partnerhub {args:?} was still running after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.wait_with_output().expect("output")
}

#[tokio::test]
async fn serve_refuses_a_postgres_database_without_the_schema_it_needs() {
    let Some(admin) = crate::support::postgres::test_postgres_url() else {
        eprintln!("PARTNERHUB_TEST_POSTGRES_URL is not set: skipped");
        return;
    };
    let database = crate::support::postgres::create(&admin).await;
    let url = database.url.clone();
    let serve = ["serve", "--database-url", &url, "--bind", "127.0.0.1:0"];
    let limit = std::time::Duration::from_secs(60);

    // Never migrated: it used to serve, answer /readyz 200 and fail every request.
    let err = one_line_error(&partnerhub_within(&serve, limit));
    assert!(err.contains("no Partner Hub schema"), "{err}");
    assert!(
        err.contains("partnerhub migrate") && err.contains("--migrate"),
        "{err}"
    );

    // Migrated by an older build: it says what it has and what it needs.
    assert!(
        partnerhub(&["migrate", "--database-url", &url])
            .status
            .success()
    );
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let newest: i64 =
        sqlx::query_scalar("SELECT CAST(MAX(version) AS BIGINT) FROM _sqlx_migrations")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
        .bind(newest)
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    let err = one_line_error(&partnerhub_within(&serve, limit));
    let (had, needed) = (format!("{:04}", newest - 1), format!("{newest:04}"));
    assert!(
        err.contains(&format!("at migration {had}")) && err.contains(&format!("needs {needed}")),
        "{err}"
    );
    database.remove().await;
}

#[tokio::test]
async fn demo_on_a_fresh_postgres_database_migrates_it_by_itself() {
    let Some(admin) = crate::support::postgres::test_postgres_url() else {
        eprintln!("PARTNERHUB_TEST_POSTGRES_URL is not set: skipped");
        return;
    };
    let database = crate::support::postgres::create(&admin).await;
    let dir = tempfile::tempdir().unwrap();
    let (mut child, rx) = spawn_reading_stdout(
        &[
            "demo",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--database-url",
            &database.url,
            "--password",
            "demo-password-1",
        ],
        "error",
        Stdio::piped(),
    );
    // It used to die at once: relation "partners" does not exist.
    let deadline = Instant::now() + Duration::from_secs(120);
    let started = loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) if line.starts_with("Partner Hub demo is running at ") => break true,
            Ok(_) => {}
            Err(_) => break false,
        }
    };
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    assert!(
        started,
        "demo did not start on a fresh PostgreSQL database:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    database.remove().await;
}

/// The demo's bell shows what a real partner's would: the seeded weeks already read except the
/// last day's few, and nothing dated before its recipient joined.
#[tokio::test]
async fn demo_bell_shows_only_the_last_days_news() {
    for_each_backend(|app| async move {
        hub::demo::seed(&app.state, "pw for the bell").await.unwrap();
        let pool = app.state.db.pool();
        for login in ["owner@demo.test", "agency@demo.test", "member@demo.test"] {
            let unread: i64 = sqlx::query_scalar(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM notifications n JOIN users u ON u.id = n.user_id
                  WHERE u.email = $1 AND n.read_ms IS NULL",
            )
            .bind(login)
            .fetch_one(pool)
            .await
            .unwrap();
            assert!(
                (1..=12).contains(&unread),
                "{login} sees {unread} unread notifications at first sign-in"
            );
            let before_joining: i64 = sqlx::query_scalar(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM notifications n
                   JOIN users u ON u.id = n.user_id
                   JOIN memberships m ON m.user_id = n.user_id AND m.partner_id = n.partner_id
                  WHERE u.email = $1 AND (n.created_ms < m.created_ms OR n.created_ms < u.created_ms)",
            )
            .bind(login)
            .fetch_one(pool)
            .await
            .unwrap();
            assert_eq!(before_joining, 0, "{login} has notifications from before they joined");
        }
    })
    .await;
}
