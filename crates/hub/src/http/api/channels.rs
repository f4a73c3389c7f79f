//! Channels: list, get, add a number, verify it, cancellation, and the channel's API keys.

use super::extract::{ApiCtx, ApiJson};
use super::{json, list_query, path_id};
use crate::clock::iso_ms;
use crate::error::{ApiError, AppError};
use crate::services::api_keys;
use crate::services::whatsapp::{self, NumberRequest};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use domain::listing::ListSpec;
use domain::{ChannelId, ClientId};
use serde_json::{Value, json};
use std::collections::HashMap;

pub const CHANNEL_LIST: ListSpec = ListSpec {
    sortable: &[
        "created_at",
        "modified_at",
        "status",
        "id",
        "client_id",
        "setup_info.phone_number",
        "setup_info.phone_name",
    ],
    filterable: &[
        "id",
        "status",
        "client_id",
        "account_mode",
        "hosting_type",
        "data_storage_region",
        "partner_permission",
        "external_id",
        "is_migrated",
        "current_limit",
        "current_quality_rating",
        "setup_info.phone_number",
        "setup_info.phone_name",
        "waba_account.id",
        "waba_account.fb_account_status",
        "client.contact_info.email",
        "q",
    ],
    default_sort: "-created_at",
};

pub async fn list(
    ctx: ApiCtx,
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let query = list_query(&CHANNEL_LIST, &params)?;
    let text = params.get("q").map(String::as_str);
    let (channels, total) = whatsapp::channels(&state, &ctx.partner, &query, text).await?;
    Ok(Json(json::list(
        "partner_channels",
        channels.iter().map(json::channel).collect(),
        total,
        &query,
    )))
}

pub async fn get(
    ctx: ApiCtx,
    State(state): State<AppState>,
    Path((_, channel)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&channel, ChannelId::parse)?;
    Ok(Json(json::channel(
        &whatsapp::channel(&state, &ctx.partner, &id).await?,
    )))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AddNumberBody {
    phone_number: String,
    phone_name: String,
    verification_method: Option<String>,
    waba_account_id: Option<String>,
}

pub async fn add_number(
    ctx: ApiCtx,
    State(state): State<AppState>,
    Path((_, client)): Path<(String, String)>,
    ApiJson(body): ApiJson<AddNumberBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let client = path_id(&client, ClientId::parse)?;
    let request = NumberRequest::parse(
        &body.phone_number,
        &body.phone_name,
        body.verification_method.as_deref(),
        body.waba_account_id.as_deref(),
    )
    .map_err(|errors| ApiError(AppError::Validation(errors)))?;
    let channel = whatsapp::add_number(&state, &ctx.partner, &client, &request, &ctx.actor).await?;
    Ok((StatusCode::CREATED, Json(json::channel(&channel))))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VerifyBody {
    code: String,
}

pub async fn verify(
    ctx: ApiCtx,
    State(state): State<AppState>,
    Path((_, client, channel)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<VerifyBody>,
) -> Result<Json<Value>, ApiError> {
    let client = path_id(&client, ClientId::parse)?;
    let channel = path_id(&channel, ChannelId::parse)?;
    let view = whatsapp::verify_number(
        &state,
        &ctx.partner,
        &client,
        &channel,
        &body.code,
        &ctx.actor,
    )
    .await?;
    Ok(Json(json::channel(&view)))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancellationBody {
    enabled: serde_json::Value,
}

pub async fn cancellation_request(
    ctx: ApiCtx,
    State(state): State<AppState>,
    Path((_, client, channel)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<CancellationBody>,
) -> Result<Json<Value>, ApiError> {
    let enabled = match &body.enabled {
        Value::Bool(b) => *b,
        Value::String(s) if s.eq_ignore_ascii_case("true") => true,
        Value::String(s) if s.eq_ignore_ascii_case("false") => false,
        _ => {
            return Err(ApiError(AppError::Validation(vec![
                domain::FieldError::new("enabled", "must be true or false"),
            ])));
        }
    };
    let client = path_id(&client, ClientId::parse)?;
    let channel = path_id(&channel, ChannelId::parse)?;
    let view =
        whatsapp::set_cancellation(&state, &ctx.partner, &client, &channel, enabled, &ctx.actor)
            .await?;
    Ok(Json(json::channel(&view)))
}

pub async fn reactivate(
    ctx: ApiCtx,
    State(state): State<AppState>,
    Path((_, client, channel)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let client = path_id(&client, ClientId::parse)?;
    let channel = path_id(&channel, ChannelId::parse)?;
    let view =
        whatsapp::set_cancellation(&state, &ctx.partner, &client, &channel, false, &ctx.actor)
            .await?;
    Ok(Json(json::channel(&view)))
}

fn messaging_address(state: &AppState) -> String {
    state
        .config
        .public_url
        .as_str()
        .trim_end_matches('/')
        .to_owned()
}

pub async fn create_api_key(
    ctx: ApiCtx,
    State(state): State<AppState>,
    Path((_, channel)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let channel = path_id(&channel, ChannelId::parse)?;
    let created = api_keys::create_channel_key(&state, &ctx.partner, &channel, &ctx.actor).await?;
    Ok(Json(json!({
        "id": created.key.id,
        "address": messaging_address(&state),
        "api_key": created.secret,
        "app_id": created.key.app_id,
    })))
}

pub async fn api_keys(
    ctx: ApiCtx,
    State(state): State<AppState>,
    Path((_, channel)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let channel = path_id(&channel, ChannelId::parse)?;
    let keys = api_keys::channel_keys(&state, &ctx.partner, &channel).await?;
    let address = messaging_address(&state);
    Ok(Json(json!({
        "api_keys": keys.iter().map(|k| json!({
            "id": k.id,
            "address": address,
            "app_id": k.app_id,
            "api_key_prefix": k.prefix,
            "created_at": iso_ms(k.created_ms),
        })).collect::<Vec<_>>()
    })))
}

pub async fn revoke_api_keys(
    ctx: ApiCtx,
    State(state): State<AppState>,
    Path((_, channel)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let channel = path_id(&channel, ChannelId::parse)?;
    api_keys::revoke_channel_keys(&state, &ctx.partner, &channel, &ctx.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}
