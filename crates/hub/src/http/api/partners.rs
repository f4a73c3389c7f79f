//! `/token`, `/partners` and the partner object.

use super::extract::{ApiCtx, ApiJson, ApiOwner, Principal};
use super::json;
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::http::extract::ClientMeta;
use crate::services::api_keys;
use crate::services::auth::LoginError;
use crate::services::partners::{self, PartnerUpdate};
use crate::services::profile::{self, ProfileChange};
use crate::services::webhooks::{self, UrlKind};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use store::partners::PartnerSettings;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct TokenBody {
    username: String,
    password: String,
}

/// OAuth-style errors, on this endpoint only (as the API we follow does).
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json::OAuthError {
            error,
            error_description: description,
        }),
    )
        .into_response()
}

/// Exchange a user's email and password for a bearer token (valid 24 h).
#[utoipa::path(
    post,
    path = "/api/v2/token",
    tag = "auth",
    operation_id = "token",
    request_body = json::TokenRequest,
    responses(
        (status = 200, description = "A bearer token", body = json::Token),
        (status = 400, description = "Missing or malformed username/password", body = json::OAuthError),
        (status = 401, description = "Wrong email or password (`invalid_grant`)", body = json::OAuthError),
        (status = 429, description = "Too many failed attempts (`slow_down`); see `Retry-After`", body = json::OAuthError),
        (status = 500, description = "Server fault", body = json::ErrorEnvelope),
    ),
    security(()),
)]
pub async fn token(
    State(state): State<AppState>,
    meta: ClientMeta,
    body: Result<ApiJson<TokenBody>, ApiError>,
) -> Response {
    let Ok(ApiJson(body)) = body else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Send JSON: {\"username\": \"<email>\", \"password\": \"<password>\"}.",
        );
    };
    if body.username.trim().is_empty() || body.password.is_empty() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "username and password are required.",
        );
    }
    match api_keys::issue_token(&state, &body.username, &body.password, &meta).await {
        Ok(token) => Json(json::Token {
            access_token: token,
            token_type: "Bearer",
            expires_in: api_keys::TOKEN_TTL_MS / 1000,
        })
        .into_response(),
        Err(LoginError::Invalid) => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_grant",
            "Wrong email or password.",
        ),
        Err(LoginError::Throttled(secs)) => {
            let mut res = oauth_error(
                StatusCode::TOO_MANY_REQUESTS,
                "slow_down",
                &format!("Too many failed attempts. Try again in {secs} s."),
            );
            crate::http::error::set_retry_after(&mut res, secs);
            res
        }
        Err(LoginError::Failed(err)) => ApiError(err).into_response(),
    }
}

async fn settings_of(
    state: &AppState,
    partner: &store::partners::Partner,
) -> Result<PartnerSettings, ApiError> {
    store::partners::settings(state.db.pool(), &partner.id)
        .await?
        .ok_or(ApiError(AppError::NotFound))
}

/// (ext) The partners this credential may use: one for an API key, each membership for a
/// bearer token.
#[utoipa::path(
    get,
    path = "/api/v2/partners",
    tag = "partners",
    operation_id = "list_partners",
    responses(
        (status = 200, description = "The partners this credential may use", body = json::PartnerList),
        json::CredentialErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn list(
    principal: Principal,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let mut rows = Vec::new();
    for (partner, _) in principal.partners(&state).await? {
        let settings = settings_of(&state, &partner).await?;
        rows.push((partner, settings));
    }
    let partners = rows.iter().map(|(p, s)| object(&state, p, s)).collect();
    Ok(Json(json::PartnerList { partners }).into_response())
}

/// The partner object.
#[utoipa::path(
    get,
    path = "/api/v2/partners/{partner_id}",
    tag = "partners",
    operation_id = "get_partner",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)")),
    responses(
        (status = 200, description = "The partner", body = json::Partner),
        (status = 404, description = "Not found", body = json::ErrorEnvelope),
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn get(ctx: ApiCtx, State(state): State<AppState>) -> Result<Response, ApiError> {
    partner_response(&state, &ctx.partner).await
}

/// The partner object as it is now.
pub async fn partner_response(
    state: &AppState,
    partner: &store::partners::Partner,
) -> Result<Response, ApiError> {
    let settings = settings_of(state, partner).await?;
    Ok(Json(object(state, partner, &settings)).into_response())
}

/// The partner object with its logo's absolute URL.
fn object<'a>(
    state: &AppState,
    partner: &'a store::partners::Partner,
    settings: &'a PartnerSettings,
) -> json::Partner<'a> {
    let logo_url = settings
        .logo_hash
        .as_deref()
        .map(|hash| profile::logo_url(state, &partner.id, hash));
    json::partner(partner, settings, logo_url)
}

/// Fields that are sent change; absent fields stay. (More fields arrive with the Integration
/// settings; unknown fields are refused so a typo is not silently ignored.)
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerPatch {
    /// The name clients see on the onboarding pages: 1–80 characters (trimmed, no control
    /// characters); `null` clears it.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, required = false, max_length = 80)]
    brand_name: Option<Option<String>>,
    /// Partner-Payment partners only (422 for Direct-Payment): whether existing clients may add
    /// numbers through Integrated Onboarding.
    #[serde(default)]
    #[schema(value_type = Option<bool>, required = false)]
    allow_client_to_add_phone_no: Option<bool>,
    /// At most 100 printable characters; `null` clears it.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, required = false)]
    solution_id: Option<Option<String>>,
    /// Absolute https URL (no `_` in the host, no explicit port); `null` or `""` removes it.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, required = false)]
    webhook_url: Option<Option<String>>,
    /// Where clients land after Integrated Onboarding; same rules as `webhook_url`.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, required = false)]
    partner_redirect_url: Option<Option<String>>,
    /// `cloud_api` (On-Premise is legacy: a partner can only move away from it).
    #[serde(default)]
    #[schema(value_type = Option<String>, required = false)]
    default_hosting_type: Option<String>,
    /// An ISO code (`DE`, `IN`, …) for Cloud API local storage; `null` means the US default.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, required = false)]
    default_data_storage_region: Option<Option<String>>,
}

/// Tell "absent" (keep) from `null` (clear).
mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

/// Update the partner; fields not sent stay as they are (Owner only).
#[utoipa::path(
    patch,
    path = "/api/v2/partners/{partner_id}",
    tag = "partners",
    operation_id = "patch_partner",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)")),
    request_body = PartnerPatch,
    responses(
        (status = 200, description = "The updated partner", body = json::Partner),
        (status = 400, description = "Invalid fields (one line each in `details`) or malformed JSON", body = json::ErrorEnvelope),
        (status = 403, description = "Not an Owner, or this credential cannot use this partner", body = json::ErrorEnvelope),
        (status = 404, description = "Not found", body = json::ErrorEnvelope),
        (status = 422, description = "A change that is impossible now (e.g. back to On-Premise hosting, or `allow_client_to_add_phone_no` for a Direct-Payment partner)", body = json::ErrorEnvelope),
        json::BodyErrors,
        json::CredentialErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn patch(
    ApiOwner(ctx): ApiOwner,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PartnerPatch>,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let brand = body.brand_name.map(|b| {
        b.and_then(|b| {
            domain::BrandName::parse(&b)
                .map_err(|e| errors.push(e))
                .ok()
        })
    });
    let solution_id = body.solution_id.map(|v| {
        domain::SolutionId::parse_optional(v.as_deref().unwrap_or(""))
            .map_err(|e| errors.push(e))
            .ok()
            .flatten()
    });
    let mut url = |kind: UrlKind, value: Option<Option<String>>| {
        value.map(|v| {
            webhooks::parse_url(&state, kind, v.as_deref())
                .map_err(|e| errors.push(e))
                .ok()
                .flatten()
        })
    };
    let webhook_url = url(UrlKind::Webhook, body.webhook_url);
    let redirect_url = url(UrlKind::Redirect, body.partner_redirect_url);
    let hosting_type = body.default_hosting_type.as_deref().and_then(|h| {
        domain::HostingType::parse_as(h, "default_hosting_type")
            .map_err(|e| errors.push(e))
            .ok()
    });
    let region = body.default_data_storage_region.map(|r| {
        domain::DataStorageRegion::parse_optional_as(
            r.as_deref().unwrap_or(""),
            "default_data_storage_region",
        )
        .map_err(|e| errors.push(e))
        .ok()
        .flatten()
    });
    if !errors.is_empty() {
        return Err(ApiError(AppError::Validation(errors)));
    }
    let update = PartnerUpdate {
        defaults: webhooks::DefaultsChange {
            hosting_type,
            region,
        },
        webhook_url,
        redirect_url,
        profile: ProfileChange {
            brand_name: brand,
            logo: None,
            allow_client_to_add_phone_no: body.allow_client_to_add_phone_no,
        },
        solution_id,
    };
    partners::update(&state, &ctx.partner, &update, &ctx.actor).await?;
    let settings = settings_of(&state, &ctx.partner).await?;
    Ok(Json(object(&state, &ctx.partner, &settings)).into_response())
}

/// Body of `PATCH …/settings/partner_change_request`.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartnerChangeSettings {
    /// `true` accepts every partner change request towards this partner at once (the strings
    /// `"true"` and `"false"` are accepted too).
    #[schema(value_type = bool)]
    auto_approve: serde_json::Value,
}

/// Whether partner change requests towards this partner are approved automatically (Owner only).
#[utoipa::path(
    patch,
    path = "/api/v2/partners/{partner_id}/settings/partner_change_request",
    tag = "partners",
    operation_id = "set_partner_change_auto_approve",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)")),
    request_body = PartnerChangeSettings,
    responses(
        (status = 200, description = "The setting now", body = json::AutoApprove),
        (status = 400, description = "`auto_approve` missing or not a boolean, or malformed JSON", body = json::ErrorEnvelope),
        (status = 403, description = "Not an Owner, or this credential cannot use this partner", body = json::ErrorEnvelope),
        json::BodyErrors,
        json::CredentialErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn patch_partner_change_settings(
    ApiOwner(ctx): ApiOwner,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PartnerChangeSettings>,
) -> Result<Response, ApiError> {
    let auto_approve = match &body.auto_approve {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::String(s) if s.trim().eq_ignore_ascii_case("true") => true,
        serde_json::Value::String(s) if s.trim().eq_ignore_ascii_case("false") => false,
        _ => {
            return Err(ApiError(AppError::Validation(vec![
                domain::FieldError::new("auto_approve", "must be true or false"),
            ])));
        }
    };
    crate::services::partner_change::set_auto_approve(
        &state,
        &ctx.partner.id,
        auto_approve,
        &ctx.actor,
    )
    .await?;
    Ok(Json(json::AutoApprove { auto_approve }).into_response())
}
