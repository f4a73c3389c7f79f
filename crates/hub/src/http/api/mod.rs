//! The Partner API v2 (`/api/v2`), drop-in compatible with the 360dialog Partner API: same paths,
//! fields, list envelope, filter syntax and error envelope (`partner-api.md`).

pub mod channels;
mod clients;
pub mod extract;
pub mod json;
mod partners;

use crate::error::{ApiError, AppError};
use crate::state::AppState;
use axum::Router;
use axum::routing::{any, get, post};
use domain::listing::{ListQuery, ListSpec, RawList};
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/token", post(partners::token))
        .route("/partners", get(partners::list))
        .route("/partners/{partner_id}", get(partners::get).patch(partners::patch))
        .route("/partners/{partner_id}/clients", get(clients::list).post(clients::create))
        .route("/partners/{partner_id}/clients/{client_id}", get(clients::get).patch(clients::patch))
        .route("/partners/{partner_id}/clients/{client_id}/shared_client_numbers", get(clients::shared_numbers))
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
        .fallback(any(not_found))
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
