//! Clients: list, get, create, patch, and the numbers a client shares with its partner.

use super::extract::{ApiCtx, ApiJson};
use super::{json, list_query, path_id};
use crate::error::{ApiError, AppError};
use crate::services::whatsapp::{self, ClientRequest};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use domain::ClientId;
use domain::listing::ListSpec;
use serde_json::{Value, json};
use std::collections::HashMap;
use store::clients::{ContactInfo, ContactUser, MetaInfo};

pub const CLIENT_LIST: ListSpec = ListSpec {
    sortable: &["created_at", "modified_at", "name", "id"],
    filterable: &[
        "id",
        "name",
        "status",
        "organisation",
        "partner_payload",
        "contact_info.email",
        "contact_info.full_name",
        "contact_info.phone",
        "contact_info.country",
        "contact_info.city",
        "contact_info.street_name",
        "contact_info.zip_code",
        "contact_info.webpage_url",
        "contact_info.language",
        "contact_user.name",
        "contact_user.email",
        "contact_user.phone",
        "meta_info.business_vertical",
        "meta_info.timezone",
        "meta_info.about",
        "meta_info.business_description",
        "meta_info.use_case",
    ],
    default_sort: "-created_at",
};

pub async fn list(
    ctx: ApiCtx,
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let query = list_query(&CLIENT_LIST, &params)?;
    let (clients, total) = whatsapp::clients(&state, &ctx.partner, &query).await?;
    Ok(Json(json::list(
        "clients",
        clients.iter().map(json::client).collect(),
        total,
        &query,
    )))
}

pub async fn get(
    ctx: ApiCtx,
    State(state): State<AppState>,
    Path((_, client)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&client, ClientId::parse)?;
    Ok(Json(json::client(
        &whatsapp::client(&state, &ctx.partner, &id).await?,
    )))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CreateBody {
    name: String,
    organisation: Option<String>,
    max_channels: Option<i64>,
    partner_payload: Option<String>,
    contact_info: ContactInfo,
    contact_user: ContactUser,
    meta_info: MetaInfo,
}

pub async fn create(
    ctx: ApiCtx,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let request = ClientRequest::parse(
        &body.name,
        body.organisation,
        body.max_channels,
        body.partner_payload,
        body.contact_info,
        body.contact_user,
        body.meta_info,
    )
    .map_err(|errors| ApiError(AppError::Validation(errors)))?;
    let client = whatsapp::create_client(&state, &ctx.partner, &request, &ctx.actor).await?;
    Ok((StatusCode::CREATED, Json(json::client(&client))))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    #[serde(default, deserialize_with = "present")]
    partner_payload: Option<Option<String>>,
    #[serde(default)]
    max_channels: Option<i64>,
}

/// A field that is present (even as `null`) is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    use serde::Deserialize;
    Option::<String>::deserialize(d).map(Some)
}

pub async fn patch(
    ctx: ApiCtx,
    State(state): State<AppState>,
    Path((_, client)): Path<(String, String)>,
    ApiJson(body): ApiJson<PatchBody>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&client, ClientId::parse)?;
    let client = whatsapp::update_client(
        &state,
        &ctx.partner,
        &id,
        body.partner_payload,
        body.max_channels,
        &ctx.actor,
    )
    .await?;
    Ok(Json(json::client(&client)))
}

pub async fn shared_numbers(
    ctx: ApiCtx,
    State(state): State<AppState>,
    Path((_, client)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&client, ClientId::parse)?;
    let channels = whatsapp::shared_numbers(&state, &ctx.partner, &id).await?;
    Ok(Json(
        json!({ "partner_channels": channels.iter().map(json::channel).collect::<Vec<_>>() }),
    ))
}
