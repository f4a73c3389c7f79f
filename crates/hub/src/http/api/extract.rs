//! What every Partner API call needs before its handler runs: the credential (`X-API-Key` or a
//! bearer token), the partner in the path and the caller's role there, and a JSON body parsed
//! into a typed request — all failing with the API's `meta` envelope.

use crate::error::AppError;
use crate::http::error::ApiError;
use crate::services::api_keys;
use crate::services::audit::Actor;
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::header;
use axum::http::request::Parts;
use domain::{PartnerId, Role, UserId};
use serde::de::DeserializeOwned;
use store::partners::Partner;

/// Who is calling.
#[derive(Clone, Debug)]
pub enum Principal {
    /// A partner API key: acts for exactly one partner, with an Owner's rights there.
    Key {
        partner: Box<Partner>,
        key_id: String,
    },
    /// A bearer token: a person, with the role of each partner they belong to.
    User { user: UserId },
}

impl Principal {
    pub async fn from_parts(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
        if let Some(key) = parts.headers.get("x-api-key") {
            let key = key.to_str().map_err(|_| unauthenticated())?;
            let found = api_keys::partner_key(state, key.trim()).await?;
            return found
                .map(|(key, partner)| Principal::Key {
                    partner: Box::new(partner),
                    key_id: key.id.to_string(),
                })
                .ok_or_else(unauthenticated);
        }
        if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
            let token = auth
                .to_str()
                .ok()
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                })
                .ok_or_else(unauthenticated)?;
            let user = api_keys::token_user(state, token.trim()).await?;
            return user
                .map(|user| Principal::User { user })
                .ok_or_else(unauthenticated);
        }
        Err(unauthenticated())
    }

    /// The partners this credential may use, with the role it has in each.
    pub async fn partners(&self, state: &AppState) -> Result<Vec<(Partner, Role)>, AppError> {
        match self {
            Principal::Key { partner, .. } => Ok(vec![(partner.as_ref().clone(), Role::Owner)]),
            Principal::User { user } => Ok(store::partners::of_user(state.db.pool(), user)
                .await?
                .into_iter()
                .map(|m| (m.partner, m.role))
                .collect()),
        }
    }
}

fn unauthenticated() -> ApiError {
    ApiError(AppError::Unauthenticated)
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Principal::from_parts(parts, state).await
    }
}

/// A Partner API call on `/partners/{partner_id}/…` by a credential that may use that partner.
#[derive(Clone, Debug)]
pub struct ApiCtx {
    pub partner: Partner,
    pub role: Role,
    pub actor: Actor,
}

/// `ApiCtx` of an Owner (a partner API key acts as one): a Member's token is refused (403)
/// before the handler runs, and before its body is read.
#[derive(Debug)]
pub struct ApiOwner(pub ApiCtx);

impl FromRequestParts<AppState> for ApiOwner {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ctx = ApiCtx::from_request_parts(parts, state).await?;
        if ctx.role.is_owner() {
            Ok(ApiOwner(ctx))
        } else {
            Err(ApiError(AppError::Forbidden(
                "Only Owners of this partner can change this.".into(),
            )))
        }
    }
}

impl FromRequestParts<AppState> for ApiCtx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = Principal::from_parts(parts, state).await?;
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError(AppError::NotFound))?;
        let wanted = raw
            .iter()
            .find(|(k, _)| *k == "partner_id")
            .map(|(_, v)| v.to_owned())
            .unwrap_or_default();
        let forbidden = || {
            ApiError(AppError::Forbidden(format!(
                "This credential cannot use partner {wanted:?}."
            )))
        };
        let partner_id = PartnerId::parse(&wanted).map_err(|_| forbidden())?;
        let (partner, role) = principal
            .partners(state)
            .await?
            .into_iter()
            .find(|(p, _)| p.id == partner_id)
            .ok_or_else(forbidden)?;
        let ip = crate::http::extract::ClientAddr::text_of(parts);
        let actor = match principal {
            Principal::Key { key_id, .. } => Actor::ApiKey { id: key_id, ip },
            Principal::User { user } => Actor::User {
                id: user.to_string(),
                ip,
            },
        };
        Ok(ApiCtx {
            partner,
            role,
            actor,
        })
    }
}

/// A JSON body parsed into `T`. An empty body reads as `{}` (calls that need no fields accept
/// none); anything else must be JSON, and every problem is a 4xx in the API envelope.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.trim()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            });
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| {
                if rejection.status().as_u16() == 413 {
                    ApiError(AppError::PayloadTooLarge)
                } else {
                    ApiError(AppError::BadRequest(
                        "The request body could not be read.".into(),
                    ))
                }
            })?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        if text != b"{}" && is_json == Some(false) {
            return Err(ApiError(AppError::UnsupportedMediaType));
        }
        serde_json::from_slice(text).map(ApiJson).map_err(|e| {
            let line = if e.is_syntax() || e.is_eof() {
                format!("body: malformed JSON ({e})")
            } else {
                format!("body: {e}")
            };
            ApiError(AppError::Validation(vec![domain::FieldError::new(
                "body",
                line.trim_start_matches("body: ").to_owned(),
            )]))
        })
    }
}

/// Path parameters parsed once into typed ids (`ApiPath<(PartnerId, ChannelId)>`): a malformed
/// id names nothing, so it is "not found".
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(ids)| ApiPath(ids))
            .map_err(|_| ApiError(AppError::NotFound))
    }
}
