//! The Partner API v2 (`/api/v2`), drop-in compatible with the 360dialog Partner API: same paths,
//! fields, list envelope, filter syntax and error envelope (`partner-api.md`).

pub mod channels;
mod clients;
pub mod extract;
pub mod integration;
pub mod json;
mod partners;

use crate::error::AppError;
use crate::http::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, patch, post};
use domain::listing::{ListQuery, ListSpec, RawList};
use std::collections::HashMap;
use std::sync::LazyLock;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi_json))
        .route("/token", post(partners::token))
        .route("/partners", get(partners::list))
        .route("/partners/{partner_id}", get(partners::get).patch(partners::patch))
        .route(
            "/partners/{partner_id}/settings/partner_change_request",
            patch(partners::patch_partner_change_settings),
        )
        .route("/partners/{partner_id}/clients", get(clients::list).post(clients::create))
        .route("/partners/{partner_id}/clients/{client_id}", get(clients::get).patch(clients::patch))
        .route("/partners/{partner_id}/clients/{client_id}/shared_client_numbers", get(clients::shared_numbers))
        .route("/partners/{partner_id}/account_sharing/clients", post(clients::create_shared))
        .route("/partners/{partner_id}/clients/{client_id}/channels", post(channels::add_number))
        .route("/partners/{partner_id}/clients/{client_id}/channels/{channel_id}/verify", post(channels::verify))
        .route(
            "/partners/{partner_id}/clients/{client_id}/channels/{channel_id}/control/cancellation_request",
            post(channels::cancellation_request),
        )
        .route("/partners/{partner_id}/clients/{client_id}/channels/{channel_id}/control/reactivate", post(channels::reactivate))
        .route("/partners/{partner_id}/channels", get(channels::list))
        .route("/partners/{partner_id}/channels/{channel_id}", get(channels::get))
        .route(
            "/partners/{partner_id}/channels/{channel_id}/api_keys",
            get(channels::api_keys).post(channels::create_api_key).delete(channels::revoke_api_keys),
        )
        .route(
            "/partners/{partner_id}/webhook_url",
            get(integration::get_webhook_url).post(integration::set_webhook_url),
        )
        .route("/partners/{partner_id}/webhook_url/test", post(integration::test_webhook_url))
        .route("/partners/{partner_id}/webhook_secret", get(integration::get_webhook_secret))
        .route("/partners/{partner_id}/webhook_secret/rotate", post(integration::rotate_webhook_secret))
        .route("/partners/{partner_id}/events", get(integration::list_events))
        .route("/partners/{partner_id}/events/{event_id}/resend", post(integration::resend_event))
        .fallback(any(not_found))
}

/// The OpenAPI 3.1 description of this API, generated from the handlers' annotations.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Partner Hub Partner API",
        version = "2",
        description = "The Partner API v2, compatible with the 360dialog Partner API: same paths, fields, list envelope, filter syntax and error envelope."
    ),
    paths(
        partners::token,
        partners::list,
        partners::get,
        partners::patch,
        partners::patch_partner_change_settings,
        clients::list,
        clients::create,
        clients::get,
        clients::patch,
        clients::shared_numbers,
        clients::create_shared,
        channels::add_number,
        channels::verify,
        channels::cancellation_request,
        channels::reactivate,
        channels::list,
        channels::get,
        channels::api_keys,
        channels::create_api_key,
        channels::revoke_api_keys,
        integration::get_webhook_url,
        integration::set_webhook_url,
        integration::test_webhook_url,
        integration::get_webhook_secret,
        integration::rotate_webhook_secret,
        integration::list_events,
        integration::resend_event,
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

static DOCUMENT: LazyLock<serde_json::Value> =
    LazyLock::new(|| serde_json::to_value(ApiDoc::openapi()).unwrap_or_default());

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
    /// Items to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
    /// Comma-separated fields; a `-` prefix sorts descending (default `-created_at`).
    #[param(example = "-created_at")]
    pub sort: Option<String>,
    /// A JSON object: dotted field paths to exact values, e.g. `{"status":"running"}`. Unknown keys are refused (400).
    #[param(example = r#"{"status":"running"}"#)]
    pub filters: Option<String>,
}

async fn not_found() -> ApiError {
    ApiError(AppError::NotFound)
}

/// Parse `limit`/`offset`/`sort`/`filters` of a list call; every problem is one `details` line.
pub fn list_query(
    spec: &ListSpec,
    params: &HashMap<String, String>,
) -> Result<ListQuery, ApiError> {
    let raw = RawList {
        limit: params.get("limit").map(String::as_str),
        offset: params.get("offset").map(String::as_str),
        sort: params.get("sort").map(String::as_str),
        filters: params.get("filters").map(String::as_str),
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

/// Parse an id from the path: a malformed id names nothing, so it is "not found".
pub fn path_id<T>(
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, domain::MalformedId>,
) -> Result<T, ApiError> {
    parse(raw).map_err(|_| ApiError(AppError::NotFound))
}
