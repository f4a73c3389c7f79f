//! The Partner API v2 as a partner's developer meets it: token or API key, clients, numbers
//! through the sandbox to `running`, messaging keys, lists with filters/sort/paging, and the
//! error envelope.

use crate::support::app::{Backend, PASSWORD, PartnerId, T0_MS, TestApp, for_each_backend};
use serde_json::{Value, json};

async fn seeded(app: &TestApp) -> (PartnerId, String) {
    let demo = app
        .partner_named("Demo Partner")
        .with_owner("owner@demo.test", "Olivia Owner")
        .with_api_key()
        .build()
        .await;
    (demo.id, demo.api_key.unwrap())
}

fn v2(app: &TestApp, path: &str) -> String {
    app.link(&format!("/api/v2{path}"))
}

async fn create_client(
    app: &TestApp,
    api: &reqwest::Client,
    partner: &PartnerId,
    name: &str,
) -> Value {
    let res = api
        .post(v2(app, &format!("/partners/{partner}/clients")))
        .json(&json!({"name": name, "contact_info": {"email": format!("{}@client.test", name.to_lowercase().replace(' ', "."))}, "partner_payload": "crm-42"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn add_number(
    app: &TestApp,
    api: &reqwest::Client,
    partner: &PartnerId,
    client: &str,
    phone: &str,
) -> reqwest::Response {
    api.post(v2(
        app,
        &format!("/partners/{partner}/clients/{client}/channels"),
    ))
    .json(
        &json!({"phone_number": phone, "phone_name": "Acme Support", "verification_method": "sms"}),
    )
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn a_developer_takes_a_number_from_nothing_to_a_messaging_key() {
    for_each_backend(|app| async move {
        let (demo, _) = seeded(&app).await;
        let anonymous = reqwest::Client::new();
        let res = anonymous
            .post(v2(&app, "/token"))
            .json(&json!({"username": "owner@demo.test", "password": "nope nope nope"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_grant");
        let res = anonymous
            .post(v2(&app, "/token"))
            .json(&json!({"username": "owner@demo.test", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let token: Value = res.json().await.unwrap();
        assert_eq!(token["token_type"], "Bearer");
        assert_eq!(token["expires_in"], 86400);
        let bearer = token["access_token"].as_str().unwrap().to_owned();
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("authorization", format!("Bearer {bearer}").parse().unwrap());
        let api = reqwest::Client::builder()
            .default_headers(headers)
            .build()
            .unwrap();

        let partners: Value = api
            .get(v2(&app, "/partners"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(partners["partners"][0]["id"], demo.as_str());
        assert_eq!(partners["partners"][0]["payment_model"], "partner_payment");
        assert_eq!(partners["partners"][0]["currency"], "eur");

        let client = create_client(&app, &api, &demo, "Acme Shoes").await;
        let client_id = client["id"].as_str().unwrap().to_owned();
        assert!(client_id.ends_with("CL") && client_id.len() == 8);
        assert_eq!(client["status"], "active");
        assert_eq!(client["contact_info"]["email"], "acme.shoes@client.test");
        assert_eq!(client["partner_payload"], "crm-42");
        assert!(client["created_at"].as_str().unwrap().ends_with('Z'));

        let res = add_number(&app, &api, &demo, &client_id, "+49 151 23456789").await;
        assert_eq!(res.status(), 201);
        let channel: Value = res.json().await.unwrap();
        let channel_id = channel["id"].as_str().unwrap().to_owned();
        assert!(channel_id.ends_with("CH"));
        assert_eq!(channel["status"], "created");
        assert_eq!(channel["setup_info"]["phone_number"], "+4915123456789");
        assert_eq!(
            channel["partner_permission"], "shared",
            "Partner-Payment numbers are shared"
        );
        assert_eq!(channel["hosting_type"], "cloud_api");
        assert_eq!(
            channel["client"]["contact_info"]["email"],
            "acme.shoes@client.test"
        );
        assert!(
            channel["waba_account"]["id"]
                .as_str()
                .unwrap()
                .ends_with("WA")
        );

        let verify = v2(
            &app,
            &format!("/partners/{demo}/clients/{client_id}/channels/{channel_id}/verify"),
        );
        let res = api
            .post(&verify)
            .json(&json!({"code": "000000"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 422, "no code was sent yet");

        assert_eq!(app.run_due_jobs().await, 1);
        let channel: Value = api
            .get(v2(&app, &format!("/partners/{demo}/channels/{channel_id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(channel["status"], "pending_verification");
        assert!(channel["external_id"].is_string());
        assert!(channel["waba_account"]["external_id"].is_string());
        assert_eq!(channel["waba_account"]["fb_account_status"], "verified");

        let res = api
            .post(&verify)
            .json(&json!({"code": "123456"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["meta"]["success"], false);
        assert!(
            body["meta"]["details"][0]
                .as_str()
                .unwrap()
                .contains("4 of 5 attempts left"),
            "{body}"
        );

        let res = api
            .post(&verify)
            .json(&json!({"code": "000000"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await.unwrap()["status"], "verified");

        let key_url = v2(
            &app,
            &format!("/partners/{demo}/channels/{channel_id}/api_keys"),
        );
        let res = api.post(&key_url).send().await.unwrap();
        assert_eq!(res.status(), 422, "keys only for running numbers");

        assert_eq!(app.run_due_jobs().await, 2, "verified → ready → running");
        let channel: Value = api
            .get(v2(&app, &format!("/partners/{demo}/channels/{channel_id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(channel["status"], "running");
        assert_eq!(channel["current_quality_rating"], "GREEN");
        assert_eq!(channel["current_limit"], "TIER_1K");
        assert!(channel["billing_started_at"].is_string());

        let res = api.post(&key_url).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let key: Value = res.json().await.unwrap();
        let secret = key["api_key"].as_str().unwrap().to_owned();
        assert!(secret.len() >= 32);
        assert_eq!(key["address"], app.url.as_str());
        let res = api.post(&key_url).send().await.unwrap();
        assert_eq!(res.status(), 429, "one key per 30 s per channel");
        assert!(res.headers().contains_key("retry-after"));

        let listed: Value = api
            .get(&key_url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listed["api_keys"].as_array().unwrap().len(), 1);
        assert_eq!(listed["api_keys"][0]["api_key_prefix"], &secret[..8]);
        assert!(
            !listed.to_string().contains(&secret),
            "the secret is never shown again"
        );

        app.clock.advance_ms(31_000);
        let second: Value = api
            .post(&key_url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let listed: Value = api
            .get(&key_url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            listed["api_keys"].as_array().unwrap().len(),
            1,
            "a new key revokes the old"
        );
        assert_eq!(listed["api_keys"][0]["id"], second["id"]);
        assert_eq!(api.delete(&key_url).send().await.unwrap().status(), 204);
        let listed: Value = api
            .get(&key_url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(listed["api_keys"].as_array().unwrap().is_empty());

        let history = store::channels::history(
            app.state.db.pool(),
            &demo,
            &domain::ChannelId::parse(&channel_id).unwrap(),
        )
        .await
        .unwrap();
        let steps: Vec<_> = history.iter().map(|h| h.to_status.as_str()).collect();
        assert_eq!(
            steps,
            [
                "created",
                "pending_verification",
                "verified",
                "ready",
                "running"
            ]
        );
    })
    .await;
}

#[tokio::test]
async fn lists_filter_sort_and_page_as_documented() {
    for_each_backend(|app| async move {
        let (demo, key) = seeded(&app).await;
        let api = app.api(&key);
        let acme = create_client(&app, &api, &demo, "Acme").await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let beta = create_client(&app, &api, &demo, "Beta").await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        for (i, phone) in ["+4915123456781", "+4915123456782", "+4915123456783"]
            .iter()
            .enumerate()
        {
            app.clock.advance_ms(1000);
            let client = if i == 0 { &beta } else { &acme };
            assert_eq!(
                add_number(&app, &api, &demo, client, phone).await.status(),
                201
            );
        }
        app.run_due_jobs().await;

        let url = v2(&app, &format!("/partners/{demo}/channels"));
        let page: Value = api
            .get(&url)
            .query(&[("limit", "2")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["count"], 2);
        assert_eq!(page["total"], 3);
        assert_eq!(page["limit"], 2);
        assert_eq!(page["offset"], 0);
        assert_eq!(page["sort"], json!(["-created_at"]));
        assert_eq!(
            page["partner_channels"][0]["setup_info"]["phone_number"], "+4915123456783",
            "newest first by default"
        );
        let rest: Value = api
            .get(&url)
            .query(&[("limit", "2"), ("offset", "2")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(rest["count"], 1);
        assert_eq!(rest["total"], 3);
        assert_eq!(
            rest["partner_channels"][0]["setup_info"]["phone_number"],
            "+4915123456781"
        );
        // Past the last page, and by status alone (whose totals come from `channel_counts`
        // in the page's own statement): the totals stay right.
        for (query, count, total) in [
            (vec![("offset", "10")], 0, 3),
            (
                vec![
                    ("filters", r#"{"status":"pending_verification"}"#),
                    ("limit", "1"),
                ],
                1,
                3,
            ),
            (
                vec![
                    ("filters", r#"{"status":"pending_verification"}"#),
                    ("offset", "3"),
                ],
                0,
                3,
            ),
            (vec![("filters", r#"{"status":"running"}"#)], 0, 0),
        ] {
            let page: Value = api
                .get(&url)
                .query(&query)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(
                (page["count"].as_i64(), page["total"].as_i64()),
                (Some(count), Some(total)),
                "{query:?}"
            );
        }

        let filters = json!({"client_id": beta}).to_string();
        let only_beta: Value = api
            .get(&url)
            .query(&[("filters", filters.as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(only_beta["total"], 1);
        assert_eq!(only_beta["filters"], json!({"client_id": beta}));
        let sorted: Value = api
            .get(&url)
            .query(&[("sort", "setup_info.phone_number")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            sorted["partner_channels"][0]["setup_info"]["phone_number"],
            "+4915123456781"
        );
        let by_status: Value = api
            .get(&url)
            .query(&[(
                "filters",
                r#"{"status":"pending_verification","setup_info.phone_number":"+4915123456782"}"#,
            )])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(by_status["total"], 1);
        let text: Value = api
            .get(&url)
            .query(&[("q", "beta")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(text["total"], 1, "free text matches the client name");
        let text: Value = api
            .get(&url)
            .query(&[("filters", r#"{"q":"456782"}"#)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(text["total"], 1, "and digits of the number");

        let clients: Value = api
            .get(v2(&app, &format!("/partners/{demo}/clients")))
            .query(&[("filters", r#"{"contact_info.email":"beta@client.test"}"#)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(clients["total"], 1);
        assert_eq!(clients["clients"][0]["id"], beta.as_str());

        for (param, value, expected) in [
            ("filters", r#"{"foo":"bar"}"#, "filters: unknown key 'foo'"),
            ("limit", "-1", "limit"),
            ("limit", "100000", "limit"),
            ("sort", "-nonsense", "sort: unknown field 'nonsense'"),
            ("filters", "not json", "filters: must be a JSON object"),
        ] {
            let res = api.get(&url).query(&[(param, value)]).send().await.unwrap();
            assert_eq!(res.status(), 400, "{param}={value}");
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["meta"]["http_code"], 400);
            let details = body["meta"]["details"].to_string();
            assert!(details.contains(expected), "{param}={value}: {details}");
        }
    })
    .await;
}

/// Free text finds every channel whose number, display name, client name or email contains the
/// phrase, whatever its case, however short, with quotes in it, across field boundaries, combined
/// with filters, and never another partner's channels (SQLite answers phrases of three or more
/// characters from its trigram index, shorter ones by scanning).
#[tokio::test]
async fn free_text_matches_substrings_of_this_partners_channels() {
    for_each_backend(|app| async move {
        let (demo, key) = seeded(&app).await;
        let api = app.api(&key);
        let create_quoted = |api: reqwest::Client, partner: PartnerId| {
            let url = v2(&app, &format!("/partners/{partner}/clients"));
            async move {
                let res = api
                    .post(url)
                    .json(&json!({"name": r#"Quote "Blue" Ltd"#, "contact_info": {"email": "blue@client.test"}}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 201);
                let created: Value = res.json().await.unwrap();
                created["id"].as_str().unwrap().to_owned()
            }
        };
        let quoted = create_quoted(api.clone(), demo.clone()).await;
        let plain = create_client(&app, &api, &demo, "Plain Shop").await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // LIKE's wildcards in a name are text like any other.
        let res = api
            .post(v2(&app, &format!("/partners/{demo}/clients")))
            .json(&json!({"name": "100% Pure_Juice", "contact_info": {"email": "juice@client.test"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let juice = res.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        for (client, phone) in [
            (&quoted, "+4915123450001"),
            (&quoted, "+4915123450002"),
            (&plain, "+4915123450003"),
            (&juice, "+4915123450004"),
        ] {
            app.clock.advance_ms(1000);
            assert_eq!(
                add_number(&app, &api, &demo, client, phone).await.status(),
                201
            );
        }
        // Another partner whose client has the same name must never show up.
        let other = app.partner("Other Partner").await;
        let other_api = app.api(&app.api_key(&other).await);
        let theirs = create_quoted(other_api.clone(), other.clone()).await;
        assert_eq!(
            add_number(&app, &other_api, &other, &theirs, "+4915123450009")
                .await
                .status(),
            201
        );
        app.run_due_jobs().await;

        let url = v2(&app, &format!("/partners/{demo}/channels"));
        let search = |params: Vec<(&'static str, String)>| {
            let request = api.get(&url).query(&params);
            async move {
                let page: Value = request.send().await.unwrap().json().await.unwrap();
                let numbers: Vec<String> = page["partner_channels"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["setup_info"]["phone_number"].as_str().unwrap().to_owned())
                    .collect();
                (page["total"].as_i64().unwrap(), numbers)
            }
        };
        for (q, total) in [
            ("BLUE", 2),                     // case does not matter
            (r#""blue""#, 2),                // quotes are text, not syntax
            ("e \"b", 2),                    // a phrase across a space and a quote
            ("ltd", 2),                      // three characters
            ("blue\" ltd", 2),               // a word's start (" lt") among its trigrams
            ("lt", 2),                       // two characters
            ("0003", 1),                     // digits of the number
            ("+4915123450002", 1),           // the number as written
            ("plain.shop@client", 1),        // the email
            ("shop plain.shop", 1),          // across words (PostgreSQL: "opp", "ppl" joined)
            ("sho pplain", 0),               // the same joined trigrams, not the same phrase
            ("support acme", 0),             // words in another order are another phrase
            ("0001 4915123450001 4915", 0),  // each trigram is in one channel's text, it is not
            ("0000", 0),                     // one trigram twice, held by every number once
            ("4915123450009", 0),            // another partner's number
            ("quote \"blue\" ltd plain", 0), // nothing contains it
            ("%", 1),                        // LIKE's wildcards are searched for as text
            ("_", 1),
            ("0% pure_j", 1),
            ("e_j", 1),
            ("p_re", 0),                     // "_" is not any one character
            ("1%juice", 0),                  // "%" is not any characters
            ("\\", 0),                      // nor is the escape character special
        ] {
            let (found, numbers) = search(vec![("q", q.to_owned())]).await;
            assert_eq!(found, total, "q={q}: {numbers:?}");
            assert_eq!(numbers.len() as i64, total, "q={q}");
        }
        let (found, numbers) = search(vec![("q", "blue".into()), ("limit", "1".into())]).await;
        assert_eq!(
            (found, numbers),
            (2, vec!["+4915123450002".to_owned()]),
            "newest first, paged, total of all matches"
        );
        let both = json!({"q": "blue", "setup_info.phone_number": "+4915123450001"});
        let (found, numbers) = search(vec![("filters", both.to_string())]).await;
        assert_eq!((found, numbers), (1, vec!["+4915123450001".to_owned()]));
        let (found, _) = search(vec![
            ("filters", json!({"q": "quote"}).to_string()),
            ("q", "450003".into()),
        ])
        .await;
        assert_eq!(found, 0, "the filter and the search box must both match");
    })
    .await;
}

#[tokio::test]
async fn bad_requests_get_precise_errors() {
    for_each_backend(|app| async move {
        let (demo, key) = seeded(&app).await;
        let api = app.api(&key);
        let clients = v2(&app, &format!("/partners/{demo}/clients"));
        let res = api
            .post(&clients)
            .header("content-type", "application/json")
            .body("{\"name\": ")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        assert!(
            res.json::<Value>().await.unwrap()["meta"]["details"][0]
                .as_str()
                .unwrap()
                .contains("malformed JSON")
        );
        let res = api
            .post(&clients)
            .json(&json!({"name": 42}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "wrong type");
        let res = api
            .post(&clients)
            .json(&json!({"name": "", "max_channels": 0, "contact_info": {"email": "nope"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let details = res.json::<Value>().await.unwrap()["meta"]["details"].to_string();
        assert!(
            details.contains("name: is required")
                && details.contains("max_channels")
                && details.contains("contact_info.email"),
            "{details}"
        );
        let res = api
            .post(&clients)
            .header("content-type", "application/json")
            .body(format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024)))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 413);
        let res = api
            .post(&clients)
            .header("content-type", "text/plain")
            .body("name=x")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 415);

        let client = create_client(&app, &api, &demo, "Gamma").await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        for phone in ["015123456789", "+99912345", "not a number", ""] {
            let res = add_number(&app, &api, &demo, &client, phone).await;
            assert_eq!(res.status(), 400, "{phone}");
            let details = res.json::<Value>().await.unwrap()["meta"]["details"].to_string();
            assert!(details.contains("phone_number"), "{details}");
        }
        assert_eq!(
            add_number(&app, &api, &demo, &client, "+4915123456789")
                .await
                .status(),
            201
        );
        let res = add_number(&app, &api, &demo, &client, "+49 1512 3456789").await;
        assert_eq!(res.status(), 409, "the same number twice");
        assert!(
            res.json::<Value>().await.unwrap()["meta"]["developer_message"]
                .as_str()
                .unwrap()
                .contains("already registered")
        );

        let res = api
            .patch(v2(&app, &format!("/partners/{demo}/clients/{client}")))
            .json(&json!({"max_channels": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.json::<Value>().await.unwrap()["max_channels"], 1);
        let res = add_number(&app, &api, &demo, &client, "+4915123456788").await;
        assert_eq!(res.status(), 422, "max_channels is enforced");

        let res = reqwest::Client::new()
            .get(v2(&app, &format!("/partners/{demo}/clients")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        let res = app
            .api("not-a-key")
            .get(v2(&app, &format!("/partners/{demo}/clients")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        assert_eq!(res.json::<Value>().await.unwrap()["meta"]["http_code"], 401);
        let res = api
            .get(v2(&app, &format!("/partners/{demo}/clients/nonsense")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
    })
    .await;
}

#[tokio::test]
async fn five_wrong_codes_lock_the_number_for_an_hour() {
    for_each_backend(|app| async move {
        let (demo, key) = seeded(&app).await;
        let api = app.api(&key);
        let client = create_client(&app, &api, &demo, "Delta").await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let channel: Value = add_number(&app, &api, &demo, &client, "+4915123456777")
            .await
            .json()
            .await
            .unwrap();
        app.run_due_jobs().await;
        let verify = v2(
            &app,
            &format!(
                "/partners/{demo}/clients/{client}/channels/{}/verify",
                channel["id"].as_str().unwrap()
            ),
        );
        for _ in 0..4 {
            assert_eq!(
                api.post(&verify)
                    .json(&json!({"code": "111111"}))
                    .send()
                    .await
                    .unwrap()
                    .status(),
                400
            );
        }
        let res = api
            .post(&verify)
            .json(&json!({"code": "111111"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 429);
        let res = api
            .post(&verify)
            .json(&json!({"code": "000000"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 429, "even the right code waits for the lock");
        assert!(
            res.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse::<u64>()
                .unwrap()
                > 3500
        );
        app.clock.advance_ms(3_600_001);
        let res = api
            .post(&verify)
            .json(&json!({"code": "000000"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    })
    .await;
}

#[tokio::test]
async fn cancellation_waits_for_the_month_end_and_can_be_withdrawn() {
    for_each_backend(|app| async move {
        let (demo, key) = seeded(&app).await;
        let api = app.api(&key);
        let client = create_client(&app, &api, &demo, "Epsilon").await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let channel: Value = add_number(&app, &api, &demo, &client, "+4915123456766")
            .await
            .json()
            .await
            .unwrap();
        let id = channel["id"].as_str().unwrap().to_owned();
        app.run_due_jobs().await;
        api.post(v2(
            &app,
            &format!("/partners/{demo}/clients/{client}/channels/{id}/verify"),
        ))
        .json(&json!({"code": "000000"}))
        .send()
        .await
        .unwrap();
        app.run_due_jobs().await;
        let control = |what: &str| {
            v2(
                &app,
                &format!("/partners/{demo}/clients/{client}/channels/{id}/control/{what}"),
            )
        };

        let res = api
            .post(control("cancellation_request"))
            .json(&json!({"enabled": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.json::<Value>().await.unwrap()["status"],
            "pending_deletion"
        );
        let res = api
            .post(control("cancellation_request"))
            .json(&json!({"enabled": "false"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.json::<Value>().await.unwrap()["status"], "running");
        let res = api.post(control("reactivate")).send().await.unwrap();
        assert_eq!(res.status(), 422, "nothing to reactivate");

        api.post(control("cancellation_request"))
            .json(&json!({"enabled": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            app.run_due_jobs().await,
            0,
            "keeps running until the month ends"
        );
        app.clock.advance_ms(40 * 24 * 3_600_000);
        // One month-end job per request; the withdrawn one finds nothing to cancel.
        assert_eq!(app.run_due_jobs().await, 2);
        let channel: Value = api
            .get(v2(&app, &format!("/partners/{demo}/channels/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(channel["status"], "cancelled");
        assert!(channel["cancelled_at"].is_string());
        let res = api.post(control("reactivate")).send().await.unwrap();
        assert_eq!(res.status(), 422);
        // A cancelled number may be added again.
        assert_eq!(
            add_number(&app, &api, &demo, &client, "+4915123456766")
                .await
                .status(),
            201
        );
    })
    .await;
}

#[tokio::test]
async fn a_revoked_partner_key_stops_working_at_once() {
    for_each_backend(|app| async move {
        let (demo, key) = seeded(&app).await;
        let api = app.api(&key);
        let url = v2(&app, &format!("/partners/{demo}/clients"));
        assert_eq!(api.get(&url).send().await.unwrap().status(), 200);
        let keys = hub::services::api_keys::partner_keys(&app.state, &demo)
            .await
            .unwrap();
        assert!(keys[0].last_used_ms.is_some(), "last use is recorded");
        hub::services::api_keys::revoke_partner_key(
            &app.state,
            &demo,
            &keys[0].id,
            &hub::services::audit::Actor::System,
        )
        .await
        .unwrap();
        assert_eq!(api.get(&url).send().await.unwrap().status(), 401);
    })
    .await;
}

#[tokio::test]
async fn a_taken_random_id_is_drawn_again_not_an_error() {
    for_each_backend(|app| async move {
        let (demo, _) = seeded(&app).await;
        let id = domain::ClientId::generate();
        let contact = store::clients::ContactInfo::default();
        let (user, meta) = (
            store::clients::ContactUser::default(),
            store::clients::MetaInfo::default(),
        );
        let new = store::clients::NewClient {
            id: &id,
            name: "First",
            organisation: None,
            max_channels: 1,
            partner_payload: None,
            contact_info: &contact,
            contact_user: &user,
            meta_info: &meta,
        };
        assert!(
            store::clients::create(app.state.db.pool(), &demo, &new, 0)
                .await
                .unwrap()
        );
        assert!(
            !store::clients::create(app.state.db.pool(), &demo, &new, 0)
                .await
                .unwrap(),
            "the same id reports taken"
        );
        let client = store::clients::get(app.state.db.pool(), &demo, &id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(client.name, "First");
    })
    .await;
}

#[tokio::test]
async fn list_totals_follow_every_status_change() {
    for_each_backend(|app| async move {
        let (demo, key) = seeded(&app).await;
        let api = app.api(&key);
        let client = create_client(&app, &api, &demo, "Zeta").await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let url = v2(&app, &format!("/partners/{demo}/channels"));
        let total = |status: Option<&'static str>| {
            let api = api.clone();
            let url = url.clone();
            async move {
                let req = api.get(&url);
                let req = match status {
                    Some(s) => req.query(&[("filters", json!({"status": s}).to_string())]),
                    None => req,
                };
                req.send().await.unwrap().json::<Value>().await.unwrap()["total"]
                    .as_i64()
                    .unwrap()
            }
        };
        for phone in ["+4915123456701", "+4915123456702"] {
            assert_eq!(
                add_number(&app, &api, &demo, &client, phone).await.status(),
                201
            );
        }
        assert_eq!((total(None).await, total(Some("created")).await), (2, 2));
        app.run_due_jobs().await;
        assert_eq!(
            (
                total(Some("created")).await,
                total(Some("pending_verification")).await
            ),
            (0, 2)
        );
        let channels: Value = api.get(&url).send().await.unwrap().json().await.unwrap();
        let id = channels["partner_channels"][0]["id"].as_str().unwrap();
        api.post(v2(
            &app,
            &format!("/partners/{demo}/clients/{client}/channels/{id}/verify"),
        ))
        .json(&json!({"code": "000000"}))
        .send()
        .await
        .unwrap();
        app.run_due_jobs().await;
        assert_eq!(
            (
                total(Some("pending_verification")).await,
                total(Some("running")).await,
                total(None).await
            ),
            (1, 1, 2)
        );
        assert_eq!(total(Some("verified")).await, 0);
    })
    .await;
}

#[tokio::test]
async fn account_sharing_creates_a_client_for_a_partner_hosted_signup() {
    for_each_backend(|app| async move {
        let (demo, key) = seeded(&app).await;
        let api = app.api(&key);
        let url = v2(&app, &format!("/partners/{demo}/account_sharing/clients"));
        let res = api
            .post(&url)
            .json(
                &json!({"name": "Hosted Co", "email": "Boss@Hosted.test", "user_name": "Bo Boss"}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let client: Value = res.json().await.unwrap();
        assert!(client["id"].as_str().unwrap().ends_with("CL"));
        assert_eq!(client["contact_info"]["email"], "boss@hosted.test");
        assert_eq!(client["contact_user"]["name"], "Bo Boss");
        let res = api
            .post(&url)
            .json(&json!({"name": "", "email": "nope"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let details = res.json::<Value>().await.unwrap()["meta"]["details"].to_string();
        assert!(
            details.contains("name") && details.contains("email") && details.contains("user_name"),
            "{details}"
        );
        let other = app.partner("Other Partner").await;
        let intruder = app.api(&app.api_key(&other).await);
        let res = intruder
            .post(&url)
            .json(&json!({"name": "X", "email": "x@x.test", "user_name": "X"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            403,
            "another partner's key cannot create clients here"
        );
    })
    .await;
}

/// The channel list's objects are written by SQLite (`json_object`) and on PostgreSQL from texts
/// borrowed from the native driver's rows; either way they must be the same JSON as
/// `json::channel` makes of the channel read alone: every status, every optional field set and
/// unset, text that needs escaping, timestamps between whole seconds.
#[tokio::test]
async fn the_channel_list_written_by_the_database_is_json_channel_field_for_field() {
    use hub::http::api::json;
    for_each_backend(|app| async move {
        let (demo, key) = seeded(&app).await;
        let pool = app.state.db.pool();
        let odd = "Ünï \"quoted\" \\ back\tslash\nline € 😀 </script> \u{1}\u{1f}";
        // (id, optional text or NULL) for a client and a WABA with everything set, and with
        // nothing optional.
        for (id, full) in [("Fullc1CL", true), ("Barec1CL", false)] {
            let opt = |v: &str| full.then(|| v.to_owned());
            sqlx::query(
                "INSERT INTO clients (id, partner_id, name, status, organisation, max_channels,
                    partner_payload, contact_email, created_ms, modified_ms)
                 VALUES ($1, $2, $3, 'active', $4, 10, $5, $6, $7, $7)",
            )
            .bind(id)
            .bind(demo.as_str())
            .bind(format!("{odd} client"))
            .bind(opt("Org"))
            .bind(opt(&format!("payload {odd}")))
            .bind(opt("ops@client.test"))
            .bind(T0_MS)
            .execute(pool)
            .await
            .unwrap();
            let waba = if full { "Fullw1WA" } else { "Barew1WA" };
            sqlx::query(
                "INSERT INTO wabas (id, partner_id, client_id, external_id, name, namespace,
                    fb_account_status, business_id, business_name, business_status, business_type,
                    created_ms, modified_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, 'verified', $7, $8, $9, $10, $11, $11)",
            )
            .bind(waba)
            .bind(demo.as_str())
            .bind(id)
            .bind(opt("1234567890"))
            .bind(format!("{odd} waba"))
            .bind(opt("ns_1"))
            .bind(opt("biz-1"))
            .bind(opt(odd))
            .bind(opt("verified"))
            .bind(opt("LLC"))
            .bind(T0_MS)
            .execute(pool)
            .await
            .unwrap();
        }
        let mut n = 0i64;
        for &status in domain::ChannelStatus::ALL {
            for full in [true, false] {
                n += 1;
                let opt = |v: &str| full.then(|| v.to_owned());
                let ms = |offset: i64| full.then_some(T0_MS + offset);
                let (client, waba) = if full {
                    ("Fullc1CL", "Fullw1WA")
                } else {
                    ("Barec1CL", "Barew1WA")
                };
                sqlx::query(
                    "INSERT INTO channels (id, partner_id, client_id, waba_id, phone_number,
                        phone_name, verification_method, default_language, status, account_mode,
                        hosting_type, data_storage_region, partner_permission, current_limit,
                        quality_rating, external_id, is_migrated, billing_started_ms,
                        terminated_ms, cancelled_ms, search_text, created_ms, modified_ms)
                     VALUES ($1, $2, $3, $4, $5, $6, 'sms', $7, $8, 'sandbox', 'cloud_api', $9,
                        'shared', $10, 'GREEN', $11, $12, $13, $14, $15, '', $16, $17)",
                )
                .bind(format!("Js{n:04}CH"))
                .bind(demo.as_str())
                .bind(client)
                .bind(waba)
                .bind(format!("+4930123{n:04}"))
                .bind(format!("{odd} {n}"))
                .bind(opt("de"))
                .bind(status.as_str())
                .bind(opt("DE"))
                .bind(opt("TIER_1K"))
                .bind(opt("ext-1"))
                .bind(i64::from(full))
                .bind(ms(1_999))
                .bind(ms(86_400_001))
                .bind(ms(172_800_999))
                .bind(T0_MS + n * 1_001 + 999)
                .bind(T0_MS + n * 60_000 + 1)
                .execute(pool)
                .await
                .unwrap();
            }
        }
        let api = app.api(&key);
        for (filters, expect) in [
            ("", n as usize),
            ("&filters=%7B%22status%22%3A%22running%22%7D", 2),
        ] {
            let url = v2(
                &app,
                &format!("/partners/{demo}/channels?limit=100&sort=-created_at{filters}"),
            );
            let res = api.get(&url).send().await.unwrap();
            assert_eq!(res.status(), 200);
            assert_eq!(
                res.headers()["content-type"].to_str().unwrap(),
                "application/json"
            );
            let text = res.text().await.unwrap();
            let got: Value = serde_json::from_str(&text).unwrap();
            // The same page through the typed rows and `json::channel`.
            let query = domain::ListQuery {
                limit: 100,
                offset: 0,
                sort: vec![domain::listing::SortKey {
                    field: "created_at",
                    descending: true,
                }],
                filters: if filters.is_empty() {
                    vec![]
                } else {
                    vec![(
                        "status",
                        domain::listing::FilterValue::Text("running".into()),
                    )]
                },
                ..Default::default()
            };
            let (views, total) = store::channels::list(&app.state.db, &demo, &query, None)
                .await
                .unwrap();
            assert_eq!(views.len(), expect);
            let typed = serde_json::to_value(json::channel_list(
                views.iter().map(json::channel).collect(),
                total,
                &query,
                None,
            ))
            .unwrap();
            assert_eq!(got, typed, "{filters}");
            let objects = got["partner_channels"].as_array().unwrap();
            assert_eq!(objects.len(), expect);
            // Each channel of the page as `get` reads it through `Any`: on PostgreSQL the page
            // comes through the native driver, by column name here and by position below.
            for view in &views {
                let alone = store::channels::get(pool, &demo, &view.id)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(
                    serde_json::to_string(&json::channel(view)).unwrap(),
                    serde_json::to_string(&json::channel(&alone)).unwrap(),
                );
            }
            match store::channels::page_json(&app.state.db, &demo, &query, None)
                .await
                .unwrap()
            {
                (store::channels::JsonPage::Written { array, count }, page_total, next) => {
                    assert_eq!(next, None, "one page holds them all");
                    assert_eq!(app.backend, Backend::Sqlite);
                    assert_eq!((count, page_total), (expect, total));
                    let strings = split_array(&array);
                    assert_eq!(strings.len(), expect);
                    for (string, view) in strings.iter().zip(&views) {
                        // Byte for byte: the same keys in the same order at every level, the
                        // same escapes.
                        let expected = serde_json::to_string(&json::channel(view)).unwrap();
                        assert_eq!(string, &expected, "{}", view.id);
                    }
                }
                (store::channels::JsonPage::Rows(rows), page_total, next) => {
                    assert_eq!(next, None, "one page holds them all");
                    assert_eq!(app.backend, Backend::Postgres);
                    let texts = rows.channels().unwrap();
                    assert_eq!((texts.len(), page_total), (expect, total));
                    for (texts, view) in texts.iter().zip(&views) {
                        assert_eq!(
                            serde_json::to_string(&json::channel_from_texts(texts)).unwrap(),
                            serde_json::to_string(&json::channel(view)).unwrap(),
                            "{}",
                            view.id
                        );
                    }
                }
            }
        }
        // Every status, with and without the optional fields.
        let all: Value = api
            .get(v2(&app, &format!("/partners/{demo}/channels?limit=100")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let statuses: std::collections::BTreeSet<&str> = all["partner_channels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses.len(), domain::ChannelStatus::ALL.len());
    })
    .await;
}

/// The elements of a JSON array of objects, as the text they were written with.
fn split_array(json: &str) -> Vec<&str> {
    let inner = json
        .trim()
        .strip_prefix('[')
        .unwrap()
        .strip_suffix(']')
        .unwrap();
    let (mut parts, mut depth, mut start) = (Vec::new(), 0, 0);
    let (mut in_string, mut escaped) = (false, false);
    for (i, c) in inner.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if !inner.trim().is_empty() {
        parts.push(inner[start..].trim());
    }
    parts
}
