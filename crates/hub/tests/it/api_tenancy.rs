//! Tenant isolation on the Partner API: Other Partner's credentials walk every route with Demo
//! Partner's ids. A partner id the caller cannot use is 403; Demo's objects under the caller's
//! own partner are 404; nothing of Demo's ever appears in a body, lists and filters included.

use crate::support::app::{PartnerId, Role, TestApp, for_each_backend};
use serde_json::{Value, json};

struct Demo {
    partner: PartnerId,
    client: String,
    channel: String,
    waba: String,
}

async fn demo_with_running_number(app: &TestApp) -> Demo {
    let demo = app
        .partner_named("Demo Partner")
        .with_running_channel("Secret Client", "+4915123450001")
        .build()
        .await;
    let waba = store::channels::get(app.state.db.pool(), &demo.id, &demo.channels[0])
        .await
        .unwrap()
        .unwrap()
        .waba_id
        .to_string();
    Demo {
        partner: demo.id,
        client: demo.clients[0].to_string(),
        channel: demo.channels[0].to_string(),
        waba,
    }
}

fn leaks(body: &str, demo: &Demo) -> bool {
    body.contains("Secret Client")
        || body.contains("Secret Client Support")
        || body.contains(&demo.client)
        || body.contains(&demo.channel)
        || body.contains("+4915123450001")
        || body.contains(&demo.waba)
}

#[tokio::test]
async fn other_partners_credentials_never_reach_demo_data() {
    for_each_backend(|app| async move {
        let demo = demo_with_running_number(&app).await;
        let other = app.partner("Other Partner").await;
        app.user("owner@other.test", "Oscar", &[(&other, Role::Owner)])
            .await;
        let oscar_key = app.api(&app.api_key(&other).await);

        let d = &demo.partner;
        let (c, ch, wa) = (&demo.client, &demo.channel, &demo.waba);
        // Bodies that would be accepted from Demo itself; the rest send none (or `{}`).
        let body_of = |method: &str, path: &str| -> Option<Value> {
            let body = match (method, path) {
                ("PATCH", "/partners/{partner_id}") => json!({"brand_name": "pwned"}),
                ("POST", "/partners/{partner_id}/clients") => json!({"name": "Intruder"}),
                ("PATCH", "/partners/{partner_id}/clients/{client_id}") => {
                    json!({"max_channels": 1})
                }
                ("POST", "/partners/{partner_id}/account_sharing/clients") => {
                    json!({"name": "Intruder", "email": "i@x.test", "user_name": "I"})
                }
                ("POST", "/partners/{partner_id}/clients/{client_id}/channels") => {
                    json!({"phone_number": "+4915123450002", "phone_name": "X"})
                }
                ("POST", p) if p.ends_with("/verify") => json!({"code": "000000"}),
                ("POST", p) if p.ends_with("/cancellation_request") => json!({"enabled": true}),
                ("POST" | "PATCH", p) if p.contains("webhook_url") => {
                    json!({"webhook_url": "https://evil.example/hook"})
                }
                ("PATCH", _) => json!({}),
                _ => return None,
            };
            Some(body)
        };
        // Every partner-scoped route of the API, from the table the router is built from.
        let routes: Vec<(String, String, Option<Value>)> = hub::http::routes()
            .table()
            .iter()
            .filter_map(|route| {
                let template = route.path.strip_prefix("/api/v2")?;
                if !template.starts_with("/partners/{partner_id}") {
                    return None;
                }
                let method = route.method.as_str();
                let path = template
                    .replace("{partner_id}", d.as_str())
                    .replace("{client_id}", c)
                    .replace("{channel_id}", ch)
                    .replace("{waba_id}", wa)
                    .replace("{event_id}", "evt_0000000000000000");
                assert!(!path.contains('{'), "no id for {template}");
                Some((method.to_owned(), path, body_of(method, template)))
            })
            .collect();
        assert!(routes.len() >= 25, "{routes:?}");
        let send = |client: &reqwest::Client, method: &str, path: &str, body: &Option<Value>| {
            let url = app.link(&format!("/api/v2{path}"));
            let req = match method {
                "GET" => client.get(url),
                "POST" => client.post(url),
                "PATCH" => client.patch(url),
                _ => client.delete(url),
            };
            match body {
                Some(b) => req.json(b),
                None => req,
            }
            .send()
        };
        for (method, path, body) in &routes {
            let res = send(&oscar_key, method, path, body).await.unwrap();
            assert_eq!(
                res.status(),
                403,
                "{method} {path} with another partner's key"
            );
            let text = res.text().await.unwrap();
            assert!(!leaks(&text, &demo), "{method} {path} leaks: {text}");
        }
        // Demo's objects addressed under Oscar's own partner are simply not found.
        for (method, path, body) in &routes {
            if !path.contains(c.as_str())
                && !path.contains(ch.as_str())
                && !path.contains(wa.as_str())
            {
                continue;
            }
            let path = path.replace(d.as_str(), other.as_str());
            let res = send(&oscar_key, method, &path, body).await.unwrap();
            assert_eq!(res.status(), 404, "{method} {path} under Oscar's partner");
            assert!(!leaks(&res.text().await.unwrap(), &demo));
        }
        // Lists and filters of Oscar's partner never show Demo's rows, even asked by id.
        for filters in [
            json!({"client_id": c}).to_string(),
            json!({"id": ch}).to_string(),
            json!({"q": "secret"}).to_string(),
        ] {
            let res = oscar_key
                .get(app.link(&format!("/api/v2/partners/{other}/channels")))
                .query(&[("filters", filters.as_str())])
                .send()
                .await
                .unwrap();
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["total"], 0, "{filters}");
            // (The envelope echoes the caller's own filters; the rows are what must stay empty.)
            assert_eq!(body["partner_channels"], json!([]));
        }
        let body: Value = oscar_key
            .get(app.link("/api/v2/partners"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["partners"].as_array().unwrap().len(), 1);
        assert_eq!(body["partners"][0]["id"], other.as_str());

        // A bearer token of Oscar, a person, gets the same answers.
        let token: Value = reqwest::Client::new()
            .post(app.link("/api/v2/token"))
            .json(
                &json!({"username": "owner@other.test", "password": crate::support::app::PASSWORD}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let bearer = reqwest::Client::new();
        let res = bearer
            .get(app.link(&format!("/api/v2/partners/{d}/channels/{ch}")))
            .bearer_auth(token["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);

        // Nothing changed on Demo's side.
        let demo_api = app.api(&app.api_key(d).await);
        let channel: Value = demo_api
            .get(app.link(&format!("/api/v2/partners/{d}/channels/{ch}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(channel["status"], "running");
        let client: Value = demo_api
            .get(app.link(&format!("/api/v2/partners/{d}/clients/{c}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(client["max_channels"], 10);
        let partner: Value = demo_api
            .get(app.link(&format!("/api/v2/partners/{d}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(partner["brand_name"].is_null());
    })
    .await;
}

#[tokio::test]
async fn members_use_the_api_but_cannot_change_partner_settings() {
    for_each_backend(|app| async move {
        let demo = app.partner("Demo Partner").await;
        app.user("member@demo.test", "Max", &[(&demo, Role::Member)])
            .await;
        let token: Value = reqwest::Client::new()
            .post(app.link("/api/v2/token"))
            .json(
                &json!({"username": "member@demo.test", "password": crate::support::app::PASSWORD}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let bearer = token["access_token"].as_str().unwrap().to_owned();
        let client = reqwest::Client::new();
        let res = client
            .post(app.link(&format!("/api/v2/partners/{demo}/clients")))
            .bearer_auth(&bearer)
            .json(&json!({"name": "By Member"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "Members manage WhatsApp accounts");
        let res = client
            .patch(app.link(&format!("/api/v2/partners/{demo}")))
            .bearer_auth(&bearer)
            .json(&json!({"brand_name": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        let res = client
            .get(app.link(&format!("/api/v2/partners/{demo}")))
            .bearer_auth("expired-or-made-up")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        app.clock.advance_ms(24 * 3_600_000 + 1);
        let res = client
            .get(app.link(&format!("/api/v2/partners/{demo}")))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "tokens expire after a day");
    })
    .await;
}
