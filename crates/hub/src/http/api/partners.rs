//! `/token`, `/partners` and the partner object.

use super::extract::{ApiCtx, ApiJson, Principal};
use super::json;
use crate::error::{ApiError, AppError};
use crate::http::extract::ClientMeta;
use crate::services::api_keys;
use crate::services::auth::LoginError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

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
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

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
        Ok(token) => Json(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": api_keys::TOKEN_TTL_MS / 1000,
        }))
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
            crate::error::set_retry_after(&mut res, secs);
            res
        }
        Err(LoginError::Failed(err)) => ApiError(err).into_response(),
    }
}

async fn partner_object(
    state: &AppState,
    partner: &store::partners::Partner,
) -> Result<Value, ApiError> {
    let settings = store::partners::settings(state.db.pool(), &partner.id)
        .await?
        .ok_or(ApiError(AppError::NotFound))?;
    Ok(json::partner(partner, &settings))
}

pub async fn list(
    principal: Principal,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    let mut partners = Vec::new();
    for (partner, _) in principal.partners(&state).await? {
        partners.push(partner_object(&state, &partner).await?);
    }
    Ok(Json(json!({ "partners": partners })))
}

pub async fn get(ctx: ApiCtx, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(partner_object(&state, &ctx.partner).await?))
}

/// Fields that are sent change; absent fields stay. (More fields arrive with the Integration
/// settings; unknown fields are refused so a typo is not silently ignored.)
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerPatch {
    #[serde(default, with = "double_option")]
    brand_name: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    solution_id: Option<Option<String>>,
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

fn bounded(
    field: &'static str,
    value: Option<Option<String>>,
    errors: &mut Vec<domain::FieldError>,
) -> Option<Option<String>> {
    value.map(|v| {
        let v = v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        if v.as_ref()
            .is_some_and(|s| s.chars().count() > 100 || s.chars().any(char::is_control))
        {
            errors.push(domain::FieldError::new(
                field,
                "must be at most 100 printable characters",
            ));
        }
        v
    })
}

pub async fn patch(
    ctx: ApiCtx,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PartnerPatch>,
) -> Result<Json<Value>, ApiError> {
    ctx.require_owner()?;
    let mut errors = Vec::new();
    let brand = bounded("brand_name", body.brand_name, &mut errors);
    let solution = bounded("solution_id", body.solution_id, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError(AppError::Validation(errors)));
    }
    store::partners::update_settings(
        state.db.pool(),
        &ctx.partner.id,
        brand.as_ref().map(|b| b.as_deref()),
        solution.as_ref().map(|s| s.as_deref()),
    )
    .await?;
    crate::services::audit::record(
        state.db.pool(),
        &state,
        &ctx.actor,
        Some(&ctx.partner.id),
        "partner.update",
        ctx.partner.id.as_str(),
        "",
    )
    .await?;
    Ok(Json(partner_object(&state, &ctx.partner).await?))
}
