//! Mail over real SMTP: with `smtp_url` set, invitations leave through an SMTP server (a local
//! sink started by the test) and the outbox records them as sent.

use crate::support::app::{Backend, Options, Role, TestApp, find_link, for_each_backend_with};
use crate::support::smtp_sink;
use std::time::Duration;

#[tokio::test]
async fn invitations_are_sent_over_smtp() {
    let sink = smtp_sink::start().await;
    let url = sink.url();
    for_each_backend_with(
        || Options {
            smtp_url: Some(url.clone()),
            ..Options::default()
        },
        |app| {
            let sink = &sink;
            async move {
                let before = sink.received().len();
                let demo = app.partner("Demo Partner").await;
                app.user("owner@demo.test", "Olivia Owner", &[(&demo, Role::Owner)])
                    .await;
                let owner = app.login("owner@demo.test").await;
                let email = format!("smtp-{:?}@demo.test", app.backend).to_lowercase();
                let res = owner
                    .post(app.link(&format!("/partner/{demo}/users")))
                    .form(&[
                        ("name", "Sue"),
                        ("email", email.as_str()),
                        ("role", "member"),
                    ])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 303);

                let mail = store::mail::recent(app.state.db.pool(), 1, 0)
                    .await
                    .unwrap()
                    .remove(0);
                assert_eq!(mail.state, "queued", "waits for the job");
                assert_eq!(app.run_due_jobs().await, 1);
                let received = sink.wait_for(before + 1, Duration::from_secs(10)).await;
                let message = received.last().unwrap();
                assert_eq!(message.to, vec![email.clone()]);
                assert_eq!(
                    message.header("subject").as_deref(),
                    Some("You are invited to Demo Partner on Partner Hub")
                );
                let link = find_link(&message.body_text(), "/invite/")
                    .expect("invitation link in the mail");
                assert!(link.starts_with(&app.url));
                let res = app.client().get(&link).send().await.unwrap();
                assert_eq!(res.status(), 200, "the mailed link works");
                let mail = store::mail::get(app.state.db.pool(), &mail.id)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(mail.state, "sent");
                assert_eq!(app.run_due_jobs().await, 0, "sent once");
            }
        },
    )
    .await;
}

#[tokio::test]
async fn an_unreachable_smtp_server_is_retried_and_recorded() {
    // Nothing listens on port 9 of loopback.
    let app = TestApp::start(
        Backend::Sqlite,
        Options {
            smtp_url: Some("smtp://127.0.0.1:9".into()),
            ..Options::default()
        },
    )
    .await;
    let demo = app.partner("Demo Partner").await;
    app.user("owner@demo.test", "Olivia Owner", &[(&demo, Role::Owner)])
        .await;
    let owner = app.login("owner@demo.test").await;
    owner
        .post(app.link(&format!("/partner/{demo}/users")))
        .form(&[
            ("name", "Sue"),
            ("email", "sue@demo.test"),
            ("role", "member"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(app.run_due_jobs().await, 1);
    let mail = store::mail::recent(app.state.db.pool(), 1, 0)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(mail.state, "queued", "kept for a retry");
    assert_eq!(mail.attempts, 1);
    assert!(mail.last_error.is_some());
    assert_eq!(
        app.run_due_jobs().await,
        0,
        "the retry waits for its backoff"
    );
    app.clock.advance_ms(60_000);
    assert_eq!(app.run_due_jobs().await, 1, "and runs once it is due");
    app.finish().await;
}
