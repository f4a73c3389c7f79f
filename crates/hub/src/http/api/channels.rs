//! Channels: list, get, add a number, verify it, cancellation, and the channel's API keys.

use super::extract::ApiPath;
use super::extract::{ApiCtx, ApiJson};
use super::{json, list_query};
use crate::clock::iso_ms;
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::services::accounts::{self, NumberRequest};
use crate::services::api_keys;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::listing::ListSpec;
use domain::{ChannelId, ClientId, PartnerId};
use serde_json::Value;
use std::collections::HashMap;
use store::channels::JsonPage;

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
    numeric_sorts: &["created_at", "modified_at"],
};

/// The partner's channels (numbers), paged, filtered and sorted.
#[utoipa::path(
    get,
    path = "/api/v2/partners/{partner_id}/channels",
    tag = "channels",
    operation_id = "list_channels",
    params(
        ("partner_id" = String, Path, description = "Partner id (`…PA`)"),
        super::ListParams,
        ("q" = Option<String>, Query, description = "Free text over number, display name, client name and email"),
    ),
    responses(
        (status = 200, description = "A page of channels", body = json::ChannelList),
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
    let text = params.get("q").map(String::as_str);
    // Free text is outside `filters`, so the cursor is bound to it here.
    let context = format!(
        "{}\nq={}",
        ctx.partner.id,
        text.map(str::trim).unwrap_or_default()
    );
    let query = list_query(&CHANNEL_LIST, &params, &context)?;
    let (page, total, next) = accounts::channels_page(&state, &ctx.partner, &query, text).await?;
    let body = match page {
        JsonPage::Written { array, count } => {
            json::channel_list_json(&array, count, total, &query, next.as_ref()).into_bytes()
        }
        JsonPage::Rows(rows) => {
            let texts = rows.channels()?;
            let channels = texts.iter().map(json::channel_from_texts).collect();
            // Sized for the page up front: grown from axum's 128 bytes, the buffer of a page
            // of 100 channels (about 90 KB) was copied again at every doubling.
            let mut body = Vec::with_capacity(PAGE_BYTES_PER_CHANNEL * texts.len() + 512);
            let list = json::channel_list(channels, total, &query, next.as_ref());
            serde_json::to_writer(&mut body, &list)
                .map_err(|e| ApiError(AppError::Internal(e.into())))?;
            body
        }
    };
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

/// A little over the length of one channel object in a list page's JSON (about 930 bytes).
const PAGE_BYTES_PER_CHANNEL: usize = 1024;

/// (ext) One channel.
#[utoipa::path(
    get,
    path = "/api/v2/partners/{partner_id}/channels/{channel_id}",
    tag = "channels",
    operation_id = "get_channel",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)"), ("channel_id" = String, Path, description = "Channel id (`…CH`)")),
    responses(
        (status = 200, description = "The channel", body = json::Channel),
        (status = 404, description = "Not found for this partner", body = json::ErrorEnvelope),
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn get(
    ctx: ApiCtx,
    State(state): State<AppState>,
    ApiPath(ids): ApiPath<(PartnerId, ChannelId)>,
) -> Result<Response, ApiError> {
    let (_, id) = ids;
    let view = accounts::channel(&state, &ctx.partner, &id).await?;
    Ok(Json(json::channel(&view)).into_response())
}

#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NumberCreate {
    /// E.164, e.g. `+4915123456789`.
    #[schema(required = true)]
    phone_number: String,
    /// The display name.
    #[schema(required = true)]
    phone_name: String,
    /// `sms` (default) or `voice`.
    verification_method: Option<String>,
    waba_account_id: Option<String>,
}

/// (ext) Add a number to a client; the new channel starts in status `created`.
#[utoipa::path(
    post,
    path = "/api/v2/partners/{partner_id}/clients/{client_id}/channels",
    tag = "channels",
    operation_id = "add_number",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)"), ("client_id" = String, Path, description = "Client id (`…CL`)")),
    request_body = NumberCreate,
    responses(
        (status = 201, description = "The new channel", body = json::Channel),
        (status = 400, description = "Invalid fields (one line each in `details`) or malformed JSON", body = json::ErrorEnvelope),
        (status = 404, description = "No such client (or WABA) for this partner", body = json::ErrorEnvelope),
        (status = 409, description = "The number already exists", body = json::ErrorEnvelope),
        (status = 422, description = "Not possible in the current state (e.g. the client has no channels left)", body = json::ErrorEnvelope),
        json::BodyErrors,
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn add_number(
    ctx: ApiCtx,
    State(state): State<AppState>,
    ApiPath(ids): ApiPath<(PartnerId, ClientId)>,
    ApiJson(body): ApiJson<NumberCreate>,
) -> Result<Response, ApiError> {
    let (_, client) = ids;
    let request = NumberRequest::parse(
        &body.phone_number,
        &body.phone_name,
        body.verification_method.as_deref(),
        body.waba_account_id.as_deref(),
    )
    .map_err(|errors| ApiError(AppError::Validation(errors)))?;
    let channel = accounts::add_number(&state, &ctx.partner, &client, &request, &ctx.actor).await?;
    Ok((StatusCode::CREATED, Json(json::channel(&channel))).into_response())
}

#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct VerifyCode {
    /// The code received by SMS or voice call.
    #[schema(required = true, example = "123456")]
    code: String,
}

/// (ext) Verify a number with the code it received.
#[utoipa::path(
    post,
    path = "/api/v2/partners/{partner_id}/clients/{client_id}/channels/{channel_id}/verify",
    tag = "channels",
    operation_id = "verify_number",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)"), ("client_id" = String, Path, description = "Client id (`…CL`)"), ("channel_id" = String, Path, description = "Channel id (`…CH`)")),
    request_body = VerifyCode,
    responses(
        (status = 200, description = "The channel", body = json::Channel),
        (status = 400, description = "Invalid fields (one line each in `details`) or malformed JSON", body = json::ErrorEnvelope),
        (status = 404, description = "Not found for this partner", body = json::ErrorEnvelope),
        (status = 422, description = "Wrong code, or the channel is not waiting for one", body = json::ErrorEnvelope),
        (status = 429, description = "Too many attempts; see `Retry-After`", body = json::ErrorEnvelope),
        json::BodyErrors,
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn verify(
    ctx: ApiCtx,
    State(state): State<AppState>,
    ApiPath(ids): ApiPath<(PartnerId, ClientId, ChannelId)>,
    ApiJson(body): ApiJson<VerifyCode>,
) -> Result<Response, ApiError> {
    let (_, client, channel) = ids;
    let view = accounts::verify_number(
        &state,
        &ctx.partner,
        &client,
        &channel,
        &body.code,
        &ctx.actor,
    )
    .await?;
    Ok(Json(json::channel(&view)).into_response())
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancellationRequest {
    /// `true` requests cancellation, `false` withdraws the request (the strings `"true"` and
    /// `"false"` are accepted too).
    #[schema(value_type = bool)]
    enabled: serde_json::Value,
}

/// Request cancellation of a channel, or withdraw the request.
#[utoipa::path(
    post,
    path = "/api/v2/partners/{partner_id}/clients/{client_id}/channels/{channel_id}/control/cancellation_request",
    tag = "channels",
    operation_id = "cancellation_request",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)"), ("client_id" = String, Path, description = "Client id (`…CL`)"), ("channel_id" = String, Path, description = "Channel id (`…CH`)")),
    request_body = CancellationRequest,
    responses(
        (status = 200, description = "The channel", body = json::Channel),
        (status = 400, description = "Invalid fields (one line each in `details`) or malformed JSON", body = json::ErrorEnvelope),
        (status = 404, description = "Not found for this partner", body = json::ErrorEnvelope),
        (status = 422, description = "Not possible in the channel's current state", body = json::ErrorEnvelope),
        json::BodyErrors,
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn cancellation_request(
    ctx: ApiCtx,
    State(state): State<AppState>,
    ApiPath(ids): ApiPath<(PartnerId, ClientId, ChannelId)>,
    ApiJson(body): ApiJson<CancellationRequest>,
) -> Result<Response, ApiError> {
    let (_, client, channel) = ids;
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
    let view =
        accounts::set_cancellation(&state, &ctx.partner, &client, &channel, enabled, &ctx.actor)
            .await?;
    Ok(Json(json::channel(&view)).into_response())
}

/// Reactivate a channel whose cancellation is pending.
#[utoipa::path(
    post,
    path = "/api/v2/partners/{partner_id}/clients/{client_id}/channels/{channel_id}/control/reactivate",
    tag = "channels",
    operation_id = "reactivate",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)"), ("client_id" = String, Path, description = "Client id (`…CL`)"), ("channel_id" = String, Path, description = "Channel id (`…CH`)")),
    responses(
        (status = 200, description = "The channel", body = json::Channel),
        (status = 404, description = "Not found for this partner", body = json::ErrorEnvelope),
        (status = 422, description = "Not possible in the channel's current state", body = json::ErrorEnvelope),
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn reactivate(
    ctx: ApiCtx,
    State(state): State<AppState>,
    ApiPath(ids): ApiPath<(PartnerId, ClientId, ChannelId)>,
) -> Result<Response, ApiError> {
    let (_, client, channel) = ids;
    let view =
        accounts::set_cancellation(&state, &ctx.partner, &client, &channel, false, &ctx.actor)
            .await?;
    Ok(Json(json::channel(&view)).into_response())
}

fn messaging_address(state: &AppState) -> String {
    state
        .config
        .public_url
        .as_str()
        .trim_end_matches('/')
        .to_owned()
}

/// Create a messaging API key for a running channel (older keys are revoked). The secret is
/// shown only in this response.
#[utoipa::path(
    post,
    path = "/api/v2/partners/{partner_id}/channels/{channel_id}/api_keys",
    tag = "api_keys",
    operation_id = "create_api_key",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)"), ("channel_id" = String, Path, description = "Channel id (`…CH`)")),
    responses(
        (status = 200, description = "The new key, with its secret", body = json::ApiKeyCreated),
        (status = 403, description = "The client has not shared this number with the partner (`partner_permission` is `missing`), or this credential cannot use this partner", body = json::ErrorEnvelope),
        (status = 404, description = "Not found for this partner", body = json::ErrorEnvelope),
        (status = 422, description = "The channel is not running", body = json::ErrorEnvelope),
        (status = 429, description = "At most one key per 30 s per channel; see `Retry-After`", body = json::ErrorEnvelope),
        json::CredentialErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn create_api_key(
    ctx: ApiCtx,
    State(state): State<AppState>,
    ApiPath(ids): ApiPath<(PartnerId, ChannelId)>,
) -> Result<Response, ApiError> {
    let (_, channel) = ids;
    let created = api_keys::create_channel_key(&state, &ctx.partner, &channel, &ctx.actor).await?;
    let address = messaging_address(&state);
    Ok(Json(json::ApiKeyCreated {
        id: &created.key.id,
        address: &address,
        api_key: created.secret.as_str(),
        app_id: &created.key.app_id,
    })
    .into_response())
}

/// The channel's messaging API keys, never their secrets.
#[utoipa::path(
    get,
    path = "/api/v2/partners/{partner_id}/channels/{channel_id}/api_keys",
    tag = "api_keys",
    operation_id = "list_api_keys",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)"), ("channel_id" = String, Path, description = "Channel id (`…CH`)")),
    responses(
        (status = 200, description = "The keys", body = json::ApiKeyList),
        (status = 404, description = "Not found for this partner", body = json::ErrorEnvelope),
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn api_keys(
    ctx: ApiCtx,
    State(state): State<AppState>,
    ApiPath(ids): ApiPath<(PartnerId, ChannelId)>,
) -> Result<Response, ApiError> {
    let (_, channel) = ids;
    let keys = api_keys::channel_keys(&state, &ctx.partner, &channel).await?;
    let address = messaging_address(&state);
    Ok(Json(json::ApiKeyList {
        api_keys: keys
            .iter()
            .map(|k| json::ApiKeyInfo {
                id: &k.id,
                address: &address,
                app_id: &k.app_id,
                api_key_prefix: &k.prefix,
                created_at: iso_ms(k.created_ms),
            })
            .collect(),
    })
    .into_response())
}

/// Revoke all messaging API keys of the channel.
#[utoipa::path(
    delete,
    path = "/api/v2/partners/{partner_id}/channels/{channel_id}/api_keys",
    tag = "api_keys",
    operation_id = "revoke_api_keys",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)"), ("channel_id" = String, Path, description = "Channel id (`…CH`)")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "Not found for this partner", body = json::ErrorEnvelope),
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn revoke_api_keys(
    ctx: ApiCtx,
    State(state): State<AppState>,
    ApiPath(ids): ApiPath<(PartnerId, ChannelId)>,
) -> Result<StatusCode, ApiError> {
    let (_, channel) = ids;
    api_keys::revoke_channel_keys(&state, &ctx.partner, &channel, &ctx.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}
