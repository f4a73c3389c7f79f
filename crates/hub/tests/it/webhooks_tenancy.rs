//! Tenant isolation of the webhook features: Other Partner's API key and Owner session walk every
//! webhook, integration and notification route with Demo Partner's ids. A partner id the caller
//! cannot use is 403 on the API and 404 on pages; Demo's event and notification ids under the
//! caller's own partner are 404; nothing of Demo's ever appears in a body, and nothing changes.

use crate::support::app::{Role, TestApp, for_each_backend_with};
use crate::support::webhook_receiver::WebhookReceiver;
use crate::webhooks::{Demo, count_of_kind, demo, dev, notifications};
use hub::clock::Clock;
use serde_json::{Value, json};

/// A form's fields.
type Form<'a> = Vec<(&'a str, &'a str)>;

struct Seeded {
    demo: Demo,
    receiver: WebhookReceiver,
    secret: String,
    event: String,
    notification: String,
}

/// Demo Partner with a webhook URL, a secret, a delivered `client_created` event for "Secret
/// Client", and an unread notification for its Owner.
async fn seeded(app: &TestApp) -> Seeded {
    let receiver = WebhookReceiver::start().await;
    let demo = demo(app).await;
    demo.set_webhook_url(app, &receiver.url()).await;
    let secret = demo.secret(app).await;
    demo.create_client(app, "Secret Client").await;
    assert_eq!(app.run_due_webhooks().await, 1);
    receiver.take();
    let event = demo.events(app, &[]).await["events"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    store::notifications::notify(
        app.state.db.pool(),
        &demo.partner,
        store::notifications::Audience::Owners,
        &store::notifications::NewNotification {
            kind: "webhook_failed",
            title: "Secret notice",
            body: "for Demo's Owner only",
            link: None,
        },
        None,
        app.clock.now_ms(),
    )
    .await
    .unwrap();
    let (notification,): (String,) =
        sqlx::query_as("SELECT id FROM notifications WHERE partner_id = $1")
            .bind(demo.partner.as_str())
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    Seeded {
        demo,
        receiver,
        secret,
        event,
        notification,
    }
}

fn leaks(body: &str, s: &Seeded) -> Option<&'static str> {
    [
        (s.secret.as_str(), "the secret"),
        (s.event.as_str(), "the event id"),
        (s.notification.as_str(), "the notification id"),
        ("Secret Client", "the client"),
        ("Secret notice", "the notification"),
        (s.receiver.url().as_str(), "the webhook URL"),
        ("Demo Partner", "the partner's name"),
    ]
    .into_iter()
    .find(|(needle, _)| body.contains(needle))
    .map(|(_, what)| what)
}

/// Demo's data is as it was.
async fn untouched(app: &TestApp, s: &Seeded) {
    assert_eq!(s.receiver.count(), 0, "nothing was sent to Demo's receiver");
    assert_eq!(s.demo.secret(app).await, s.secret, "Demo's secret");
    let url: Value = s
        .demo
        .api
        .get(s.demo.url(app, "/webhook_url"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(url["webhook_url"], s.receiver.url());
    let event = s.demo.event(app, &s.event).await;
    assert_eq!(event["state"], "delivered");
    assert_eq!(event["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(
        s.demo.events(app, &[]).await["total"],
        1,
        "no test event for Demo"
    );
    let notes = notifications(app, &s.demo.partner).await;
    assert_eq!(
        notes,
        vec![(
            "owner@demo.test".to_owned(),
            "webhook_failed".to_owned(),
            false
        )],
        "Demo's notification is still unread, and no other appeared"
    );
    assert_eq!(app.run_due_webhooks().await, 0, "nothing was queued");
}

#[tokio::test]
async fn other_partners_api_key_never_reaches_demos_webhooks() {
    for_each_backend_with(dev, |app| async move {
        let s = seeded(&app).await;
        let other = app.partner("Other Partner").await;
        app.user("owner@other.test", "Oscar Other", &[(&other, Role::Owner)])
            .await;
        let d = &s.demo.partner;
        let e = &s.event;
        let routes: Vec<(&str, String, Option<Value>)> = vec![
            ("GET", format!("/partners/{d}/webhook_url"), None),
            (
                "POST",
                format!("/partners/{d}/webhook_url"),
                Some(json!({"webhook_url": "https://evil.example.com/"})),
            ),
            ("POST", format!("/partners/{d}/webhook_url/test"), None),
            ("GET", format!("/partners/{d}/webhook_secret"), None),
            ("POST", format!("/partners/{d}/webhook_secret/rotate"), None),
            ("GET", format!("/partners/{d}/events"), None),
            (
                "GET",
                format!("/partners/{d}/events?filters=%7B%22event%22%3A%22client_created%22%7D"),
                None,
            ),
            ("POST", format!("/partners/{d}/events/{e}/resend"), None),
            (
                "PATCH",
                format!("/partners/{d}"),
                Some(json!({"webhook_url": "https://evil.example.com/", "default_data_storage_region": "DE"})),
            ),
        ];
        let key = app.api(&app.api_key(&other).await);
        // Other has a URL of its own, so a resend of an unknown event can only be "not found".
        let res = key
            .post(app.link(&format!("/api/v2/partners/{other}/webhook_url")))
            .json(&json!({"webhook_url": "https://other.example.com/hook"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let bearer = app.api_bearer(&app.bearer("owner@other.test").await);
        let send = |client: &reqwest::Client, method: &str, path: &str, body: &Option<Value>| {
            let url = app.link(&format!("/api/v2{path}"));
            let req = match method {
                "GET" => client.get(url),
                "PATCH" => client.patch(url),
                _ => client.post(url),
            };
            match body {
                Some(b) => req.json(b),
                None => req,
            }
            .send()
        };
        for (who, client) in [("key", &key), ("bearer", &bearer)] {
            for (method, path, body) in &routes {
                let res = send(client, method, path, body).await.unwrap();
                assert_eq!(res.status(), 403, "{who}: {method} {path}");
                let text = res.text().await.unwrap();
                assert_eq!(leaks(&text, &s), None, "{who}: {method} {path}: {text}");
            }
        }
        // Demo's event under Other's own partner is not found; Other's list never shows it.
        let res = key
            .post(app.link(&format!("/api/v2/partners/{other}/events/{e}/resend")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        assert_eq!(leaks(&res.text().await.unwrap(), &s), None);
        let list: Value = key
            .get(app.link(&format!("/api/v2/partners/{other}/events")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list["total"], 0);
        assert_eq!(list["events"], json!([]));
        // Other's own secret is its own.
        let own: Value = key
            .get(app.link(&format!("/api/v2/partners/{other}/webhook_secret")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_ne!(own["secret"], s.secret.as_str());

        untouched(&app, &s).await;
    })
    .await;
}

#[tokio::test]
async fn other_partners_owner_never_reaches_demos_webhook_pages() {
    for_each_backend_with(dev, |app| async move {
        let s = seeded(&app).await;
        let other = app.partner("Other Partner").await;
        app.user("owner@other.test", "Oscar Other", &[(&other, Role::Owner)])
            .await;
        let oscar = app.login("owner@other.test").await;
        // Other has a URL of its own, so a resend of an unknown event can only be "not found".
        let res = oscar
            .post(app.link(&format!("/partner/{other}/integration/webhook-url")))
            .form(&[("url", "https://other.example.com/hook")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let d = &s.demo.partner;
        let (e, n) = (&s.event, &s.notification);
        let evil = "https://evil.example.com/";
        let routes: Vec<(&str, String, Form)> = vec![
            ("GET", format!("/partner/{d}/integration"), vec![]),
            (
                "GET",
                format!("/partner/{d}/integration?switch=storage"),
                vec![],
            ),
            (
                "POST",
                format!("/partner/{d}/integration/webhook-url"),
                vec![("url", evil)],
            ),
            (
                "POST",
                format!("/partner/{d}/integration/webhook-url/test"),
                vec![],
            ),
            (
                "POST",
                format!("/partner/{d}/integration/redirect-url"),
                vec![("url", evil)],
            ),
            (
                "POST",
                format!("/partner/{d}/integration/redirect-url/test"),
                vec![],
            ),
            (
                "POST",
                format!("/partner/{d}/integration/solution-id"),
                vec![("solution_id", "evil")],
            ),
            (
                "POST",
                format!("/partner/{d}/integration/secret/reveal"),
                vec![],
            ),
            (
                "POST",
                format!("/partner/{d}/integration/secret/rotate"),
                vec![],
            ),
            (
                "POST",
                format!("/partner/{d}/integration/storage-region"),
                vec![("region", "DE")],
            ),
            (
                "POST",
                format!("/partner/{d}/integration/switch-to-cloud"),
                vec![("region", "DE")],
            ),
            ("GET", format!("/partner/{d}/integration/webhooks"), vec![]),
            (
                "GET",
                format!("/partner/{d}/integration/webhooks?event=client_created"),
                vec![],
            ),
            (
                "GET",
                format!("/partner/{d}/integration/webhooks/{e}"),
                vec![],
            ),
            (
                "POST",
                format!("/partner/{d}/integration/webhooks/{e}/resend"),
                vec![],
            ),
            ("GET", format!("/partner/{d}/notifications"), vec![]),
            (
                "POST",
                format!("/partner/{d}/notifications/read-all"),
                vec![],
            ),
            (
                "POST",
                format!("/partner/{d}/notifications/{n}/read"),
                vec![],
            ),
            ("GET", format!("/dev/webhook-sink/{d}"), vec![]),
            ("POST", format!("/dev/webhook-sink/{d}/clear"), vec![]),
        ];
        for (method, path, form) in &routes {
            let req = if *method == "GET" {
                oscar.get(app.link(path))
            } else {
                oscar.post(app.link(path)).form(form)
            };
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), 404, "{method} {path}");
            let html = res.text().await.unwrap();
            assert_eq!(leaks(&html, &s), None, "{method} {path}");
        }
        // Demo's event and notification ids under Oscar's own partner.
        for (method, path) in [
            ("GET", format!("/partner/{other}/integration/webhooks/{e}")),
            (
                "POST",
                format!("/partner/{other}/integration/webhooks/{e}/resend"),
            ),
            ("POST", format!("/partner/{other}/notifications/{n}/read")),
        ] {
            let res = if method == "GET" {
                oscar.get(app.link(&path)).send().await.unwrap()
            } else {
                let empty: &[(&str, &str)] = &[];
                oscar
                    .post(app.link(&path))
                    .form(empty)
                    .send()
                    .await
                    .unwrap()
            };
            assert_eq!(res.status(), 404, "{method} {path}");
            assert_eq!(
                leaks(&res.text().await.unwrap(), &s),
                None,
                "{method} {path}"
            );
        }
        // Oscar's own pages list none of Demo's events or notifications.
        for path in [
            format!("/partner/{other}/integration/webhooks"),
            format!("/partner/{other}/integration/webhooks?event=client_created"),
            format!("/partner/{other}/notifications"),
            format!("/partner/{other}/integration"),
            format!("/dev/webhook-sink/{other}"),
        ] {
            let res = oscar.get(app.link(&path)).send().await.unwrap();
            assert_eq!(res.status(), 200, "{path}");
            assert_eq!(leaks(&res.text().await.unwrap(), &s), None, "{path}");
        }
        assert_eq!(
            count_of_kind(&app, &other, "owner@other.test", "webhook_test_failed").await,
            0
        );
        // And Demo's settings are as they were (region, solution id, hosting).
        let partner: Value = s
            .demo
            .api
            .get(s.demo.url(&app, ""))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(partner["default_data_storage_region"].is_null());
        assert!(partner["solution_id"].is_null());
        assert!(partner["partner_redirect_url"].is_null());
        untouched(&app, &s).await;
    })
    .await;
}
