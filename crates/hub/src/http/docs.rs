//! `/docs`: the Partner API reference, rendered on the server from the generated OpenAPI
//! document (no JavaScript, no CDN), readable without logging in.

use crate::http::api;
use crate::http::routes::Routes;
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;
use std::sync::LazyLock;

const CSS: &str = include_str!("../../assets/docs/docs.css");

/// `/docs` and its stylesheet.
pub fn router() -> Routes {
    Routes::new()
        .get("/docs", page)
        .get("/docs/docs.css", stylesheet)
}

#[derive(Debug)]
struct Param {
    name: String,
    location: String,
    kind: String,
    required: bool,
    description: String,
}

#[derive(Debug)]
struct Field {
    name: String,
    kind: String,
    required: bool,
    description: String,
}

#[derive(Debug)]
struct Resp {
    status: String,
    description: String,
    schema: String,
}

#[derive(Debug)]
struct Op {
    anchor: String,
    method: String,
    method_class: String,
    path: String,
    summary: String,
    description: String,
    auth: String,
    params: Vec<Param>,
    body: Option<String>,
    body_fields: Vec<Field>,
    responses: Vec<Resp>,
}

#[derive(Debug)]
struct Group {
    name: String,
    description: String,
    ops: Vec<Op>,
}

#[derive(Debug)]
struct Object {
    name: String,
    description: String,
    fields: Vec<Field>,
}

#[derive(Template)]
#[template(path = "docs.html")]
struct DocsPage {
    title: String,
    version: String,
    description: String,
    assets: &'static str,
    groups: Vec<Group>,
    objects: Vec<Object>,
}

static PAGE: LazyLock<String> = LazyLock::new(|| {
    build(api::openapi())
        .render()
        .unwrap_or_else(|_| "<!doctype html><title>Partner API</title><p>The API reference could not be rendered; see <a href=\"/api/v2/openapi.json\">openapi.json</a>.</p>".into())
});

async fn page() -> Response {
    Html(PAGE.as_str()).into_response()
}

async fn stylesheet() -> Response {
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        CSS,
    )
        .into_response()
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Follow a local `$ref` (`#/components/schemas/X`).
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => r
            .strip_prefix("#/")
            .map(|p| p.split('/').fold(doc, |v, k| &v[k]))
            .unwrap_or(schema),
        None => schema,
    }
}

/// A short human description of a schema's type: `string`, `Channel`, `array of Client`,
/// `string | null`.
fn kind(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = schema.get(key).and_then(Value::as_array) {
            return alts.iter().map(kind).collect::<Vec<_>>().join(" | ");
        }
    }
    let base = match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "any".into(),
    };
    match schema.get("items") {
        Some(items) => base.replacen("array", &format!("array of {}", kind(items)), 1),
        None => base,
    }
}

/// The object schema behind a field, if it is one (through `$ref` and nullable `oneOf`).
fn object_of<'a>(doc: &'a Value, schema: &'a Value) -> Option<&'a Value> {
    let schema = resolve(doc, schema);
    if schema.get("properties").is_some() {
        return Some(schema);
    }
    schema
        .get("oneOf")
        .and_then(Value::as_array)
        .and_then(|alts| alts.iter().find_map(|a| object_of(doc, a)))
}

/// Fields of an object schema, nested objects flattened to dotted names.
fn fields(doc: &Value, schema: &Value, prefix: &str, depth: usize, out: &mut Vec<Field>) {
    let Some(object) = object_of(doc, schema) else {
        return;
    };
    let required: Vec<&str> = object
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = object.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, prop) in props {
        let full = format!("{prefix}{name}");
        let nested = object_of(doc, prop).filter(|_| depth < 3);
        out.push(Field {
            name: full.clone(),
            kind: if nested.is_some() && prop.get("$ref").is_none() && prop.get("oneOf").is_none() {
                "object".into()
            } else {
                kind(prop)
            },
            required: required.contains(&name.as_str()),
            description: text(resolve(doc, prop), "description")
                .lines()
                .collect::<Vec<_>>()
                .join(" "),
        });
        if nested.is_some() {
            fields(doc, prop, &format!("{full}."), depth + 1, out);
        }
    }
}

fn operation(doc: &Value, method: &str, path: &str, op: &Value) -> Op {
    let params = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| Param {
                    name: text(p, "name"),
                    location: text(p, "in"),
                    kind: p.get("schema").map(kind).unwrap_or_default(),
                    required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
                    description: text(p, "description"),
                })
                .collect()
        })
        .unwrap_or_default();
    let body_schema = op.pointer("/requestBody/content/application~1json/schema");
    let mut body_fields = Vec::new();
    if let Some(schema) = body_schema {
        fields(doc, schema, "", 0, &mut body_fields);
    }
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .map(|rs| {
            rs.iter()
                .map(|(status, r)| Resp {
                    status: status.clone(),
                    description: text(r, "description"),
                    schema: r
                        .pointer("/content/application~1json/schema")
                        .map(kind)
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    let auth = match op.get("security").and_then(Value::as_array) {
        Some(reqs) if reqs.iter().any(|r| r.get("d360_api_key").is_some()) => {
            "D360-API-KEY (the number's messaging key)".to_owned()
        }
        Some(reqs)
            if reqs
                .iter()
                .any(|r| r.as_object().is_some_and(|o| !o.is_empty())) =>
        {
            "X-API-Key or Bearer token".to_owned()
        }
        _ => "none".to_owned(),
    };
    Op {
        anchor: text(op, "operationId"),
        method: method.to_ascii_uppercase(),
        method_class: method.to_ascii_lowercase(),
        path: path.to_owned(),
        summary: text(op, "summary"),
        description: text(op, "description"),
        auth,
        params,
        body: body_schema.map(kind),
        body_fields,
        responses,
    }
}

fn build(doc: &Value) -> DocsPage {
    let mut groups: Vec<Group> = doc
        .get("tags")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .map(|t| Group {
                    name: text(t, "name"),
                    description: text(t, "description"),
                    ops: Vec::new(),
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            for method in ["get", "post", "put", "patch", "delete"] {
                let Some(op) = item.get(method) else {
                    continue;
                };
                let tag = op
                    .pointer("/tags/0")
                    .and_then(Value::as_str)
                    .unwrap_or("other")
                    .to_owned();
                let op = operation(doc, method, path, op);
                match groups.iter_mut().find(|g| g.name == tag) {
                    Some(group) => group.ops.push(op),
                    None => groups.push(Group {
                        name: tag,
                        description: String::new(),
                        ops: vec![op],
                    }),
                }
            }
        }
    }
    groups.retain(|g| !g.ops.is_empty());
    let objects = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|schemas| {
            schemas
                .iter()
                .map(|(name, schema)| {
                    let mut out = Vec::new();
                    fields(doc, schema, "", 1, &mut out);
                    Object {
                        name: name.clone(),
                        description: text(schema, "description"),
                        fields: out,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    DocsPage {
        title: text(&doc["info"], "title"),
        version: text(&doc["info"], "version"),
        description: text(&doc["info"], "description"),
        assets: crate::http::assets::version(),
        groups,
        objects,
    }
}
