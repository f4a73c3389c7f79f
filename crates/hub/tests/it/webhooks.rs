//! Partner webhooks as a partner's developer notices them: which events arrive, signed how, what
//! happens when the receiver fails (retries on schedule, `Retry-After`, 410 Gone, giving up and
//! telling people), the Test button over the API, the URL rules, secret rotation, the SSRF guard
//! of the outbound client, and who may change what.

use crate::support::app::{
    Options, PartnerId, Role, T0_MS, TestApp, for_each_backend, for_each_backend_with,
};
use crate::support::webhook_receiver::{Received, Reply, WebhookReceiver};
use hub::clock::Clock;
use serde_json::{Value, json};
use std::time::Duration;

pub const SECOND_MS: i64 = 1_000;
pub const MINUTE_MS: i64 = 60 * SECOND_MS;
pub const HOUR_MS: i64 = 60 * MINUTE_MS;

/// The retry schedule of DESIGN.md: the delay after attempts 1 to 7, before jitter.
const SCHEDULE_MS: [i64; 7] = [
    5 * SECOND_MS,
    5 * MINUTE_MS,
    30 * MINUTE_MS,
    2 * HOUR_MS,
    5 * HOUR_MS,
    10 * HOUR_MS,
    10 * HOUR_MS,
];

/// Development mode: deliveries may go to plain http on a port of this machine.
pub fn dev() -> Options {
    Options {
        dev: true,
        ..Options::default()
    }
}

/// Demo Partner with an Owner (Olivia), a Member (Max) and a partner API key.
pub struct Demo {
    pub partner: PartnerId,
    pub api: reqwest::Client,
}

pub async fn demo(app: &TestApp) -> Demo {
    let partner = app.partner("Demo Partner").await;
    app.user(
        "owner@demo.test",
        "Olivia Owner",
        &[(&partner, Role::Owner)],
    )
    .await;
    app.user(
        "member@demo.test",
        "Max Member",
        &[(&partner, Role::Member)],
    )
    .await;
    let api = app.api(&app.api_key(&partner).await);
    Demo { partner, api }
}

pub fn v2(app: &TestApp, path: &str) -> String {
    app.link(&format!("/api/v2{path}"))
}

impl Demo {
    pub fn url(&self, app: &TestApp, rest: &str) -> String {
        v2(app, &format!("/partners/{}{rest}", self.partner))
    }

    pub async fn set_webhook_url(&self, app: &TestApp, url: &str) -> Value {
        let res = self
            .api
            .post(self.url(app, "/webhook_url"))
            .json(&json!({ "webhook_url": url }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "saving {url}");
        res.json().await.unwrap()
    }

    /// The partner object, as `GET /partners/{pid}` returns it.
    pub async fn object(&self, app: &TestApp) -> Value {
        let res = self.api.get(self.url(app, "")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    pub async fn secret(&self, app: &TestApp) -> String {
        let res = self
            .api
            .get(self.url(app, "/webhook_secret"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let secret = res.json::<Value>().await.unwrap()["secret"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(secret.starts_with("whsec_"), "{secret}");
        secret
    }

    pub async fn create_client(&self, app: &TestApp, name: &str) -> Value {
        let res = self
            .api
            .post(self.url(app, "/clients"))
            .json(&json!({
                "name": name,
                "contact_info": {"email": "contact@client.test"},
                "partner_payload": "crm-7",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        res.json().await.unwrap()
    }

    /// The events list (`GET …/events`) with extra query parameters.
    pub async fn events(&self, app: &TestApp, query: &[(&str, &str)]) -> Value {
        let res = self
            .api
            .get(self.url(app, "/events"))
            .query(query)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// One event from the list, by id.
    pub async fn event(&self, app: &TestApp, id: &str) -> Value {
        let list = self.events(app, &[("limit", "1000")]).await;
        list["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("event {id} is listed"))
    }

    /// The stored event (for times to the millisecond, which the API rounds to seconds).
    pub async fn stored(&self, app: &TestApp, id: &str) -> store::webhooks::EventRow {
        store::webhooks::event(app.state.db.pool(), &self.partner, id)
            .await
            .unwrap()
            .expect("stored event")
    }
}

/// `(email, kind, read)` of every notification of a partner.
pub async fn notifications(app: &TestApp, partner: &PartnerId) -> Vec<(String, String, bool)> {
    let rows: Vec<(String, String, Option<i64>)> = sqlx::query_as(
        "SELECT u.email, n.kind, n.read_ms FROM notifications n JOIN users u ON u.id = n.user_id
          WHERE n.partner_id = $1 ORDER BY n.created_ms, n.id",
    )
    .bind(partner.as_str())
    .fetch_all(app.state.db.pool())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(email, kind, read)| (email, kind, read.is_some()))
        .collect()
}

pub async fn count_of_kind(app: &TestApp, partner: &PartnerId, email: &str, kind: &str) -> usize {
    notifications(app, partner)
        .await
        .iter()
        .filter(|(e, k, _)| e == email && k == kind)
        .count()
}

/// A port on loopback where nothing listens.
pub async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

/// Take a number through the sandbox to `running`: returns (client id, channel id).
async fn running_number(app: &TestApp, demo: &Demo, client: &str) -> String {
    let res = demo
        .api
        .post(demo.url(app, &format!("/clients/{client}/channels")))
        .json(&json!({"phone_number": "+4915123457001", "phone_name": "Acme Support", "verification_method": "sms"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let channel = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.run_due_jobs().await;
    let res = demo
        .api
        .post(demo.url(app, &format!("/clients/{client}/channels/{channel}/verify")))
        .json(&json!({"code": "000000"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.run_due_jobs().await;
    channel
}

fn assert_delay_within(actual_ms: i64, base_ms: i64, what: &str) {
    let (low, high) = (base_ms * 8 / 10, base_ms * 12 / 10);
    assert!(
        (low..=high).contains(&actual_ms),
        "{what}: next attempt {actual_ms} ms later, expected {low}..={high}"
    );
}

// ---------------------------------------------------------------------------------------------
// 1. Events reach the receiver, signed
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_event_of_a_number_reaches_the_receiver_signed() {
    for_each_backend_with(dev, |app| async move {
        // Standard Webhooks checks the timestamp against the wall clock.
        app.catch_up_with_wall_clock();
        let receiver = WebhookReceiver::start().await;
        let demo = demo(&app).await;
        let partner = demo.set_webhook_url(&app, &receiver.url()).await;
        assert_eq!(partner["webhook_url"], receiver.url());
        let got: Value = demo
            .api
            .get(demo.url(&app, "/webhook_url"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(got, json!({"webhook_url": receiver.url()}));
        let secret = demo.secret(&app).await;

        let client = demo.create_client(&app, "Acme Shoes").await;
        let client_id = client["id"].as_str().unwrap().to_owned();
        let stored = demo.events(&app, &[]).await;
        assert_eq!(stored["total"], 1);
        let event = &stored["events"][0];
        assert_eq!(event["event"], "client_created");
        assert_eq!(event["state"], "pending");
        assert_eq!(event["attempts"], json!([]));
        let payload = &event["payload"];
        let mut keys: Vec<&str> = payload
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["created_at", "data", "event", "id"]);
        assert_eq!(payload["id"], event["id"]);
        assert!(payload["id"].as_str().unwrap().starts_with("evt_"));
        assert!(payload["created_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(payload["data"], client, "data is the client object");

        let channel = running_number(&app, &demo, &client_id).await;
        let control = |what: &str| {
            demo.url(
                &app,
                &format!("/clients/{client_id}/channels/{channel}/control/{what}"),
            )
        };
        for enabled in [true, false] {
            let res = demo
                .api
                .post(control("cancellation_request"))
                .json(&json!({ "enabled": enabled }))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
        }
        assert_eq!(
            receiver.count(),
            0,
            "nothing is sent before the dispatcher runs"
        );

        let made = app.run_due_webhooks().await;
        let received = receiver.take();
        assert_eq!(made, received.len(), "one request per attempt");
        let names: Vec<String> = received.iter().map(Received::event).collect();
        for expected in [
            "client_created",
            "channel_created",
            "channel_submitted",
            "channel_ready",
            "channel_running",
            "channel_live",
            "cancellation_request",
            "cancellation_revoke",
        ] {
            assert_eq!(
                names.iter().filter(|n| *n == expected).count(),
                1,
                "{expected} once in {names:?}"
            );
        }
        let now_s = app.clock.now_ms() / 1000;
        for r in &received {
            let body = r.json();
            assert_eq!(r.method, "POST");
            assert_eq!(r.path, "/hook");
            assert_eq!(r.header("content-type"), Some("application/json"));
            assert_eq!(
                r.header("webhook-id"),
                body["id"].as_str(),
                "webhook-id is the event id"
            );
            let ts: i64 = r.header("webhook-timestamp").unwrap().parse().unwrap();
            assert!((ts - now_s).abs() <= 1, "webhook-timestamp {ts} vs {now_s}");
            assert_eq!(r.signatures().len(), 1, "one secret, one signature");
            r.verify(&secret)
                .unwrap_or_else(|e| panic!("{} does not verify: {e}", body["event"]));
            assert!(r.verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        }
        let by_name = |name: &str| received.iter().find(|r| r.event() == name).unwrap().json();
        assert_eq!(by_name("client_created")["data"], client);
        for name in ["channel_created", "channel_running", "channel_live"] {
            let data = &by_name(name)["data"];
            assert_eq!(data["id"], channel.as_str(), "{name} carries the channel");
            assert_eq!(data["client_id"], client_id.as_str());
        }
        assert_eq!(by_name("channel_created")["data"]["status"], "created");
        assert_eq!(by_name("channel_submitted")["data"]["status"], "verified");
        assert_eq!(by_name("channel_ready")["data"]["status"], "ready");
        assert_eq!(by_name("channel_running")["data"]["status"], "running");
        assert_eq!(by_name("channel_live")["data"]["account_mode"], "live");
        assert_eq!(
            by_name("cancellation_request")["data"]["status"],
            "pending_deletion"
        );
        assert_eq!(by_name("cancellation_revoke")["data"]["status"], "running");

        // Every event is now delivered, with its one attempt on record; nothing is sent twice.
        let list = demo.events(&app, &[("limit", "100")]).await;
        assert_eq!(list["total"], json!(received.len()));
        for e in list["events"].as_array().unwrap() {
            assert_eq!(e["state"], "delivered", "{}", e["event"]);
            assert!(e["delivered_at"].is_string());
            assert_eq!(e["attempts_count"], 1);
            let attempt = &e["attempts"][0];
            assert_eq!(attempt["attempt"], 1);
            assert_eq!(attempt["status_code"], 200);
            assert_eq!(attempt["url"], receiver.url());
            assert_eq!(attempt["response_excerpt"], "ok");
            assert!(attempt["latency_ms"].as_i64().unwrap() >= 0);
            assert!(attempt["error"].is_null());
        }
        assert_eq!(app.run_due_webhooks().await, 0);
        assert_eq!(receiver.count(), 0);

        // The list filters by event and state.
        let only = demo
            .events(&app, &[("filters", r#"{"event":"channel_live"}"#)])
            .await;
        assert_eq!(only["total"], 1);
        assert_eq!(only["events"][0]["event"], "channel_live");
        let none = demo
            .events(&app, &[("filters", r#"{"state":"failed"}"#)])
            .await;
        assert_eq!(none["total"], 0);
        let res = demo
            .api
            .get(demo.url(&app, "/events"))
            .query(&[("filters", r#"{"event":"nonsense"}"#)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        assert_eq!(res.json::<Value>().await.unwrap()["meta"]["http_code"], 400);
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 2. No URL: kept, not sent, resendable
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn without_a_url_events_are_kept_as_no_url_until_resent() {
    for_each_backend_with(dev, |app| async move {
        let receiver = WebhookReceiver::start().await;
        let demo = demo(&app).await;
        demo.create_client(&app, "Early Bird").await;
        let list = demo.events(&app, &[]).await;
        assert_eq!(list["total"], 1);
        let id = list["events"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(list["events"][0]["state"], "no_url");
        assert!(list["events"][0]["next_attempt_at"].is_null());
        assert_eq!(app.run_due_webhooks().await, 0);

        let resend = demo.url(&app, &format!("/events/{id}/resend"));
        let res = demo.api.post(&resend).send().await.unwrap();
        assert_eq!(res.status(), 422, "nowhere to send it yet");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["meta"]["success"], false);
        assert_eq!(body["meta"]["http_code"], 422);
        assert!(
            body["meta"]["developer_message"]
                .as_str()
                .unwrap()
                .contains("no partner webhook URL"),
            "{body}"
        );

        demo.set_webhook_url(&app, &receiver.url()).await;
        assert_eq!(
            app.run_due_webhooks().await,
            0,
            "setting a URL does not send old events by itself"
        );
        let res = demo.api.post(&resend).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let queued: Value = res.json().await.unwrap();
        assert_eq!(queued["id"], id.as_str());
        assert_eq!(queued["state"], "pending");
        assert_eq!(app.run_due_webhooks().await, 1);
        let received = receiver.take();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].header("webhook-id"), Some(id.as_str()));
        assert_eq!(received[0].event(), "client_created");
        assert_eq!(received[0].json()["data"]["name"], "Early Bird");
        assert!(received[0].signed_with(&demo.secret(&app).await));
        assert_eq!(demo.event(&app, &id).await["state"], "delivered");

        // Events after the URL was set go out without a resend.
        demo.create_client(&app, "Second").await;
        assert_eq!(app.run_due_webhooks().await, 1);
        assert_eq!(receiver.take()[0].json()["data"]["name"], "Second");

        // Unknown and malformed event ids (with a URL set; see the test below for without).
        for bad in ["evt_000000000000000000000000", "nope"] {
            let res = demo
                .api
                .post(demo.url(&app, &format!("/events/{bad}/resend")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 404, "{bad}");
        }
    })
    .await;
}

#[tokio::test]
async fn resending_an_unknown_event_is_not_found_even_without_a_url() {
    for_each_backend(|app| async move {
        let demo = demo(&app).await;
        let res = demo
            .api
            .post(demo.url(&app, "/events/evt_000000000000000000000000/resend"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "there is no such event, URL or not");
        let olivia = app.login("owner@demo.test").await;
        let res = olivia
            .post(app.link(&format!(
                "/partner/{}/integration/webhooks/evt_000000000000000000000000/resend",
                demo.partner
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "the page route too");
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 3. Retries, Retry-After, giving up, telling people
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_failing_receiver_is_retried_on_schedule_until_the_event_fails() {
    for_each_backend_with(dev, |app| async move {
        let receiver = WebhookReceiver::start().await;
        receiver.always(Reply::status(500).body("boom"));
        let demo = demo(&app).await;
        demo.set_webhook_url(&app, &receiver.url()).await;
        // Two events fail side by side: the partner's people hear about it once.
        let mut ids = Vec::new();
        for name in ["First", "Second"] {
            demo.create_client(&app, name).await;
        }
        for e in demo.events(&app, &[]).await["events"].as_array().unwrap() {
            ids.push(e["id"].as_str().unwrap().to_owned());
        }
        assert_eq!(ids.len(), 2);

        for attempt in 1..=8_usize {
            let now = app.clock.now_ms();
            assert_eq!(app.run_due_webhooks().await, 2, "attempt {attempt}");
            assert_eq!(receiver.take().len(), 2);
            assert_eq!(app.run_due_webhooks().await, 0, "nothing due right after");
            let (mut earliest, mut latest) = (i64::MAX, now);
            for id in &ids {
                let row = demo.stored(&app, id).await;
                assert_eq!(row.attempts, i64::try_from(attempt).unwrap());
                if attempt < 8 {
                    assert_eq!(row.state, "pending", "after attempt {attempt}");
                    let next = row.next_attempt_ms.unwrap();
                    assert_delay_within(
                        next - now,
                        SCHEDULE_MS[attempt - 1],
                        &format!("after attempt {attempt}"),
                    );
                    earliest = earliest.min(next);
                    latest = latest.max(next);
                } else {
                    assert_eq!(row.state, "failed");
                    assert!(row.next_attempt_ms.is_none());
                    assert_eq!(row.last_status, Some(500));
                }
            }
            if attempt < 8 {
                assert!(
                    notifications(&app, &demo.partner).await.is_empty(),
                    "no notification while retrying"
                );
                // Not due a millisecond early; both due at the later of the two.
                app.clock.advance_ms(earliest - now - 1);
                assert_eq!(app.run_due_webhooks().await, 0, "after attempt {attempt}");
                app.clock.advance_ms(latest - earliest + 1);
            }
        }
        assert_eq!(app.run_due_webhooks().await, 0);
        app.clock.advance_ms(48 * HOUR_MS);
        assert_eq!(
            app.run_due_webhooks().await,
            0,
            "a failed event is not retried"
        );

        let event = demo.event(&app, &ids[0]).await;
        assert_eq!(event["state"], "failed");
        let attempts = event["attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), 8);
        for (i, a) in attempts.iter().enumerate() {
            assert_eq!(a["attempt"], json!(i + 1));
            assert_eq!(a["status_code"], 500);
            assert_eq!(a["response_excerpt"], "boom");
            assert!(a["latency_ms"].as_i64().unwrap() >= 0);
            assert!(
                a["error"].as_str().unwrap().contains("500"),
                "{}",
                a["error"]
            );
        }
        let failed = demo
            .events(&app, &[("filters", r#"{"state":"failed"}"#)])
            .await;
        assert_eq!(failed["total"], 2);

        for email in ["owner@demo.test", "member@demo.test"] {
            assert_eq!(
                count_of_kind(&app, &demo.partner, email, "webhook_failed").await,
                1,
                "{email}: one notification for two failed events"
            );
        }

        // Once read, the next failure is announced again.
        for email in ["owner@demo.test", "member@demo.test"] {
            let email = domain::Email::parse(email).unwrap();
            let user = store::users::by_email(app.state.db.pool(), &email)
                .await
                .unwrap()
                .unwrap();
            hub::services::notifications::mark_all_read(&app.state, &demo.partner, &user.id)
                .await
                .unwrap();
        }
        let res = demo
            .api
            .post(demo.url(&app, &format!("/events/{}/resend", ids[0])))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let resent: Value = res.json().await.unwrap();
        assert_eq!(resent["state"], "pending");
        assert_eq!(resent["attempts_count"], 0, "a fresh schedule");
        for _ in 0..8 {
            assert_eq!(app.run_due_webhooks().await, 1);
            app.clock.advance_ms(13 * HOUR_MS);
        }
        assert_eq!(demo.stored(&app, &ids[0]).await.state, "failed");
        assert_eq!(
            count_of_kind(&app, &demo.partner, "owner@demo.test", "webhook_failed").await,
            2
        );
    })
    .await;
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) of a time in ms.
fn http_date(ms: i64) -> String {
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .unwrap()
        .format(&format)
        .unwrap()
}

#[tokio::test]
async fn retry_after_is_honoured_within_the_schedule_and_twice_it() {
    for_each_backend_with(dev, |app| async move {
        let receiver = WebhookReceiver::start().await;
        let demo = demo(&app).await;
        demo.set_webhook_url(&app, &receiver.url()).await;
        demo.create_client(&app, "Patient").await;
        let id = demo.events(&app, &[]).await["events"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();

        // Attempt 1: scheduled 5 s ± 20 %; the receiver asks for 120 s, more than twice that:
        // the wait is capped at twice the scheduled delay.
        receiver.then(Reply::status(503).retry_after("120"));
        let now = app.clock.now_ms();
        assert_eq!(app.run_due_webhooks().await, 1);
        let wait = demo.stored(&app, &id).await.next_attempt_ms.unwrap() - now;
        assert!(
            (2 * 4_000..=2 * 6_000).contains(&wait),
            "Retry-After 120 after attempt 1: waited {wait} ms"
        );
        let attempt = &demo.event(&app, &id).await["attempts"][0];
        assert_eq!(attempt["status_code"], 503);

        // Attempt 2: scheduled 5 min ± 20 % (240–360 s); 400 s lies within [scheduled, 2×]:
        // honoured exactly.
        app.clock.advance_ms(wait);
        receiver.then(Reply::status(503).retry_after("400"));
        let now = app.clock.now_ms();
        assert_eq!(app.run_due_webhooks().await, 1);
        let wait = demo.stored(&app, &id).await.next_attempt_ms.unwrap() - now;
        assert_eq!(wait, 400 * SECOND_MS, "Retry-After 400 after attempt 2");

        // Attempt 3: scheduled 30 min ± 20 %; a Retry-After of 1 s is too eager: the schedule
        // wins.
        app.clock.advance_ms(wait);
        receiver.then(Reply::status(429).retry_after("1"));
        let now = app.clock.now_ms();
        assert_eq!(app.run_due_webhooks().await, 1);
        let wait = demo.stored(&app, &id).await.next_attempt_ms.unwrap() - now;
        assert_delay_within(wait, 30 * MINUTE_MS, "Retry-After 1 after attempt 3");

        // Attempt 4: scheduled 2 h ± 20 % (96–144 min); an HTTP date 3 h ahead is within 2×.
        app.clock.advance_ms(wait);
        let now = app.clock.now_ms();
        receiver.then(Reply::status(503).retry_after(&http_date(now + 3 * HOUR_MS)));
        assert_eq!(app.run_due_webhooks().await, 1);
        let wait = demo.stored(&app, &id).await.next_attempt_ms.unwrap() - now;
        assert!(
            (3 * HOUR_MS - SECOND_MS..=3 * HOUR_MS).contains(&wait),
            "Retry-After as a date after attempt 4: waited {wait} ms"
        );

        // And then it succeeds.
        app.clock.advance_ms(wait);
        assert_eq!(app.run_due_webhooks().await, 1);
        let event = demo.event(&app, &id).await;
        assert_eq!(event["state"], "delivered");
        assert_eq!(event["attempts"].as_array().unwrap().len(), 5);
        let ids: Vec<String> = receiver
            .take()
            .iter()
            .map(|r| r.header("webhook-id").unwrap().to_owned())
            .collect();
        assert_eq!(
            ids,
            vec![id.clone(); 5],
            "every retry carries the same webhook-id"
        );
    })
    .await;
}

#[tokio::test]
async fn attempts_record_latency_and_a_capped_excerpt_of_the_answer() {
    for_each_backend_with(
        || Options {
            dev: true,
            webhook_timeout_ms: Some(1_000),
            ..Options::default()
        },
        |app| async move {
            let receiver = WebhookReceiver::start().await;
            let demo = demo(&app).await;
            demo.set_webhook_url(&app, &receiver.url()).await;
            demo.create_client(&app, "Chatty").await;
            let id = demo.events(&app, &[]).await["events"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned();

            // A slow 500 with a 2 MB body: 20 KB of it are kept.
            receiver.then(
                Reply::status(500)
                    .big_body(2 * 1024 * 1024)
                    .delay(Duration::from_millis(150)),
            );
            assert_eq!(app.run_due_webhooks().await, 1);
            let event = demo.event(&app, &id).await;
            assert_eq!(event["state"], "pending");
            let attempt = &event["attempts"][0];
            assert_eq!(attempt["status_code"], 500);
            assert!(attempt["latency_ms"].as_i64().unwrap() >= 150, "{attempt}");
            let excerpt = attempt["response_excerpt"].as_str().unwrap();
            assert_eq!(excerpt.len(), 20 * 1024);
            assert!(excerpt.bytes().all(|b| b == b'a'));

            // No answer within the timeout: recorded as such, retried later.
            receiver.then(Reply::ok().delay(Duration::from_millis(2_500)));
            app.clock.advance_ms(7 * SECOND_MS);
            assert_eq!(app.run_due_webhooks().await, 1);
            let event = demo.event(&app, &id).await;
            assert_eq!(event["state"], "pending");
            let attempt = &event["attempts"][1];
            assert!(attempt["status_code"].is_null(), "{attempt}");
            assert!(
                attempt["error"].as_str().unwrap().contains("timeout"),
                "{attempt}"
            );

            // A 2 MB success is delivered all the same.
            receiver.then(Reply::ok().big_body(2 * 1024 * 1024));
            app.clock.advance_ms(7 * MINUTE_MS);
            assert_eq!(app.run_due_webhooks().await, 1);
            let event = demo.event(&app, &id).await;
            assert_eq!(event["state"], "delivered");
            assert_eq!(
                event["attempts"][2]["response_excerpt"]
                    .as_str()
                    .unwrap()
                    .len(),
                20 * 1024
            );
        },
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// 4. 410 Gone
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn gone_disables_the_url_until_it_is_saved_again() {
    for_each_backend_with(dev, |app| async move {
        let receiver = WebhookReceiver::start().await;
        receiver.then(Reply::status(410).body("gone for good"));
        let demo = demo(&app).await;
        demo.set_webhook_url(&app, &receiver.url()).await;
        demo.create_client(&app, "Before").await;
        let first = demo.events(&app, &[]).await["events"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(app.run_due_webhooks().await, 1);
        assert_eq!(receiver.take().len(), 1);
        let event = demo.event(&app, &first).await;
        assert_eq!(event["state"], "failed", "410 is final for the event");
        assert_eq!(event["attempts"][0]["status_code"], 410);
        app.clock.advance_ms(HOUR_MS);
        assert_eq!(app.run_due_webhooks().await, 0, "not retried");

        assert_eq!(
            count_of_kind(&app, &demo.partner, "owner@demo.test", "webhook_disabled").await,
            1
        );
        assert_eq!(
            count_of_kind(&app, &demo.partner, "member@demo.test", "webhook_disabled").await,
            0,
            "only Owners can save the URL again"
        );

        // Later events are kept, not sent.
        demo.create_client(&app, "During").await;
        let list = demo.events(&app, &[]).await;
        let during = list["events"][0].clone();
        assert_eq!(during["payload"]["data"]["name"], "During");
        assert_eq!(during["state"], "no_url");
        assert_eq!(app.run_due_webhooks().await, 0);
        assert_eq!(receiver.count(), 0);
        let during = during["id"].as_str().unwrap().to_owned();
        let res = demo
            .api
            .post(demo.url(&app, &format!("/events/{during}/resend")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        assert!(
            res.json::<Value>().await.unwrap()["meta"]["developer_message"]
                .as_str()
                .unwrap()
                .contains("410")
        );

        // Saving the URL again resumes deliveries; the missed event can be resent.
        demo.set_webhook_url(&app, &receiver.url()).await;
        demo.create_client(&app, "After").await;
        let res = demo
            .api
            .post(demo.url(&app, &format!("/events/{during}/resend")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(app.run_due_webhooks().await, 2);
        let mut names: Vec<String> = receiver
            .take()
            .iter()
            .map(|r| r.json()["data"]["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["After", "During"]);
        // Still the one notification about the one suspension.
        assert_eq!(
            count_of_kind(&app, &demo.partner, "owner@demo.test", "webhook_disabled").await,
            1
        );
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 5. Test button over the API
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_test_endpoint_sends_a_signed_test_event_and_reports_the_outcome() {
    for_each_backend_with(dev, |app| async move {
        let receiver = WebhookReceiver::start().await;
        let demo = demo(&app).await;
        let test = demo.url(&app, "/webhook_url/test");

        let res = demo.api.post(&test).send().await.unwrap();
        assert_eq!(res.status(), 422, "no URL to test");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["meta"]["success"], false);
        assert_eq!(body["meta"]["http_code"], 422);
        assert!(
            body["meta"]["developer_message"]
                .as_str()
                .unwrap()
                .contains("Save one first")
        );

        demo.set_webhook_url(&app, &receiver.url()).await;
        receiver.then(Reply::ok().body("{\"received\":true}"));
        let res = demo.api.post(&test).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let outcome: Value = res.json().await.unwrap();
        assert_eq!(outcome["success"], true);
        assert_eq!(outcome["status_code"], 200);
        assert!(outcome["latency_ms"].as_i64().unwrap() >= 0);
        assert_eq!(outcome["response_excerpt"], "{\"received\":true}");
        assert!(outcome["error"].is_null());
        let received = receiver.take();
        assert_eq!(received.len(), 1, "sent right away, no dispatcher needed");
        assert_eq!(received[0].event(), "test");
        assert!(received[0].signed_with(&demo.secret(&app).await));
        let test_id = received[0].header("webhook-id").unwrap().to_owned();
        let listed = demo.event(&app, &test_id).await;
        assert_eq!(listed["event"], "test");
        assert_eq!(listed["attempts"][0]["status_code"], 200);
        assert!(
            notifications(&app, &demo.partner).await.is_empty(),
            "a passing test notifies nobody"
        );

        // The test answer shows the first 1 KB only.
        receiver.then(Reply::ok().big_body(2 * 1024 * 1024));
        let outcome: Value = demo
            .api
            .post(&test)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(outcome["success"], true);
        assert_eq!(outcome["response_excerpt"].as_str().unwrap().len(), 1024);

        // A non-2xx answer fails the test.
        receiver.then(Reply::status(500).body("broken"));
        let outcome: Value = demo
            .api
            .post(&test)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(outcome["success"], false);
        assert_eq!(outcome["status_code"], 500);
        assert_eq!(outcome["response_excerpt"], "broken");
        assert!(outcome["error"].as_str().unwrap().contains("500"));

        // Nobody listening: plain words, and a notification for the partner's people.
        let port = closed_port().await;
        demo.set_webhook_url(&app, &format!("http://127.0.0.1:{port}/hook"))
            .await;
        let res = demo.api.post(&test).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let outcome: Value = res.json().await.unwrap();
        assert_eq!(outcome["success"], false);
        assert!(outcome["status_code"].is_null());
        let error = outcome["error"].as_str().unwrap();
        assert_eq!(
            error,
            format!("could not connect: nothing answers at 127.0.0.1:{port}"),
            "plain words, no socket jargon"
        );
        for email in ["owner@demo.test", "member@demo.test"] {
            assert_eq!(
                count_of_kind(&app, &demo.partner, email, "webhook_test_failed").await,
                2,
                "{email}: the 500 and the refused connection"
            );
        }
        // Test events are never retried by the dispatcher.
        app.clock.advance_ms(HOUR_MS);
        assert_eq!(app.run_due_webhooks().await, 0);
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 6. URL rules and the other settings over the API
// ---------------------------------------------------------------------------------------------

/// URLs the Cloud API refuses, with a part of the message that names what is wrong.
pub fn bad_urls() -> Vec<(String, &'static str)> {
    vec![
        ("http://example.com/hook".into(), "http"),
        (
            "https://my_host.example.com/hook".into(),
            "my_host.example.com",
        ),
        ("https://example.com:8443/hook".into(), ":8443"),
        (
            "https://user:pw@example.com/hook".into(),
            "user name or password",
        ),
        (
            format!("https://example.com/{}", "a".repeat(2049 - 20)),
            "2048",
        ),
        ("javascript:alert(1)".into(), "javascript"),
    ]
}

#[tokio::test]
async fn urls_breaking_the_rules_are_refused_with_the_offending_part_named() {
    for_each_backend(|app| async move {
        let demo = demo(&app).await;
        assert_eq!(bad_urls()[4].0.chars().count(), 2049);
        for (url, part) in bad_urls() {
            let res = demo
                .api
                .post(demo.url(&app, "/webhook_url"))
                .json(&json!({ "webhook_url": url }))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 400, "POST webhook_url {url}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["meta"]["success"], false);
            assert_eq!(body["meta"]["http_code"], 400);
            let detail = body["meta"]["details"][0].as_str().unwrap();
            assert!(
                detail.starts_with("webhook_url: ") && detail.contains(part),
                "{url}: {detail}"
            );
            for field in ["webhook_url", "partner_redirect_url"] {
                let res = demo
                    .api
                    .patch(demo.url(&app, ""))
                    .json(&json!({ field: url }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 400, "PATCH {field} {url}");
                let body: Value = res.json().await.unwrap();
                let detail = body["meta"]["details"][0].as_str().unwrap();
                assert!(
                    detail.starts_with(&format!("{field}: ")) && detail.contains(part),
                    "PATCH {field} {url}: {detail}"
                );
            }
        }
        let partner = demo.object(&app).await;
        assert!(partner["webhook_url"].is_null(), "nothing was saved");
        assert!(partner["partner_redirect_url"].is_null());

        // A good URL is saved, normalised, and replaced by the next one; null removes it.
        let saved = demo
            .set_webhook_url(&app, "https://Hooks.Example.com/partnerhub")
            .await;
        assert_eq!(saved["webhook_url"], "https://hooks.example.com/partnerhub");
        let res = demo
            .api
            .patch(demo.url(&app, ""))
            .json(&json!({"webhook_url": "https://two.example.com/h", "partner_redirect_url": "https://example.com/done"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let patched: Value = res.json().await.unwrap();
        assert_eq!(patched["webhook_url"], "https://two.example.com/h");
        assert_eq!(patched["partner_redirect_url"], "https://example.com/done");
        let res = demo
            .api
            .patch(demo.url(&app, ""))
            .json(&json!({"brand_name": "Demo"}))
            .send()
            .await
            .unwrap();
        let patched: Value = res.json().await.unwrap();
        assert_eq!(
            patched["webhook_url"], "https://two.example.com/h",
            "fields not sent stay"
        );
        let cleared = demo
            .api
            .post(demo.url(&app, "/webhook_url"))
            .json(&json!({ "webhook_url": null }))
            .send()
            .await
            .unwrap();
        assert_eq!(cleared.status(), 200);
        assert!(cleared.json::<Value>().await.unwrap()["webhook_url"].is_null());
    })
    .await;
}

#[tokio::test]
async fn hosting_and_storage_region_defaults_over_patch() {
    for_each_backend(|app| async move {
        let demo = demo(&app).await;
        let patch = |body: Value| demo.api.patch(demo.url(&app, "")).json(&body).send();

        let res = patch(json!({"default_hosting_type": "on_premise"}))
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "On-Premise takes no new numbers");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["meta"]["http_code"], 422);
        let res = patch(json!({"default_hosting_type": "cloud_api"}))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.json::<Value>().await.unwrap()["default_hosting_type"],
            "cloud_api"
        );
        let res = patch(json!({"default_hosting_type": "moon"}))
            .await
            .unwrap();
        assert_eq!(res.status(), 400);

        let res = patch(json!({"default_data_storage_region": "DE"}))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.json::<Value>().await.unwrap()["default_data_storage_region"],
            "DE"
        );
        let res = patch(json!({"default_data_storage_region": "FR"}))
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let body: Value = res.json().await.unwrap();
        assert!(
            body["meta"]["details"][0]
                .as_str()
                .unwrap()
                .starts_with("default_data_storage_region: "),
            "{body}"
        );
        let res = patch(json!({"brand_name": "Kept"})).await.unwrap();
        assert_eq!(
            res.json::<Value>().await.unwrap()["default_data_storage_region"],
            "DE",
            "FR changed nothing; absent fields stay"
        );
        let res = patch(json!({"default_data_storage_region": null}))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.json::<Value>().await.unwrap()["default_data_storage_region"].is_null());
    })
    .await;
}

#[tokio::test]
async fn members_read_integration_settings_but_only_owners_change_them() {
    for_each_backend(|app| async move {
        let demo = demo(&app).await;
        demo.set_webhook_url(&app, "https://hooks.example.com/in")
            .await;
        demo.create_client(&app, "Seen By Member").await;
        let owner_secret = demo.secret(&app).await;
        let max = app.api_bearer(&app.bearer("member@demo.test").await);
        let olivia = app.api_bearer(&app.bearer("owner@demo.test").await);

        let forbidden = [
            (
                max.patch(demo.url(&app, ""))
                    .json(&json!({"brand_name": "x"})),
                "PATCH",
            ),
            (
                max.post(demo.url(&app, "/webhook_url"))
                    .json(&json!({"webhook_url": "https://evil.example.com/"})),
                "POST webhook_url",
            ),
            (
                max.get(demo.url(&app, "/webhook_secret")),
                "GET webhook_secret",
            ),
            (max.post(demo.url(&app, "/webhook_secret/rotate")), "rotate"),
        ];
        for (request, what) in forbidden {
            let res = request.send().await.unwrap();
            assert_eq!(res.status(), 403, "{what}");
            let text = res.text().await.unwrap();
            assert!(!text.contains(&owner_secret), "{what}");
            let body: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(body["meta"]["http_code"], 403, "{what}");
        }
        let res = max
            .get(demo.url(&app, "/webhook_url"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.json::<Value>().await.unwrap()["webhook_url"],
            "https://hooks.example.com/in"
        );
        let res = max.get(demo.url(&app, "/events")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await.unwrap()["total"], 1);

        // The Owner's token may; nothing changed meanwhile.
        let res = olivia
            .get(demo.url(&app, "/webhook_secret"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.json::<Value>().await.unwrap()["secret"],
            owner_secret.as_str()
        );
        let res = olivia
            .post(demo.url(&app, "/webhook_url"))
            .json(&json!({"webhook_url": "https://hooks.example.com/owner"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 7. Secret rotation
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_rotated_secret_keeps_signing_for_24_hours() {
    for_each_backend_with(dev, |app| async move {
        let receiver = WebhookReceiver::start().await;
        let demo = demo(&app).await;
        demo.set_webhook_url(&app, &receiver.url()).await;
        let old = demo.secret(&app).await;
        assert_eq!(demo.secret(&app).await, old, "revealing does not change it");

        let res = demo
            .api
            .post(demo.url(&app, "/webhook_secret/rotate"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let new = res.json::<Value>().await.unwrap()["secret"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(new.starts_with("whsec_"));
        assert_ne!(new, old);
        assert_eq!(demo.secret(&app).await, new, "the new one is current");

        let deliver = |name: &'static str| {
            let demo = &demo;
            let app = &app;
            let receiver = &receiver;
            async move {
                demo.create_client(app, name).await;
                assert_eq!(app.run_due_webhooks().await, 1);
                receiver.take().pop().unwrap()
            }
        };
        let both = deliver("Right after").await;
        assert_eq!(both.signatures().len(), 2, "{:?}", both.signatures());
        assert!(both.signed_with(&new) && both.signed_with(&old));

        app.clock.advance_ms(24 * HOUR_MS - SECOND_MS);
        let still = deliver("Almost a day").await;
        assert_eq!(still.signatures().len(), 2);
        assert!(still.signed_with(&old));

        app.clock.advance_ms(2 * SECOND_MS);
        let only = deliver("A day later").await;
        assert_eq!(only.signatures(), vec![only.expected_signature(&new)]);
        assert!(!only.signed_with(&old));

        // A second rotation retires the first secret at once and starts a new grace period.
        let newest: Value = demo
            .api
            .post(demo.url(&app, "/webhook_secret/rotate"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let newest = newest["secret"].as_str().unwrap().to_owned();
        let after = deliver("Twice rotated").await;
        assert_eq!(after.signatures().len(), 2);
        assert!(after.signed_with(&newest) && after.signed_with(&new));
        assert!(!after.signed_with(&old));
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// 8. SSRF guard
// ---------------------------------------------------------------------------------------------

fn production_config() -> hub::config::Config {
    let dir = std::env::temp_dir();
    let config = hub::config::Config::local(
        "127.0.0.1:0".parse().unwrap(),
        dir.clone(),
        store::Db::sqlite_url(&dir),
    )
    .unwrap();
    assert!(!config.dev);
    config
}

#[tokio::test]
async fn outside_development_mode_webhooks_cannot_reach_this_machine() {
    let receiver = WebhookReceiver::start().await;
    let port = receiver.port();
    let client = hub::providers::webhook_client::WebhookClient::new(&production_config()).unwrap();
    let headers = [("webhook-id".to_owned(), "evt_ssrf".to_owned())];
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://localhost:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://0.0.0.0:{port}/"),
        format!("http://2130706433:{port}/"),
    ] {
        let exchange = client.post(&url, &headers, "{}".into()).await;
        assert!(exchange.status.is_none(), "{url}: {exchange:?}");
        let error = exchange.error.unwrap_or_default();
        assert!(
            error.contains("addresses in private networks are not allowed"),
            "{url}: error {error:?}"
        );
        let exchange = client.get(&url).await;
        assert!(exchange.status.is_none(), "GET {url}");
    }
    assert_eq!(receiver.count(), 0, "the receiver saw nothing");

    // A name that does not resolve is said so, without the resolver's jargon (issue 15, item 6).
    let exchange = client.get("https://example.invalid/hook").await;
    let error = exchange.error.unwrap_or_default();
    assert!(
        error.starts_with("the name example.invalid does not resolve"),
        "{error:?}"
    );
    assert!(
        !error.contains("lookup") && !error.contains("dns error"),
        "{error:?}"
    );

    let mut config = production_config();
    config.webhooks.allow = domain::ip_policy::AllowList::parse_list("127.0.0.0/8").unwrap();
    let client = hub::providers::webhook_client::WebhookClient::new(&config).unwrap();
    for url in [
        format!("http://127.0.0.1:{port}/allowed"),
        format!("http://localhost:{port}/allowed"),
    ] {
        let exchange = client.post(&url, &headers, "{\"ok\":1}".into()).await;
        assert_eq!(exchange.status, Some(200), "{url}: {exchange:?}");
        assert_eq!(exchange.excerpt.as_deref(), Some("ok"));
    }
    let received = receiver.take();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].header("webhook-id"), Some("evt_ssrf"));
    assert_eq!(received[0].json()["ok"], 1);
}

#[tokio::test]
async fn the_outbound_client_follows_no_redirects() {
    let receiver = WebhookReceiver::start().await;
    let target = WebhookReceiver::start().await;
    let mut config = production_config();
    config.dev = true;
    let client = hub::providers::webhook_client::WebhookClient::new(&config).unwrap();
    receiver.then(Reply::status(307).header("location", &target.url()));
    // A 3xx is an answer like any other (and no success); its Location is not followed.
    let exchange = client.post(&receiver.url(), &[], "{}".into()).await;
    assert_eq!(exchange.status, Some(307));
    assert!(!exchange.is_success());
    assert_eq!(receiver.count(), 1);
    assert_eq!(target.count(), 0, "the signed event went nowhere else");
}

// ---------------------------------------------------------------------------------------------
// The events list: paging, dates, sort
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_events_list_pages_and_filters_by_date() {
    for_each_backend(|app| async move {
        let demo = demo(&app).await;
        for name in ["One", "Two", "Three"] {
            demo.create_client(&app, name).await;
            app.clock.advance_ms(HOUR_MS);
        }
        let names = |list: &Value| {
            list["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["payload"]["data"]["name"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        let all = demo.events(&app, &[]).await;
        assert_eq!(names(&all), ["Three", "Two", "One"], "newest first");
        let page = demo.events(&app, &[("limit", "1"), ("offset", "1")]).await;
        assert_eq!(page["count"], 1);
        assert_eq!(page["total"], 3);
        assert_eq!(names(&page), ["Two"]);

        let t0_s = T0_MS / 1000;
        let since = (t0_s + 3600).to_string();
        let until = (t0_s + 2 * 3600).to_string();
        let window = demo
            .events(&app, &[("start_date", &since), ("end_date", &until)])
            .await;
        assert_eq!(names(&window), ["Two"], "start inclusive, end exclusive");
        let res = demo
            .api
            .get(demo.url(&app, "/events"))
            .query(&[("start_date", "yesterday")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let body: Value = res.json().await.unwrap();
        assert!(
            body["meta"]["details"][0]
                .as_str()
                .unwrap()
                .starts_with("start_date: ")
        );
        let res = demo
            .api
            .get(demo.url(&app, "/events"))
            .query(&[("sort", "-event")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "only created_at sorts");
    })
    .await;
}

#[tokio::test]
async fn the_events_list_sorts_oldest_first_when_asked() {
    for_each_backend(|app| async move {
        let demo = demo(&app).await;
        for name in ["One", "Two"] {
            demo.create_client(&app, name).await;
            app.clock.advance_ms(HOUR_MS);
        }
        let list = demo.events(&app, &[("sort", "created_at")]).await;
        assert_eq!(list["sort"], json!(["created_at"]));
        assert_eq!(list["events"][0]["payload"]["data"]["name"], "One");
        assert_eq!(list["events"][1]["payload"]["data"]["name"], "Two");
    })
    .await;
}

#[tokio::test]
async fn an_on_premise_partner_may_only_move_to_the_cloud_api() {
    for_each_backend(|app| async move {
        let demo = demo(&app).await;
        store::webhooks::set_defaults(app.state.db.pool(), &demo.partner, Some("on_premise"), None)
            .await
            .unwrap();
        let patch = |body: Value| demo.api.patch(demo.url(&app, "")).json(&body).send();
        let res = patch(json!({"default_hosting_type": "on_premise"}))
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "staying is no change");
        assert_eq!(
            res.json::<Value>().await.unwrap()["default_hosting_type"],
            "on_premise"
        );
        let res = patch(
            json!({"default_hosting_type": "cloud_api", "default_data_storage_region": "IN"}),
        )
        .await
        .unwrap();
        assert_eq!(res.status(), 200);
        let partner: Value = res.json().await.unwrap();
        assert_eq!(partner["default_hosting_type"], "cloud_api");
        assert_eq!(partner["default_data_storage_region"], "IN");
        let res = patch(json!({"default_hosting_type": "on_premise"}))
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "and never back");
    })
    .await;
}

/// The audit log says the webhook URL changed but keeps no token the partner put in its query
/// string; the setting itself (which deliveries use) keeps the whole URL.
#[tokio::test]
async fn the_audit_log_keeps_no_token_of_a_saved_url() {
    for_each_backend_with(dev, |app| async move {
        let demo = demo(&app).await;
        let receiver = WebhookReceiver::start().await;
        let url = format!("{}?token=s3cr3t-value&region=eu", receiver.url());
        demo.set_webhook_url(&app, &url).await;
        assert_eq!(demo.object(&app).await["webhook_url"], url.as_str());
        let entries = store::audit::for_partner(app.state.db.pool(), &demo.partner, 50)
            .await
            .unwrap();
        let saved = entries
            .iter()
            .find(|e| e.action == "partner.webhook_url")
            .expect("the change is audited");
        assert_eq!(
            saved.detail,
            format!("{}?token=***&region=***", receiver.url())
        );
        assert!(entries.iter().all(|e| !e.detail.contains("s3cr3t")));
    })
    .await;
}
