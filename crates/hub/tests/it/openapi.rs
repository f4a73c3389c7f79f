//! The OpenAPI document at `/api/v2/openapi.json` and the `/docs` page: the document is 3.1,
//! lists exactly the routes the API router registers, and real responses validate against it.

use crate::support::app::{PASSWORD, Role, TestApp, for_each_backend};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// `(METHOD, path)` for every route the served router registers under `/api/v2`, from the
/// route table the router is built from.
fn registered_routes() -> BTreeSet<(String, String)> {
    hub::http::routes()
        .table()
        .iter()
        .filter_map(|route| {
            let path = route.path.strip_prefix("/api/v2")?;
            Some((route.method.as_str().to_owned(), path.to_owned()))
        })
        .collect()
}

fn documented_routes(doc: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            // The Messaging API's paths (no `/api/v2`) are checked on their own.
            if item.get(method).is_some()
                && let Some(path) = path.strip_prefix("/api/v2")
            {
                routes.insert((method.to_ascii_uppercase(), path.to_owned()));
            }
        }
    }
    routes
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let target = r
                .strip_prefix("#/")
                .unwrap()
                .split('/')
                .fold(doc, |v, k| &v[k]);
            assert!(!target.is_null(), "dangling $ref {r}");
            target
        }
        None => schema,
    }
}

fn type_matches(ty: &str, value: &Value) -> bool {
    match ty {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        other => panic!("unknown schema type {other}"),
    }
}

/// A small JSON Schema checker for what utoipa emits: `$ref`, `type` (string or list, `"null"`
/// for nullable), `oneOf`/`anyOf`/`allOf`, `properties` + `required`, `items`, `enum`. Fields the
/// server sends but the schema does not declare are errors too, so the document cannot fall
/// behind the code.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if let Some(alts) = schema.get("oneOf").and_then(Value::as_array) {
        let matching = alts
            .iter()
            .filter(|alt| {
                let mut e = Vec::new();
                check(doc, alt, value, at, &mut e);
                e.is_empty()
            })
            .count();
        if matching != 1 {
            errors.push(format!("{at}: {matching} oneOf alternatives match {value}"));
        }
    }
    if let Some(alts) = schema.get("anyOf").and_then(Value::as_array) {
        let any = alts.iter().any(|alt| {
            let mut e = Vec::new();
            check(doc, alt, value, at, &mut e);
            e.is_empty()
        });
        if !any {
            errors.push(format!("{at}: no anyOf alternative matches {value}"));
        }
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for sub in all {
            check(doc, sub, value, at, errors);
        }
    }
    let allowed: Vec<&str> = match schema.get("type") {
        Some(Value::String(ty)) => vec![ty.as_str()],
        Some(Value::Array(types)) => types.iter().map(|t| t.as_str().unwrap()).collect(),
        _ => Vec::new(),
    };
    if !allowed.is_empty() && !allowed.iter().any(|ty| type_matches(ty, value)) {
        errors.push(format!("{at}: expected {allowed:?}, got {value}"));
        return;
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(value)
    {
        errors.push(format!("{at}: {value} not in enum {options:?}"));
    }
    if let (Some(props), Some(object)) = (
        schema.get("properties").and_then(Value::as_object),
        value.as_object(),
    ) {
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = required.as_str().unwrap();
            if !object.contains_key(name) {
                errors.push(format!("{at}: required field {name} missing"));
            }
        }
        for (name, field) in object {
            match props.get(name) {
                Some(sub) => check(doc, sub, field, &format!("{at}.{name}"), errors),
                None => errors.push(format!("{at}: field {name} is not in the schema")),
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            check(doc, items, item, &format!("{at}[{i}]"), errors);
        }
    }
}

/// Assert that `body` (sent with `status` by `method path`) is what the document promises.
fn assert_documented(doc: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let response = &doc["paths"][format!("/api/v2{path}")][method]["responses"][status.to_string()];
    assert!(
        !response.is_null(),
        "{method} {path} returned {status}, which the document does not list"
    );
    let schema = &response["content"]["application/json"]["schema"];
    assert!(!schema.is_null(), "{method} {path} {status} has no schema");
    let mut errors = Vec::new();
    check(doc, schema, body, "$", &mut errors);
    assert!(
        errors.is_empty(),
        "{method} {path} {status} does not match the document:\n{}\nbody: {body:#}",
        errors.join("\n")
    );
}

async fn fetch_document(app: &TestApp) -> Value {
    let res = reqwest::Client::new()
        .get(app.link("/api/v2/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    res.json().await.unwrap()
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_lists_every_route() {
    for_each_backend(|app| async move {
        let doc = fetch_document(&app).await;
        assert!(
            doc["openapi"].as_str().unwrap().starts_with("3.1."),
            "{}",
            doc["openapi"]
        );
        assert_eq!(doc["info"]["title"], "Partner Hub Partner API");
        assert_eq!(doc["info"]["version"], "2");
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["api_key"]["type"], "apiKey");
        assert_eq!(schemes["api_key"]["in"], "header");
        assert_eq!(schemes["api_key"]["name"], "X-API-Key");
        assert_eq!(schemes["bearer"]["type"], "http");
        assert_eq!(schemes["bearer"]["scheme"], "bearer");

        let mut registered = registered_routes();
        assert!(registered.remove(&("GET".into(), "/openapi.json".into())));
        assert!(registered.len() >= 18, "{registered:?}");
        assert_eq!(documented_routes(&doc), registered);
        // And the server really routes each of them: without credentials every operation asks
        // for them (401), or for its body (400), instead of the API's "not found".
        let client = reqwest::Client::new();
        for (method, path) in &registered {
            let concrete = path
                .replace("{partner_id}", "a1B2c3PA")
                .replace("{client_id}", "a1B2c3CL")
                .replace("{channel_id}", "a1B2c3CH")
                .replace("{event_id}", "evt_0000000000000000");
            let url = app.link(&format!("/api/v2{concrete}"));
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let res = client.request(method.clone(), &url).send().await.unwrap();
            assert!(
                [400, 401].contains(&res.status().as_u16()),
                "{method} {path}: {}",
                res.status()
            );
        }

        let mut operation_ids = BTreeSet::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for (method, op) in item.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap();
                assert!(operation_ids.insert(id.to_owned()), "duplicate {id}");
                assert!(!op["summary"].as_str().unwrap_or("").is_empty(), "{id}");
                assert!(op["tags"][0].is_string(), "{id}");
                let responses = op["responses"].as_object().unwrap();
                // Every call can fail; every failure is described with a schema.
                assert!(responses.keys().any(|s| s.starts_with('4')), "{id}");
                for (status, res) in responses {
                    if status != "204" {
                        assert!(
                            res["content"]["application/json"]["schema"].is_object(),
                            "{method} {id} {status}"
                        );
                    }
                }
                // Path parameters are declared for every `{…}` in the path.
                let declared: BTreeSet<&str> = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect();
                assert_eq!(declared.len(), op_path_params(&doc, op).len(), "{id}");
                if id == "token" {
                    assert_eq!(op["security"], json!([{}]), "token is public");
                } else if op["tags"][0] == "messaging" {
                    assert_eq!(op["security"], json!([{"d360_api_key": []}]), "{id}");
                } else {
                    let security = op["security"].to_string();
                    assert!(
                        security.contains("api_key") && security.contains("bearer"),
                        "{id}"
                    );
                }
            }
        }
        // Every Messaging API route the router serves is in the document too.
        let messaging: BTreeSet<(String, String)> = hub::http::routes()
            .table()
            .iter()
            .filter(|r| hub::http::messaging::is_messaging_path(&r.path.replace("{name}", "x")))
            .map(|r| (r.method.as_str().to_owned(), r.path.clone()))
            .collect();
        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in ["get", "post", "delete"] {
                if item.get(method).is_some() && !path.starts_with("/api/") {
                    documented.insert((method.to_ascii_uppercase(), path.clone()));
                }
            }
        }
        assert!(messaging.len() >= 10, "{messaging:?}");
        assert_eq!(documented, messaging);
        assert_eq!(schemes["d360_api_key"]["name"], "D360-API-KEY");
        // Lists document their paging and filter parameters.
        for path in [
            "/api/v2/partners/{partner_id}/clients",
            "/api/v2/partners/{partner_id}/channels",
        ] {
            let params = doc["paths"][path]["get"]["parameters"].to_string();
            for name in ["limit", "offset", "sort", "filters"] {
                assert!(params.contains(&format!("\"{name}\"")), "{path} {name}");
            }
        }
        app.finish().await;
    })
    .await;
}

/// The `{…}` placeholders of the path an operation belongs to.
fn op_path_params<'a>(doc: &'a Value, op: &Value) -> Vec<&'a str> {
    let (path, _) = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, item)| item.as_object().unwrap().values().any(|o| o == op))
        .unwrap();
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

#[tokio::test]
async fn real_responses_match_the_document() {
    for_each_backend(|app| async move {
        let doc = fetch_document(&app).await;
        let demo = app.partner("Demo Partner").await;
        app.user("owner@demo.test", "Olivia Owner", &[(&demo, Role::Owner)])
            .await;
        let key = app.api_key(&demo).await;
        let api = app.api(&key);
        let v2 = |path: &str| app.link(&format!("/api/v2{path}"));

        // Token, and its OAuth-style failure.
        let anonymous = reqwest::Client::new();
        let res = anonymous
            .post(v2("/token"))
            .json(&json!({"username": "owner@demo.test", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_documented(&doc, "post", "/token", 200, &body);
        let res = anonymous
            .post(v2("/token"))
            .json(&json!({"username": "owner@demo.test", "password": "wrong password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        let body: Value = res.json().await.unwrap();
        assert_documented(&doc, "post", "/token", 401, &body);

        // No credential: 401 in the envelope.
        let res = anonymous
            .get(v2(&format!("/partners/{demo}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        let body: Value = res.json().await.unwrap();
        assert_documented(&doc, "get", "/partners/{partner_id}", 401, &body);

        // The partner, and the list of partners.
        let res = api.get(v2(&format!("/partners/{demo}"))).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_documented(&doc, "get", "/partners/{partner_id}", 200, &body);
        let res = api.get(v2("/partners")).send().await.unwrap();
        let body: Value = res.json().await.unwrap();
        assert_documented(&doc, "get", "/partners", 200, &body);

        // Create a client (201) with nested contact details.
        let res = api
            .post(v2(&format!("/partners/{demo}/clients")))
            .json(&json!({
                "name": "Acme", "organisation": "Acme GmbH", "partner_payload": "crm-1",
                "contact_info": {"email": "ops@acme.test", "country": "DE"},
                "contact_user": {"name": "Ana"},
                "meta_info": {"timezone": "Europe/Berlin"},
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let client: Value = res.json().await.unwrap();
        assert_documented(&doc, "post", "/partners/{partner_id}/clients", 201, &client);
        let cid = client["id"].as_str().unwrap().to_owned();

        // A validation error (400) on create.
        let res = api
            .post(v2(&format!("/partners/{demo}/clients")))
            .json(&json!({"name": "", "nope": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let body: Value = res.json().await.unwrap();
        assert_documented(&doc, "post", "/partners/{partner_id}/clients", 400, &body);

        // Add a number (201 channel), then list channels and clients.
        let res = api
            .post(v2(&format!("/partners/{demo}/clients/{cid}/channels")))
            .json(&json!({"phone_number": "+4915123456789", "phone_name": "Acme Support", "verification_method": "sms"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        let channel: Value = res.json().await.unwrap();
        assert_documented(
            &doc,
            "post",
            "/partners/{partner_id}/clients/{client_id}/channels",
            201,
            &channel,
        );
        let res = api
            .get(v2(&format!(
                "/partners/{demo}/channels?limit=5&sort=-created_at&filters=%7B%22status%22%3A%22created%22%7D"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let list: Value = res.json().await.unwrap();
        assert_eq!(list["count"], 1, "{list}");
        assert_documented(&doc, "get", "/partners/{partner_id}/channels", 200, &list);
        let res = api
            .get(v2(&format!("/partners/{demo}/clients")))
            .send()
            .await
            .unwrap();
        let list: Value = res.json().await.unwrap();
        assert_documented(&doc, "get", "/partners/{partner_id}/clients", 200, &list);

        // A bad filter (400) and an unknown client (404).
        let res = api
            .get(v2(&format!(
                "/partners/{demo}/channels?filters=%7B%22foo%22%3A1%7D"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let body: Value = res.json().await.unwrap();
        assert_documented(&doc, "get", "/partners/{partner_id}/channels", 400, &body);
        let res = api
            .get(v2(&format!("/partners/{demo}/clients/zzzzzzCL")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        let body: Value = res.json().await.unwrap();
        assert_documented(
            &doc,
            "get",
            "/partners/{partner_id}/clients/{client_id}",
            404,
            &body,
        );

        // A partner this key cannot use (403).
        let other = app.partner("Other Partner").await;
        let res = api.get(v2(&format!("/partners/{other}"))).send().await.unwrap();
        assert_eq!(res.status(), 403);
        let body: Value = res.json().await.unwrap();
        assert_documented(&doc, "get", "/partners/{partner_id}", 403, &body);

        app.finish().await;
    })
    .await;
}

#[tokio::test]
async fn the_docs_page_is_public_html_naming_every_path() {
    for_each_backend(|app| async move {
        let doc = fetch_document(&app).await;
        let res = reqwest::Client::new()
            .get(app.link("/docs"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let html = res.text().await.unwrap();
        for path in doc["paths"].as_object().unwrap().keys() {
            assert!(html.contains(path.as_str()), "/docs lacks {path}");
        }
        for needle in [
            "X-API-Key",
            "/api/v2/token",
            "developer_message",
            "filters",
            "D360-API-KEY (the number&#39;s messaging key)",
            "fbtrace_id",
        ] {
            assert!(html.contains(needle), "/docs lacks {needle}");
        }
        // The CSP allows no inline script or style.
        assert!(!html.contains("<script"));
        assert!(!html.contains("<style") && !html.contains(" style="));
        let css = reqwest::Client::new()
            .get(app.link("/docs/docs.css"))
            .send()
            .await
            .unwrap();
        assert_eq!(css.status(), 200);
        assert!(
            css.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/css")
        );
        app.finish().await;
    })
    .await;
}

#[test]
fn the_checker_catches_drift() {
    let doc = json!({"components": {"schemas": {
        "Outer": {"type": "object", "required": ["id", "inner"], "properties": {
            "id": {"type": "string"},
            "when": {"type": ["string", "null"]},
            "inner": {"$ref": "#/components/schemas/Inner"},
            "list": {"type": "array", "items": {"$ref": "#/components/schemas/Inner"}},
            "maybe": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Inner"}]},
        }},
        "Inner": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}},
    }}});
    let schema = json!({"$ref": "#/components/schemas/Outer"});
    let errors = |value: Value| {
        let mut e = Vec::new();
        check(&doc, &schema, &value, "$", &mut e);
        e
    };
    assert!(
        errors(
            json!({"id": "a", "when": null, "inner": {"n": 1}, "list": [{"n": 2}], "maybe": null})
        )
        .is_empty()
    );
    assert!(errors(json!({"id": "a", "inner": {"n": 1}, "maybe": {"n": 3}})).is_empty());
    assert_eq!(
        errors(json!({"inner": {"n": 1}})).len(),
        1,
        "missing required"
    );
    assert_eq!(
        errors(json!({"id": 1, "inner": {"n": 1}})).len(),
        1,
        "wrong type"
    );
    assert_eq!(
        errors(json!({"id": "a", "inner": {"n": 1}, "extra": 1})).len(),
        1,
        "undocumented field"
    );
    assert_eq!(
        errors(json!({"id": "a", "inner": {"n": "x"}})).len(),
        1,
        "nested"
    );
    assert_eq!(
        errors(json!({"id": "a", "inner": {"n": 1}, "list": [{}]})).len(),
        1,
        "items"
    );
    assert!(
        !errors(json!({"id": "a", "inner": {"n": 1}, "maybe": {"n": "x"}})).is_empty(),
        "oneOf"
    );
}
