//! The Messaging API as a partner's software meets it: Cloud API bodies and errors, templates and
//! their categories, service windows, prices from the rate card, and the prepaid balance that
//! every billable message draws on exactly once, stopping at zero.

use crate::support::app::{T0_MS, TestApp, for_each_backend};
use domain::pricing::RateCard;
use domain::{Currency, Micros, PartnerId};
use hub::services::audit::Actor;
use serde_json::{Value, json};
use store::billing::Holder;

/// Units of EUR per USD the tests derive their EUR card with.
const FX_PPM: i64 = 920_000;

pub struct Number {
    pub partner: PartnerId,
    pub client: domain::ClientId,
    pub channel: domain::ChannelId,
    pub key: String,
}

/// A running number with a messaging key, of a new partner named `name`.
pub async fn number(app: &TestApp, name: &str, phone: &str, direct: bool) -> Number {
    let mut builder = app
        .partner_named(name)
        .with_running_channel(&format!("{name} Shop"), phone);
    if direct {
        builder = builder.direct_payment();
    }
    let fixture = builder.build().await;
    let partner = store::partners::get(app.state.db.pool(), &fixture.id)
        .await
        .unwrap()
        .unwrap();
    let key = if direct {
        hub::services::api_keys::create_client_channel_key(
            &app.state,
            &partner,
            &fixture.clients[0],
            &fixture.channels[0],
            &Actor::System,
        )
        .await
        .unwrap()
    } else {
        hub::services::api_keys::create_channel_key(
            &app.state,
            &partner,
            &fixture.channels[0],
            &Actor::System,
        )
        .await
        .unwrap()
    };
    Number {
        partner: fixture.id,
        client: fixture.clients[0].clone(),
        channel: fixture.channels[0].clone(),
        key: key.secret,
    }
}

/// The EUR card the tests price with: the shipped USD card at 0.92.
pub async fn eur_card(app: &TestApp) -> RateCard {
    hub::services::billing::derive_card(
        &app.state,
        Currency::Eur,
        FX_PPM,
        domain::calendar::day_start_ms("2026-01-01").unwrap(),
    )
    .await
    .unwrap();
    RateCard::shipped()
        .unwrap()
        .derive(Currency::Eur, FX_PPM)
        .unwrap()
}

pub async fn enable_billing(app: &TestApp, partner: &PartnerId, credit: &str) {
    hub::services::billing::enable(&app.state, partner, &Actor::System)
        .await
        .unwrap();
    if credit != "0" {
        credit_account(app, partner, &Holder::Partner, credit).await;
    }
}

pub async fn credit_account(app: &TestApp, partner: &PartnerId, holder: &Holder, amount: &str) {
    hub::services::billing::adjust(
        &app.state,
        partner,
        holder,
        Micros::parse_major(amount).unwrap(),
        "test credit",
        &Actor::System,
    )
    .await
    .unwrap();
}

pub async fn balance(app: &TestApp, partner: &PartnerId, holder: &Holder) -> Micros {
    store::billing::account(app.state.db.pool(), partner, holder)
        .await
        .unwrap()
        .map_or(Micros::ZERO, |a| a.balance)
}

/// Submit a template and let the sandbox decide; returns its status.
pub async fn template(app: &TestApp, n: &Number, name: &str, category: &str) -> String {
    let res = app
        .client()
        .post(app.link("/v1/configs/templates"))
        .header("D360-API-KEY", &n.key)
        .json(
            &json!({"name": name, "category": category, "language": "en",
            "components": [{"type": "BODY", "text": "Your order {{1}} is on its way"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["status"], "submitted");
    app.run_due_jobs().await;
    let listed: Value = app
        .client()
        .get(app.link(&format!("/v1/configs/templates?name={name}")))
        .header("D360-API-KEY", &n.key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    listed["waba_templates"][0]["status"]
        .as_str()
        .unwrap_or_else(|| panic!("{listed}"))
        .to_owned()
}

pub fn template_body(to: &str, name: &str) -> Value {
    json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
        "type": "template", "template": {"name": name, "language": {"code": "en"}}})
}

pub fn text_body(to: &str) -> Value {
    json!({"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "Hello"}})
}

pub async fn send(app: &TestApp, key: &str, body: &Value) -> (u16, Value) {
    let res = app
        .client()
        .post(app.link("/messages"))
        .header("D360-API-KEY", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

async fn inbound(app: &TestApp, key: &str, from: &str) {
    let res = app
        .client()
        .post(app.link("/v1/sandbox/inbound"))
        .header("D360-API-KEY", key)
        .json(&json!({"from": from, "text": "Hi, where is my order?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

async fn usage_entries(app: &TestApp, partner: &PartnerId) -> Vec<store::billing::Entry> {
    let mut conn = app.state.db.pool().acquire().await.unwrap();
    store::billing::entries(
        &mut conn,
        partner,
        &store::billing::EntryFilter {
            kind: Some(domain::ledger::EntryKind::Usage),
            ..Default::default()
        },
        &store::select::Page {
            limit: 1000,
            offset: 0,
            after: None,
            oldest_first: false,
        },
    )
    .await
    .unwrap()
    .0
}

fn assert_cloud_error(body: &Value, code: i64) {
    let error = &body["error"];
    assert_eq!(error["code"], code, "{body}");
    assert!(error["message"].is_string(), "{body}");
    assert!(error["type"].is_string(), "{body}");
    assert_eq!(
        error["error_data"]["messaging_product"], "whatsapp",
        "{body}"
    );
    assert!(error["error_data"]["details"].is_string(), "{body}");
    assert!(
        error["fbtrace_id"]
            .as_str()
            .is_some_and(|t| t.starts_with("req_")),
        "{body}"
    );
}

#[tokio::test]
async fn a_template_costs_what_the_card_says_for_the_recipients_market() {
    for_each_backend(|app| async move {
        let card = eur_card(&app).await;
        let n = number(&app, "Acme", "+4915112340001", false).await;
        enable_billing(&app, &n.partner, "100").await;
        assert_eq!(
            template(&app, &n, "spring_sale", "MARKETING").await,
            "approved"
        );
        let cases = [
            ("+49 151 23456789", "Germany"),
            ("12025550123", "North America"),
            ("18765550123", "Other"),
            ("77012345678", "Other"),
            ("6723123456", "Other"),
        ];
        // Jamaica is priced as Rest of Latin America by Meta's table.
        let expected_market = |m: &str, to: &str| {
            if to.starts_with("1876") {
                "Rest of Latin America".to_owned()
            } else {
                m.to_owned()
            }
        };
        let mut expected_total = Micros::ZERO;
        for (to, market) in cases {
            let (status, body) = send(&app, &n.key, &template_body(to, "spring_sale")).await;
            assert_eq!(status, 200, "{to}: {body}");
            assert_eq!(body["messaging_product"], "whatsapp");
            assert_eq!(body["contacts"][0]["input"], to);
            assert!(
                body["messages"][0]["id"]
                    .as_str()
                    .unwrap()
                    .starts_with("wamid.")
            );
            let market = expected_market(market, &to.replace(' ', ""));
            let price = card.market(&market).unwrap().marketing;
            let entry = usage_entries(&app, &n.partner)
                .await
                .into_iter()
                .find(|e| e.reference == body["messages"][0]["id"].as_str().unwrap())
                .unwrap();
            assert_eq!(
                entry.amount,
                price.checked_neg().unwrap(),
                "{to} is priced as {market}"
            );
            expected_total = expected_total.checked_add(price).unwrap();
        }
        let left = balance(&app, &n.partner, &Holder::Partner).await;
        assert_eq!(
            left,
            Micros::parse_major("100")
                .unwrap()
                .checked_sub(expected_total)
                .unwrap()
        );

        let (status, body) = send(&app, &n.key, &template_body("hello", "spring_sale")).await;
        assert_eq!(status, 400);
        assert_cloud_error(&body, 100);
        assert!(
            body["error"]["error_data"]["details"]
                .as_str()
                .unwrap()
                .contains("to"),
            "{body}"
        );
        assert_eq!(
            usage_entries(&app, &n.partner).await.len(),
            5,
            "a refused message costs nothing"
        );
    })
    .await;
}

#[tokio::test]
async fn windows_make_service_and_utility_messages_free_and_text_outside_one_is_refused() {
    for_each_backend(|app| async move {
        let card = eur_card(&app).await;
        let n = number(&app, "Acme", "+4915112340002", false).await;
        enable_billing(&app, &n.partner, "10").await;
        assert_eq!(
            template(&app, &n, "order_update", "UTILITY").await,
            "approved"
        );
        let customer = "4915187654321";

        let (status, body) = send(&app, &n.key, &text_body(customer)).await;
        assert_eq!(status, 400, "{body}");
        assert_cloud_error(&body, 131047);

        let (status, _) = send(&app, &n.key, &template_body(customer, "order_update")).await;
        assert_eq!(status, 200);
        let utility = card.market("Germany").unwrap().utility;
        assert_eq!(
            usage_entries(&app, &n.partner).await[0].amount,
            utility.checked_neg().unwrap()
        );

        inbound(&app, &n.key, customer).await;
        let before = balance(&app, &n.partner, &Holder::Partner).await;
        let (status, body) = send(&app, &n.key, &text_body(customer)).await;
        assert_eq!(status, 200, "{body}");
        let (status, _) = send(&app, &n.key, &template_body(customer, "order_update")).await;
        assert_eq!(status, 200);
        assert_eq!(
            balance(&app, &n.partner, &Holder::Partner).await,
            before,
            "both were free"
        );
        assert_eq!(usage_entries(&app, &n.partner).await.len(), 1);

        app.clock.advance_ms(24 * 60 * 60 * 1000 + 1);
        let (status, body) = send(&app, &n.key, &text_body(customer)).await;
        assert_eq!(status, 400, "the window closed after 24 hours: {body}");
        assert_cloud_error(&body, 131047);
    })
    .await;
}

#[tokio::test]
async fn an_idempotency_key_sends_and_charges_once_and_refuses_another_body() {
    for_each_backend(|app| async move {
        eur_card(&app).await;
        let n = number(&app, "Acme", "+4915112340003", false).await;
        enable_billing(&app, &n.partner, "10").await;
        template(&app, &n, "spring_sale", "MARKETING").await;
        let post = |body: Value| {
            app.client()
                .post(app.link("/v1/messages"))
                .header("D360-API-KEY", &n.key)
                .header("Idempotency-Key", "order-1234")
                .json(&body)
                .send()
        };
        let first: Value = post(template_body("4915187654321", "spring_sale"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let again = post(template_body("4915187654321", "spring_sale"))
            .await
            .unwrap();
        assert_eq!(again.status(), 200);
        let again: Value = again.json().await.unwrap();
        assert_eq!(first, again, "the retry answers the first result");
        assert_eq!(
            usage_entries(&app, &n.partner).await.len(),
            1,
            "charged once"
        );

        let other = post(template_body("4915187650000", "spring_sale"))
            .await
            .unwrap();
        assert_eq!(other.status(), 409);
        assert_cloud_error(&other.json().await.unwrap(), 100);
        assert_eq!(usage_entries(&app, &n.partner).await.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_failed_message_is_refunded_once() {
    for_each_backend(|app| async move {
        eur_card(&app).await;
        let n = number(&app, "Acme", "+4915112340004", false).await;
        enable_billing(&app, &n.partner, "10").await;
        template(&app, &n, "spring_sale", "MARKETING").await;
        let (status, body) =
            send(&app, &n.key, &template_body("4915187650000", "spring_sale")).await;
        assert_eq!(status, 200);
        let id = body["messages"][0]["id"].as_str().unwrap().to_owned();
        assert!(
            balance(&app, &n.partner, &Holder::Partner).await < Micros::parse_major("10").unwrap()
        );
        app.clock.advance_ms(1_000);
        app.run_due_jobs().await;
        let message = store::messages::get(app.state.db.pool(), &n.partner, &id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(message.status, "failed");
        assert_eq!(message.error_code, Some(131026));
        assert_eq!(
            balance(&app, &n.partner, &Holder::Partner).await,
            Micros::parse_major("10").unwrap()
        );
        // A second report of the same failure refunds nothing.
        hub::services::messaging::reports::settle_failed(
            &app.state, &n.partner, &id, 131026, "again",
        )
        .await
        .unwrap();
        assert_eq!(
            balance(&app, &n.partner, &Holder::Partner).await,
            Micros::parse_major("10").unwrap()
        );
        assert!(
            hub::services::billing::check_ledger(&app.state)
                .await
                .unwrap()
                .is_empty()
        );

        let (_, body) = send(&app, &n.key, &template_body("4915187654321", "spring_sale")).await;
        let delivered = body["messages"][0]["id"].as_str().unwrap().to_owned();
        app.clock.advance_ms(1_000);
        app.run_due_jobs().await;
        let message = store::messages::get(app.state.db.pool(), &n.partner, &delivered)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(message.status, "delivered");
    })
    .await;
}

#[tokio::test]
async fn concurrent_sends_stop_at_zero_and_every_refusal_is_a_402() {
    for_each_backend(|app| async move {
        let card = eur_card(&app).await;
        let n = number(&app, "Acme", "+4915112340005", false).await;
        let price = card.market("Germany").unwrap().marketing;
        enable_billing(&app, &n.partner, "0").await;
        // A balance worth exactly ten messages.
        let ten = Micros::new(price.get() * 10);
        credit_account(&app, &n.partner, &Holder::Partner, &ten.to_major_string()).await;
        template(&app, &n, "spring_sale", "MARKETING").await;
        let mut burst = tokio::task::JoinSet::new();
        for i in 0..64 {
            let request = app
                .client()
                .post(app.link("/messages"))
                .header("D360-API-KEY", &n.key)
                .json(&template_body(&format!("49151876{i:05}"), "spring_sale"));
            burst.spawn(async move {
                let res = request.send().await.unwrap();
                let status = res.status().as_u16();
                (status, res.json::<Value>().await.unwrap())
            });
        }
        let results = burst.join_all().await;
        let accepted = results.iter().filter(|(s, _)| *s == 200).count();
        for (status, body) in &results {
            if *status != 200 {
                assert_eq!(*status, 402, "{body}");
                assert_cloud_error(body, 131042);
                assert_eq!(body["error"]["type"], "insufficient_balance");
                assert!(
                    body["error"]["error_data"]["topup_url"]
                        .as_str()
                        .unwrap()
                        .ends_with("/billing")
                );
                assert_eq!(body["error"]["error_data"]["currency"], "eur");
            }
        }
        let left = balance(&app, &n.partner, &Holder::Partner).await;
        assert!((10..=11).contains(&accepted), "accepted {accepted}");
        assert!(
            left.get() > -price.get(),
            "at most one message below zero: {left}"
        );
        assert!(left.get() <= 0);
        assert_eq!(usage_entries(&app, &n.partner).await.len(), accepted);

        inbound(&app, &n.key, "4915187654321").await;
        let (status, body) = send(&app, &n.key, &text_body("4915187654321")).await;
        assert_eq!(status, 402, "free messages stop too: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("Could not send message due to lack of payment")
        );
        assert!(
            hub::services::billing::check_ledger(&app.state)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

/// Sends are written in groups; a group that fails is written again one by one, so a message
/// that cannot be written does not take the others of its group with it.
#[tokio::test]
async fn a_send_that_cannot_be_written_fails_alone_in_its_group() {
    use store::messages::{Fate, NewMessage, Pending};
    for_each_backend(|app| async move {
        let card = eur_card(&app).await;
        let n = number(&app, "Acme", "+4915112340005", false).await;
        let price = card.market("Germany").unwrap().marketing;
        enable_billing(&app, &n.partner, "10").await;
        let before = balance(&app, &n.partner, &Holder::Partner).await;
        let pending = |id: &str, channel: domain::ChannelId| Pending {
            partner_id: n.partner.clone(),
            message: NewMessage {
                id: id.to_owned(),
                client_id: n.client.clone(),
                channel_id: channel,
                account_id: None,
                recipient: "4915187654321".into(),
                country: "DE".into(),
                market: "Germany".into(),
                category: domain::pricing::Category::Marketing,
                pricing_type: "regular".into(),
                price,
                currency: Currency::Eur,
                rate_card_id: None,
                template_name: Some("spring_sale".into()),
            },
            payer: Some(Holder::Partner),
            charge: Some((price, "marketing message to Germany".into())),
            key: None,
            now_ms: T0_MS,
        };
        // The second names a number that does not exist: its row breaks a foreign key.
        let nowhere = domain::ChannelId::generate();
        let fates = hub::services::messaging::send::write_batch(
            app.state.clone(),
            vec![
                pending("wamid.good", n.channel.clone()),
                pending("wamid.orphan", nowhere),
            ],
        )
        .await;
        assert_eq!(fates.len(), 2);
        assert_eq!(fates[0].as_ref().ok(), Some(&Fate::Accepted), "{fates:?}");
        assert!(fates[1].is_err(), "{fates:?}");
        let left = balance(&app, &n.partner, &Holder::Partner).await;
        assert_eq!(left, before.checked_sub(price).unwrap(), "charged once");
        let usage = usage_entries(&app, &n.partner).await;
        assert_eq!(usage.len(), 1);
        assert_eq!(usage[0].reference, "wamid.good");
        assert!(
            store::messages::get(app.state.db.pool(), &n.partner, "wamid.good")
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            store::messages::get(app.state.db.pool(), &n.partner, "wamid.orphan")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            hub::services::billing::check_ledger(&app.state)
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

async fn events_of(app: &TestApp, partner: &PartnerId, kind: &str) -> usize {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM webhook_events WHERE partner_id = $1 AND event_type = $2",
    )
    .bind(partner.as_str())
    .bind(kind)
    .fetch_one(app.state.db.pool())
    .await
    .unwrap();
    usize::try_from(n).unwrap()
}

#[tokio::test]
async fn balance_low_and_paused_fire_once_and_resumed_after_a_credit() {
    for_each_backend(|app| async move {
        let card = eur_card(&app).await;
        let n = number(&app, "Acme", "+4915112340006", false).await;
        let price = card.market("Germany").unwrap().marketing;
        enable_billing(&app, &n.partner, "0").await;
        // Five messages' worth: the warning level is 10 % of it, half a message.
        credit_account(&app, &n.partner, &Holder::Partner, &Micros::new(price.get() * 5).to_major_string()).await;
        template(&app, &n, "spring_sale", "MARKETING").await;
        let resumed = events_of(&app, &n.partner, "messaging_resumed").await;
        for i in 0..8 {
            send(&app, &n.key, &template_body(&format!("4915187600{i:03}"), "spring_sale")).await;
        }
        assert_eq!(events_of(&app, &n.partner, "balance_low").await, 1);
        assert_eq!(events_of(&app, &n.partner, "messaging_paused").await, 1, "one event, not one per refusal");
        assert_eq!(events_of(&app, &n.partner, "messaging_resumed").await, resumed);
        let bell: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE partner_id = $1 AND kind = 'messaging_paused'")
            .bind(n.partner.as_str())
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
        assert!(bell <= 1, "{bell}");
        credit_account(&app, &n.partner, &Holder::Partner, "25").await;
        assert_eq!(events_of(&app, &n.partner, "messaging_resumed").await, resumed + 1);
        let (status, _) = send(&app, &n.key, &template_body("4915187654321", "spring_sale")).await;
        assert_eq!(status, 200, "messaging resumed by itself");
    })
    .await;
}

#[tokio::test]
async fn a_direct_payment_number_draws_on_its_clients_balance() {
    for_each_backend(|app| async move {
        let card = eur_card(&app).await;
        let n = number(&app, "Direct", "+4915112340007", true).await;
        enable_billing(&app, &n.partner, "0").await;
        template(&app, &n, "spring_sale", "MARKETING").await;
        let (status, body) =
            send(&app, &n.key, &template_body("4915187654321", "spring_sale")).await;
        assert_eq!(status, 402, "the client has no balance yet: {body}");
        let client = Holder::Client(n.client.clone());
        credit_account(&app, &n.partner, &client, "5").await;
        let (status, _) = send(&app, &n.key, &template_body("4915187654321", "spring_sale")).await;
        assert_eq!(status, 200);
        let price = card.market("Germany").unwrap().marketing;
        assert_eq!(
            balance(&app, &n.partner, &client).await,
            Micros::parse_major("5")
                .unwrap()
                .checked_sub(price)
                .unwrap()
        );
        assert_eq!(
            balance(&app, &n.partner, &Holder::Partner).await,
            Micros::ZERO
        );
    })
    .await;
}

#[tokio::test]
async fn check_ledger_names_the_account_of_an_edited_or_deleted_entry() {
    for_each_backend(|app| async move {
        eur_card(&app).await;
        let n = number(&app, "Acme", "+4915112340008", false).await;
        enable_billing(&app, &n.partner, "10").await;
        template(&app, &n, "spring_sale", "MARKETING").await;
        for i in 0..3 {
            send(&app, &n.key, &template_body(&format!("4915187611{i:03}"), "spring_sale")).await;
        }
        assert!(hub::services::billing::check_ledger(&app.state).await.unwrap().is_empty());
        let account = store::billing::account(app.state.db.pool(), &n.partner, &Holder::Partner)
            .await
            .unwrap()
            .unwrap();
        let mut tx = app.state.db.begin_write().await.unwrap();
        sqlx::query("UPDATE ledger_entries SET amount_micros = amount_micros + 1 WHERE account_id = $1 AND seq = 2")
            .bind(&account.id)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let found = hub::services::billing::check_ledger(&app.state).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].account_id, account.id);
        assert_eq!(found[0].partner_id, n.partner.as_str());

        let mut tx = app.state.db.begin_write().await.unwrap();
        sqlx::query("UPDATE ledger_entries SET amount_micros = amount_micros - 1 WHERE account_id = $1 AND seq = 2")
            .bind(&account.id)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(hub::services::billing::check_ledger(&app.state).await.unwrap().is_empty(), "restored");
        let mut tx = app.state.db.begin_write().await.unwrap();
        sqlx::query("DELETE FROM ledger_entries WHERE account_id = $1 AND seq = 3")
            .bind(&account.id)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let found = hub::services::billing::check_ledger(&app.state).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].account_id, account.id);
        assert!(found[0].problem.contains("entry 3"), "{}", found[0].problem);
    })
    .await;
}

#[tokio::test]
async fn templates_are_approved_or_rejected_and_only_approved_ones_send() {
    for_each_backend(|app| async move {
        eur_card(&app).await;
        let n = number(&app, "Acme", "+4915112340009", false).await;
        let other = number(&app, "Other", "+4915112340010", false).await;
        assert_eq!(
            template(&app, &n, "please_reject_me", "MARKETING").await,
            "rejected"
        );
        let (status, body) = send(
            &app,
            &n.key,
            &template_body("4915187654321", "please_reject_me"),
        )
        .await;
        assert_eq!(status, 400);
        assert_cloud_error(&body, 132001);
        let (status, body) = send(
            &app,
            &n.key,
            &template_body("4915187654321", "no_such_template"),
        )
        .await;
        assert_eq!(status, 404);
        assert_cloud_error(&body, 132001);
        assert_eq!(
            events_of(&app, &n.partner, "template_status_changed").await,
            1
        );

        // Another number's key sees its own WABA's templates only and cannot send ours.
        let listed: Value = app
            .client()
            .get(app.link("/v1/configs/templates"))
            .header("D360-API-KEY", &other.key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listed["total"], 0, "{listed}");
        template(&app, &n, "spring_sale", "MARKETING").await;
        let (status, _) = send(
            &app,
            &other.key,
            &template_body("4915187654321", "spring_sale"),
        )
        .await;
        assert_eq!(
            status, 404,
            "a template of another WABA does not exist for this number"
        );

        let res = app
            .client()
            .delete(app.link("/v1/configs/templates/spring_sale"))
            .header("D360-API-KEY", &other.key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "another number's key cannot delete ours");
        let res = app
            .client()
            .delete(app.link("/v1/configs/templates/spring_sale"))
            .header("D360-API-KEY", &n.key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let (status, _) = send(&app, &n.key, &template_body("4915187654321", "spring_sale")).await;
        assert_eq!(status, 404);
    })
    .await;
}

#[tokio::test]
async fn every_messaging_route_answers_errors_in_the_cloud_api_shape() {
    for_each_backend(|app| async move {
        eur_card(&app).await;
        let n = number(&app, "Acme", "+4915112340011", false).await;
        let routes = [
            ("POST", "/messages"),
            ("POST", "/v1/messages"),
            ("GET", "/health_status"),
            ("POST", "/v1/configs/templates"),
            ("GET", "/v1/configs/templates"),
            ("DELETE", "/v1/configs/templates/x"),
            ("POST", "/v1/sandbox/inbound"),
            ("POST", "/v1/configs/webhook"),
            ("GET", "/v1/configs/webhook"),
            ("POST", "/v1/configs/webhook/rotate_secret"),
        ];
        let client = app.client();
        for (method, path) in routes {
            let m: reqwest::Method = method.parse().unwrap();
            // No key.
            let res = client.request(m.clone(), app.link(path)).send().await.unwrap();
            assert_eq!(res.status(), 401, "{method} {path}");
            assert_cloud_error(&res.json().await.unwrap(), 0);
            // A wrong key.
            let res = client
                .request(m.clone(), app.link(path))
                .header("D360-API-KEY", "not-a-key")
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 401, "{method} {path}");
            // A wrong method.
            let wrong = if method == "PATCH" { reqwest::Method::PUT } else { reqwest::Method::PATCH };
            let res = client
                .request(wrong, app.link(path))
                .header("D360-API-KEY", &n.key)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 405, "{method} {path}");
            assert_cloud_error(&res.json().await.unwrap(), 100);
            // Every POST but the secret rotation reads a JSON body.
            if method == "POST" && !path.ends_with("rotate_secret") {
                let res = client
                    .post(app.link(path))
                    .header("D360-API-KEY", &n.key)
                    .header("Content-Type", "text/plain")
                    .body("to=49151")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 415, "{method} {path}");
                assert_cloud_error(&res.json().await.unwrap(), 100);
                let res = client
                    .post(app.link(path))
                    .header("D360-API-KEY", &n.key)
                    .header("Content-Type", "application/json")
                    .body("{\"to\": ")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 400, "{method} {path}");
                assert_cloud_error(&res.json().await.unwrap(), 100);
            }
        }
        // A 1 MB text is refused before anything is sent.
        let res = client
            .post(app.link("/messages"))
            .header("D360-API-KEY", &n.key)
            .json(&json!({"messaging_product": "whatsapp", "to": "4915187654321", "type": "text",
                "text": {"body": "x".repeat(1024 * 1024)}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 413);
        assert_cloud_error(&res.json().await.unwrap(), 100);
        let (status, body) = send(&app, &n.key, &json!({"messaging_product": "whatsapp", "to": 4915187654321_u64, "type": "text", "text": {"body": "x"}})).await;
        assert_eq!(status, 400, "{body}");
        let health: Value = client
            .get(app.link("/health_status"))
            .header("D360-API-KEY", &n.key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(health["health_status"]["can_send_message"], "AVAILABLE", "{health}");
    })
    .await;
}

#[tokio::test]
async fn the_partner_api_shows_the_balance_ledger_rate_card_usage_and_templates() {
    for_each_backend(|app| async move {
        let card = eur_card(&app).await;
        let n = number(&app, "Acme", "+4915112340012", false).await;
        enable_billing(&app, &n.partner, "20").await;
        app.user(
            "member@acme.test",
            "Mia",
            &[(&n.partner, crate::support::app::Role::Member)],
        )
        .await;
        let api = app.api_bearer(&app.bearer("member@acme.test").await);
        template(&app, &n, "spring_sale", "MARKETING").await;
        template(&app, &n, "please_reject", "UTILITY").await;
        for i in 0..3 {
            send(
                &app,
                &n.key,
                &template_body(&format!("4915187622{i:03}"), "spring_sale"),
            )
            .await;
        }
        inbound(&app, &n.key, "4915187654321").await;
        send(&app, &n.key, &text_body("4915187654321")).await;
        let price = card.market("Germany").unwrap().marketing;
        let base = format!("/api/v2/partners/{}", n.partner);
        let get = |path: String| {
            let api = api.clone();
            let url = app.link(&path);
            async move {
                let res = api.get(url).send().await.unwrap();
                let status = res.status().as_u16();
                (status, res.json::<Value>().await.unwrap())
            }
        };

        let (status, body) = get(format!("{base}/balance")).await;
        assert_eq!(status, 200, "{body}");
        let expected = Micros::parse_major("20")
            .unwrap()
            .checked_sub(Micros::new(price.get() * 3))
            .unwrap();
        assert_eq!(
            body,
            json!([{"total": serde_json::to_value(expected).unwrap(), "currency": "eur"}])
        );

        let (status, body) = get(format!(
            "{base}/ledger?limit=2&filters={}",
            r#"{"kind":"usage"}"#
        ))
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["total"], 3);
        assert_eq!(body["ledger_entries"].as_array().unwrap().len(), 2);
        assert_eq!(body["ledger_entries"][0]["kind"], "usage");
        assert_eq!(body["ledger_entries"][0]["currency"], "eur");
        assert_eq!(
            body["ledger_entries"][0]["balance_after"],
            serde_json::to_value(expected).unwrap()
        );
        let cursor = body["next_cursor"].as_str().unwrap().to_owned();
        let (_, next) = get(format!(
            "{base}/ledger?limit=2&filters={}&cursor={cursor}",
            r#"{"kind":"usage"}"#
        ))
        .await;
        assert_eq!(next["ledger_entries"].as_array().unwrap().len(), 1);
        assert!(next["next_cursor"].is_null());
        let (status, body) = get(format!("{base}/ledger?filters={}", r#"{"kind":"gift"}"#)).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            body["meta"]["details"][0]
                .as_str()
                .unwrap()
                .contains("kind"),
            "{body}"
        );

        let (status, body) = get(format!("{base}/rate_card")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["currency"], "eur");
        assert_eq!(body["effective_from"], "2026-01-01");
        assert_eq!(body["markets"].as_array().unwrap().len(), 32);
        let germany = body["markets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["market"] == "Germany")
            .unwrap();
        assert_eq!(germany["marketing"], serde_json::to_value(price).unwrap());

        let (status, body) = get(format!(
            "{base}/clients/{}/info/balance?granularity=day&start_date={}&end_date={}",
            n.client,
            crate::support::app::T0_MS / 1000 - 86_400,
            crate::support::app::T0_MS / 1000 + 86_400
        ))
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["granularity"], "day");
        assert_eq!(body["balance"], serde_json::to_value(expected).unwrap());
        assert!(body["last_renewal"].is_null(), "no top-up yet: {body}");
        let day = &body["usage"][0];
        assert_eq!(day["period_date"], "2026-11-25T00:00:00Z");
        assert_eq!(day["marketing_quantity"], 3);
        assert_eq!(day["marketing_paid_quantity"], 3);
        assert_eq!(day["service_quantity"], 1);
        assert_eq!(day["service_paid_quantity"], 0);
        assert_eq!(day["quantity"], 4);
        assert_eq!(day["free_quantity"], 1);
        assert_eq!(
            day["total_price"],
            serde_json::to_value(Micros::new(price.get() * 3)).unwrap()
        );
        for key in [
            "business_initiated_quantity",
            "user_initiated_price",
            "utility_price",
            "free_tier",
        ] {
            assert_eq!(day[key].as_f64(), Some(0.0), "{key}");
        }
        let (status, _) = get(format!(
            "{base}/clients/{}/info/balance?granularity=week",
            n.client
        ))
        .await;
        assert_eq!(status, 400);

        let waba = store::channels::get(app.state.db.pool(), &n.partner, &{
            let sender = hub::services::messaging::authenticate(&app.state, Some(&n.key))
                .await
                .unwrap();
            sender.channel.id
        })
        .await
        .unwrap()
        .unwrap()
        .waba_id;
        let (status, body) = get(format!("{base}/waba_accounts/{waba}/waba_templates")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["total"], 2);
        let (_, body) = get(format!(
            "{base}/waba_accounts/{waba}/waba_templates?filters={}",
            r#"{"status":"rejected"}"#
        ))
        .await;
        assert_eq!(body["total"], 1);
        assert_eq!(body["waba_templates"][0]["name"], "please_reject");
        assert!(body["waba_templates"][0]["rejected_reason"].is_string());
        let (status, _) = get(format!(
            "{base}/waba_accounts/{waba}/waba_templates?filters={}",
            r#"{"category":"PROMO"}"#
        ))
        .await;
        assert_eq!(status, 400);
        let (status, _) = get(format!("{base}/waba_accounts/zzzzzzWA/waba_templates")).await;
        assert_eq!(status, 404);
    })
    .await;
}

/// `sha256=` + the hex HMAC-SHA256 of the body keyed with the secret, as Cloud API SDKs check
/// Meta's deliveries.
fn hub_signature(secret: &str, body: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn a_numbers_messaging_webhook_gets_statuses_and_inbound_messages_signed_with_its_own_secret()
{
    crate::support::app::for_each_backend_with(crate::webhooks::dev, |app| async move {
        eur_card(&app).await;
        let receiver = crate::support::webhook_receiver::WebhookReceiver::start().await;
        let n = number(&app, "Acme", "+4915112340013", false).await;
        let other = number(&app, "Other", "+4915112340014", false).await;
        enable_billing(&app, &n.partner, "10").await;
        template(&app, &n, "spring_sale", "MARKETING").await;
        let set = |key: String, body: Value| {
            let client = app.client();
            let url = app.link("/v1/configs/webhook");
            async move {
                let res = client.post(url).header("D360-API-KEY", key).json(&body).send().await.unwrap();
                (res.status().as_u16(), res.json::<Value>().await.unwrap())
            }
        };
        let (status, body) = set(n.key.clone(), json!({"url": "ftp://x", "headers": {}})).await;
        assert_eq!(status, 400);
        assert_cloud_error(&body, 100);
        let (status, body) = set(n.key.clone(), json!({"url": receiver.url(), "headers": {"Webhook-Id": "x"}})).await;
        assert_eq!(status, 400, "{body}");
        let (status, body) = set(
            n.key.clone(),
            json!({"url": receiver.url(), "headers": {"Authorization": "Bearer receiver-token"}}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let secret = body["secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("whsec_"));
        let partner_secrets = store::webhooks::signing_secrets(app.state.db.pool(), &n.partner, T0_MS)
            .await
            .unwrap();
        assert!(partner_secrets.iter().all(|s| s.secret != secret), "never the partner's secret");
        // Setting it again keeps the secret and does not show it.
        let (_, again) = set(
            n.key.clone(),
            json!({"url": receiver.url(), "headers": {"Authorization": "Bearer receiver-token"}}),
        )
        .await;
        assert!(again.get("secret").is_none(), "{again}");
        let shown: Value = app
            .client()
            .get(app.link("/v1/configs/webhook"))
            .header("D360-API-KEY", &n.key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(shown["url"], receiver.url());
        assert!(!shown.to_string().contains("receiver-token"), "header values stay hidden: {shown}");
        let res = app
            .client()
            .get(app.link("/v1/configs/webhook"))
            .header("D360-API-KEY", &other.key)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "another number's key sees no webhook of ours");

        inbound(&app, &n.key, "4915187654321").await;
        let (_, sent) = send(&app, &n.key, &template_body("4915187650000", "spring_sale")).await;
        let (_, free) = send(&app, &n.key, &text_body("4915187654321")).await;
        app.clock.advance_ms(1_000);
        app.run_due_jobs().await;
        app.run_due_webhooks().await;
        let got = receiver.received();
        assert_eq!(got.len(), 4, "inbound, failed, and sent + delivered of the free one");
        for delivery in &got {
            assert_eq!(delivery.header("x-hub-signature-256"), Some(hub_signature(&secret, &delivery.body).as_str()));
            assert!(delivery.signed_with(&secret), "Standard Webhooks headers with the number's secret");
            assert_eq!(delivery.header("authorization"), Some("Bearer receiver-token"));
            let body = delivery.json();
            assert_eq!(body["object"], "whatsapp_business_account");
            assert_eq!(body["entry"][0]["changes"][0]["field"], "messages");
        }
        let values: Vec<Value> = got.iter().map(|d| d.json()["entry"][0]["changes"][0]["value"].clone()).collect();
        assert_eq!(values[0]["messages"][0]["from"], "4915187654321");
        assert_eq!(values[0]["messages"][0]["text"]["body"], "Hi, where is my order?");
        let statuses: Vec<&Value> = values.iter().filter_map(|v| v["statuses"].get(0)).collect();
        let failed = statuses.iter().find(|s| s["id"] == sent["messages"][0]["id"]).unwrap();
        assert_eq!(failed["status"], "failed");
        assert_eq!(failed["errors"][0]["code"], 131026);
        assert_eq!(failed["pricing"], json!({"billable": true, "pricing_model": "PMP", "category": "marketing", "type": "regular"}));
        let delivered = statuses.iter().find(|s| s["id"] == free["messages"][0]["id"] && s["status"] == "delivered").unwrap();
        assert_eq!(delivered["pricing"]["billable"], false);
        assert_eq!(delivered["pricing"]["type"], "free_customer_service");
        assert_eq!(delivered["recipient_id"], "4915187654321");

        // The partner's own event list does not show the number's deliveries.
        let (events, _, _) = store::webhooks::list_events(
            &app.state.db,
            &n.partner,
            &store::webhooks::EventFilter::default(),
            100,
            0,
            None,
        )
        .await
        .unwrap();
        assert!(events.iter().all(|e| e.event_type != "messages"));

        let res = app
            .client()
            .post(app.link("/v1/configs/webhook/rotate_secret"))
            .header("D360-API-KEY", &n.key)
            .send()
            .await
            .unwrap();
        let rotated: Value = res.json().await.unwrap();
        assert_ne!(rotated["secret"], secret);
    })
    .await;
}

#[tokio::test]
async fn the_billing_page_shows_the_balance_the_ledger_and_a_paused_banner() {
    for_each_backend(|app| async move {
        eur_card(&app).await;
        let n = number(&app, "Acme", "+4915112340015", false).await;
        app.user(
            "owner@acme.test",
            "Olga",
            &[(&n.partner, crate::support::app::Role::Owner)],
        )
        .await;
        app.user(
            "member@acme.test",
            "Mia",
            &[(&n.partner, crate::support::app::Role::Member)],
        )
        .await;
        let owner = app.login("owner@acme.test").await;
        let page = |client: reqwest::Client, path: String| {
            let url = app.link(&path);
            async move {
                let res = client.get(url).send().await.unwrap();
                (res.status().as_u16(), res.text().await.unwrap())
            }
        };
        let billing = format!("/partner/{}/billing", n.partner);
        let (status, html) = page(owner.clone(), billing.clone()).await;
        assert_eq!(status, 200);
        assert!(html.contains("Billing is not enabled yet"), "{html}");
        assert!(html.contains("Enable billing"));

        enable_billing(&app, &n.partner, "0").await;
        let (_, html) = page(owner.clone(), format!("/partner/{}/accounts", n.partner)).await;
        assert!(
            html.contains("id=\"messaging-paused\""),
            "enabled at 0: the banner shows everywhere"
        );
        credit_account(&app, &n.partner, &Holder::Partner, "0.20").await;
        template(&app, &n, "spring_sale", "MARKETING").await;
        for i in 0..3 {
            send(
                &app,
                &n.key,
                &template_body(&format!("4915187633{i:03}"), "spring_sale"),
            )
            .await;
        }
        let member = app.login("member@acme.test").await;
        let (status, html) = page(member, billing.clone()).await;
        assert_eq!(status, 200, "Members read the Billing page");
        assert!(html.contains("You must have the balance above 0 to keep messaging services."));
        assert!(
            html.contains("-€0.05"),
            "0.20 minus two messages at €0.12558: {html}"
        );
        assert!(html.contains("Messaging is paused"));
        assert!(html.contains("id=\"messaging-paused\""));
        assert!(
            html.contains("marketing message to Germany"),
            "the ledger lists usage"
        );
        assert!(
            html.contains("test credit"),
            "and the adjustment with its reason"
        );
        let (_, html) = page(owner.clone(), format!("{billing}?kind=adjustment")).await;
        assert!(html.contains("test credit") && !html.contains("marketing message to Germany"));

        credit_account(&app, &n.partner, &Holder::Partner, "10").await;
        let (_, html) = page(owner, format!("/partner/{}/accounts", n.partner)).await;
        assert!(
            !html.contains("id=\"messaging-paused\""),
            "a credit lifts the banner"
        );
    })
    .await;
}

#[tokio::test]
async fn the_numbers_page_lists_templates_and_lets_a_customer_write_in_development_mode() {
    crate::support::app::for_each_backend_with(crate::webhooks::dev, |app| async move {
        eur_card(&app).await;
        let n = number(&app, "Acme", "+4915112340016", false).await;
        let other = number(&app, "Other", "+4915112340017", false).await;
        app.user(
            "owner@acme.test",
            "Olga",
            &[(&n.partner, crate::support::app::Role::Owner)],
        )
        .await;
        template(&app, &n, "spring_sale", "MARKETING").await;
        template(&app, &n, "please_reject", "UTILITY").await;
        let owner = app.login("owner@acme.test").await;
        let channel = hub::services::messaging::authenticate(&app.state, Some(&n.key))
            .await
            .unwrap()
            .channel
            .id;
        let page = app.link(&format!("/partner/{}/accounts/{channel}", n.partner));
        let html = owner.get(&page).send().await.unwrap().text().await.unwrap();
        assert!(
            html.contains("<code>spring_sale</code>") && html.contains("Approved"),
            "{html}"
        );
        assert!(html.contains("please_reject") && html.contains("Rejected"));
        assert!(html.contains("id=\"sandbox-inbound\""));

        let (status, _) = send(&app, &n.key, &text_body("4915187654321")).await;
        assert_eq!(status, 400, "no window yet");
        let res = owner
            .post(format!("{page}/sandbox-inbound"))
            .form(&[("from", "not a number"), ("text", "hi")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("The customer&#39;s number is not a valid phone number"),
            "{html}"
        );
        assert!(html.contains("value=\"not a number\""), "the input is kept");
        let res = owner
            .post(format!("{page}/sandbox-inbound"))
            .form(&[("from", "+49 151 8765 4321"), ("text", "hi")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let (status, body) = send(&app, &n.key, &text_body("4915187654321")).await;
        assert_eq!(
            status, 200,
            "the simulated customer opened a window: {body}"
        );

        // Another partner's number is not found through this partner's page.
        let other_channel = hub::services::messaging::authenticate(&app.state, Some(&other.key))
            .await
            .unwrap()
            .channel
            .id;
        let res = owner
            .post(app.link(&format!(
                "/partner/{}/accounts/{other_channel}/sandbox-inbound",
                n.partner
            )))
            .form(&[("from", "+4915187654321")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
    })
    .await;
}

#[tokio::test]
async fn staff_enable_billing_and_adjust_a_balance_from_the_console() {
    for_each_backend(|app| async move {
        let n = number(&app, "Acme", "+4915112340018", true).await;
        app.staff("staff@bsp.test").await;
        let staff = app.staff_login("staff@bsp.test").await;
        let page = app.link(&format!("/staff/partners/{}/billing", n.partner));
        let html = staff.get(&page).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("Enable billing"), "{html}");
        let res = staff.post(format!("{page}/enable")).send().await.unwrap();
        assert_eq!(res.status(), 303);
        assert!(store::billing::settings(app.state.db.pool(), &n.partner).await.unwrap().enabled_ms.is_some());

        let res = staff
            .post(format!("{page}/adjust"))
            .form(&[("holder", n.client.as_str()), ("amount", "12,50"), ("reason", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422);
        let html = res.text().await.unwrap();
        assert!(html.contains("Amount must be a decimal amount like 25.00"), "{html}");
        assert!(html.contains("Reason is required"));
        assert!(html.contains("value=\"12,50\""), "what was typed is kept");
        let res = staff
            .post(format!("{page}/adjust"))
            .form(&[("holder", n.client.as_str()), ("amount", "12.50"), ("reason", "Goodwill for the outage")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(
            balance(&app, &n.partner, &Holder::Client(n.client.clone())).await,
            Micros::parse_major("12.50").unwrap()
        );
        let audited: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_log WHERE partner_id = $1 AND action = 'billing.adjust' AND actor_kind = 'staff'",
        )
        .bind(n.partner.as_str())
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
        assert_eq!(audited, 1);

        // People of partners are not staff.
        app.user("owner@acme.test", "Olga", &[(&n.partner, crate::support::app::Role::Owner)])
            .await;
        let owner = app.login("owner@acme.test").await;
        let res = owner
            .post(format!("{page}/adjust"))
            .form(&[("holder", "partner"), ("amount", "1000"), ("reason", "free money")])
            .send()
            .await
            .unwrap();
        let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
        assert!(
            location.as_deref().is_some_and(|l| l.starts_with("/staff/login")),
            "a partner's Owner is sent to the staff login: {location:?}"
        );
        assert_eq!(balance(&app, &n.partner, &Holder::Partner).await, Micros::ZERO);
        let res = staff
            .get(app.link("/staff/partners/zzzzzzPA/billing"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
    })
    .await;
}

#[tokio::test]
async fn a_revoked_messaging_key_stops_sending_at_once() {
    for_each_backend(|app| async move {
        eur_card(&app).await;
        let n = number(&app, "Acme", "+4915112340020", false).await;
        inbound(&app, &n.key, "4915187654321").await;
        let (status, _) = send(&app, &n.key, &text_body("4915187654321")).await;
        assert_eq!(status, 200);
        let partner = store::partners::get(app.state.db.pool(), &n.partner)
            .await
            .unwrap()
            .unwrap();
        let channel = hub::services::messaging::authenticate(&app.state, Some(&n.key))
            .await
            .unwrap()
            .channel
            .id;
        hub::services::api_keys::revoke_channel_keys(
            &app.state,
            &partner,
            &channel,
            &hub::services::audit::Actor::System,
        )
        .await
        .unwrap();
        let (status, body) = send(&app, &n.key, &text_body("4915187654321")).await;
        assert_eq!(
            status, 401,
            "the recently used key is not served from memory: {body}"
        );
    })
    .await;
}
