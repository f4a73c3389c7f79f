//! A full disk: writes answer 503 with a message that says so (API envelope and page), `/readyz`
//! reports it, nothing half-written stays behind, and once there is room again the next write
//! and the next webhook delivery succeed without a restart.

use crate::support::app::{Backend, Options, TestApp};
use crate::support::webhook_receiver::WebhookReceiver;
use serde_json::{Value, json};

async fn page_count(app: &TestApp) -> u64 {
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    u64::try_from(pages).unwrap()
}

async fn clients(app: &TestApp, api: &reqwest::Client, partner: &str) -> i64 {
    let res = api
        .get(app.link(&format!("/api/v2/partners/{partner}/clients")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "reads keep working while the disk is full"
    );
    res.json::<Value>().await.unwrap()["total"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_full_disk_answers_503_and_writes_resume_once_there_is_room() {
    let limit = store::PageLimit::new(u64::from(u32::MAX));
    let app = TestApp::start(
        Backend::Sqlite,
        Options {
            dev: true,
            page_limit: Some(limit.clone()),
            ..Options::default()
        },
    )
    .await;
    let partner = app.partner("Full Disk Partner").await;
    let api = app.api(&app.api_key(&partner).await);
    let hooks = WebhookReceiver::start().await;
    let res = api
        .patch(app.link(&format!("/api/v2/partners/{partner}")))
        .json(&json!({"webhook_url": hooks.url()}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let create = |name: String| {
        api.post(app.link(&format!("/api/v2/partners/{partner}/clients")))
            .json(&json!({"name": name, "partner_payload": "x".repeat(2000)}))
            .send()
    };
    app.user(
        "owner@full.test",
        "Olivia Owner",
        &[(&partner, domain::Role::Owner)],
    )
    .await;
    let olivia = app.login("owner@full.test").await;
    assert_eq!(create("Before".into()).await.unwrap().status(), 201);
    let before = clients(&app, &api, partner.as_str()).await;
    assert_eq!(before, 1);

    // The disk fills up: no page more than the file has now.
    limit.set(page_count(&app).await);
    let mut refused = None;
    for i in 0..200 {
        let res = create(format!("Filler {i}")).await.unwrap();
        if res.status() != 201 {
            refused = Some(res);
            break;
        }
    }
    let res = refused.expect("the database never reported full");
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    let message = body["meta"]["developer_message"].as_str().unwrap();
    assert!(message.contains("storage is full"), "{body}");
    assert_eq!(body["meta"]["http_code"], 503);
    let full = clients(&app, &api, partner.as_str()).await;

    // Every connection of the pool meets the full disk, over and over.
    for i in 0..12 {
        let res = create(format!("Refused {i}")).await.unwrap();
        assert_eq!(res.status(), 503, "write {i} while full");
    }
    assert_eq!(
        clients(&app, &api, partner.as_str()).await,
        full,
        "nothing half-written"
    );
    let ready = app.client().get(app.link("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert!(ready.text().await.unwrap().contains("storage full"));
    // A form says it in words, and keeps what was typed.
    let res = olivia
        .post(app.link(&format!("/partner/{partner}/accounts/clients/new")))
        .form(&[
            ("name", "Typed While Full"),
            ("email", "typed@full.test"),
            ("partner_payload", &"y".repeat(2000)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let html = res.text().await.unwrap();
    assert!(html.contains("storage is full"), "{html}");
    assert!(html.contains("value=\"Typed While Full\""), "{html}");

    // Space is freed: the next write and the next delivery work, without a restart.
    limit.set(u64::from(u32::MAX));
    let ready = app.client().get(app.link("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    for i in 0..12 {
        let res = create(format!("After {i}")).await.unwrap();
        assert_eq!(res.status(), 201, "write {i} after space returned");
    }
    assert_eq!(clients(&app, &api, partner.as_str()).await, full + 12);
    app.run_due_webhooks().await;
    let delivered: Vec<String> = hooks
        .received()
        .iter()
        .map(|r| r.json()["data"]["name"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(
        delivered.iter().any(|n| n == "After 11"),
        "the event of a write after the disk freed up was delivered: {delivered:?}"
    );
    assert!(
        !delivered.iter().any(|n| n.starts_with("Refused")),
        "no event of a refused write: {delivered:?}"
    );
    app.finish().await;
}
