//! The Messaging API (`D360-API-KEY`): Cloud API bodies, answers and error objects on the Hub's
//! own host, so a Cloud API SDK works by changing its base URL and auth header. Handlers read the
//! body as bytes (the Idempotency-Key compares exact bodies), call one service, and map.

use crate::error::AppError;
use crate::http::routes::Routes;
use crate::services::messaging::error::{CloudError, app_error};
use crate::services::messaging::{self, MessagingError, Sender, send, templates, webhook};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use store::templates::TemplateFilter;

/// The paths this API serves, for the middleware that gives every error Meta's shape.
pub fn is_messaging_path(path: &str) -> bool {
    path == "/messages" || path == "/health_status" || path == "/v1" || path.starts_with("/v1/")
}

pub fn router() -> Routes {
    Routes::new()
        .post("/messages", send_message)
        .post("/v1/messages", send_message)
        .get("/health_status", health_status)
        .post("/v1/configs/templates", create_template)
        .get("/v1/configs/templates", list_templates)
        .method(
            axum::http::Method::DELETE,
            "/v1/configs/templates/{name}",
            delete_template,
        )
        .post("/v1/configs/webhook", set_webhook)
        .get("/v1/configs/webhook", get_webhook)
        .post("/v1/configs/webhook/rotate_secret", rotate_webhook_secret)
        .post("/v1/sandbox/inbound", sandbox_inbound)
}

/// A Messaging API failure, rendered as Meta's error object.
#[derive(Debug)]
pub struct CloudApiError(pub MessagingError);

impl From<MessagingError> for CloudApiError {
    fn from(err: MessagingError) -> Self {
        Self(err)
    }
}

impl From<AppError> for CloudApiError {
    fn from(err: AppError) -> Self {
        Self(MessagingError::App(err))
    }
}

pub fn render(cloud: &CloudError, trace: &str) -> Response {
    let mut error_data = serde_json::Map::new();
    error_data.insert("messaging_product".into(), "whatsapp".into());
    error_data.insert("details".into(), cloud.details.clone().into());
    for (k, v) in &cloud.data {
        error_data.insert((*k).into(), v.clone());
    }
    let body = serde_json::json!({
        "error": {
            "message": cloud.message,
            "type": cloud.kind,
            "code": cloud.code,
            "error_data": error_data,
            "fbtrace_id": trace,
        }
    });
    let status = StatusCode::from_u16(cloud.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("D360-API-KEY"),
        );
    }
    response
}

impl IntoResponse for CloudApiError {
    fn into_response(self) -> Response {
        if let MessagingError::App(AppError::Internal(err)) = &self.0 {
            tracing::error!(error = format!("{err:#}"), "messaging request failed");
        }
        // The request id middleware fills in `fbtrace_id` (see `cloud_errors`).
        render(&self.0.cloud(), "")
    }
}

fn presented_key(headers: &HeaderMap) -> Option<&str> {
    headers.get("d360-api-key").and_then(|v| v.to_str().ok())
}

async fn sender(state: &AppState, headers: &HeaderMap) -> Result<Sender, CloudApiError> {
    Ok(messaging::authenticate(state, presented_key(headers)).await?)
}

/// The body as JSON bytes: a body with another content type is refused (415).
fn json_body(headers: &HeaderMap, body: &Bytes) -> Result<(), CloudApiError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let v = v.trim().to_ascii_lowercase();
            v.starts_with("application/json")
                || (v.starts_with("application/") && v.contains("+json"))
        });
    if !json && !body.is_empty() {
        return Err(AppError::UnsupportedMediaType.into());
    }
    Ok(())
}

fn parse(body: &Bytes) -> Result<serde_json::Value, CloudApiError> {
    serde_json::from_slice(body).map_err(|e| {
        CloudApiError(MessagingError::InvalidParameter(
            domain::message::ParamError {
                field: "body".into(),
                message: format!("is not valid JSON: {e}"),
            },
        ))
    })
}

fn json(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

async fn send_message(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, CloudApiError> {
    let sender = sender(&state, &headers).await?;
    json_body(&headers, &body)?;
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(v.to_str().map_err(|_| {
            CloudApiError(MessagingError::InvalidParameter(
                domain::message::ParamError {
                    field: "Idempotency-Key".into(),
                    message: "must be printable ASCII".into(),
                },
            ))
        })?),
    };
    let answer = send::send(&state, &sender, &body, key).await?;
    Ok(json(answer.status, answer.body))
}

async fn health_status(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, CloudApiError> {
    let sender = sender(&state, &headers).await?;
    let health = messaging::health(&state, &sender).await?;
    Ok(axum::Json(health).into_response())
}

async fn create_template(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, CloudApiError> {
    let sender = sender(&state, &headers).await?;
    json_body(&headers, &body)?;
    let template = templates::submit(&state, &sender, &parse(&body)?).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(templates::template_json(&template)),
    )
        .into_response())
}

#[derive(Debug, serde::Deserialize)]
struct TemplateQuery {
    limit: Option<i64>,
    offset: Option<i64>,
    name: Option<String>,
    status: Option<String>,
    category: Option<String>,
}

/// Filters of a template listing, checked.
pub fn template_filter(
    name: Option<String>,
    status: Option<String>,
    category: Option<String>,
) -> Result<TemplateFilter, domain::message::ParamError> {
    let bad = |field: &str, message: &str| domain::message::ParamError {
        field: field.into(),
        message: message.into(),
    };
    let status = match status.as_deref().map(str::to_ascii_lowercase) {
        None => None,
        Some(s) if ["submitted", "approved", "rejected"].contains(&s.as_str()) => Some(s),
        Some(_) => return Err(bad("status", "must be submitted, approved or rejected")),
    };
    let category = match category {
        None => None,
        Some(c) => Some(
            domain::pricing::Category::parse_template(&c)
                .map_err(|_| bad("category", "must be MARKETING, UTILITY or AUTHENTICATION"))?,
        ),
    };
    Ok(TemplateFilter {
        name,
        status,
        category,
    })
}

pub fn paging(
    limit: Option<i64>,
    offset: Option<i64>,
) -> Result<(i64, i64), domain::message::ParamError> {
    let limit = limit.unwrap_or(20);
    let offset = offset.unwrap_or(0);
    if !(1..=1000).contains(&limit) {
        return Err(domain::message::ParamError {
            field: "limit".into(),
            message: "must be between 1 and 1000".into(),
        });
    }
    if offset < 0 {
        return Err(domain::message::ParamError {
            field: "offset".into(),
            message: "must not be negative".into(),
        });
    }
    Ok((limit, offset))
}

async fn list_templates(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<TemplateQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, CloudApiError> {
    let sender = sender(&state, &headers).await?;
    let Query(query) = query.map_err(|e| {
        CloudApiError(MessagingError::InvalidParameter(
            domain::message::ParamError {
                field: "query".into(),
                message: e.body_text(),
            },
        ))
    })?;
    let (limit, offset) = paging(query.limit, query.offset).map_err(MessagingError::from)?;
    let filter =
        template_filter(query.name, query.status, query.category).map_err(MessagingError::from)?;
    let page = store::select::Page {
        limit,
        offset,
        after: None,
        oldest_first: false,
    };
    let (rows, total, _) = templates::list(
        &state,
        &sender.partner.id,
        &sender.channel.waba_id,
        &filter,
        &page,
    )
    .await?;
    let items: Vec<serde_json::Value> = rows.iter().map(templates::template_json).collect();
    Ok(axum::Json(serde_json::json!({
        "count": items.len(),
        "total": total,
        "limit": limit,
        "offset": offset,
        "waba_templates": items,
    }))
    .into_response())
}

async fn delete_template(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, CloudApiError> {
    let sender = sender(&state, &headers).await?;
    templates::delete(&state, &sender, &name).await?;
    Ok(axum::Json(serde_json::json!({
        "meta": {"success": true, "http_code": 200, "developer_message": format!("Template {name} deleted")}
    }))
    .into_response())
}

async fn set_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, CloudApiError> {
    let sender = sender(&state, &headers).await?;
    json_body(&headers, &body)?;
    let answer = webhook::set(&state, &sender, &parse(&body)?).await?;
    Ok(axum::Json(answer).into_response())
}

async fn get_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, CloudApiError> {
    let sender = sender(&state, &headers).await?;
    Ok(axum::Json(webhook::get(&state, &sender).await?).into_response())
}

async fn rotate_webhook_secret(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, CloudApiError> {
    let sender = sender(&state, &headers).await?;
    Ok(axum::Json(webhook::rotate(&state, &sender).await?).into_response())
}

async fn sandbox_inbound(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, CloudApiError> {
    let sender = sender(&state, &headers).await?;
    if !state.whatsapp.simulates() {
        return Err(AppError::NotFound.into());
    }
    json_body(&headers, &body)?;
    let answer = templates::inbound(&state, &sender, &parse(&body)?).await?;
    Ok(axum::Json(answer).into_response())
}

/// Around the finished router: every error under the Messaging API's paths that no handler
/// wrote (405, 404, 413, 415, timeouts, panics) becomes Meta's error object, and every error
/// object carries the request id as `fbtrace_id`.
pub async fn cloud_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !is_messaging_path(request.uri().path()) {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let trace = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let mut value: serde_json::Value =
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    if let Some(error) = value.get_mut("error").and_then(|e| e.as_object_mut()) {
        error.insert("fbtrace_id".into(), trace.into());
        let mut rebuilt = Response::from_parts(parts, axum::body::Body::from(value.to_string()));
        rebuilt.headers_mut().remove(header::CONTENT_LENGTH);
        return rebuilt;
    }
    let err = match status.as_u16() {
        401 => AppError::Unauthenticated,
        404 => AppError::NotFound,
        405 => AppError::BadRequest(format!(
            "{method} is not allowed here; this path accepts {}.",
            parts
                .headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("another method")
        )),
        413 => AppError::PayloadTooLarge,
        415 => AppError::UnsupportedMediaType,
        408 => AppError::BadRequest(
            "The request took too long and was stopped; nothing was sent.".into(),
        ),
        _ if status.is_server_error() => AppError::Internal(anyhow::anyhow!("{status}")),
        _ => AppError::BadRequest(
            status
                .canonical_reason()
                .unwrap_or("Bad request")
                .to_owned(),
        ),
    };
    let mut cloud = app_error(&err);
    cloud.status = status.as_u16();
    if status == StatusCode::METHOD_NOT_ALLOWED {
        cloud.message = "(#100) Unsupported request method".into();
    }
    let mut rebuilt = render(&cloud, &trace);
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            rebuilt.headers_mut().insert(name, v.clone());
        }
    }
    if let Some(id) = parts.headers.get("x-request-id") {
        rebuilt.headers_mut().insert("x-request-id", id.clone());
    }
    rebuilt
}
