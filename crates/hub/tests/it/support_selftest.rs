//! Self-tests for the shared test support: SMTP sink, PostgreSQL test databases, headless browser.

use std::time::Duration;

use lettre::message::MultiPart;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::{AnyConnection, Connection, Row};

use crate::support::smtp_sink::ReceivedMail;
use crate::support::{browser, postgres, smtp_sink};

const WAIT: Duration = Duration::from_secs(10);

fn transport(sink: &smtp_sink::SmtpSink) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::from_url(&sink.url())
        .unwrap()
        .build()
}

#[tokio::test]
async fn smtp_sink_receives_mail_sent_by_lettre() {
    let sink = smtp_sink::start().await;
    assert!(sink.url().starts_with("smtp://127.0.0.1:"));
    assert!(sink.url().ends_with(&format!(":{}", sink.port())));
    assert!(sink.received().is_empty());
    let mailer = transport(&sink);
    assert!(mailer.test_connection().await.unwrap());

    // A long line with `=` forces quoted-printable (soft breaks, `=3D`); the leading dot
    // exercises dot-stuffing.
    let link = format!(
        "http://127.0.0.1:8080/verify?token={}&next=%2Fdashboard",
        "a1b2c3d4".repeat(12)
    );
    let body = format!("Welcome to Partner Hub – confirm here:\n{link}\n.hidden dot line\nBye\n");
    let message = Message::builder()
        .from("Partner Hub <noreply@partnerhub.test>".parse().unwrap())
        .to("ops@example.test".parse().unwrap())
        .cc("audit@example.test".parse().unwrap())
        .subject("Confirm your address")
        .body(body)
        .unwrap();
    mailer.send(message).await.unwrap();

    let mails = sink.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.from, "noreply@partnerhub.test");
    assert_eq!(mail.to, ["ops@example.test", "audit@example.test"]);
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Confirm your address")
    );
    let text = mail.body_text();
    assert!(text.contains(&link), "link missing from {text:?}");
    assert!(
        text.contains("\n.hidden dot line\n"),
        "dot-stuffing left in {text:?}"
    );
    assert!(
        text.contains("Partner Hub – confirm"),
        "non-ASCII text lost in {text:?}"
    );
}

#[tokio::test]
async fn smtp_sink_accepts_concurrent_connections_and_multipart_mail() {
    let sink = smtp_sink::start().await;
    let mailer = transport(&sink);
    let sends: Vec<_> = (0..3)
        .map(|i| {
            let mailer = mailer.clone();
            tokio::spawn(async move {
                let message = Message::builder()
                    .from("noreply@partnerhub.test".parse().unwrap())
                    .to(format!("user{i}@example.test").parse().unwrap())
                    .subject(format!("Mail {i}"))
                    .multipart(MultiPart::alternative_plain_html(
                        format!("Plain part {i}: https://hub.test/reset?code=42&i={i}"),
                        format!("<p>Html part {i}</p>"),
                    ))
                    .unwrap();
                mailer.send(message).await.unwrap();
            })
        })
        .collect();
    for send in sends {
        send.await.unwrap();
    }

    let mails = sink.wait_for(3, WAIT).await;
    assert_eq!(mails.len(), 3);
    for i in 0..3 {
        let mail = mails
            .iter()
            .find(|mail| mail.to == [format!("user{i}@example.test")])
            .unwrap();
        let text = mail.body_text();
        assert!(
            text.contains(&format!(
                "Plain part {i}: https://hub.test/reset?code=42&i={i}"
            )),
            "{text:?}"
        );
        assert!(text.contains(&format!("<p>Html part {i}</p>")), "{text:?}");
    }
}

#[tokio::test]
async fn smtp_sink_speaks_plain_smtp() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let sink = smtp_sink::start().await;
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", sink.port()))
        .await
        .unwrap();
    let (read_half, mut writer) = stream.into_split();
    let mut reader = BufReader::new(read_half);
    let mut transcript = String::new();
    let mut line = String::new();
    reader.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("220 "), "{line:?}");
    // Pipelined commands, answered in order.
    writer
        .write_all(
            b"EHLO client\r\nVRFY x\r\nRCPT TO:<early@example.test>\r\nMAIL FROM:<a@example.test>\r\n\
              RCPT TO:<b@example.test>\r\nRSET\r\nNOOP\r\nMAIL FROM:<>\r\nRCPT TO:<c@example.test>\r\n\
              DATA\r\n",
        )
        .await
        .unwrap();
    loop {
        line.clear();
        reader.read_line(&mut line).await.unwrap();
        transcript.push_str(&line);
        if line.starts_with("354") {
            break;
        }
    }
    assert!(transcript.contains("250-8BITMIME\r\n"), "{transcript}");
    assert!(!transcript.contains("STARTTLS"), "{transcript}");
    assert!(!transcript.contains("AUTH"), "{transcript}");
    let codes: Vec<&str> = transcript
        .lines()
        .filter(|l| l.as_bytes().get(3) == Some(&b' '))
        .map(|l| &l[..3])
        .collect();
    assert_eq!(
        codes,
        [
            "250", "502", "503", "250", "250", "250", "250", "250", "250", "354"
        ],
        "{transcript}"
    );
    writer
        .write_all(b"Subject: raw\r\n\r\nline one=3D\r\n..dotted\r\n.\r\nQUIT\r\n")
        .await
        .unwrap();
    let mut rest = String::new();
    for _ in 0..2 {
        line.clear();
        reader.read_line(&mut line).await.unwrap();
        rest.push_str(&line);
    }
    assert!(rest.starts_with("250 "), "{rest}");
    assert!(rest.contains("221 "), "{rest}");

    let mails = sink.wait_for(1, WAIT).await;
    assert_eq!(
        mails,
        [ReceivedMail {
            from: String::new(),
            to: vec!["c@example.test".to_owned()],
            data: "Subject: raw\r\n\r\nline one=3D\r\n..dotted\r\n".to_owned(),
        }]
    );
    // No quoted-printable header: only dot-stuffing is undone.
    assert_eq!(mails[0].body_text(), "line one=3D\n.dotted\n");
    assert_eq!(mails[0].header("subject").as_deref(), Some("raw"));
}

#[tokio::test]
async fn postgres_test_database_can_be_created_and_dropped() {
    let Some(admin_url) = postgres::test_postgres_url() else {
        eprintln!("PARTNERHUB_TEST_POSTGRES_URL is not set: PostgreSQL tests are skipped");
        return;
    };
    let database = postgres::create(&admin_url).await;
    let name = database.name().to_owned();
    assert!(name.starts_with("ph_test_"), "{name}");
    assert_eq!(name.len(), "ph_test_".len() + 12);
    assert!(
        database.url.ends_with(&format!("/{name}")),
        "{}",
        database.url
    );

    let mut conn = AnyConnection::connect(&database.url).await.unwrap();
    let row = sqlx::query("SELECT current_database()::text AS name")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("name"), name);
    // Left open on purpose: `drop` must terminate it.
    let _still_open = conn;
    database.remove().await;

    let mut admin = AnyConnection::connect(&admin_url).await.unwrap();
    let row = sqlx::query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>("n"), 0);
}

#[tokio::test]
async fn browser_loads_a_page_and_drives_a_form() {
    if !browser::available() {
        eprintln!(
            "Chromium or chromedriver is missing ({} / {}): browser tests are skipped",
            browser::chromium_path().display(),
            browser::chromedriver_path().display()
        );
        return;
    }
    let browser = browser::start().await;
    browser.goto("data:text/html,<h1>hi</h1>").await;
    assert_eq!(browser.text("h1").await, "hi");
    assert!(browser.current_url().await.starts_with("data:text/html,"));

    let page = "<h1>Form</h1><input id=\"name\" value=\"old\">\
        <button id=\"go\" onclick=\"setTimeout(() => { document.getElementById('out').textContent = \
        'Hello, ' + document.getElementById('name').value + '!' }, 200)\">Go</button><p id=\"out\"></p>";
    browser
        .goto(&format!(
            "data:text/html;charset=utf-8,{}",
            percent_encode(page)
        ))
        .await;
    browser.set_window_size(800, 600).await;
    browser.fill("#name", "Partner Hub").await;
    browser.click("#go").await;
    browser.wait_for_text("Hello, Partner Hub!", WAIT).await;
    assert_eq!(browser.text("#out").await, "Hello, Partner Hub!");

    let path = browser.screenshot("support-selftest").await;
    let png = std::fs::read(&path).unwrap();
    assert!(
        png.starts_with(b"\x89PNG"),
        "{} is not a PNG",
        path.display()
    );
    browser.close().await;
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn a_panicking_test_leaves_no_postgres_database_behind() {
    let Some(admin_url) = postgres::test_postgres_url() else {
        eprintln!("PARTNERHUB_TEST_POSTGRES_URL is not set: PostgreSQL tests are skipped");
        return;
    };
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let outcome =
        crate::support::harness::CatchUnwind::new(crate::support::app::for_each_backend({
            let seen = seen.clone();
            move |app| {
                let seen = seen.clone();
                async move {
                    let url = app.state.config.database_url.expose().to_owned();
                    seen.lock().unwrap().push(url.clone());
                    if url.starts_with("postgres") {
                        panic!("a test that fails on PostgreSQL");
                    }
                }
            }
        }))
        .await;
    assert!(outcome.is_err(), "the panic goes on to the test");
    let urls = seen.lock().unwrap().clone();
    assert_eq!(urls.len(), 2, "SQLite ran, then PostgreSQL: {urls:?}");
    let name = urls[1].rsplit('/').next().unwrap().to_owned();
    let mut admin = AnyConnection::connect(&admin_url).await.unwrap();
    let row = sqlx::query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind(&name)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>("n"), 0, "{name} was left behind");
}
