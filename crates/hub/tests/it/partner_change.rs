//! Partner change as the three parties live it: a client asks in the Client Hub to move a WABA
//! to another partner; the receiving partner's people are notified and accept (or decline) on
//! the Partner Change page, or it is auto-approved through the Partner API setting; on
//! acceptance WABA, numbers and client move in one go, counts stay right for both partners and
//! both partners' webhooks hear `partner_change_requested` and `partner_change_completed`.

use crate::client_hub::{Partner, client_user, follow, partner, post_form};
use crate::support::app::{Role, TestApp, for_each_backend_with};
use crate::support::webhook_receiver::WebhookReceiver;
use crate::webhooks::dev;
use domain::PaymentModel;
use hub::clock::Clock;
use serde_json::{Value, json};

async fn set_webhook(app: &TestApp, p: &Partner, receiver: &WebhookReceiver) {
    let res = p
        .api
        .post(p.url(app, "/webhook_url"))
        .json(&json!({"webhook_url": receiver.url()}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

async fn waba_of(app: &TestApp, p: &Partner, channel: &str) -> String {
    p.channel(app, channel).await["waba_account_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn request_id(app: &TestApp, waba: &str) -> String {
    sqlx::query_scalar(
        "SELECT id FROM partner_change_requests WHERE waba_id = $1 ORDER BY created_ms DESC LIMIT 1",
    )
    .bind(waba)
    .fetch_one(app.state.db.pool())
    .await
    .unwrap()
}

/// `channel_counts` of a partner equals a real count of its channels, status by status.
async fn assert_counts_right(app: &TestApp, p: &Partner) {
    let counted: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, n FROM channel_counts WHERE partner_id = $1 AND n <> 0 ORDER BY status",
    )
    .bind(p.id.as_str())
    .fetch_all(app.state.db.pool())
    .await
    .unwrap();
    let real: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, CAST(COUNT(*) AS BIGINT) FROM channels WHERE partner_id = $1 GROUP BY status ORDER BY status",
    )
    .bind(p.id.as_str())
    .fetch_all(app.state.db.pool())
    .await
    .unwrap();
    assert_eq!(counted, real, "channel_counts of {}", p.id);
}

async fn total_channels(app: &TestApp, p: &Partner) -> i64 {
    let list: Value = p
        .api
        .get(p.url(app, "/channels"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    list["total"].as_i64().unwrap()
}

async fn kinds(app: &TestApp, p: &Partner, kind: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT u.email FROM notifications n JOIN users u ON u.id = n.user_id
          WHERE n.partner_id = $1 AND n.kind = $2 ORDER BY u.email",
    )
    .bind(p.id.as_str())
    .bind(kind)
    .fetch_all(app.state.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn an_accepted_partner_change_moves_the_waba_numbers_and_client() {
    for_each_backend_with(dev, |app| async move {
        let old = partner(&app, "Old Partner", PaymentModel::PartnerPayment).await;
        let new = partner(&app, "New Partner", PaymentModel::DirectPayment).await;
        let bystander = partner(&app, "Third Partner", PaymentModel::PartnerPayment).await;
        app.user("member@newpartner.test", "Max Member", &[(&new.id, Role::Member)])
            .await;
        let (old_hooks, new_hooks) = (WebhookReceiver::start().await, WebhookReceiver::start().await);
        set_webhook(&app, &old, &old_hooks).await;
        set_webhook(&app, &new, &new_hooks).await;
        let acme = old.client(&app, "Acme Shoes").await;
        let bella = old.client(&app, "Bella Pasta").await;
        let first = old.running_number(&app, &acme, "+4915123457401").await;
        let second = old.running_number(&app, &acme, "+4915123457402").await;
        old.running_number(&app, &bella, "+4915123457403").await;
        app.clock.advance_ms(31_000);
        assert_eq!(old.create_key(&app, &first).await.status(), 200);
        let waba = waba_of(&app, &old, &first).await;
        client_user(&app, "clara@acme.test", &old.id, &acme).await;
        let clara = app.login("clara@acme.test").await;
        app.run_due_webhooks().await;
        old_hooks.take();
        new_hooks.take();

        // The client asks.
        let res = post_form(
            &clara,
            &app,
            &format!("/client/{acme}/partner-change"),
            &[("waba", waba.as_str()), ("partner_id", new.id.as_str())],
        )
        .await;
        assert_eq!(res.status(), 303);
        let html = follow(&clara, &app, &format!("/client/{acme}")).await.1.text().await.unwrap();
        assert!(html.contains("Request sent") && html.contains("Waiting for the new partner"));
        let id = request_id(&app, &waba).await;
        assert_eq!(
            kinds(&app, &new, "partner_change_requested").await,
            vec!["member@newpartner.test".to_owned(), new.owner.clone()]
        );
        assert!(kinds(&app, &old, "partner_change_requested").await.is_empty());

        // Who sees what on the Partner Change pages.
        let new_owner = app.login(&new.owner).await;
        let page = format!("/partner/{}/partner-change", new.id);
        let html = follow(&new_owner, &app, &page).await.1.text().await.unwrap();
        assert!(html.contains(&format!("id=\"accept-{id}\"")) && html.contains("Acme Shoes"));
        assert!(html.contains("Old Partner"));
        // The account carries its client's name: named once (issue 15, item 4).
        assert!(!html.contains("Acme Shoes of Acme Shoes"), "{html}");
        assert!(
            html.contains("Take over the WhatsApp Business Account of Acme Shoes, with its 2 numbers, from Old Partner"),
            "{html}"
        );
        let old_owner = app.login(&old.owner).await;
        let html = follow(&old_owner, &app, &format!("/partner/{}/partner-change", old.id))
            .await
            .1
            .text()
            .await
            .unwrap();
        assert!(html.contains(&id) && html.contains("Your clients moving away"));
        assert!(!html.contains(&format!("id=\"accept-{id}\"")), "read-only for the old partner");
        let third = app.login(&bystander.owner).await;
        let html = follow(&third, &app, &format!("/partner/{}/partner-change", bystander.id))
            .await
            .1
            .text()
            .await
            .unwrap();
        assert!(!html.contains(&id) && !html.contains("Acme Shoes"));
        for (who, p) in [(&third, &bystander), (&old_owner, &old)] {
            for action in ["accept", "decline"] {
                let path = format!("/partner/{}/partner-change/{id}/{action}", p.id);
                assert_eq!(post_form(who, &app, &path, &[]).await.status(), 404, "{path}");
            }
        }

        // Accepted on the page.
        let res = post_form(&new_owner, &app, &format!("{page}/{id}/accept"), &[]).await;
        assert_eq!(res.status(), 303);
        let html = follow(&new_owner, &app, &page).await.1.text().await.unwrap();
        assert!(
            html.contains("Acme Shoes moved to you: the WhatsApp Business Account of Acme Shoes, with 2 numbers."),
            "{html}"
        );
        // Accepting again is refused.
        assert_eq!(post_form(&new_owner, &app, &format!("{page}/{id}/accept"), &[]).await.status(), 422);

        // The old partner's API no longer finds them; the new partner's lists them.
        for channel in [&first, &second] {
            let res = old.api.get(old.url(&app, &format!("/channels/{channel}"))).send().await.unwrap();
            assert_eq!(res.status(), 404);
            let moved = new.channel(&app, channel).await;
            assert_eq!(moved["client_id"], acme.as_str());
            assert_eq!(moved["waba_account_id"], waba.as_str());
            assert_eq!(moved["status"], "running");
            assert_eq!(moved["partner_permission"], "missing", "a Direct-Payment partner needs a new grant");
        }
        assert_eq!(total_channels(&app, &old).await, 1);
        assert_eq!(total_channels(&app, &new).await, 2);
        let res = old.api.get(old.url(&app, &format!("/clients/{acme}"))).send().await.unwrap();
        assert_eq!(res.status(), 404);
        let res = new.api.get(new.url(&app, &format!("/clients/{acme}"))).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_counts_right(&app, &old).await;
        assert_counts_right(&app, &new).await;
        let filtered: Value = new
            .api
            .get(new.url(&app, "/channels"))
            .query(&[("filters", r#"{"status":"running"}"#)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(filtered["total"], 2);
        let search: Value = new
            .api
            .get(new.url(&app, "/channels"))
            .query(&[("q", "acme shoes")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(search["total"], 2, "free text follows the partner");
        // History moved with the channel; the old partner's key was revoked.
        let history: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT partner_id FROM channel_status_history WHERE channel_id = $1",
        )
        .bind(&first)
        .fetch_all(app.state.db.pool())
        .await
        .unwrap();
        assert_eq!(history, vec![new.id.to_string()]);
        let live: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM channel_api_keys WHERE channel_id = $1 AND revoked_ms IS NULL",
        )
        .bind(&first)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
        assert_eq!(live, 0);
        let html = follow(&new_owner, &app, &format!("/partner/{}/accounts/{first}", new.id))
            .await
            .1
            .text()
            .await
            .unwrap();
        assert!(html.contains("Status history") && html.contains("verification code accepted"));

        // Both partners' webhooks heard both events.
        app.run_due_webhooks().await;
        for hooks in [&old_hooks, &new_hooks] {
            let got: Vec<Value> = hooks
                .take()
                .iter()
                .map(|r| r.json())
                .filter(|e| e["event"].as_str().unwrap().starts_with("partner_change"))
                .collect();
            // Events of one moment may arrive in any order; each arrives once.
            assert_eq!(got.len(), 2, "{got:?}");
            let of = |name: &str| {
                got.iter()
                    .find(|e| e["event"] == name)
                    .unwrap_or_else(|| panic!("{name} arrived"))
                    .clone()
            };
            assert_eq!(of("partner_change_requested")["data"]["status"], "requested");
            assert_eq!(
                of("partner_change_completed")["data"],
                json!({
                    "id": id, "waba_account_id": waba, "client_id": acme, "to_client_id": acme,
                    "from_partner_id": old.id, "to_partner_id": new.id, "status": "accepted",
                })
            );
        }
        // Both partners and the client were told.
        assert_eq!(kinds(&app, &old, "partner_change_completed").await, vec![old.owner.clone()]);
        assert_eq!(kinds(&app, &new, "partner_change_completed").await.len(), 2);
        let (subject, _) = app.last_mail_to("clara@acme.test").await.unwrap();
        assert!(subject.contains("New Partner"));
        // The client keeps its Client Hub, now with the new partner.
        let html = follow(&clara, &app, &format!("/client/{acme}")).await.1.text().await.unwrap();
        assert!(html.contains("with <strong>New Partner</strong>"));
        assert!(html.contains("Accepted: moved"));
        assert!(html.contains("+4915123457401"));
    })
    .await;
}

#[tokio::test]
async fn requests_are_checked_and_a_declined_one_changes_nothing() {
    for_each_backend_with(dev, |app| async move {
        let old = partner(&app, "Old Partner", PaymentModel::DirectPayment).await;
        let new = partner(&app, "New Partner", PaymentModel::PartnerPayment).await;
        let gone = partner(&app, "Gone Partner", PaymentModel::PartnerPayment).await;
        crate::support::fixtures::suspend(&app, &gone.id).await;
        let acme = old.client(&app, "Acme Shoes").await;
        let number = old.running_number(&app, &acme, "+4915123457501").await;
        let waba = waba_of(&app, &old, &number).await;
        client_user(&app, "clara@acme.test", &old.id, &acme).await;
        let clara = app.login("clara@acme.test").await;
        let path = format!("/client/{acme}/partner-change");
        for (target, message) in [
            ("", "is required"),
            ("nonsense", "is not a Partner ID"),
            ("zzzzzzPA", "no partner has this Partner ID"),
            (old.id.as_str(), "your partner already"),
            (gone.id.as_str(), "is suspended"),
        ] {
            let res = post_form(
                &clara,
                &app,
                &path,
                &[("waba", waba.as_str()), ("partner_id", target)],
            )
            .await;
            assert_eq!(res.status(), 400, "{target}");
            let html = res.text().await.unwrap();
            assert!(html.contains(message), "{target}: {message}");
            assert!(
                html.contains(&format!("value=\"{target}\"")),
                "the value stays"
            );
        }
        let res = post_form(
            &clara,
            &app,
            &path,
            &[("waba", "zzzzzzWA"), ("partner_id", new.id.as_str())],
        )
        .await;
        assert_eq!(res.status(), 400);
        let count: i64 =
            sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM partner_change_requests")
                .fetch_one(app.state.db.pool())
                .await
                .unwrap();
        assert_eq!(count, 0);

        let ok = [("waba", waba.as_str()), ("partner_id", new.id.as_str())];
        assert_eq!(post_form(&clara, &app, &path, &ok).await.status(), 303);
        let res = post_form(&clara, &app, &path, &ok).await;
        assert_eq!(res.status(), 400, "one open request per WABA");
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("already has an open partner change request")
        );

        let id = request_id(&app, &waba).await;
        let new_owner = app.login(&new.owner).await;
        let page = format!("/partner/{}/partner-change", new.id);
        assert_eq!(
            post_form(&new_owner, &app, &format!("{page}/{id}/decline"), &[])
                .await
                .status(),
            303
        );
        assert_eq!(
            post_form(&new_owner, &app, &format!("{page}/{id}/accept"), &[])
                .await
                .status(),
            422
        );
        assert_eq!(old.channel(&app, &number).await["status"], "running");
        assert_eq!(total_channels(&app, &new).await, 0);
        assert_counts_right(&app, &old).await;
        let html = follow(&clara, &app, &format!("/client/{acme}"))
            .await
            .1
            .text()
            .await
            .unwrap();
        assert!(html.contains("Declined"));
        assert!(
            app.last_mail_to("clara@acme.test")
                .await
                .unwrap()
                .0
                .contains("declined")
        );
        // After a decline the client may ask again.
        assert_eq!(post_form(&clara, &app, &path, &ok).await.status(), 303);
    })
    .await;
}

#[tokio::test]
async fn auto_approve_is_a_partner_setting_and_moves_at_once() {
    for_each_backend_with(dev, |app| async move {
        let old = partner(&app, "Old Partner", PaymentModel::PartnerPayment).await;
        let new = partner(&app, "New Partner", PaymentModel::PartnerPayment).await;
        app.user(
            "member@newpartner.test",
            "Max Member",
            &[(&new.id, Role::Member)],
        )
        .await;
        let setting = new.url(&app, "/settings/partner_change_request");
        let patch = |body: Value| {
            let api = new.api.clone();
            let setting = setting.clone();
            async move { api.patch(setting).json(&body).send().await.unwrap() }
        };
        for bad in [
            json!({"auto_approve": 42}),
            json!({"auto_approve": "yes"}),
            json!({}),
            json!({"auto_approve": null}),
            json!({"auto_approve": true, "x": 1}),
        ] {
            assert_eq!(patch(bad.clone()).await.status(), 400, "{bad}");
        }
        let res = patch(json!({"auto_approve": "true"})).await;
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.json::<Value>().await.unwrap(),
            json!({"auto_approve": true})
        );
        let object = new.object(&app).await;
        assert_eq!(
            object["settings"]["partner_change_request"]["auto_approve"],
            true
        );
        let res = patch(json!({"auto_approve": false})).await;
        assert_eq!(
            res.json::<Value>().await.unwrap(),
            json!({"auto_approve": false})
        );
        let member = app.api_bearer(&app.bearer("member@newpartner.test").await);
        let res = member
            .patch(&setting)
            .json(&json!({"auto_approve": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        // Another partner's setting is not ours to change.
        let res = old
            .api
            .patch(&setting)
            .json(&json!({"auto_approve": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        assert_eq!(patch(json!({"auto_approve": true})).await.status(), 200);

        // The Partner Change page shows it; Owners may switch it there too, Members not.
        let owner = app.login(&new.owner).await;
        let page = format!("/partner/{}/partner-change", new.id);
        let html = follow(&owner, &app, &page).await.1.text().await.unwrap();
        assert!(html.contains("id=\"auto-approve-state\">On"));
        let max = app.login("member@newpartner.test").await;
        let res = post_form(
            &max,
            &app,
            &format!("{page}/auto-approve"),
            &[("auto_approve", "0")],
        )
        .await;
        assert_eq!(res.status(), 403);

        let (old_hooks, new_hooks) = (
            WebhookReceiver::start().await,
            WebhookReceiver::start().await,
        );
        set_webhook(&app, &old, &old_hooks).await;
        set_webhook(&app, &new, &new_hooks).await;
        let acme = old.client(&app, "Acme Shoes").await;
        let number = old.running_number(&app, &acme, "+4915123457601").await;
        let waba = waba_of(&app, &old, &number).await;
        client_user(&app, "clara@acme.test", &old.id, &acme).await;
        let clara = app.login("clara@acme.test").await;
        let res = post_form(
            &clara,
            &app,
            &format!("/client/{acme}/partner-change"),
            &[("waba", waba.as_str()), ("partner_id", new.id.as_str())],
        )
        .await;
        assert_eq!(res.status(), 303);
        let (path, res) = follow(&clara, &app, res.headers()["location"].to_str().unwrap()).await;
        assert_eq!(path, format!("/client/{acme}"));
        assert!(res.text().await.unwrap().contains("took over"));
        assert_eq!(
            new.channel(&app, &number).await["partner_permission"],
            "shared"
        );
        assert_counts_right(&app, &old).await;
        assert_counts_right(&app, &new).await;
        app.run_due_webhooks().await;
        for hooks in [&old_hooks, &new_hooks] {
            let mut events: Vec<String> = hooks
                .take()
                .iter()
                .map(|r| r.event())
                .filter(|e| e.starts_with("partner_change"))
                .collect();
            events.sort();
            assert_eq!(
                events,
                ["partner_change_completed", "partner_change_requested"]
            );
        }
        let decided: Option<String> =
            sqlx::query_scalar("SELECT decided_by FROM partner_change_requests")
                .fetch_one(app.state.db.pool())
                .await
                .unwrap();
        assert_eq!(decided.as_deref(), Some("auto_approve"));

        // Switching it off on the page.
        let res = post_form(
            &owner,
            &app,
            &format!("{page}/auto-approve"),
            &[("auto_approve", "0")],
        )
        .await;
        assert_eq!(res.status(), 303);
        let object = new.object(&app).await;
        assert_eq!(
            object["settings"]["partner_change_request"]["auto_approve"],
            false
        );
    })
    .await;
}

#[tokio::test]
async fn a_client_with_two_wabas_is_split_into_a_new_client_with_the_same_people() {
    for_each_backend_with(dev, |app| async move {
        let old = partner(&app, "Old Partner", PaymentModel::PartnerPayment).await;
        let new = partner(&app, "New Partner", PaymentModel::PartnerPayment).await;
        let acme = old.client(&app, "Acme Shoes").await;
        let kept = old.running_number(&app, &acme, "+4915123457701").await;
        let kept_waba = waba_of(&app, &old, &kept).await;
        // A second WABA of the same client, with a number of its own.
        let second_waba = domain::WabaId::generate();
        store::wabas::create(
            app.state.db.pool(),
            &old.id,
            &store::wabas::NewWaba {
                id: &second_waba,
                client_id: &domain::ClientId::parse(&acme).unwrap(),
                name: "Acme Outlet",
                external_id: None,
                namespace: None,
                fb_account_status: "pending",
                business_name: Some("Acme Outlet"),
            },
            app.clock.now_ms(),
        )
        .await
        .unwrap();
        let moving = old
            .running_number_on(&app, &acme, "+4915123457702", Some(second_waba.as_str()))
            .await;
        client_user(&app, "clara@acme.test", &old.id, &acme).await;
        client_user(&app, "carl@acme.test", &old.id, &acme).await;
        let clara = app.login("clara@acme.test").await;
        let res = post_form(
            &clara,
            &app,
            &format!("/client/{acme}/partner-change"),
            &[("waba", second_waba.as_str()), ("partner_id", new.id.as_str())],
        )
        .await;
        assert_eq!(res.status(), 303);
        let id = request_id(&app, second_waba.as_str()).await;
        let owner = app.login(&new.owner).await;
        let res = post_form(&owner, &app, &format!("/partner/{}/partner-change/{id}/accept", new.id), &[]).await;
        assert_eq!(res.status(), 303);

        // The old client stays with the old partner, with its other WABA.
        let stays = old.channel(&app, &kept).await;
        assert_eq!(stays["client_id"], acme.as_str());
        assert_eq!(stays["waba_account_id"], kept_waba.as_str());
        assert_eq!(old.api.get(old.url(&app, &format!("/clients/{acme}"))).send().await.unwrap().status(), 200);
        // The moved WABA belongs to a new client of the new partner, with the same details.
        let moved = new.channel(&app, &moving).await;
        let new_client = moved["client_id"].as_str().unwrap().to_owned();
        assert_ne!(new_client, acme);
        let client: Value = new
            .api
            .get(new.url(&app, &format!("/clients/{new_client}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(client["name"], "Acme Shoes");
        assert_eq!(client["contact_info"]["email"], "team@client.test");
        assert_counts_right(&app, &old).await;
        assert_counts_right(&app, &new).await;
        assert_eq!(total_channels(&app, &old).await, 1);
        assert_eq!(total_channels(&app, &new).await, 1);
        // Both people reach both clients; each page shows its own numbers.
        for email in ["clara@acme.test", "carl@acme.test"] {
            let person = app.login(email).await;
            let html = follow(&person, &app, &format!("/client/{new_client}")).await.1.text().await.unwrap();
            assert!(html.contains("+4915123457702") && !html.contains("+4915123457701"), "{email}");
            assert!(html.contains("with <strong>New Partner</strong>"));
            let html = follow(&person, &app, &format!("/client/{acme}")).await.1.text().await.unwrap();
            assert!(html.contains("+4915123457701") && !html.contains("+4915123457702"));
            assert!(html.contains(&format!("href=\"/client/{new_client}\"")), "the switcher lists both");
        }
        let events: Vec<Value> = sqlx::query_scalar::<_, String>(
            "SELECT body FROM webhook_events WHERE partner_id = $1 AND event_type = 'partner_change_completed'",
        )
        .bind(old.id.as_str())
        .fetch_all(app.state.db.pool())
        .await
        .unwrap()
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["data"]["client_id"], acme.as_str());
        assert_eq!(events[0]["data"]["to_client_id"], new_client.as_str());
    })
    .await;
}

/// A client takes back a request the receiving partner has not decided yet: nothing moves, the
/// receiving partner is told and can no longer accept it, the client may ask again, and nobody
/// else (another client of the same partner, the receiving partner's people) can withdraw it.
#[tokio::test]
async fn a_client_withdraws_an_open_request_before_the_partner_decides() {
    for_each_backend_with(dev, |app| async move {
        let old = partner(&app, "Old Partner", PaymentModel::PartnerPayment).await;
        let new = partner(&app, "New Partner", PaymentModel::PartnerPayment).await;
        let acme = old.client(&app, "Acme Shoes").await;
        let number = old.running_number(&app, &acme, "+4915123457601").await;
        let waba = waba_of(&app, &old, &number).await;
        client_user(&app, "clara@acme.test", &old.id, &acme).await;
        let clara = app.login("clara@acme.test").await;
        let ok = [("waba", waba.as_str()), ("partner_id", new.id.as_str())];
        let request_path = format!("/client/{acme}/partner-change");
        assert_eq!(
            post_form(&clara, &app, &request_path, &ok).await.status(),
            303
        );
        let id = request_id(&app, &waba).await;
        let withdraw = format!("/client/{acme}/partner-change/{id}/withdraw");

        // Another client of the same partner, and the receiving partner's Owner, cannot.
        let other = old.client(&app, "Other Shop").await;
        client_user(&app, "olga@other.test", &old.id, &other).await;
        let olga = app.login("olga@other.test").await;
        let res = post_form(
            &olga,
            &app,
            &format!("/client/{other}/partner-change/{id}/withdraw"),
            &[],
        )
        .await;
        assert_eq!(res.status(), 404, "another client's request");
        assert_eq!(post_form(&olga, &app, &withdraw, &[]).await.status(), 404);
        let new_owner = app.login(&new.owner).await;
        assert_eq!(
            post_form(&new_owner, &app, &withdraw, &[]).await.status(),
            404
        );

        let html = follow(&clara, &app, &format!("/client/{acme}"))
            .await
            .1
            .text()
            .await
            .unwrap();
        assert!(html.contains(&format!("id=\"withdraw-change-{id}\"")));
        assert!(html.contains("data-confirm=\"Withdraw your request"));
        let res = post_form(&clara, &app, &withdraw, &[]).await;
        assert_eq!(res.status(), 303);
        let back = res.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(back, format!("/client/{acme}"));
        let html = follow(&clara, &app, &back).await.1.text().await.unwrap();
        assert!(html.contains("Request withdrawn"), "{html}");
        assert!(html.contains("Withdrawn"));
        assert!(
            !html.contains(&format!("id=\"withdraw-change-{id}\"")),
            "a closed request has no Withdraw button"
        );
        assert_eq!(
            kinds(&app, &new, "partner_change_withdrawn").await,
            vec![new.owner.clone()]
        );

        // Closed: neither side can act on it any more, and nothing moved.
        let res = post_form(&clara, &app, &withdraw, &[]).await;
        assert_eq!(res.status(), 422);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("This request was already withdrawn.")
        );
        let page = format!("/partner/{}/partner-change", new.id);
        assert_eq!(
            post_form(&new_owner, &app, &format!("{page}/{id}/accept"), &[])
                .await
                .status(),
            422
        );
        let incoming = follow(&new_owner, &app, &page)
            .await
            .1
            .text()
            .await
            .unwrap();
        assert!(incoming.contains("Withdrawn by the client"));
        assert_eq!(old.channel(&app, &number).await["status"], "running");
        assert_eq!(total_channels(&app, &new).await, 0);
        assert_counts_right(&app, &old).await;

        // The client may ask again.
        assert_eq!(
            post_form(&clara, &app, &request_path, &ok).await.status(),
            303
        );
    })
    .await;
}
