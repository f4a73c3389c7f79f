//! Migration as a client brings a number from another provider: the number, its display name
//! and the code method → `migration_requested` → (sandbox, through the job queue)
//! `waiting_for_code` → the code → `running`, with the partner's default hosting and region,
//! `is_migrated`, every step in the history and on the partner's webhook. Wrong codes count and
//! lock; numbers already on the platform are refused; the onboarding path sends strangers to
//! the onboarding login.

use crate::client_hub::{client_user, follow, partner, post_form};
use crate::support::app::{TestApp, for_each_backend_with};
use crate::support::webhook_receiver::WebhookReceiver;
use crate::webhooks::dev;
use domain::PaymentModel;
use serde_json::{Value, json};

async fn history(app: &TestApp, channel: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT to_status FROM channel_status_history WHERE channel_id = $1 ORDER BY created_ms, id",
    )
    .bind(channel)
    .fetch_all(app.state.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_migrated_number_walks_its_statuses_with_history_and_events() {
    for_each_backend_with(dev, |app| async move {
        let demo = partner(&app, "Demo Partner", PaymentModel::DirectPayment).await;
        let hooks = WebhookReceiver::start().await;
        let res = demo
            .api
            .patch(demo.url(&app, ""))
            .json(&json!({"webhook_url": hooks.url(), "default_data_storage_region": "DE"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let acme = demo.client(&app, "Acme Shoes").await;
        client_user(&app, "clara@acme.test", &demo.id, &acme).await;
        let clara = app.login("clara@acme.test").await;
        let base = format!("/client/{acme}/migrate");

        let html = follow(&clara, &app, &base).await.1.text().await.unwrap();
        assert!(html.contains("Bring your number") && html.contains("id=\"platform-brand\""));
        assert!(html.contains(&format!("action=\"{base}\"")));
        // Problems are explained inline and the values stay.
        let res = post_form(&clara, &app, &base, &[("phone_number", "12"), ("phone_name", ""), ("verification_method", "voice")]).await;
        assert_eq!(res.status(), 400);
        let html = res.text().await.unwrap();
        assert!(html.contains("id=\"phone-number-error\"") && html.contains("id=\"phone-name-error\""));
        assert!(html.contains("value=\"12\""));

        let res = post_form(
            &clara,
            &app,
            &base,
            &[("phone_number", "+4915123457801"), ("phone_name", "Acme Support"), ("verification_method", "voice")],
        )
        .await;
        assert_eq!(res.status(), 303);
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let channel = location.rsplit('/').next().unwrap().to_owned();
        assert_eq!(location, format!("{base}/{channel}"));
        let object = demo.channel(&app, &channel).await;
        assert_eq!(object["status"], "migration_requested");
        assert_eq!(object["is_migrated"], true);
        assert_eq!(object["hosting_type"], "cloud_api");
        assert_eq!(object["data_storage_region"], "DE");
        assert_eq!(object["client_id"], acme.as_str());
        assert_eq!(object["setup_info"]["phone_name"], "Acme Support");
        assert_eq!(object["setup_info"]["verification_method"], "voice");
        let html = follow(&clara, &app, &location).await.1.text().await.unwrap();
        assert!(html.contains("id=\"migration-requested\"") && html.contains("data-reload-after"));
        // The code cannot be entered before it is sent.
        let res = post_form(&clara, &app, &format!("{location}/code"), &[("code", "000000")]).await;
        assert_eq!(res.status(), 422);

        // The sandbox sends the code (a job, after the configured delay).
        app.run_due_jobs().await;
        assert_eq!(demo.channel(&app, &channel).await["status"], "waiting_for_code");
        let html = follow(&clara, &app, &location).await.1.text().await.unwrap();
        assert!(html.contains("Migration code") && html.contains("by voice call"));

        // A wrong code is counted.
        let res = post_form(&clara, &app, &format!("{location}/code"), &[("code", "123456")]).await;
        assert_eq!(res.status(), 400);
        let html = res.text().await.unwrap();
        assert!(html.contains("4 of 5 attempts left"), "{html}");
        assert_eq!(demo.channel(&app, &channel).await["status"], "waiting_for_code");

        let res = post_form(&clara, &app, &format!("{location}/code"), &[("code", "000000")]).await;
        assert_eq!(res.status(), 303);
        let html = follow(&clara, &app, &location).await.1.text().await.unwrap();
        assert!(html.contains("id=\"migration-done\""));
        let object = demo.channel(&app, &channel).await;
        assert_eq!(object["status"], "running");
        assert_eq!(object["is_migrated"], true);
        assert_eq!(object["data_storage_region"], "DE");
        assert_eq!(object["partner_permission"], "missing");
        assert!(object["current_limit"].is_string());
        assert_eq!(
            history(&app, &channel).await,
            ["migration_requested", "waiting_for_code", "running"]
        );
        let migrated: Value = demo
            .api
            .get(demo.url(&app, "/channels"))
            .query(&[("filters", r#"{"is_migrated":true}"#)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(migrated["total"], 1);

        app.run_due_webhooks().await;
        let received: Vec<Value> = hooks.take().iter().map(|r| r.json()).collect();
        let mine: Vec<(String, String)> = received
            .iter()
            .filter(|e| e["data"]["id"] == channel.as_str())
            .map(|e| {
                (
                    e["event"].as_str().unwrap().to_owned(),
                    e["data"]["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let mut expected = vec![
            ("channel_created".to_owned(), "migration_requested".to_owned()),
            ("channel_status_changed".to_owned(), "waiting_for_code".to_owned()),
            ("channel_running".to_owned(), "running".to_owned()),
            ("channel_live".to_owned(), "running".to_owned()),
        ];
        let mut got = mine.clone();
        got.sort();
        expected.sort();
        assert_eq!(got, expected, "{mine:?}");
        let audit: Vec<String> = sqlx::query_scalar(
            "SELECT action FROM audit_log WHERE partner_id = $1 AND action LIKE 'channel.migrate%' ORDER BY created_ms, action",
        )
        .bind(demo.id.as_str())
        .fetch_all(app.state.db.pool())
        .await
        .unwrap();
        assert_eq!(audit, ["channel.migrate", "channel.migrate_verify"]);
    })
    .await;
}

#[tokio::test]
async fn duplicates_wrong_codes_and_strangers_are_refused() {
    for_each_backend_with(dev, |app| async move {
        let demo = partner(&app, "Demo Partner", PaymentModel::PartnerPayment).await;
        let other = partner(&app, "Other Partner", PaymentModel::PartnerPayment).await;
        let acme = demo.client(&app, "Acme Shoes").await;
        let casa = other.client(&app, "Casa Verde").await;
        other.running_number(&app, &casa, "+4915123457901").await;
        client_user(&app, "clara@acme.test", &demo.id, &acme).await;
        let clara = app.login("clara@acme.test").await;

        // The onboarding path, for a client user of this partner.
        let base = format!("/dashboard/app/{}/migrate", demo.id);
        let res = clara.get(app.link(&base)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains(&format!("action=\"{base}\""))
        );
        // A number already on the platform (with another partner) is refused.
        let res = post_form(
            &clara,
            &app,
            &base,
            &[("phone_number", "+4915123457901"), ("phone_name", "Acme")],
        )
        .await;
        assert_eq!(res.status(), 400);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("is already on this platform")
        );

        let res = post_form(
            &clara,
            &app,
            &base,
            &[("phone_number", "+4915123457902"), ("phone_name", "Acme")],
        )
        .await;
        assert_eq!(res.status(), 303);
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        assert!(location.starts_with(&format!("{base}/")));
        app.run_due_jobs().await;
        // The same number again (now here) is refused too.
        let res = post_form(
            &clara,
            &app,
            &base,
            &[("phone_number", "+4915123457902"), ("phone_name", "Acme")],
        )
        .await;
        assert_eq!(res.status(), 400);
        // Five wrong codes lock the number.
        for left in (0..5).rev() {
            let res = post_form(
                &clara,
                &app,
                &format!("{location}/code"),
                &[("code", "111111")],
            )
            .await;
            if left > 0 {
                assert_eq!(res.status(), 400);
                assert!(
                    res.text()
                        .await
                        .unwrap()
                        .contains(&format!("{left} of 5 attempts left"))
                );
            } else {
                assert_eq!(res.status(), 429);
                assert!(res.text().await.unwrap().contains("Too many wrong codes"));
            }
        }
        let res = post_form(
            &clara,
            &app,
            &format!("{location}/code"),
            &[("code", "000000")],
        )
        .await;
        assert_eq!(res.status(), 429, "locked even for the right code");

        // Strangers: not logged in, or client users of another partner only.
        let anonymous = app.client();
        let login = format!("/dashboard/app/{}?next=login", demo.id);
        for path in [base.clone(), location.clone()] {
            let res = anonymous.get(app.link(&path)).send().await.unwrap();
            assert_eq!(res.status(), 303, "{path}");
            assert_eq!(res.headers()["location"], login.as_str());
        }
        let res = post_form(
            &anonymous,
            &app,
            &base,
            &[("phone_number", "+4915123457903"), ("phone_name", "X")],
        )
        .await;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], login.as_str());
        client_user(&app, "carlos@casa.test", &other.id, &casa).await;
        let carlos = app.login("carlos@casa.test").await;
        let res = carlos.get(app.link(&base)).send().await.unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], login.as_str());
        // A client user of this partner who is not the number's client finds nothing.
        let bella = demo.client(&app, "Bella Pasta").await;
        client_user(&app, "bruno@bella.test", &demo.id, &bella).await;
        let bruno = app.login("bruno@bella.test").await;
        assert_eq!(
            bruno
                .get(app.link(&location))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
        let res = post_form(
            &bruno,
            &app,
            &format!("{location}/code"),
            &[("code", "000000")],
        )
        .await;
        assert_eq!(res.status(), 404);
        // Partner users are not client users.
        let owner = app.login(&demo.owner).await;
        let res = owner.get(app.link(&base)).send().await.unwrap();
        assert_eq!(res.headers()["location"], login.as_str());
    })
    .await;
}

/// With "Allow clients to add phone number" off, a Partner-Payment partner's client that has
/// numbers brings no more (with the reason); a client without any may bring its first.
#[tokio::test]
async fn allow_clients_to_add_numbers_off_stops_existing_clients_migrating() {
    for_each_backend_with(dev, |app| async move {
        let demo = partner(&app, "Demo Partner", PaymentModel::PartnerPayment).await;
        let acme = demo.client(&app, "Acme Shoes").await;
        demo.running_number(&app, &acme, "+4915123457951").await;
        let bella = demo.client(&app, "Bella Pasta").await;
        client_user(&app, "clara@acme.test", &demo.id, &acme).await;
        client_user(&app, "bruno@bella.test", &demo.id, &bella).await;
        // The Owner switches "Allow clients to add phone number" off, as on the Profile page.
        let stored = store::partners::get(app.state.db.pool(), &demo.id)
            .await
            .unwrap()
            .unwrap();
        let off = hub::services::profile::ProfileChange {
            allow_client_to_add_phone_no: Some(false),
            ..Default::default()
        };
        hub::services::profile::save(
            &app.state,
            &stored,
            &off,
            &hub::services::audit::Actor::System,
        )
        .await
        .unwrap();

        let clara = app.login("clara@acme.test").await;
        let base = format!("/client/{acme}/migrate");
        // Said on the form itself, before anything is typed (issue 15, item 5), and the form
        // cannot be sent.
        let html = clara
            .get(app.link(&base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("does not let existing clients add numbers"),
            "{html}"
        );
        assert!(
            html.contains("<fieldset disabled"),
            "the form is disabled: {html}"
        );
        // A client still free to bring its first number sees the form as usual.
        let bruno = app.login("bruno@bella.test").await;
        let html = bruno
            .get(app.link(&format!("/client/{bella}/migrate")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!html.contains("does not let existing clients add numbers"));
        assert!(!html.contains("<fieldset disabled"));
        let res = post_form(
            &clara,
            &app,
            &base,
            &[("phone_number", "+4915123457952"), ("phone_name", "Acme")],
        )
        .await;
        assert_eq!(res.status(), 422);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("does not let existing clients add numbers")
        );
        assert_eq!(channels_with_number(&app, "+4915123457952").await, 0);

        let res = post_form(
            &bruno,
            &app,
            &format!("/client/{bella}/migrate"),
            &[("phone_number", "+4915123457953"), ("phone_name", "Bella")],
        )
        .await;
        assert_eq!(res.status(), 303, "its first number");
    })
    .await;
}

async fn channels_with_number(app: &TestApp, phone: &str) -> i64 {
    sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM channels WHERE phone_number = $1")
        .bind(phone)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
}
