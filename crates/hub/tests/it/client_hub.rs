//! The Client Hub as a partner's client uses it: logging in lands there (or in the partner
//! dashboard for people who are both, with the switcher offering both), the numbers with their
//! partner permission, Grant/Revoke reflected at once in the Partner API, the partner's key
//! refused without permission, the client's own key for Direct-Payment numbers, cancellation —
//! and that a client user never reaches another client's numbers.

use crate::support::app::{PartnerId, Role, TestApp, for_each_backend};
use serde_json::{Value, json};

/// A partner with an Owner (`owner@{slug}.test`) and a partner API key.
pub struct Partner {
    pub id: PartnerId,
    pub api: reqwest::Client,
    pub owner: String,
}

pub async fn partner(app: &TestApp, name: &str, model: domain::PaymentModel) -> Partner {
    let slug: String = name
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let owner = format!("owner@{slug}.test");
    let mut builder = app
        .partner_named(name)
        .with_owner(&owner, &format!("{name} Owner"))
        .with_api_key();
    if model == domain::PaymentModel::DirectPayment {
        builder = builder.direct_payment();
    }
    let built = builder.build().await;
    let api = app.api(&built.api_key.unwrap());
    Partner {
        id: built.id,
        api,
        owner,
    }
}

use hub::clock::Clock;

impl Partner {
    pub fn url(&self, app: &TestApp, rest: &str) -> String {
        app.link(&format!("/api/v2/partners/{}{rest}", self.id))
    }

    /// The partner object, as `GET /partners/{pid}` returns it.
    pub async fn object(&self, app: &TestApp) -> Value {
        let res = self.api.get(self.url(app, "")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    pub async fn client(&self, app: &TestApp, name: &str) -> String {
        let res = self
            .api
            .post(self.url(app, "/clients"))
            .json(&json!({"name": name, "contact_info": {"email": "team@client.test"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        res.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A number of `client` taken through the sandbox to `running`.
    pub async fn running_number(&self, app: &TestApp, client: &str, phone: &str) -> String {
        self.running_number_on(app, client, phone, None).await
    }

    pub async fn running_number_on(
        &self,
        app: &TestApp,
        client: &str,
        phone: &str,
        waba: Option<&str>,
    ) -> String {
        let mut body = json!({"phone_number": phone, "phone_name": "Support"});
        if let Some(waba) = waba {
            body["waba_account_id"] = json!(waba);
        }
        let res = self
            .api
            .post(self.url(app, &format!("/clients/{client}/channels")))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        let channel = res.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.run_due_jobs().await;
        let res = self
            .api
            .post(self.url(app, &format!("/clients/{client}/channels/{channel}/verify")))
            .json(&json!({"code": "000000"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        app.run_due_jobs().await;
        app.run_due_jobs().await;
        assert_eq!(self.channel(app, &channel).await["status"], "running");
        channel
    }

    pub async fn channel(&self, app: &TestApp, channel: &str) -> Value {
        let res = self
            .api
            .get(self.url(app, &format!("/channels/{channel}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "channel {channel}");
        res.json().await.unwrap()
    }

    pub async fn shared(&self, app: &TestApp, client: &str) -> Vec<String> {
        let res = self
            .api
            .get(self.url(app, &format!("/clients/{client}/shared_client_numbers")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json::<Value>().await.unwrap()["partner_channels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn create_key(&self, app: &TestApp, channel: &str) -> reqwest::Response {
        self.api
            .post(self.url(app, &format!("/channels/{channel}/api_keys")))
            .send()
            .await
            .unwrap()
    }
}

/// Make `email` (a new person unless it exists) a Client Hub user of `client` of `partner`.
pub async fn client_user(app: &TestApp, email: &str, partner: &PartnerId, client: &str) {
    app.user(email, "Clara Client", &[]).await;
    let user = store::users::by_email(app.state.db.pool(), &domain::Email::parse(email).unwrap())
        .await
        .unwrap()
        .unwrap();
    let client = domain::ClientId::parse(client).unwrap();
    assert!(
        store::client_users::add(
            app.state.db.pool(),
            partner,
            &client,
            &user.id,
            app.clock.now_ms()
        )
        .await
        .unwrap()
    );
}

/// Follow redirects by hand (the test client does not), returning the last response.
pub async fn follow(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
) -> (String, reqwest::Response) {
    let mut path = path.to_owned();
    for _ in 0..6 {
        let res = client.get(app.link(&path)).send().await.unwrap();
        if res.status() != 303 && res.status() != 302 {
            return (path, res);
        }
        path = res.headers()["location"].to_str().unwrap().to_owned();
    }
    panic!("too many redirects from {path}");
}

pub async fn post_form(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client.post(app.link(path)).form(form).send().await.unwrap()
}

#[tokio::test]
async fn client_users_land_in_the_client_hub_and_people_with_both_can_switch() {
    for_each_backend(|app| async move {
        let demo = partner(&app, "Demo Partner", domain::PaymentModel::PartnerPayment).await;
        let acme = demo.client(&app, "Acme Shoes").await;
        client_user(&app, "clara@acme.test", &demo.id, &acme).await;

        let clara = app.login("clara@acme.test").await;
        let (path, res) = follow(&clara, &app, "/").await;
        assert_eq!(path, format!("/client/{acme}"));
        let html = res.text().await.unwrap();
        assert!(
            html.contains("Acme Shoes") && html.contains("Demo Partner"),
            "{html}"
        );
        assert!(
            html.contains(demo.id.as_str()),
            "the partner is named with its id"
        );
        assert!(!html.contains("class=\"sidebar\""), "no partner menu");
        assert!(html.contains("No numbers yet"), "empty state");
        // A client user is no partner user.
        let res = clara
            .get(app.link(&format!("/partner/{}/accounts", demo.id)))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);

        // One email, both roles: the partner dashboard first, and the switcher has both.
        app.user("ada@agency.test", "Ada Agency", &[(&demo.id, Role::Owner)])
            .await;
        client_user(&app, "ada@agency.test", &demo.id, &acme).await;
        let ada = app.login("ada@agency.test").await;
        let (path, res) = follow(&ada, &app, "/").await;
        assert_eq!(path, format!("/partner/{}/accounts", demo.id));
        let html = res.text().await.unwrap();
        assert!(html.contains("Switch account"));
        assert!(html.contains(&format!("href=\"/client/{acme}\"")), "{html}");
        assert!(html.contains("Client Hub"));
        let (_, res) = follow(&ada, &app, &format!("/client/{acme}")).await;
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        assert!(html.contains(&format!("href=\"/partner/{}/accounts\"", demo.id)));
        // The Partner Change page is on the partner menu.
        assert!(
            follow(&ada, &app, &format!("/partner/{}/partner-change", demo.id))
                .await
                .1
                .text()
                .await
                .unwrap()
                .contains("Requests to move to you")
        );
    })
    .await;
}

#[tokio::test]
async fn permission_grants_and_revocations_show_at_once_and_gate_the_partners_keys() {
    for_each_backend(|app| async move {
        let direct = partner(&app, "Direct Partner", domain::PaymentModel::DirectPayment).await;
        let acme = direct.client(&app, "Acme Shoes").await;
        let number = direct.running_number(&app, &acme, "+4915123457101").await;
        let other = direct.running_number(&app, &acme, "+4915123457102").await;
        client_user(&app, "clara@acme.test", &direct.id, &acme).await;
        let clara = app.login("clara@acme.test").await;
        let home = format!("/client/{acme}");

        let html = follow(&clara, &app, &home).await.1.text().await.unwrap();
        assert!(html.contains("+4915123457101") && html.contains("+4915123457102"));
        assert!(html.contains(&format!("id=\"permission-{number}\">Missing")), "{html}");
        assert!(html.contains(&format!("id=\"grant-{number}\"")));
        assert!(direct.shared(&app, &acme).await.is_empty());

        // Without permission the partner cannot make a key: API and Hub page alike.
        let res = direct.create_key(&app, &number).await;
        assert_eq!(res.status(), 403);
        let body: Value = res.json().await.unwrap();
        assert!(body["meta"]["developer_message"]
            .as_str()
            .unwrap()
            .contains("has not shared this number"));
        let owner = app.login(&direct.owner).await;
        let res = post_form(
            &owner,
            &app,
            &format!("/partner/{}/accounts/{number}/api-keys", direct.id),
            &[],
        )
        .await;
        assert_eq!(res.status(), 403);
        assert!(res.text().await.unwrap().contains("has not shared this number"));

        // The client's own key (Direct-Payment, no permission): shown once, stored hashed.
        let res = post_form(&clara, &app, &format!("{home}/numbers/{number}/api-key"), &[]).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["cache-control"], "no-store");
        let html = res.text().await.unwrap();
        let secret = html
            .split("id=\"new-key\">")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_owned();
        assert!(secret.len() >= 20);
        let stored: Vec<(String, Option<i64>)> = sqlx::query_as(
            "SELECT key_hash, revoked_ms FROM channel_api_keys WHERE channel_id = $1",
        )
        .bind(&number)
        .fetch_all(app.state.db.pool())
        .await
        .unwrap();
        assert_eq!(stored.len(), 1);
        assert_ne!(stored[0].0, secret, "only the digest is stored");
        assert!(!follow(&clara, &app, &home).await.1.text().await.unwrap().contains(&secret));
        // A second key revokes the first.
        app.clock.advance_ms(31_000);
        let res = post_form(&clara, &app, &format!("{home}/numbers/{number}/api-key"), &[]).await;
        assert_eq!(res.status(), 200);
        let live: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM channel_api_keys WHERE channel_id = $1 AND revoked_ms IS NULL",
        )
        .bind(&number)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
        assert_eq!(live, 1);

        // Grant: at once in shared_client_numbers and the channel object.
        let res = post_form(&clara, &app, &format!("{home}/numbers/{number}/permission"), &[("grant", "1")]).await;
        assert_eq!(res.status(), 303);
        assert_eq!(direct.shared(&app, &acme).await, vec![number.clone()]);
        assert_eq!(direct.channel(&app, &number).await["partner_permission"], "shared");
        assert_eq!(direct.channel(&app, &other).await["partner_permission"], "missing");
        let html = follow(&clara, &app, &home).await.1.text().await.unwrap();
        assert!(html.contains(&format!("id=\"permission-{number}\">Shared")));
        assert!(html.contains("may now create API keys"), "flash: {html}");
        // Now the partner manages keys, and the client is refused.
        app.clock.advance_ms(31_000);
        let res = direct.create_key(&app, &number).await;
        assert_eq!(res.status(), 200);
        let res = post_form(&clara, &app, &format!("{home}/numbers/{number}/api-key"), &[]).await;
        assert_eq!(res.status(), 403);
        let html = res.text().await.unwrap();
        assert!(html.contains(&format!("id=\"error-{number}\"")));
        assert!(html.contains("has permission on this number"));
        // The partner was told.
        let notes: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM notifications WHERE partner_id = $1 AND kind = 'channel_permission'",
        )
        .bind(direct.id.as_str())
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
        assert_eq!(notes, 1);

        // Revoke: missing at once, and the partner's key stops working.
        let res = post_form(&clara, &app, &format!("{home}/numbers/{number}/permission"), &[("grant", "0")]).await;
        assert_eq!(res.status(), 303);
        assert!(direct.shared(&app, &acme).await.is_empty());
        assert_eq!(direct.channel(&app, &number).await["partner_permission"], "missing");
        let keys: Value = direct
            .api
            .get(direct.url(&app, &format!("/channels/{number}/api_keys")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(keys["api_keys"], json!([]), "revoking permission revokes the keys");
        app.clock.advance_ms(31_000);
        assert_eq!(direct.create_key(&app, &number).await.status(), 403);
        // A filter on the list follows too.
        let list: Value = direct
            .api
            .get(direct.url(&app, "/channels"))
            .query(&[("filters", r#"{"partner_permission":"shared"}"#)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list["total"], 0);
    })
    .await;
}

#[tokio::test]
async fn partner_payment_numbers_stay_with_the_partner_and_cancellation_works_both_ways() {
    for_each_backend(|app| async move {
        let demo = partner(&app, "Demo Partner", domain::PaymentModel::PartnerPayment).await;
        let acme = demo.client(&app, "Acme Shoes").await;
        let number = demo.running_number(&app, &acme, "+4915123457201").await;
        client_user(&app, "clara@acme.test", &demo.id, &acme).await;
        let clara = app.login("clara@acme.test").await;
        let home = format!("/client/{acme}");
        let html = follow(&clara, &app, &home).await.1.text().await.unwrap();
        assert!(html.contains(&format!("id=\"permission-{number}\">Shared")));
        assert!(!html.contains(&format!("id=\"revoke-{number}\"")), "no toggle for Partner-Payment");
        assert!(!html.contains(&format!("id=\"key-{number}\"")));
        let res = post_form(&clara, &app, &format!("{home}/numbers/{number}/permission"), &[("grant", "0")]).await;
        assert_eq!(res.status(), 422);
        assert!(res.text().await.unwrap().contains("pays for this number"));
        assert_eq!(demo.channel(&app, &number).await["partner_permission"], "shared");
        let res = post_form(&clara, &app, &format!("{home}/numbers/{number}/api-key"), &[]).await;
        assert_eq!(res.status(), 403);

        // Cancellation, then withdrawn.
        let res = post_form(&clara, &app, &format!("{home}/numbers/{number}/cancel"), &[]).await;
        assert_eq!(res.status(), 303);
        assert_eq!(demo.channel(&app, &number).await["status"], "pending_deletion");
        let html = follow(&clara, &app, &home).await.1.text().await.unwrap();
        assert!(html.contains(&format!("id=\"withdraw-{number}\"")));
        let res = post_form(&clara, &app, &format!("{home}/numbers/{number}/cancel"), &[]).await;
        assert_eq!(res.status(), 422, "only running numbers are cancelled");
        let res = post_form(&clara, &app, &format!("{home}/numbers/{number}/withdraw-cancellation"), &[]).await;
        assert_eq!(res.status(), 303);
        assert_eq!(demo.channel(&app, &number).await["status"], "running");
        let audit: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM audit_log WHERE partner_id = $1 AND action IN ('channel.cancel', 'channel.cancel_withdraw')",
        )
        .bind(demo.id.as_str())
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
        assert_eq!(audit, 2);
    })
    .await;
}

#[tokio::test]
async fn a_client_user_never_reaches_another_clients_numbers() {
    for_each_backend(|app| async move {
        let direct = partner(&app, "Direct Partner", domain::PaymentModel::DirectPayment).await;
        let other = partner(&app, "Other Partner", domain::PaymentModel::DirectPayment).await;
        let acme = direct.client(&app, "Acme Shoes").await;
        let bella = direct.client(&app, "Bella Pasta").await;
        let casa = other.client(&app, "Casa Verde").await;
        let acme_no = direct.running_number(&app, &acme, "+4915123457301").await;
        let bella_no = direct.running_number(&app, &bella, "+4915123457302").await;
        let casa_no = other.running_number(&app, &casa, "+4915123457303").await;
        client_user(&app, "clara@acme.test", &direct.id, &acme).await;
        let clara = app.login("clara@acme.test").await;
        let mine = format!("/client/{acme}");
        assert_eq!(
            clara.get(app.link(&mine)).send().await.unwrap().status(),
            200
        );

        for (client, channel) in [(&bella, &bella_no), (&casa, &casa_no)] {
            for base in [format!("/client/{client}"), mine.clone()] {
                if base != mine {
                    for get in [base.clone(), format!("{base}/migrate")] {
                        let res = clara.get(app.link(&get)).send().await.unwrap();
                        assert_eq!(res.status(), 404, "GET {get}");
                    }
                }
                let get = format!("{base}/migrate/{channel}");
                assert_eq!(
                    clara.get(app.link(&get)).send().await.unwrap().status(),
                    404,
                    "GET {get}"
                );
                for (action, form) in [
                    ("permission", vec![("grant", "1")]),
                    ("permission", vec![("grant", "0")]),
                    ("api-key", vec![]),
                    ("cancel", vec![]),
                    ("withdraw-cancellation", vec![]),
                ] {
                    let path = format!("{base}/numbers/{channel}/{action}");
                    let res = post_form(&clara, &app, &path, &form).await;
                    assert_eq!(res.status(), 404, "POST {path}");
                }
                let path = format!("{base}/migrate/{channel}/code");
                assert_eq!(
                    post_form(&clara, &app, &path, &[("code", "000000")])
                        .await
                        .status(),
                    404
                );
            }
            let path = format!("/client/{client}/partner-change");
            let res = post_form(&clara, &app, &path, &[("waba", "x"), ("partner_id", "y")]).await;
            assert_eq!(res.status(), 404, "POST {path}");
        }
        // Nothing changed for the others.
        assert_eq!(
            direct.channel(&app, &bella_no).await["partner_permission"],
            "missing"
        );
        assert_eq!(direct.channel(&app, &bella_no).await["status"], "running");
        assert_eq!(other.channel(&app, &casa_no).await["status"], "running");
        let keys: i64 = sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM channel_api_keys WHERE channel_id IN ($1, $2)",
        )
        .bind(&bella_no)
        .bind(&casa_no)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
        assert_eq!(keys, 0);
        // Another client's WABA cannot be asked to move either, through one's own page.
        let bella_waba = direct.channel(&app, &bella_no).await["waba_account_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let res = post_form(
            &clara,
            &app,
            &format!("{mine}/partner-change"),
            &[
                ("waba", bella_waba.as_str()),
                ("partner_id", other.id.as_str()),
            ],
        )
        .await;
        assert_eq!(res.status(), 400);
        let html = res.text().await.unwrap();
        assert!(!html.contains("+4915123457302") && !html.contains("Bella Pasta"));
        // The page of one's own client shows only its numbers.
        let html = follow(&clara, &app, &mine).await.1.text().await.unwrap();
        assert!(html.contains("+4915123457301"));
        assert!(!html.contains("+4915123457302") && !html.contains("+4915123457303"));
        // Partner users who are no client users see no Client Hub.
        let owner = app.login(&direct.owner).await;
        assert_eq!(
            owner.get(app.link(&mine)).send().await.unwrap().status(),
            404
        );
        let (path, _) = follow(&owner, &app, "/client").await;
        assert_eq!(path, "/client");
        // Unknown and malformed ids.
        for path in [
            "/client/zzzzzzCL",
            "/client/nonsense",
            "/client/zzzzzzCL/numbers/zzzzzzCH/cancel",
        ] {
            let res = clara.get(app.link(path)).send().await.unwrap();
            assert!(matches!(res.status().as_u16(), 404 | 405), "{path}");
        }
        let _ = acme_no;
    })
    .await;
}
