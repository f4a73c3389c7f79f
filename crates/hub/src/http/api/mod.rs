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
    LazyLock::new(|| serde_json::to_value(operations().split_for_parts().1).unwrap_or_default());

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
