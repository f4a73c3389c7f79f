//! Clients: list, get, create, patch, and the numbers a client shares with its partner.

use super::extract::ApiPath;
use super::extract::{ApiCtx, ApiJson};
use super::{json, list_query};
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::services::accounts::{self, ClientRequest};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::listing::ListSpec;
use domain::{ClientId, PartnerId};
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
    numeric_sorts: &["created_at", "modified_at"],
};

/// The partner's clients, paged, filtered and sorted.
#[utoipa::path(
    get,
    path = "/api/v2/partners/{partner_id}/clients",
    tag = "clients",
    operation_id = "list_clients",
    params(
        ("partner_id" = String, Path, description = "Partner id (`…PA`)"),
        super::ListParams,
    ),
    responses(
        (status = 200, description = "A page of clients", body = json::ClientList),
        (status = 400, description = "Bad `limit`/`offset`/`sort`/`filters`/`cursor` (one line each in `details`)", body = json::ErrorEnvelope),
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn list(
    ctx: ApiCtx,
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let query = list_query(&CLIENT_LIST, &params, ctx.partner.id.as_str())?;
    let (clients, total, next) = accounts::clients(&state, &ctx.partner, &query).await?;
    Ok(Json(json::client_list(&clients, total, &query, next.as_ref())).into_response())
}

/// (ext) One client.
#[utoipa::path(
    get,
    path = "/api/v2/partners/{partner_id}/clients/{client_id}",
    tag = "clients",
    operation_id = "get_client",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)"), ("client_id" = String, Path, description = "Client id (`…CL`)")),
    responses(
        (status = 200, description = "The client", body = json::Client),
        (status = 404, description = "No such client for this partner", body = json::ErrorEnvelope),
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn get(
    ctx: ApiCtx,
    State(state): State<AppState>,
    ApiPath(ids): ApiPath<(PartnerId, ClientId)>,
) -> Result<Response, ApiError> {
    let (_, id) = ids;
    let client = accounts::client(&state, &ctx.partner, &id).await?;
    Ok(Json(json::client(&client)).into_response())
}

#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ClientCreate {
    #[schema(required = true)]
    name: String,
    organisation: Option<String>,
    max_channels: Option<i64>,
    partner_payload: Option<String>,
    #[schema(value_type = json::ContactInfo, required = false)]
    contact_info: ContactInfo,
    #[schema(value_type = json::ContactUser, required = false)]
    contact_user: ContactUser,
    #[schema(value_type = json::MetaInfo, required = false)]
    meta_info: MetaInfo,
}

/// (ext) Create a client.
#[utoipa::path(
    post,
    path = "/api/v2/partners/{partner_id}/clients",
    tag = "clients",
    operation_id = "create_client",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)")),
    request_body = ClientCreate,
    responses(
        (status = 201, description = "The new client", body = json::Client),
        (status = 400, description = "Invalid fields (one line each in `details`) or malformed JSON", body = json::ErrorEnvelope),
        (status = 409, description = "Conflicts with an existing client", body = json::ErrorEnvelope),
        json::BodyErrors,
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn create(
    ctx: ApiCtx,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ClientCreate>,
) -> Result<Response, ApiError> {
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
    let client = accounts::create_client(&state, &ctx.partner, &request, &ctx.actor).await?;
    Ok((StatusCode::CREATED, Json(json::client(&client))).into_response())
}

#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPatch {
    /// `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, required = false)]
    partner_payload: Option<Option<String>>,
    #[serde(default)]
    #[schema(required = false)]
    max_channels: Option<i64>,
}

/// A field that is present (even as `null`) is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    use serde::Deserialize;
    Option::<String>::deserialize(d).map(Some)
}

/// Update a client's `partner_payload` and `max_channels`; fields not sent stay.
#[utoipa::path(
    patch,
    path = "/api/v2/partners/{partner_id}/clients/{client_id}",
    tag = "clients",
    operation_id = "patch_client",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)"), ("client_id" = String, Path, description = "Client id (`…CL`)")),
    request_body = ClientPatch,
    responses(
        (status = 200, description = "The updated client", body = json::Client),
        (status = 400, description = "Invalid fields (one line each in `details`) or malformed JSON", body = json::ErrorEnvelope),
        (status = 404, description = "No such client for this partner", body = json::ErrorEnvelope),
        json::BodyErrors,
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn patch(
    ctx: ApiCtx,
    State(state): State<AppState>,
    ApiPath(ids): ApiPath<(PartnerId, ClientId)>,
    ApiJson(body): ApiJson<ClientPatch>,
) -> Result<Response, ApiError> {
    let (_, id) = ids;
    let client = accounts::update_client(
        &state,
        &ctx.partner,
        &id,
        body.partner_payload,
        body.max_channels,
        &ctx.actor,
    )
    .await?;
    Ok(Json(json::client(&client)).into_response())
}

/// The client's channels whose API-key permission is shared with the partner.
#[utoipa::path(
    get,
    path = "/api/v2/partners/{partner_id}/clients/{client_id}/shared_client_numbers",
    tag = "clients",
    operation_id = "shared_client_numbers",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)"), ("client_id" = String, Path, description = "Client id (`…CL`)")),
    responses(
        (status = 200, description = "The shared channels", body = json::SharedChannels),
        (status = 404, description = "No such client for this partner", body = json::ErrorEnvelope),
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn shared_numbers(
    ctx: ApiCtx,
    State(state): State<AppState>,
    ApiPath(ids): ApiPath<(PartnerId, ClientId)>,
) -> Result<Response, ApiError> {
    let (_, id) = ids;
    let channels = accounts::shared_numbers(&state, &ctx.partner, &id).await?;
    Ok(Json(json::SharedChannels {
        partner_channels: channels.iter().map(json::channel).collect(),
    })
    .into_response())
}

/// `account_sharing/clients`: a client for a signup the partner hosts itself.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SharedClientCreate {
    /// The client's (company) name.
    name: String,
    /// The contact's email.
    email: String,
    /// The contact person's name.
    user_name: String,
}

/// Create a client for a signup the partner hosts (account sharing).
///
/// The client's contact email and contact person come from `email` and `user_name`.
#[utoipa::path(
    post,
    path = "/api/v2/partners/{partner_id}/account_sharing/clients",
    tag = "clients",
    operation_id = "create_shared_client",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)")),
    request_body = SharedClientCreate,
    responses(
        (status = 201, description = "The new client", body = json::Client),
        (status = 400, description = "Invalid fields (one line each in `details`) or malformed JSON", body = json::ErrorEnvelope),
        json::BodyErrors,
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn create_shared(
    ctx: ApiCtx,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SharedClientCreate>,
) -> Result<Response, ApiError> {
    let client = accounts::create_shared_client(
        &state,
        &ctx.partner,
        &body.name,
        &body.email,
        &body.user_name,
        &ctx.actor,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json::client(&client))).into_response())
}
