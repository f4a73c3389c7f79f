//! Issue 15, item 18: every error under `/api/v2` arrives in the documented envelope, also the
//! ones the router answers by itself, and says what to do.

use crate::support::app::{Backend, Options, TestApp};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The envelope of `partner-api.md`: `meta.success` false, the status repeated, a sentence.
async fn envelope(res: reqwest::Response, status: u16, context: &str) -> (String, Vec<String>) {
    assert_eq!(res.status().as_u16(), status, "{context}");
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{context}: {content_type}"
    );
    let body: Value = res.json().await.unwrap();
    let meta = &body["meta"];
    assert_eq!(meta["success"], false, "{context}: {body}");
    assert_eq!(meta["http_code"], status, "{context}: {body}");
    let message = meta["developer_message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!message.is_empty(), "{context}: {body}");
    let details = meta["details"]
        .as_array()
        .unwrap_or_else(|| panic!("{context}: details is a list: {body}"))
        .iter()
        .map(|d| d.as_str().unwrap_or_default().to_owned())
        .collect();
    (message, details)
}

#[tokio::test]
async fn every_api_route_answers_errors_in_the_envelope() {
    let app = TestApp::start(Backend::Sqlite, Options::default()).await;
    let demo = app
        .partner_named("Envelope Partner")
        .with_owner("owner@envelope.test", "Eve Envelope")
        .with_api_key()
        .with_running_channel("Envelope Client", "+4915111111111")
        .build()
        .await;
    let key = demo.api_key.clone().unwrap();
    let doc: Value = reqwest::get(app.link("/api/v2/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut methods: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for route in hub::http::routes().table() {
        if route.path.starts_with("/api/v2/") {
            methods
                .entry(route.path.clone())
                .or_default()
                .insert(route.method.as_str().to_owned());
        }
    }
    // The Messaging API's paths are walked by `messaging::every_messaging_route_…`.
    let documented: BTreeSet<&String> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|path| path.starts_with("/api/v2/"))
        .collect();
    assert_eq!(
        methods
            .keys()
            .filter(|path| *path != "/api/v2/openapi.json")
            .collect::<BTreeSet<_>>(),
        documented,
        "the walk covers every path of the OpenAPI document"
    );
    let waba = store::channels::get(app.state.db.pool(), &demo.id, &demo.channels[0])
        .await
        .unwrap()
        .unwrap()
        .waba_id;
    let client = reqwest::Client::new();
    let mut checked = 0;
    for (template, served) in &methods {
        let path = template
            .replace("{partner_id}", demo.id.as_str())
            .replace("{client_id}", demo.clients[0].as_str())
            .replace("{channel_id}", demo.channels[0].as_str())
            .replace("{event_id}", "evt_0000000000000000")
            .replace("{waba_id}", waba.as_str());
        assert!(!path.contains('{'), "no id for {template}");
        let url = app.link(&path);
        let public = template == "/api/v2/token" || template == "/api/v2/openapi.json";

        // A method the path does not serve: 405, with Allow.
        let res = client
            .put(&url)
            .header("x-api-key", &key)
            .send()
            .await
            .unwrap();
        let allow = res
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned());
        if template != "/api/v2/token" {
            let (message, _) = envelope(res, 405, &format!("PUT {template}")).await;
            let allow = allow.unwrap_or_else(|| panic!("PUT {template}: 405 without Allow"));
            for method in served {
                assert!(
                    allow.contains(method.as_str()),
                    "PUT {template}: Allow {allow}"
                );
                assert!(
                    message.contains(method.as_str()),
                    "PUT {template}: {message}"
                );
            }
        }
        for method in served {
            let context = format!("{method} {template}");
            let request = |m: &str| client.request(m.parse().unwrap(), &url);
            let operation = &doc["paths"][template][method.to_ascii_lowercase()];
            if !public {
                // No credentials: says how to authenticate.
                let (message, _) =
                    envelope(request(method).send().await.unwrap(), 401, &context).await;
                assert!(message.contains("X-API-Key"), "{context}: {message}");
            }
            if operation.get("requestBody").is_none() || public {
                continue;
            }
            // A body that is not JSON: 415 naming the type to send.
            let res = request(method)
                .header("x-api-key", &key)
                .header("content-type", "text/plain")
                .body("name=Acme")
                .send()
                .await
                .unwrap();
            let (message, _) = envelope(res, 415, &context).await;
            assert!(message.contains("application/json"), "{context}: {message}");
            // Broken JSON: 400 naming the line and column.
            let res = request(method)
                .header("x-api-key", &key)
                .header("content-type", "application/json")
                .body("{\n\n  oops\n}")
                .send()
                .await
                .unwrap();
            let (message, details) = envelope(res, 400, &context).await;
            let all = format!("{message} {}", details.join(" "));
            assert!(all.contains("line 3 column 3"), "{context}: {all}");
            // Too large: 413 saying the limit.
            let res = request(method)
                .header("x-api-key", &key)
                .header("content-type", "application/json")
                .body(format!("{{\"name\": \"{}\"}}", "a".repeat(300 * 1024)))
                .send()
                .await
                .unwrap();
            let (message, _) = envelope(res, 413, &context).await;
            assert!(message.contains("KB"), "{context}: {message}");
            checked += 1;
        }
    }
    assert!(checked >= 8, "{checked} routes with a body");

    // An unknown path, and an address longer than the limit.
    envelope(
        client
            .get(app.link("/api/v2/nothing/here"))
            .send()
            .await
            .unwrap(),
        404,
        "unknown path",
    )
    .await;
    let long = app.link(&format!("/api/v2/partners?q={}", "x".repeat(9000)));
    let (message, _) = envelope(
        client
            .get(long)
            .header("x-api-key", &key)
            .send()
            .await
            .unwrap(),
        414,
        "long URI",
    )
    .await;
    assert!(message.contains("8192"), "{message}");
    // A page keeps its HTML error.
    let res = client
        .get(app.link(&format!("/login?next={}", "x".repeat(9000))))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 414);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    app.finish().await;
}
