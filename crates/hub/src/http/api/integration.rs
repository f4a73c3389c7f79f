//! Integration over the API: the webhook URL (read, set, test), the signing secret (reveal,
//! rotate), and the partner's webhook events with their attempts (list, resend).

use super::extract::ApiPath;
use super::extract::{ApiCtx, ApiJson, ApiOwner};
use super::{json, list_query};
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::services::webhooks::{self, EventQuery, UrlKind};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use domain::PartnerId;
use domain::listing::{FilterValue, ListSpec};
use domain::webhook_event::{DeliveryState, EventId, EventType};
use std::collections::HashMap;

/// The partner's webhook URL.
#[utoipa::path(
    get,
    path = "/api/v2/partners/{partner_id}/webhook_url",
    tag = "webhooks",
    operation_id = "get_webhook_url",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)")),
    responses(
        (status = 200, description = "The webhook URL (`null` when none is set)", body = json::WebhookUrlOut),
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn get_webhook_url(
    ctx: ApiCtx,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let endpoints = webhooks::endpoints(&state, &ctx.partner.id).await?;
    Ok(Json(json::WebhookUrlOut {
        webhook_url: endpoints.webhook_url,
    })
    .into_response())
}

/// Body of `POST …/webhook_url`.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookUrlBody {
    /// Absolute https URL; `null` or `""` removes it.
    #[serde(default)]
    webhook_url: Option<String>,
}

/// Set the webhook URL (Owner); the previous value is overwritten.
#[utoipa::path(
    post,
    path = "/api/v2/partners/{partner_id}/webhook_url",
    tag = "webhooks",
    operation_id = "set_webhook_url",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)")),
    request_body = WebhookUrlBody,
    responses(
        (status = 200, description = "The updated partner", body = json::Partner),
        (status = 400, description = "The URL breaks a rule; `details` names the offending part", body = json::ErrorEnvelope),
        (status = 403, description = "Not an Owner, or this credential cannot use this partner", body = json::ErrorEnvelope),
        json::BodyErrors,
        json::CredentialErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn set_webhook_url(
    ApiOwner(ctx): ApiOwner,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<WebhookUrlBody>,
) -> Result<Response, ApiError> {
    let url = webhooks::parse_url(&state, UrlKind::Webhook, body.webhook_url.as_deref())
        .map_err(|e| ApiError(AppError::Validation(vec![e])))?;
    webhooks::save_url(
        &state,
        &ctx.partner.id,
        UrlKind::Webhook,
        url.as_ref(),
        &ctx.actor,
    )
    .await?;
    super::partners::partner_response(&state, &ctx.partner).await
}

/// (ext) Send a signed `test` event to the webhook URL now and report what happened.
#[utoipa::path(
    post,
    path = "/api/v2/partners/{partner_id}/webhook_url/test",
    tag = "webhooks",
    operation_id = "test_webhook_url",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)")),
    responses(
        (status = 200, description = "The outcome (also when the receiver failed: see `success`)", body = json::WebhookTestOut),
        (status = 422, description = "No webhook URL is set", body = json::ErrorEnvelope),
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn test_webhook_url(
    ctx: ApiCtx,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let result = webhooks::test_webhook(&state, &ctx.partner.id, &ctx.actor).await?;
    Ok(Json(json::WebhookTestOut {
        success: result.success,
        status_code: result.status_code,
        latency_ms: result.latency_ms,
        response_excerpt: result.excerpt,
        error: result.error,
    })
    .into_response())
}

/// (ext) The secret that signs deliveries (Owner).
#[utoipa::path(
    get,
    path = "/api/v2/partners/{partner_id}/webhook_secret",
    tag = "webhooks",
    operation_id = "get_webhook_secret",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)")),
    responses(
        (status = 200, description = "The current signing secret", body = json::WebhookSecretOut),
        (status = 403, description = "Not an Owner, or this credential cannot use this partner", body = json::ErrorEnvelope),
        json::CredentialErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn get_webhook_secret(
    ApiOwner(ctx): ApiOwner,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let secret = webhooks::reveal_secret(&state, &ctx.partner.id, &ctx.actor).await?;
    Ok(Json(json::WebhookSecretOut { secret }).into_response())
}

/// (ext) A new signing secret (Owner); the old one keeps signing for 24 h.
#[utoipa::path(
    post,
    path = "/api/v2/partners/{partner_id}/webhook_secret/rotate",
    tag = "webhooks",
    operation_id = "rotate_webhook_secret",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)")),
    responses(
        (status = 200, description = "The new signing secret", body = json::WebhookSecretOut),
        (status = 403, description = "Not an Owner, or this credential cannot use this partner", body = json::ErrorEnvelope),
        json::CredentialErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn rotate_webhook_secret(
    ApiOwner(ctx): ApiOwner,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let secret = webhooks::rotate_secret(&state, &ctx.partner.id, &ctx.actor).await?;
    Ok(Json(json::WebhookSecretOut { secret }).into_response())
}

pub const EVENT_LIST: ListSpec = ListSpec {
    sortable: &["created_at"],
    filterable: &["event", "state"],
    default_sort: "-created_at",
    numeric_sorts: &["created_at"],
};

/// The date range of the events list and the ledger, besides the common list parameters.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// Only items created at or after this time (UNIX seconds).
    pub start_date: Option<i64>,
    /// Only items created before this time (UNIX seconds).
    pub end_date: Option<i64>,
}

pub(super) fn seconds(
    params: &HashMap<String, String>,
    name: &'static str,
) -> Result<Option<i64>, domain::FieldError> {
    match params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .and_then(|s| s.checked_mul(1000))
            .map(Some)
            .ok_or_else(|| domain::FieldError::new(name, "must be a UNIX time in seconds")),
    }
}

/// (ext) The partner's webhook events, newest first, each with its delivery attempts.
#[utoipa::path(
    get,
    path = "/api/v2/partners/{partner_id}/events",
    tag = "webhooks",
    operation_id = "list_events",
    params(
        ("partner_id" = String, Path, description = "Partner id (`…PA`)"),
        super::ListParams,
        EventParams,
    ),
    responses(
        (status = 200, description = "A page of events; filter keys `event` and `state` (`pending`, `delivered`, `failed`, `no_url`)", body = json::EventList),
        (status = 400, description = "Bad list parameters or filter values (one line each in `details`)", body = json::ErrorEnvelope),
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn list_events(
    ctx: ApiCtx,
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    // The date range is outside `filters`, so the cursor is bound to it here.
    let context = format!(
        "{}\nstart_date={}\nend_date={}",
        ctx.partner.id,
        params
            .get("start_date")
            .map(|v| v.trim())
            .unwrap_or_default(),
        params.get("end_date").map(|v| v.trim()).unwrap_or_default()
    );
    let query = list_query(&EVENT_LIST, &params, &context)?;
    let mut errors = Vec::new();
    let mut events = EventQuery {
        oldest_first: query.sort.first().is_some_and(|k| !k.descending),
        limit: query.limit,
        offset: query.offset,
        after: query.after.clone(),
        ..EventQuery::default()
    };
    for (key, value) in &query.filters {
        let text = match value {
            FilterValue::Text(t) => t.as_str(),
            _ => {
                errors.push(domain::FieldError::new(
                    "filters",
                    format!("{key} must be a string"),
                ));
                continue;
            }
        };
        match *key {
            "event" => match EventType::parse(text) {
                Ok(t) => events.event_type = Some(t),
                Err(e) => errors.push(domain::FieldError::new(
                    "filters",
                    format!("event {}", e.message),
                )),
            },
            "state" => match DeliveryState::parse(text) {
                Ok(s) => events.state = Some(s),
                Err(e) => errors.push(domain::FieldError::new(
                    "filters",
                    format!("state {}", e.message),
                )),
            },
            _ => {}
        }
    }
    events.from_ms = seconds(&params, "start_date").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    events.until_ms = seconds(&params, "end_date").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    if !errors.is_empty() {
        return Err(ApiError(AppError::Validation(errors)));
    }
    let (rows, total, next) = webhooks::list_events(&state, &ctx.partner.id, &events).await?;
    Ok(Json(json::event_list(&rows, total, &query, next.as_ref())).into_response())
}

/// (ext) Deliver an event again now, with a fresh retry schedule.
#[utoipa::path(
    post,
    path = "/api/v2/partners/{partner_id}/events/{event_id}/resend",
    tag = "webhooks",
    operation_id = "resend_event",
    params(
        ("partner_id" = String, Path, description = "Partner id (`…PA`)"),
        ("event_id" = String, Path, description = "Event id (`evt_…`)"),
    ),
    responses(
        (status = 200, description = "The event, queued for delivery", body = json::Event),
        (status = 404, description = "No such event of this partner", body = json::ErrorEnvelope),
        (status = 422, description = "No active webhook URL to deliver to", body = json::ErrorEnvelope),
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn resend_event(
    ctx: ApiCtx,
    State(state): State<AppState>,
    ApiPath(ids): ApiPath<(PartnerId, EventId)>,
) -> Result<Response, ApiError> {
    let (_, id) = ids;
    let event = webhooks::resend(&state, &ctx.partner.id, &id, &ctx.actor).await?;
    Ok(Json(json::event(&event)).into_response())
}
