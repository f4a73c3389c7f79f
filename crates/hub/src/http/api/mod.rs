//! The Partner API v2 (`/api/v2`), drop-in compatible with the 360dialog Partner API: same paths,
//! fields, list envelope, filter syntax and error envelope (`partner-api.md`).

pub mod billing;
pub mod channels;
mod clients;
pub mod extract;
pub mod integration;
pub mod json;
mod partners;

use crate::error::AppError;
use crate::http::error::{ApiError, api_message};
use crate::http::routes::{Route, Routes};
use crate::state::AppState;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use domain::listing::{ListQuery, ListSpec, RawList};
use std::collections::HashMap;
use std::sync::LazyLock;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Where the API is mounted; operations declare their full path.
pub const PREFIX: &str = "/api/v2";

/// The Partner API: each route declared once with its OpenAPI operation (`routes!` reads the
/// handler's `#[utoipa::path]`), on top of `ApiDoc` (title, tags, security, shared schemas).
fn operations() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(partners::token))
        .routes(routes!(partners::list))
        .routes(routes!(partners::get, partners::patch))
        .routes(routes!(partners::patch_partner_change_settings))
        .routes(routes!(clients::list, clients::create))
        .routes(routes!(clients::get, clients::patch))
        .routes(routes!(clients::shared_numbers))
        .routes(routes!(clients::create_shared))
        .routes(routes!(channels::add_number))
        .routes(routes!(channels::verify))
        .routes(routes!(channels::cancellation_request))
        .routes(routes!(channels::reactivate))
        .routes(routes!(channels::list))
        .routes(routes!(channels::get))
        .routes(routes!(
            channels::api_keys,
            channels::create_api_key,
            channels::revoke_api_keys
        ))
        .routes(routes!(
            integration::get_webhook_url,
            integration::set_webhook_url
        ))
        .routes(routes!(integration::test_webhook_url))
        .routes(routes!(integration::get_webhook_secret))
        .routes(routes!(integration::rotate_webhook_secret))
        .routes(routes!(integration::list_events))
        .routes(routes!(integration::resend_event))
        .routes(routes!(billing::balance))
        .routes(routes!(billing::ledger))
        .routes(routes!(billing::rate_card))
        .routes(routes!(billing::client_balance))
        .routes(routes!(billing::waba_templates))
}

/// The API's routes (full paths, mounted at the root) and the document at `openapi.json`.
pub fn router() -> Routes {
    let (router, doc) = operations().split_for_parts();
    let mut table = Vec::new();
    for (path, item) in &doc.paths.paths {
        let methods = [
            (Method::GET, item.get.is_some()),
            (Method::POST, item.post.is_some()),
            (Method::PUT, item.put.is_some()),
            (Method::PATCH, item.patch.is_some()),
            (Method::DELETE, item.delete.is_some()),
        ];
        for (method, served) in methods {
            if served {
                table.push(Route {
                    method,
                    path: path.clone(),
                });
            }
        }
    }
    Routes::from_parts(router, table).get(&format!("{PREFIX}/openapi.json"), openapi_json)
}

/// The OpenAPI 3.1 description of this API, generated from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Partner Hub Partner API",
        version = "2",
        description = "The Partner API v2, compatible with the 360dialog Partner API: same paths, fields, list envelope, filter syntax and error envelope."
    ),
    components(schemas(json::ErrorEnvelope, json::ErrorMeta)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Bearer tokens for people; partner API keys are created in the Hub."),
        (name = "partners", description = "The partner account."),
        (name = "clients", description = "The businesses a partner serves."),
        (name = "channels", description = "Phone numbers (channels) of clients."),
        (name = "api_keys", description = "Messaging API keys of a channel."),
        (name = "webhooks", description = "The partner webhook: URL, signing secret, events and their deliveries (Standard Webhooks signatures)."),
        (name = "billing", description = "The prepaid balance, its ledger, the rate card in force, usage per client, and WABAs' message templates (whose category sets a message's price)."),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "A partner API key, created by an Owner in the Hub (shown once).",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from `POST /api/v2/token`, valid 24 h."))
                    .build(),
            ),
        );
    }
}

/// The Partner API's operations and, merged in, the Messaging API's (`http::MessagingDoc`).
static DOCUMENT: LazyLock<serde_json::Value> = LazyLock::new(|| {
    let mut doc = operations().split_for_parts().1;
    doc.merge(crate::http::MessagingDoc::openapi());
    serde_json::to_value(doc).unwrap_or_default()
});

static DOCUMENT_TEXT: LazyLock<String> = LazyLock::new(|| DOCUMENT.to_string());

/// The generated document, as JSON.
pub fn openapi() -> &'static serde_json::Value {
    &DOCUMENT
}

async fn openapi_json() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        DOCUMENT_TEXT.as_str(),
    )
        .into_response()
}

/// The query parameters every list takes.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page size, 1–1000 (default 20).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Items to skip (default 0). Deep offsets are slow (every skipped item is read); follow `next_cursor` instead.
    #[param(minimum = 0)]
    pub offset: Option<i64>,
    /// The `next_cursor` of the previous page: this page starts right after its last item, read through the sort's index however deep it is. Opaque; valid only with the `sort`, `filters` (and `q`, dates) it was made for and without `offset`, else 400.
    pub cursor: Option<String>,
    /// Comma-separated fields; a `-` prefix sorts descending (default `-created_at`).
    #[param(example = "-created_at")]
    pub sort: Option<String>,
    /// A JSON object: dotted field paths to exact values, e.g. `{"status":"running"}`. Unknown keys are refused (400).
    #[param(example = r#"{"status":"running"}"#)]
    pub filters: Option<String>,
}

/// Parse `limit`/`offset`/`sort`/`filters`/`cursor` of a list call; every problem is one
/// `details` line. `context` is whatever else decides the list's rows (the partner, free text,
/// dates): a cursor is only good for the same.
pub fn list_query(
    spec: &ListSpec,
    params: &HashMap<String, String>,
    context: &str,
) -> Result<ListQuery, ApiError> {
    let raw = RawList {
        limit: params.get("limit").map(String::as_str),
        offset: params.get("offset").map(String::as_str),
        sort: params.get("sort").map(String::as_str),
        filters: params.get("filters").map(String::as_str),
        cursor: params.get("cursor").map(String::as_str),
        context,
    };
    ListQuery::parse(spec, &raw).map_err(|lines| {
        ApiError(AppError::Validation(
            lines
                .into_iter()
                .map(|line| domain::FieldError::new("query", line))
                .collect(),
        ))
    })
}

/// The API's answers that no handler wrote (axum's 405 for a wrong method, 413 from the body
/// limit, 408 from the timeout, a rejection's plain text) get the API's envelope, so a client
/// parses every error the same way. `/api/v2/token` keeps OAuth's own error shape.
pub async fn envelope_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path();
    if !(path == "/api" || path.starts_with("/api/")) || path == "/api/v2/token" {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let response = next.run(request).await;
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    let (parts, body) = response.into_parts();
    // Rejections explain themselves in a short text body; keep that as the detail.
    let text = match axum::body::to_bytes(body, 4096).await {
        Ok(bytes) if plain => String::from_utf8_lossy(&bytes).trim().to_owned(),
        _ => String::new(),
    };
    let allow = parts.headers.get(header::ALLOW).cloned();
    let message = match status.as_u16() {
        401 => api_message(&AppError::Unauthenticated),
        404 => api_message(&AppError::NotFound),
        405 => match allow.as_ref().and_then(|v| v.to_str().ok()) {
            Some(allowed) if !allowed.is_empty() => {
                format!("{method} is not allowed here; this path accepts {allowed}.")
            }
            _ => format!("{method} is not allowed here."),
        },
        408 => "The request took too long and was stopped; nothing was changed.".to_owned(),
        413 => api_message(&AppError::PayloadTooLarge),
        415 => api_message(&AppError::UnsupportedMediaType),
        500 => format!(
            "{} Reference: {}.",
            AppError::Internal(anyhow::anyhow!("")).public_message(),
            request_id.as_deref().unwrap_or("-")
        ),
        _ if !text.is_empty() => text.clone(),
        _ => status
            .canonical_reason()
            .unwrap_or("The request failed.")
            .to_owned(),
    };
    let details = if text.is_empty() || text == message || status.is_server_error() {
        Vec::new()
    } else {
        vec![text]
    };
    let mut enveloped = crate::http::error::api_envelope(status, &message, details);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && name != header::CONTENT_SECURITY_POLICY
        {
            enveloped.headers_mut().insert(name.clone(), value.clone());
        }
    }
    enveloped
}
