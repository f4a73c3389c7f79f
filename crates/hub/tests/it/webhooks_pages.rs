//! The webhook screens as a partner's people use them: the Integration tab (URL forms with their
//! rules, Test buttons with the outcome inline), the notifications bell and list, the Webhook
//! deliveries page (filters in the URL, event page, Resend) and the development-mode sink.

use crate::support::app::{Options, Role, TestApp, for_each_backend, for_each_backend_with};
use crate::support::webhook_receiver::{Reply, WebhookReceiver};
use crate::webhooks::{bad_urls, closed_port, count_of_kind, demo, dev};
use hub::clock::Clock;
use serde_json::Value;

async fn page(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = client.get(app.link(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post_form(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client.post(app.link(path)).form(form).send().await.unwrap()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

/// The unread count on the bell, 0 when the badge is absent.
fn bell(html: &str) -> u32 {
    let Some(at) = html.find("id=\"unread-count\">") else {
        return 0;
    };
    let rest = &html[at + "id=\"unread-count\">".len()..];
    rest[..rest.find('<').unwrap()].parse().unwrap()
}

/// Notification ids in the forms of the notifications page.
fn notification_ids(html: &str, partner: &str) -> Vec<String> {
    let marker = format!("/partner/{partner}/notifications/");
    html.match_indices(&marker)
        .filter_map(|(at, _)| {
            let rest = &html[at + marker.len()..];
            let end = rest.find('/')?;
            (rest[end..].starts_with("/read\"")).then(|| rest[..end].to_owned())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 5. Test buttons on the Integration tab
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_integration_tab_tests_both_urls_and_shows_the_outcome_inline() {
    for_each_backend_with(dev, |app| async move {
        let receiver = WebhookReceiver::start().await;
        let demo = demo(&app).await;
        let p = demo.partner.to_string();
        let olivia = app.login("owner@demo.test").await;
        let tab = format!("/partner/{p}/integration");

        let res = post_form(&olivia, &app, &format!("{tab}/webhook-url/test"), &[]).await;
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        assert!(html.contains("Save one first"), "no URL yet");
        assert!(!html.contains("id=\"webhook-test-result\""));

        let res = post_form(
            &olivia,
            &app,
            &format!("{tab}/webhook-url"),
            &[("url", &receiver.url())],
        )
        .await;
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), tab);
        let (_, html) = page(&olivia, &app, &tab).await;
        assert!(html.contains("Partner webhook URL saved"), "flash");
        assert!(html.contains(&format!("id=\"current-webhook-url\">{}<", receiver.url())));
        assert!(html.contains("id=\"test-webhook\""));

        receiver.then(Reply::ok().body("hello from the receiver"));
        let res = post_form(&olivia, &app, &format!("{tab}/webhook-url/test"), &[]).await;
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        assert!(html.contains("id=\"webhook-test-result\""));
        assert!(html.contains("Test passed"));
        assert!(html.contains("HTTP 200"));
        assert!(html.contains("hello from the receiver"));
        let got = receiver.take();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].event(), "test");
        assert!(got[0].signed_with(&demo.secret(&app).await));

        receiver.then(Reply::status(503).body("down for maintenance"));
        let html = post_form(&olivia, &app, &format!("{tab}/webhook-url/test"), &[])
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("Test failed"));
        assert!(html.contains("HTTP 503"));
        assert!(html.contains("down for maintenance"));
        assert!(html.contains("only 2xx counts"));
        assert_eq!(receiver.take().len(), 1);
        assert_eq!(
            count_of_kind(
                &app,
                &demo.partner,
                "owner@demo.test",
                "webhook_test_failed"
            )
            .await,
            1
        );

        // The redirect URL: does the page answer?
        let landing = format!("{}/done", receiver.url());
        let res = post_form(
            &olivia,
            &app,
            &format!("{tab}/redirect-url"),
            &[("url", &landing)],
        )
        .await;
        assert_eq!(res.status(), 303);
        let html = post_form(&olivia, &app, &format!("{tab}/redirect-url/test"), &[])
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("id=\"redirect-test-result\""));
        assert!(html.contains("Test passed"));
        assert!(html.contains("HTTP 200"));
        let got = receiver.take();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].method, "GET");
        assert_eq!(got[0].path, "/hook/done");

        receiver.then(Reply::status(404).body("no such page"));
        let html = post_form(&olivia, &app, &format!("{tab}/redirect-url/test"), &[])
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("Test failed"));
        assert!(html.contains("HTTP 404"));
        assert!(html.contains("clients would land on an error"));
        assert_eq!(
            count_of_kind(
                &app,
                &demo.partner,
                "member@demo.test",
                "redirect_test_failed"
            )
            .await,
            1
        );

        // Nobody listening on the redirect URL.
        let port = closed_port().await;
        let res = post_form(
            &olivia,
            &app,
            &format!("{tab}/redirect-url"),
            &[("url", &format!("http://127.0.0.1:{port}/done"))],
        )
        .await;
        assert_eq!(res.status(), 303);
        let html = post_form(&olivia, &app, &format!("{tab}/redirect-url/test"), &[])
            .await
            .text()
            .await
            .unwrap();
        assert!(html.contains("Test failed"));
        assert!(html.contains("could not connect"));
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 6. URL rules on the page, and who may change what
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_integration_form_refuses_bad_urls_inline_and_keeps_what_was_typed() {
    for_each_backend(|app| async move {
        let demo = demo(&app).await;
        let p = demo.partner.to_string();
        let olivia = app.login("owner@demo.test").await;
        let tab = format!("/partner/{p}/integration");
        for (url, part) in bad_urls() {
            for (route, label, input) in [
                ("webhook-url", "The webhook URL ", "webhook_url"),
                ("redirect-url", "The redirect URL ", "redirect_url"),
            ] {
                let res =
                    post_form(&olivia, &app, &format!("{tab}/{route}"), &[("url", &url)]).await;
                assert_eq!(res.status(), 422, "{route} {url}");
                let html = res.text().await.unwrap();
                let error = html
                    .split(&format!("id=\"{input}-error\">"))
                    .nth(1)
                    .unwrap_or_else(|| panic!("{route} {url}: no inline error"));
                let error = &error[..error.find("</p>").unwrap()];
                assert!(
                    error.starts_with(label) && error.contains(part),
                    "{route} {url}: {error}"
                );
                let field = html.split(&format!("id=\"{input}\"")).nth(1).unwrap();
                let field = &field[..field.find('>').unwrap()];
                assert!(
                    field.contains(&format!("value=\"{url}\"")),
                    "{route}: the typed value stays: {field}"
                );
                assert!(field.contains("aria-invalid=\"true\""));
            }
        }
        let (_, html) = page(&olivia, &app, &tab).await;
        assert!(!html.contains("current-webhook-url"), "nothing saved");
        assert!(!html.contains("current-redirect-url"));

        // Saving twice says what was replaced; an empty field removes the URL.
        for url in ["https://one.example.com/h", "https://two.example.com/h"] {
            let res = post_form(
                &olivia,
                &app,
                &format!("{tab}/webhook-url"),
                &[("url", url)],
            )
            .await;
            assert_eq!(res.status(), 303);
        }
        let (_, html) = page(&olivia, &app, &tab).await;
        assert!(html.contains("https://two.example.com/h replaces https://one.example.com/h"));
        let res = post_form(&olivia, &app, &format!("{tab}/webhook-url"), &[("url", "")]).await;
        assert_eq!(res.status(), 303);
        let (_, html) = page(&olivia, &app, &tab).await;
        assert!(html.contains("Partner webhook URL removed"));
        assert!(!html.contains("current-webhook-url"));
    })
    .await;
}

#[tokio::test]
async fn members_see_the_integration_tab_but_cannot_change_it() {
    for_each_backend(|app| async move {
        let demo = demo(&app).await;
        let p = demo.partner.to_string();
        demo.set_webhook_url(&app, "https://hooks.example.com/in")
            .await;
        let secret = demo.secret(&app).await;
        let max = app.login("member@demo.test").await;
        let tab = format!("/partner/{p}/integration");
        let (status, html) = page(&max, &app, &tab).await;
        assert_eq!(status, 200);
        assert!(html.contains("Only Owners can change them"));
        assert!(html.contains("https://hooks.example.com/in"));
        assert!(!html.contains(&secret));
        for (route, form) in [
            ("webhook-url", vec![("url", "https://evil.example.com/")]),
            ("redirect-url", vec![("url", "https://evil.example.com/")]),
            ("solution-id", vec![("solution_id", "evil")]),
            ("secret/reveal", vec![]),
            ("secret/rotate", vec![]),
            ("storage-region", vec![("region", "DE")]),
            ("switch-to-cloud", vec![("region", "")]),
        ] {
            let res = post_form(&max, &app, &format!("{tab}/{route}"), &form).await;
            assert_eq!(res.status(), 403, "{route}");
            assert!(!res.text().await.unwrap().contains(&secret), "{route}");
        }
        assert_eq!(demo.secret(&app).await, secret, "not rotated");
        let (_, html) = page(&max, &app, &tab).await;
        assert!(html.contains("https://hooks.example.com/in"), "not changed");
    })
    .await;
}

#[tokio::test]
async fn owners_reveal_and_rotate_the_signing_secret_on_the_integration_tab() {
    for_each_backend(|app| async move {
        let demo = demo(&app).await;
        let p = demo.partner.to_string();
        let tab = format!("/partner/{p}/integration");
        let olivia = app.login("owner@demo.test").await;
        let (_, html) = page(&olivia, &app, &tab).await;
        assert!(
            !html.contains("id=\"webhook-secret\""),
            "hidden until revealed"
        );
        assert!(html.contains("Reveal secret"));

        let res = post_form(&olivia, &app, &format!("{tab}/secret/reveal"), &[]).await;
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        let secret = demo.secret(&app).await;
        assert!(html.contains(&format!("id=\"webhook-secret\">{secret}<")));

        let res = post_form(&olivia, &app, &format!("{tab}/secret/rotate"), &[]).await;
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        let rotated = demo.secret(&app).await;
        assert_ne!(rotated, secret);
        assert!(html.contains(&format!("id=\"webhook-secret\">{rotated}<")));
        assert!(html.contains("24 hours"));
        let (_, html) = page(&olivia, &app, &tab).await;
        assert!(!html.contains(&rotated), "shown once, not after a reload");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 9. Notifications
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_bell_counts_unread_notifications_and_each_person_clears_their_own() {
    for_each_backend_with(dev, |app| async move {
        let demo = demo(&app).await;
        let p = demo.partner.to_string();
        let other = app.partner("Other Partner").await;
        app.user("owner@other.test", "Oscar Other", &[(&other, Role::Owner)])
            .await;
        let port = closed_port().await;
        demo.set_webhook_url(&app, &format!("http://127.0.0.1:{port}/hook"))
            .await;
        for _ in 0..2 {
            let res = demo
                .api
                .post(demo.url(&app, "/webhook_url/test"))
                .send()
                .await
                .unwrap();
            assert_eq!(res.json::<Value>().await.unwrap()["success"], false);
        }
        store::notifications::notify(
            app.state.db.pool(),
            &other,
            store::notifications::Audience::Everyone,
            &store::notifications::NewNotification {
                kind: "webhook_test_failed",
                title: "Oscar's own",
                body: "for Other Partner",
                link: None,
            },
            None,
            app.clock.now_ms(),
        )
        .await
        .unwrap();

        let olivia = app.login("owner@demo.test").await;
        let (_, html) = page(&olivia, &app, &format!("/partner/{p}/integration")).await;
        assert_eq!(bell(&html), 2);
        let (status, html) = page(&olivia, &app, &format!("/partner/{p}/notifications")).await;
        assert_eq!(status, 200);
        assert_eq!(html.matches("Webhook test failed").count(), 2);
        assert!(html.contains(&format!("127.0.0.1:{port}")));
        assert!(!html.contains("Oscar's own"));
        let ids = notification_ids(&html, &p);
        assert_eq!(ids.len(), 2, "{ids:?}");

        // Opening one marks it read and goes where it points.
        let res = post_form(
            &olivia,
            &app,
            &format!("/partner/{p}/notifications/{}/read", ids[0]),
            &[("next", &format!("/partner/{p}/integration"))],
        )
        .await;
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), format!("/partner/{p}/integration"));
        let (_, html) = page(&olivia, &app, &format!("/partner/{p}/notifications")).await;
        assert_eq!(bell(&html), 1);
        // …but never outside this partner's pages.
        for next in [
            "https://evil.example.com/",
            "//evil.example.com/x",
            "/staff/partners",
        ] {
            let res = post_form(
                &olivia,
                &app,
                &format!("/partner/{p}/notifications/{}/read", ids[0]),
                &[("next", next)],
            )
            .await;
            assert_eq!(res.status(), 303);
            assert_eq!(
                location(&res),
                format!("/partner/{p}/notifications"),
                "{next}"
            );
        }

        // Someone else's notification: Max's (same partner) and Oscar's (another partner).
        let max = app.login("member@demo.test").await;
        let (_, max_html) = page(&max, &app, &format!("/partner/{p}/notifications")).await;
        assert_eq!(bell(&max_html), 2);
        let max_ids = notification_ids(&max_html, &p);
        let oscar = app.login("owner@other.test").await;
        let (_, oscar_html) = page(&oscar, &app, &format!("/partner/{other}/notifications")).await;
        let oscar_ids = notification_ids(&oscar_html, other.as_str());
        assert_eq!(oscar_ids.len(), 1);
        for path in [
            format!("/partner/{p}/notifications/{}/read", max_ids[0]),
            format!("/partner/{p}/notifications/{}/read", oscar_ids[0]),
            format!("/partner/{other}/notifications/{}/read", oscar_ids[0]),
            format!("/partner/{p}/notifications/ntf_nonexistent/read"),
        ] {
            let res = post_form(&olivia, &app, &path, &[]).await;
            assert_eq!(res.status(), 404, "{path}");
        }
        let (_, max_html) = page(&max, &app, &format!("/partner/{p}/notifications")).await;
        assert_eq!(bell(&max_html), 2, "Max's are still unread");
        let (_, oscar_html) = page(&oscar, &app, &format!("/partner/{other}/notifications")).await;
        assert_eq!(bell(&oscar_html), 1, "Oscar's is still unread");

        // Mark all read.
        let res = post_form(
            &olivia,
            &app,
            &format!("/partner/{p}/notifications/read-all"),
            &[],
        )
        .await;
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), format!("/partner/{p}/notifications"));
        let (_, html) = page(&olivia, &app, &format!("/partner/{p}/notifications")).await;
        assert!(html.contains("1 notification marked as read"));
        assert_eq!(bell(&html), 0);
        assert!(!html.contains("id=\"unread-count\""));
        assert_eq!(
            html.matches("Webhook test failed").count(),
            2,
            "still listed"
        );
        let (_, max_html) = page(&max, &app, &format!("/partner/{p}/notifications")).await;
        assert_eq!(bell(&max_html), 2);
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 10. Webhook deliveries page
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_deliveries_page_filters_shows_an_event_and_resends_it() {
    for_each_backend_with(dev, |app| async move {
        let receiver = WebhookReceiver::start().await;
        receiver.always(Reply::status(500).body("nope, not today"));
        let demo = demo(&app).await;
        let p = demo.partner.to_string();
        demo.set_webhook_url(&app, &receiver.url()).await;
        demo.create_client(&app, "Alpha Shop").await;
        app.clock.advance_ms(24 * 3_600_000);
        demo.create_client(&app, "Beta Shop").await;
        assert_eq!(app.run_due_webhooks().await, 2);
        demo.api
            .post(demo.url(&app, "/webhook_url/test"))
            .send()
            .await
            .unwrap();
        let list = demo.events(&app, &[]).await;
        let id_of = |pred: &dyn Fn(&Value) -> bool| {
            list["events"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| pred(e))
                .unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let alpha = id_of(&|e| e["payload"]["data"]["name"] == "Alpha Shop");
        let beta = id_of(&|e| e["payload"]["data"]["name"] == "Beta Shop");
        let test = id_of(&|e| e["event"] == "test");

        let olivia = app.login("owner@demo.test").await;
        let base = format!("/partner/{p}/integration/webhooks");
        let shows = |html: &str| {
            [&alpha, &beta, &test]
                .iter()
                .map(|id| html.contains(id.as_str()))
                .collect::<Vec<_>>()
        };
        let (status, html) = page(&olivia, &app, &base).await;
        assert_eq!(status, 200);
        assert_eq!(shows(&html), [true, true, true]);
        assert!(html.contains("Retrying") && html.contains("Failed"));
        assert!(html.contains("HTTP 500"));

        // Alpha was created on 2026-11-25, Beta and the test a day later.
        for (query, expected) in [
            ("?event=test", [false, false, true]),
            ("?event=client_created", [true, true, false]),
            ("?state=pending", [true, true, false]),
            ("?state=failed", [false, false, true]),
            ("?state=delivered", [false, false, false]),
            ("?from=2026-11-26", [false, true, true]),
            ("?until=2026-11-25", [true, false, false]),
            (
                "?from=2026-11-25&until=2026-11-26&event=client_created&state=pending",
                [true, true, false],
            ),
            ("?from=2026-11-27", [false, false, false]),
        ] {
            let (status, html) = page(&olivia, &app, &format!("{base}{query}")).await;
            assert_eq!(status, 200, "{query}");
            assert_eq!(shows(&html), expected, "{query}");
            assert!(html.contains("Clear filters"), "{query}");
        }
        let (_, html) = page(&olivia, &app, &format!("{base}?event=test&state=failed")).await;
        assert!(
            html.contains("<option value=\"test\" selected>"),
            "filters stay chosen"
        );
        assert!(html.contains("<option value=\"failed\" selected>"));
        let (_, html) = page(&olivia, &app, &format!("{base}?from=2026-11-27")).await;
        assert!(html.contains("No events match these filters"));
        assert!(html.contains("value=\"2026-11-27\""));

        // Bad filter values are named on the page, not a server error.
        for (query, message) in [
            ("?from=yesterday", "is not a date like"),
            ("?until=2026-13-45", "is not a date like"),
            ("?event=bogus", "is not an event type"),
            ("?state=lost", "is not a delivery state"),
        ] {
            let (status, html) = page(&olivia, &app, &format!("{base}{query}")).await;
            assert_eq!(status, 200, "{query}");
            assert!(html.contains(message), "{query}");
            assert_eq!(
                shows(&html),
                [true, true, true],
                "{query}: the rest still lists"
            );
        }

        // The event page: payload and attempts.
        let (status, html) = page(&olivia, &app, &format!("{base}/{alpha}")).await;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"payload\""));
        assert!(html.contains("Alpha Shop") && html.contains(&alpha));
        assert!(html.contains("attempt 1"));
        assert!(html.contains("nope, not today"));
        assert!(html.contains("id=\"resend\""));

        receiver.always(Reply::ok());
        let res = post_form(&olivia, &app, &format!("{base}/{alpha}/resend"), &[]).await;
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), format!("{base}/{alpha}"));
        let (_, html) = page(&olivia, &app, &format!("{base}/{alpha}")).await;
        assert!(html.contains("queued for delivery again"));
        assert_eq!(
            app.run_due_webhooks().await,
            1,
            "only the resent event is due"
        );
        let got = receiver.take();
        assert_eq!(got[0].header("webhook-id"), Some(alpha.as_str()));
        let (_, html) = page(&olivia, &app, &format!("{base}/{alpha}")).await;
        assert!(html.contains("Delivered"));
        assert!(html.contains("attempt 1") && html.contains(">200<"));

        for bad in ["evt_000000000000000000000000", "not-an-id"] {
            let (status, _) = page(&olivia, &app, &format!("{base}/{bad}")).await;
            assert_eq!(status, 404, "{bad}");
            let res = post_form(&olivia, &app, &format!("{base}/{bad}/resend"), &[]).await;
            assert_eq!(res.status(), 404, "resend {bad}");
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 11. Development sink
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_dev_sink_receives_and_checks_signed_deliveries() {
    for_each_backend_with(dev, |app| async move {
        let demo = demo(&app).await;
        let p = demo.partner.to_string();
        let sink = app.link(&format!("/dev/webhook-sink/{p}"));
        demo.set_webhook_url(&app, &sink).await;
        let outcome: Value = demo
            .api
            .post(demo.url(&app, "/webhook_url/test"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(outcome["success"], true, "{outcome}");
        assert_eq!(outcome["status_code"], 200);
        demo.create_client(&app, "Sunk Client").await;
        assert_eq!(app.run_due_webhooks().await, 1);

        let olivia = app.login("owner@demo.test").await;
        let (status, html) = page(&olivia, &app, &format!("/dev/webhook-sink/{p}")).await;
        assert_eq!(status, 200);
        assert_eq!(html.matches("Signature valid").count(), 2, "{html}");
        assert!(html.contains("<code>test</code>"));
        assert!(html.contains("<code>client_created</code>"));
        assert!(html.contains("Sunk Client"));

        // `?status=` makes it answer something else; an unsigned post is called out.
        let res = reqwest::Client::new()
            .post(format!("{sink}?status=503"))
            .body("{\"event\":\"forged\"}")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 503);
        let (_, html) = page(&olivia, &app, &format!("/dev/webhook-sink/{p}")).await;
        assert!(html.contains("answered 503"));
        assert!(html.contains("Signature invalid"));
        assert!(html.contains("<code>forged</code>"));

        let res = post_form(&olivia, &app, &format!("/dev/webhook-sink/{p}/clear"), &[]).await;
        assert_eq!(res.status(), 303);
        let (_, html) = page(&olivia, &app, &format!("/dev/webhook-sink/{p}")).await;
        assert!(html.contains("Nothing received yet"));

        // The Integration tab points at it in development mode.
        let (_, html) = page(&olivia, &app, &format!("/partner/{p}/integration")).await;
        assert!(html.contains(&format!("/dev/webhook-sink/{p}")));
    })
    .await;
}

#[tokio::test]
async fn outside_development_mode_there_is_no_dev_sink() {
    for_each_backend_with(Options::default, |app| async move {
        let demo = demo(&app).await;
        let p = demo.partner.to_string();
        let res = reqwest::Client::new()
            .post(app.link(&format!("/dev/webhook-sink/{p}")))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        let olivia = app.login("owner@demo.test").await;
        let (status, _) = page(&olivia, &app, &format!("/dev/webhook-sink/{p}")).await;
        assert_eq!(status, 404);
        let res = post_form(&olivia, &app, &format!("/dev/webhook-sink/{p}/clear"), &[]).await;
        assert_eq!(res.status(), 404);
        let (_, html) = page(&olivia, &app, &format!("/partner/{p}/integration")).await;
        assert!(!html.contains("/dev/webhook-sink/"));
    })
    .await;
}
