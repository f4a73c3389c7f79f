//! Integrated Onboarding over HTTP, on SQLite and PostgreSQL: sign-up → number → verification →
//! sharing → the redirect back in partner-api.md's exact shape; unencoded parameters, prefill,
//! the partner payload, existing emails and log-ins; open-redirect attempts; the end page
//! without a redirect URL; unknown and suspended partners; "Allow clients to add phone number"
//! off; and tenancy between partners and between clients.

use crate::support::app::{
    Options, PASSWORD, Role, TestApp, for_each_backend, for_each_backend_with,
};
use crate::support::webhook_receiver::WebhookReceiver;
use domain::onboarding::encode_component;
use domain::{PartnerId, PaymentModel};
use reqwest::Client;
use serde_json::Value;

const CONFIGURED: &str = "https://partner.example/onboarded";

struct Page {
    status: u16,
    location: Option<String>,
    html: String,
}

async fn read(res: reqwest::Response) -> Page {
    Page {
        status: res.status().as_u16(),
        location: res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        html: res.text().await.unwrap(),
    }
}

async fn get(client: &Client, app: &TestApp, path: &str) -> Page {
    read(client.get(app.link(path)).send().await.unwrap()).await
}

async fn post(client: &Client, app: &TestApp, path: &str, form: &[(&str, &str)]) -> Page {
    read(client.post(app.link(path)).form(form).send().await.unwrap()).await
}

/// The `action` of the form with this id, HTML entities undone.
fn action(html: &str, form_id: &str) -> String {
    let start = html
        .find(&format!("id=\"{form_id}\""))
        .unwrap_or_else(|| panic!("no form {form_id} in:\n{html}"));
    let rest = &html[start..];
    let at = rest.find("action=\"").expect("action") + "action=\"".len();
    let end = rest[at..].find('"').expect("end of action");
    unescape(&rest[at..at + end])
}

fn unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&#38;", "&")
        .replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
}

async fn partner(app: &TestApp, name: &str, model: PaymentModel) -> PartnerId {
    let builder = app.partner_named(name);
    match model {
        PaymentModel::DirectPayment => builder.direct_payment(),
        PaymentModel::PartnerPayment => builder,
    }
    .build()
    .await
    .id
}

async fn set_redirect(app: &TestApp, partner: &PartnerId, url: Option<&str>) {
    store::webhooks::set_redirect_url(app.state.db.pool(), partner, url)
        .await
        .unwrap();
}

/// Sign up through the first screen opened with `query`; returns the logged-in client and the
/// numbers page it lands on.
async fn sign_up(
    app: &TestApp,
    partner: &PartnerId,
    query: &str,
    email: &str,
    company: &str,
) -> (Client, Page) {
    let client = app.client();
    let first = get(&client, app, &format!("/dashboard/app/{partner}{query}")).await;
    assert_eq!(first.status, 200, "{}", first.html);
    let to = action(&first.html, "signup-form");
    let done = post(
        &client,
        app,
        &to,
        &[
            ("name", "Ann Lee"),
            ("email", email),
            ("password", PASSWORD),
            ("company", company),
        ],
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.html);
    let numbers_path = done.location.clone().unwrap();
    assert!(numbers_path.contains("/numbers"), "{numbers_path}");
    let numbers = get(&client, app, &numbers_path).await;
    assert_eq!(numbers.status, 200);
    (client, numbers)
}

/// Add a number from the numbers page; returns its channel id (the number is then pending
/// verification).
async fn add_number(app: &TestApp, client: &Client, numbers: &Page, phone: &str) -> String {
    let to = action(&numbers.html, "add-number-form");
    let res = post(
        client,
        app,
        &to,
        &[
            ("phone_number", phone),
            ("phone_name", "Ann's Shop"),
            ("verification_method", "sms"),
        ],
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.html);
    app.run_due_jobs().await;
    let id: String = sqlx::query_scalar("SELECT id FROM channels WHERE phone_number = $1")
        .bind(phone)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    id
}

fn verify_path(numbers_path: &str, channel: &str) -> String {
    let (path, query) = numbers_path.split_once('?').unwrap_or((numbers_path, ""));
    format!("{path}/{channel}/verify?{query}")
}

fn share_path(numbers_path: &str) -> String {
    numbers_path.replacen("/numbers", "/share", 1)
}

async fn permission(app: &TestApp, channel: &str) -> String {
    sqlx::query_scalar("SELECT partner_permission FROM channels WHERE id = $1")
        .bind(channel)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap()
}

async fn shared_via_api(app: &TestApp, partner: &PartnerId, client: &str) -> Vec<String> {
    let key = app.api_key(partner).await;
    let res = app
        .api(&key)
        .get(app.link(&format!(
            "/api/v2/partners/{partner}/clients/{client}/shared_client_numbers"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let list = body
        .as_array()
        .or_else(|| body["partner_channels"].as_array())
        .cloned()
        .unwrap_or_default();
    list.iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

fn client_of(location: &str) -> String {
    location
        .split("client_id=")
        .nth(1)
        .and_then(|rest| rest.split('&').next())
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_new_client_signs_up_adds_verifies_shares_and_is_sent_back() {
    let dev = || Options {
        dev: true,
        ..Options::default()
    };
    for_each_backend_with(dev, |app| async move {
        let demo = app.partner("Demo Partner").await;
        set_redirect(&app, &demo, Some(CONFIGURED)).await;
        let receiver = WebhookReceiver::start().await;
        store::webhooks::set_webhook_url(app.state.db.pool(), &demo, Some(&receiver.url()))
            .await
            .unwrap();

        // Unencoded values: a redirect URL with its own query, a state with a space.
        let query = "?redirect_url=https://partner.example/cb?a=1&b=2&state=a b&email=ann@shop.test&name=Ann Lee&partner=crm-42&plan_selection=basic";
        let first = get(&app.client(), &app, &format!("/dashboard/app/{demo}{query}")).await;
        assert_eq!(first.status, 200);
        assert!(first.html.contains("value=\"ann@shop.test\""), "email prefilled");
        assert!(first.html.contains("value=\"Ann Lee\""), "name prefilled");
        assert!(first.html.contains("id=\"platform-brand\""));
        assert!(first.html.contains("Plan: <strong>basic</strong>"));
        let carried = action(&first.html, "signup-form");
        assert!(
            carried.contains(&format!(
                "redirect_url={}",
                encode_component("https://partner.example/cb?a=1&b=2")
            )) && carried.contains("state=a%20b"),
            "the parameters travel canonically encoded: {carried}"
        );

        let (client, numbers) = sign_up(&app, &demo, query, "ann@shop.test", "Ann's Shop GmbH").await;
        assert!(numbers.html.contains("You have no numbers yet"));
        assert!(
            numbers.html.contains(&format!("href=\"/dashboard/app/{demo}/migrate\"")),
            "a number live elsewhere is brought over instead"
        );
        let numbers_path = format!(
            "/dashboard/app/{demo}/numbers?{}",
            action(&numbers.html, "add-number-form").split_once('?').unwrap().1
        );
        let cid = client_of(&numbers_path);
        let stored = store::clients::get(
            app.state.db.pool(),
            &demo,
            &domain::ClientId::parse(&cid).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(stored.name, "Ann's Shop GmbH");
        assert_eq!(stored.partner_payload.as_deref(), Some("crm-42"));
        assert_eq!(stored.contact_info.email.as_deref(), Some("ann@shop.test"));

        let channel = add_number(&app, &client, &numbers, "+4915123457001").await;
        let page = get(&client, &app, &numbers_path).await;
        assert!(page.html.contains(&format!("id=\"code-{channel}\"")), "{}", page.html);

        // A wrong code counts like everywhere; then the sandbox's 000000.
        let wrong = post(&client, &app, &verify_path(&numbers_path, &channel), &[("code", "123456")]).await;
        assert_eq!(wrong.status, 400);
        assert!(wrong.html.contains("4 of 5 attempts left"), "{}", wrong.html);
        let attempts: i64 = sqlx::query_scalar("SELECT verification_attempts FROM channels WHERE id = $1")
            .bind(&channel)
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
        assert_eq!(attempts, 1);
        let right = post(&client, &app, &verify_path(&numbers_path, &channel), &[("code", "000000")]).await;
        assert_eq!(right.status, 303, "{}", right.html);
        let status: String = sqlx::query_scalar("SELECT status FROM channels WHERE id = $1")
            .bind(&channel)
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
        assert_eq!(status, "verified");

        // Partner-Payment: shared by default, and the page says so.
        let share = get(&client, &app, &share_path(&numbers_path)).await;
        assert_eq!(share.status, 200);
        assert!(share.html.contains("shared with Demo Partner by default"));
        let finish = post(&client, &app, &action(&share.html, "share-form"), &[]).await;
        assert_eq!(finish.status, 303, "{}", finish.html);
        assert_eq!(
            finish.location.as_deref(),
            Some(format!("https://partner.example/cb?a=1&b=2&client={cid}&channels=[{channel}]&state=a%20b").as_str())
        );
        assert_eq!(permission(&app, &channel).await, "shared");
        assert_eq!(shared_via_api(&app, &demo, &cid).await, vec![channel.clone()]);

        // client_created and channel_created reached the partner's webhook.
        app.run_due_webhooks().await;
        let events: Vec<String> = receiver.received().iter().map(|r| r.event()).collect();
        assert!(events.contains(&"client_created".to_owned()), "{events:?}");
        assert!(events.contains(&"channel_created".to_owned()), "{events:?}");
        let created = receiver
            .received()
            .into_iter()
            .find(|r| r.event() == "client_created")
            .unwrap();
        assert_eq!(created.json()["data"]["id"], cid.as_str());
        assert_eq!(created.json()["data"]["partner_payload"], "crm-42");
    })
    .await;
}

#[tokio::test]
async fn direct_payment_clients_must_choose_and_un_sharing_is_reported_as_revoked() {
    for_each_backend(|app| async move {
        let other = partner(&app, "Other Partner", PaymentModel::DirectPayment).await;
        set_redirect(&app, &other, Some(CONFIGURED)).await;
        let (client, numbers) = sign_up(&app, &other, "", "dora@direct.test", "Dora Direct").await;
        let a = add_number(&app, &client, &numbers, "+4915123457011").await;
        let numbers = get(&client, &app, &action(&numbers.html, "add-number-form")).await;
        let b = add_number(&app, &client, &numbers, "+4915123457012").await;
        let numbers_path = action(&numbers.html, "add-number-form");
        let cid = client_of(&numbers_path);
        assert_eq!(permission(&app, &a).await, "missing");

        let share = get(&client, &app, &share_path(&numbers_path)).await;
        assert!(!share.html.contains("by default"));
        let to = action(&share.html, "share-form");
        let none = post(&client, &app, &to, &[]).await;
        assert_eq!(none.status, 400);
        assert!(
            none.html
                .contains("choose at least one number to share with Other Partner")
        );
        let forged = post(&client, &app, &to, &[("channels", "zzzzzzCH")]).await;
        assert_eq!(forged.status, 400);

        let first = post(&client, &app, &to, &[("channels", a.as_str())]).await;
        assert_eq!(first.status, 303);
        assert_eq!(
            first.location.as_deref(),
            Some(format!("{CONFIGURED}?client={cid}&channels=[{a}]").as_str())
        );
        assert_eq!(permission(&app, &a).await, "shared");
        assert_eq!(permission(&app, &b).await, "missing");
        assert_eq!(shared_via_api(&app, &other, &cid).await, vec![a.clone()]);

        // Back again: share b instead; a is reported as revoked.
        let again = get(&client, &app, &format!("/dashboard/app/{other}")).await;
        assert_eq!(
            again.status, 303,
            "a logged-in client goes straight to its numbers"
        );
        let second = post(&client, &app, &to, &[("channels", b.as_str())]).await;
        assert_eq!(
            second.location.as_deref(),
            Some(format!("{CONFIGURED}?client={cid}&channels=[{b}]&revoked=[{a}]").as_str())
        );
        assert_eq!(shared_via_api(&app, &other, &cid).await, vec![b.clone()]);

        // ?number= asks for one number only; the plus may arrive unencoded.
        let ask = get(
            &client,
            &app,
            &format!("/dashboard/app/{other}/permissions?number=+4915123457011&state=s1"),
        )
        .await;
        assert_eq!(ask.status, 200, "{}", ask.html);
        assert!(ask.html.contains("+4915123457011") && !ask.html.contains("+4915123457012"));
        let granted = post(
            &client,
            &app,
            &action(&ask.html, "share-form"),
            &[("channels", a.as_str())],
        )
        .await;
        assert_eq!(
            granted.location.as_deref(),
            Some(format!("{CONFIGURED}?client={cid}&channels=[{a}]&state=s1").as_str())
        );
        assert_eq!(
            permission(&app, &b).await,
            "shared",
            "the other number is untouched"
        );
    })
    .await;
}

#[tokio::test]
async fn existing_emails_are_asked_to_log_in_and_existing_clients_log_in() {
    for_each_backend(|app| async move {
        let demo = app.partner("Demo Partner").await;
        let (_, numbers) = sign_up(&app, &demo, "", "ann@shop.test", "Ann's Shop").await;
        let cid = client_of(&action(&numbers.html, "add-number-form"));
        app.user("olivia@demo.test", "Olivia", &[(&demo, Role::Owner)])
            .await;

        // Taken emails (a client's, a partner user's) get the same neutral answer as each other.
        for taken in ["ann@shop.test", "olivia@demo.test"] {
            let fresh = app.client();
            let first = get(&fresh, &app, &format!("/dashboard/app/{demo}?state=x")).await;
            let again = post(
                &fresh,
                &app,
                &action(&first.html, "signup-form"),
                &[
                    ("name", "Someone"),
                    ("email", taken),
                    ("password", PASSWORD),
                    ("company", "Co"),
                ],
            )
            .await;
            assert_eq!(again.status, 200);
            assert!(
                again
                    .html
                    .contains("We could not create an account with this email")
            );
            assert!(again.html.contains("id=\"onboarding-login-form\""));
            assert!(!again.html.to_lowercase().contains("already exists"));
            assert!(action(&again.html, "onboarding-login-form").contains("state=x"));
        }
        let users: i64 = sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM users")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
        assert_eq!(users, 2, "no second account");

        // Invalid input is explained inline and kept; no 500.
        let fresh = app.client();
        let first = get(&fresh, &app, &format!("/dashboard/app/{demo}")).await;
        let bad = post(
            &fresh,
            &app,
            &action(&first.html, "signup-form"),
            &[
                ("name", ""),
                ("email", "not-an-email"),
                ("password", "short"),
                ("company", "Kept Co"),
            ],
        )
        .await;
        assert_eq!(bad.status, 400);
        assert!(bad.html.contains("value=\"Kept Co\""));
        assert!(bad.html.contains("Password must be at least 10 characters"));

        // next=login shows the log-in form first; a wrong password says so; the right one leads
        // to the client's numbers.
        let visitor = app.client();
        let login = get(
            &visitor,
            &app,
            &format!("/dashboard/app/{demo}?next=login&email=ann@shop.test"),
        )
        .await;
        assert!(login.html.contains("id=\"onboarding-login-form\""));
        assert!(login.html.contains("value=\"ann@shop.test\""));
        let to = action(&login.html, "onboarding-login-form");
        let wrong = post(
            &visitor,
            &app,
            &to,
            &[("email", "ann@shop.test"), ("password", "wrong password!")],
        )
        .await;
        assert_eq!(wrong.status, 401);
        let ok = post(
            &visitor,
            &app,
            &to,
            &[("email", "ann@shop.test"), ("password", PASSWORD)],
        )
        .await;
        assert_eq!(ok.status, 303);
        let start = get(&visitor, &app, &ok.location.unwrap()).await;
        assert_eq!(start.status, 303);
        assert!(
            start
                .location
                .unwrap()
                .contains(&format!("client_id={cid}"))
        );

        // Malformed form bodies are no 500 either.
        let junk = visitor
            .post(app.link(&format!("/dashboard/app/{demo}/numbers")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("%%%&&=")
            .send()
            .await
            .unwrap();
        assert_eq!(junk.status(), 400);
    })
    .await;
}

#[tokio::test]
async fn open_redirects_are_impossible_and_no_redirect_url_ends_on_a_clear_page() {
    for_each_backend(|app| async move {
        let demo = app.partner("Demo Partner").await;
        set_redirect(&app, &demo, Some(CONFIGURED)).await;
        let (client, numbers) = sign_up(&app, &demo, "", "ann@shop.test", "Ann's Shop").await;
        add_number(&app, &client, &numbers, "+4915123457021").await;
        let cid = client_of(&action(&numbers.html, "add-number-form"));
        let share = format!("/dashboard/app/{demo}/share?client_id={cid}");
        for evil in [
            "https://evil.example/cb",
            "http://partner.example/onboarded",
            "https://partner.example:8443/onboarded",
            "https://partner.example.evil.example/",
            "javascript:alert(document.domain)",
            "//evil.example/cb",
            "/\\evil.example",
            "https:\\\\evil.example",
            "https://partner.example@evil.example/",
            "https://partner.example\\@evil.example/",
            "http://localhost:3000/cb",
        ] {
            for query in [
                format!("{share}&redirect_url={}", encode_component(evil)),
                format!("{share}&redirect_url={evil}"),
            ] {
                let res = post(&client, &app, &query, &[]).await;
                assert_eq!(res.status, 303, "{query}");
                let location = res.location.unwrap();
                assert!(
                    location.starts_with(&format!("{CONFIGURED}?client={cid}&channels=[")),
                    "{evil} led to {location}"
                );
            }
        }
        // The same origin is honoured.
        let same = post(
            &client,
            &app,
            &format!(
                "{share}&redirect_url={}",
                encode_component("https://partner.example/other?x=1")
            ),
            &[],
        )
        .await;
        assert!(
            same.location
                .unwrap()
                .starts_with("https://partner.example/other?x=1&client=")
        );

        // No Redirect URL at all: a foreign one is still refused, and the page explains.
        set_redirect(&app, &demo, None).await;
        let res = post(
            &client,
            &app,
            &format!("{share}&redirect_url=https://evil.example/"),
            &[],
        )
        .await;
        assert_eq!(res.status, 200);
        assert!(res.location.is_none());
        assert!(res.html.contains("You're all set") || res.html.contains("You&#39;re all set"));
        assert!(res.html.contains("you can close this window"));
    })
    .await;
}

#[tokio::test]
async fn unknown_and_suspended_partners_get_clear_pages() {
    for_each_backend(|app| async move {
        let client = app.client();
        for path in [
            "/dashboard/app/zzzzzzPA",
            "/dashboard/app/not-an-id",
            "/dashboard/app/zzzzzzPA/permissions?number=+1",
        ] {
            let page = get(&client, &app, path).await;
            assert_eq!(page.status, 404, "{path}");
            assert!(page.html.contains("Onboarding page not found"));
            assert!(page.html.contains("Partner Hub"));
        }
        let demo = app
            .partner_named("Demo Partner")
            .suspended()
            .build()
            .await
            .id;
        let page = get(&client, &app, &format!("/dashboard/app/{demo}")).await;
        assert_eq!(page.status, 403);
        assert!(
            page.html
                .contains("is not connecting new numbers right now")
        );
        let signup = post(
            &client,
            &app,
            &format!("/dashboard/app/{demo}/signup"),
            &[("email", "x@y.test")],
        )
        .await;
        assert_eq!(signup.status, 403);
    })
    .await;
}

#[tokio::test]
async fn existing_clients_cannot_add_numbers_when_the_partner_turned_it_off() {
    for_each_backend(|app| async move {
        let demo = app.partner("Demo Partner").await;
        store::partners::set_allow_client_to_add_phone_no(app.state.db.pool(), &demo, false)
            .await
            .unwrap();
        // A new sign-up still adds its first numbers.
        let (client, numbers) = sign_up(&app, &demo, "", "ann@shop.test", "Ann's Shop").await;
        assert!(!numbers.html.contains("id=\"add-refused\""));
        add_number(&app, &client, &numbers, "+4915123457031").await;
        let numbers_path = action(&numbers.html, "add-number-form");

        // Later, in a new session, the same client is an existing client.
        app.clock.advance_ms(10 * 60 * 1000);
        let later = app.client();
        let login = get(&later, &app, &format!("/dashboard/app/{demo}?next=login")).await;
        let ok = post(
            &later,
            &app,
            &action(&login.html, "onboarding-login-form"),
            &[("email", "ann@shop.test"), ("password", PASSWORD)],
        )
        .await;
        assert_eq!(ok.status, 303);
        let page = get(&later, &app, &numbers_path).await;
        assert!(
            page.html
                .contains("does not let existing clients add new numbers"),
            "{}",
            page.html
        );
        assert!(!page.html.contains("id=\"add-number-form\""));
        assert!(
            page.html.contains("+4915123457031"),
            "existing numbers can still be picked"
        );
        let refused = post(
            &later,
            &app,
            &numbers_path,
            &[
                ("phone_number", "+4915123457032"),
                ("phone_name", "Shop 2"),
                ("verification_method", "sms"),
            ],
        )
        .await;
        assert_eq!(refused.status, 403);
        assert!(
            refused
                .html
                .contains("does not let existing clients add new numbers")
        );
        let count: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM channels WHERE partner_id = $1",
        )
        .bind(demo.as_str())
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
        assert_eq!(count, 1);

        // The service refuses too, whatever page sends it.
        let public = hub::services::onboarding::public_partner(&app.state, demo.as_str())
            .await
            .unwrap();
        let user = store::users::by_email(
            app.state.db.pool(),
            &domain::Email::parse("ann@shop.test").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
        let cid = domain::ClientId::parse(&client_of(&numbers_path)).unwrap();
        let visit = hub::services::onboarding::ClientVisit {
            client: hub::services::accounts::client(&app.state, &public.partner, &cid)
                .await
                .unwrap(),
            public,
            user,
            new_signup: false,
            client_count: 1,
        };
        let request =
            hub::services::accounts::NumberRequest::parse("+4915123457033", "Shop 3", None, None)
                .unwrap();
        let meta = hub::http::extract::ClientMeta {
            ip: "127.0.0.1".into(),
            user_agent: String::new(),
        };
        let err = hub::services::onboarding::add_number(&app.state, &visit, &request, &meta)
            .await
            .unwrap_err();
        assert!(matches!(err, hub::error::AppError::Forbidden(_)), "{err:?}");
        // Turned back on, the same existing client may add again.
        store::partners::set_allow_client_to_add_phone_no(app.state.db.pool(), &demo, true)
            .await
            .unwrap();
        let page = get(&later, &app, &numbers_path).await;
        assert!(page.html.contains("id=\"add-number-form\""));
    })
    .await;
}

#[tokio::test]
async fn clients_see_nothing_of_other_partners_or_other_clients() {
    for_each_backend(|app| async move {
        let a = app.partner("Alpha Partner").await;
        let b = partner(&app, "Beta Partner", PaymentModel::DirectPayment).await;
        let (ann, numbers) = sign_up(&app, &a, "", "ann@shop.test", "Ann Alpha Shop").await;
        let ann_number = add_number(&app, &ann, &numbers, "+4915123457041").await;
        let (bob, bob_numbers) = sign_up(&app, &a, "", "bob@shop.test", "Bob Alpha Shop").await;
        let bob_number = add_number(&app, &bob, &bob_numbers, "+4915123457042").await;
        let bob_client = client_of(&action(&bob_numbers.html, "add-number-form"));

        // Ann on Beta: no account there; nothing of Alpha shows.
        let on_b = get(&ann, &app, &format!("/dashboard/app/{b}")).await;
        assert_eq!(on_b.status, 200);
        assert!(
            on_b.html
                .contains("you have no account with Beta Partner yet")
        );
        for leak in ["Ann Alpha Shop", "+4915123457041", ann_number.as_str()] {
            assert!(!on_b.html.contains(leak), "{leak}");
        }
        let numbers_b = get(&ann, &app, &format!("/dashboard/app/{b}/numbers")).await;
        assert_eq!(
            numbers_b.status, 303,
            "no client of Beta: back to the first screen"
        );
        let ask_b = get(
            &ann,
            &app,
            &format!("/dashboard/app/{b}/permissions?number=+4915123457041"),
        )
        .await;
        assert_eq!(ask_b.status, 403);
        assert!(
            ask_b
                .html
                .contains("not one of the numbers you can manage here")
        );
        assert!(!ask_b.html.contains(&ann_number));

        // Ann on Alpha asking for Bob's number, or naming Bob's client: neutral refusal / her own.
        let ask = get(
            &ann,
            &app,
            &format!("/dashboard/app/{a}/permissions?number=+4915123457042"),
        )
        .await;
        assert_eq!(ask.status, 403);
        assert!(!ask.html.contains(&bob_number) && !ask.html.contains("Bob"));
        let as_bob = get(
            &ann,
            &app,
            &format!("/dashboard/app/{a}/numbers?client_id={bob_client}"),
        )
        .await;
        assert_eq!(as_bob.status, 200);
        assert!(!as_bob.html.contains("+4915123457042") && as_bob.html.contains("+4915123457041"));
        let steal = post(
            &ann,
            &app,
            &format!("/dashboard/app/{a}/share?client_id={bob_client}"),
            &[("channels", bob_number.as_str())],
        )
        .await;
        assert_eq!(steal.status, 400);
        let verify_bob = post(
            &ann,
            &app,
            &format!("/dashboard/app/{a}/numbers/{bob_number}/verify?client_id={bob_client}"),
            &[("code", "000000")],
        )
        .await;
        assert_eq!(verify_bob.status, 404);

        // Ann opens an account with Beta through the company form; Beta sees only that.
        let company = post(
            &ann,
            &app,
            &action(&on_b.html, "company-form"),
            &[("company", "Ann Beta Shop")],
        )
        .await;
        assert_eq!(company.status, 303);
        let page = get(&ann, &app, &company.location.unwrap()).await;
        assert!(page.html.contains("Ann Beta Shop") && !page.html.contains("+4915123457041"));
    })
    .await;
}

/// Sign-ups from one address are limited (each creates a person and a client): the one past the
/// limit gets a clear 429 page and creates nothing; an hour later sign-ups work again.
#[tokio::test]
async fn sign_ups_from_one_address_are_throttled() {
    for_each_backend(|app| async move {
        let demo = partner(&app, "Demo Partner", PaymentModel::PartnerPayment).await;
        let limit = hub::state::LoginThrottle::SIGNUPS_PER_HOUR;
        for i in 0..limit {
            sign_up(
                &app,
                &demo,
                "",
                &format!("c{i}@shop.test"),
                &format!("Shop {i}"),
            )
            .await;
        }
        let client = app.client();
        let first = get(&client, &app, &format!("/dashboard/app/{demo}")).await;
        let to = action(&first.html, "signup-form");
        let form = [
            ("name", "Ann Lee"),
            ("email", "one.too.many@shop.test"),
            ("password", PASSWORD),
            ("company", "One Too Many"),
        ];
        let refused = post(&client, &app, &to, &form).await;
        assert_eq!(refused.status, 429, "{}", refused.html);
        assert!(refused.html.contains("Slow down"), "{}", refused.html);
        let users: i64 =
            sqlx::query_scalar("SELECT CAST(COUNT(*) AS BIGINT) FROM users WHERE email = $1")
                .bind("one.too.many@shop.test")
                .fetch_one(app.state.db.pool())
                .await
                .unwrap();
        assert_eq!(users, 0, "nothing was created");

        app.clock.advance_ms(60 * 60 * 1000);
        let again = post(&client, &app, &to, &form).await;
        assert_eq!(again.status, 303, "{}", again.html);
    })
    .await;
}
