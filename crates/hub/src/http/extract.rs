//! Extractors carry policy: who is asking (session → user or staff), for which partner, with
//! which role, from where. Handlers never re-check any of it by hand.

use crate::error::AppError;
use crate::http::session;
use crate::services::audit::Actor;
pub use crate::services::audit::ClientMeta;
use crate::state::AppState;
use axum::extract::{
    ConnectInfo, FromRequest, FromRequestParts, OriginalUri, RawPathParams, Request,
};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use domain::{ClientId, PartnerId, Role, TokenHash};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;
use store::client_users::ClientAccount;
use store::clients::Client;
use store::partners::{Membership, Partner};
use store::sessions::SessionKind;
use store::staff::Staff;
use store::users::User;

/// The client's address, behind trusted proxies too (set by `http::client_address`).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub std::net::IpAddr);

impl ClientAddr {
    /// From the request's extensions: the resolved address, else the TCP peer.
    pub fn of(parts: &Parts) -> Option<Self> {
        parts.extensions.get::<ClientAddr>().copied().or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| ClientAddr(addr.ip()))
        })
    }

    /// As the audit log and the throttles write it.
    pub fn text_of(parts: &Parts) -> String {
        Self::of(parts).map_or_else(|| "unknown".to_owned(), |ClientAddr(ip)| ip.to_string())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = ClientAddr::text_of(parts);
        let user_agent = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(300)
            .collect();
        Ok(ClientMeta { ip, user_agent })
    }
}

fn login_redirect(parts: &Parts, login_path: &str) -> Response {
    // Inside a nested router (`/staff`) the URI has lost its prefix; come back to the whole one.
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |OriginalUri(uri)| uri);
    let here = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let next: String = url::form_urlencoded::byte_serialize(here.as_bytes()).collect();
    Redirect::to(&format!("{login_path}?next={next}")).into_response()
}

async fn session_subject(
    parts: &mut Parts,
    state: &AppState,
    kind: SessionKind,
) -> Result<Option<(String, TokenHash)>, AppError> {
    let jar = CookieJar::from_headers(&parts.headers);
    let name = match kind {
        SessionKind::User => session::user_cookie(&state.config),
        SessionKind::Staff => session::staff_cookie(&state.config),
    };
    let Some(cookie) = jar.get(name) else {
        return Ok(None);
    };
    let hash = TokenHash::of(cookie.value());
    let subject = store::sessions::subject(state.db.pool(), kind, &hash, state.now_ms()).await?;
    Ok(subject.map(|s| (s, hash)))
}

/// A logged-in partner user. Without a session, pages redirect to the login form.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub user: User,
    pub session: TokenHash,
}

impl CurrentUser {
    pub async fn optional(parts: &mut Parts, state: &AppState) -> Result<Option<Self>, AppError> {
        let Some((subject, session)) = session_subject(parts, state, SessionKind::User).await?
        else {
            return Ok(None);
        };
        let Ok(id) = domain::UserId::parse(&subject) else {
            return Ok(None);
        };
        let user = store::users::get(state.db.pool(), &id).await?;
        Ok(user.map(|user| CurrentUser { user, session }))
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match CurrentUser::optional(parts, state).await {
            Ok(Some(user)) => Ok(user),
            Ok(None) => Err(login_redirect(parts, "/login")),
            Err(err) => Err(err.into_response()),
        }
    }
}

/// The partner in the URL (`/partner/{partner_id}/…`) and the user's role there. A partner the
/// user does not belong to — or a malformed id — is "not found", never "forbidden".
#[derive(Clone, Debug)]
pub struct PartnerCtx {
    pub user: User,
    pub partner: Partner,
    pub role: Role,
    /// Every partner the user belongs to, for the account switcher.
    pub memberships: Vec<Membership>,
    /// Unread notifications of this user here, for the bell.
    pub unread: i64,
    /// Billing accounts of this partner whose messaging is paused (balance at or below 0).
    pub paused_accounts: i64,
    /// The Client Hub accounts of the same person, which the account switcher offers too.
    pub client_accounts: Vec<ClientAccount>,
    /// Where the request comes from, for the audit log.
    pub meta: ClientMeta,
}

impl PartnerCtx {
    /// The person behind a change, as the audit log records them.
    pub fn actor(&self) -> Actor {
        Actor::User {
            id: self.user.id.to_string(),
            ip: self.meta.ip.clone(),
        }
    }
}

/// `PartnerCtx` of an Owner: a Member is refused (403) before the handler runs.
#[derive(Clone, Debug)]
pub struct RequireOwner(pub PartnerCtx);

impl FromRequestParts<AppState> for RequireOwner {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let ctx = PartnerCtx::from_request_parts(parts, state).await?;
        if ctx.role.is_owner() {
            Ok(RequireOwner(ctx))
        } else {
            Err(AppError::Forbidden(
                "Only Owners of this partner can do this. Ask an Owner to do it or to make you an Owner.".into(),
            )
            .into_response())
        }
    }
}

impl FromRequestParts<AppState> for PartnerCtx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let current = CurrentUser::from_request_parts(parts, state).await?;
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound.into_response())?;
        let partner_id = raw
            .iter()
            .find(|(key, _)| *key == "partner_id")
            .and_then(|(_, value)| PartnerId::parse(value).ok())
            .ok_or_else(|| AppError::NotFound.into_response())?;
        let memberships = store::partners::of_user(state.db.pool(), &current.user.id)
            .await
            .map_err(|e| AppError::from(e).into_response())?;
        let Some(here) = memberships.iter().find(|m| m.partner.id == partner_id) else {
            return Err(AppError::NotFound.into_response());
        };
        let unread =
            store::notifications::unread_count(state.db.pool(), &partner_id, &current.user.id)
                .await
                .map_err(|e| AppError::from(e).into_response())?;
        let paused_accounts = store::billing::paused_count(state.db.pool(), &partner_id)
            .await
            .map_err(|e| AppError::from(e).into_response())?;
        let client_accounts = store::client_users::of_user(state.db.pool(), &current.user.id)
            .await
            .map_err(|e| AppError::from(e).into_response())?;
        let Ok(meta) = ClientMeta::from_request_parts(parts, state).await;
        Ok(PartnerCtx {
            partner: here.partner.clone(),
            role: here.role,
            user: current.user,
            memberships,
            unread,
            paused_accounts,
            client_accounts,
            meta,
        })
    }
}

/// A Client Hub page (`/client/{client_id}/…`) of a person who acts for that client. Any other
/// client — of the same partner or another, or a malformed id — is "not found".
#[derive(Clone, Debug)]
pub struct ClientCtx {
    pub user: User,
    pub partner: Partner,
    pub client: Client,
    /// Every client account of the person, for the account switcher.
    pub accounts: Vec<ClientAccount>,
    /// The partners the person belongs to, offered by the switcher too.
    pub memberships: Vec<Membership>,
}

impl ClientCtx {
    /// Load the context of `client_id` for `user`; `None` when the person may not act for it.
    pub async fn load(
        state: &AppState,
        user: User,
        client_id: &str,
    ) -> Result<Option<ClientCtx>, AppError> {
        let Ok(client_id) = ClientId::parse(client_id) else {
            return Ok(None);
        };
        let pool = state.db.pool();
        let accounts = store::client_users::of_user(pool, &user.id).await?;
        let Some(account) = accounts.iter().find(|a| a.client_id == client_id) else {
            return Ok(None);
        };
        // `of_user` found it; asking again through the partner keeps the one rule every
        // Client Hub route relies on in one place.
        if !store::client_users::is_user_of(pool, &account.partner_id, &client_id, &user.id).await?
        {
            return Ok(None);
        }
        let Some(partner) = store::partners::get(pool, &account.partner_id).await? else {
            return Ok(None);
        };
        let Some(client) = store::clients::get(pool, &partner.id, &client_id).await? else {
            return Ok(None);
        };
        let memberships = store::partners::of_user(pool, &user.id).await?;
        Ok(Some(ClientCtx {
            user,
            partner,
            client,
            accounts,
            memberships,
        }))
    }
}

impl FromRequestParts<AppState> for ClientCtx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let current = CurrentUser::from_request_parts(parts, state).await?;
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound.into_response())?;
        let client_id = raw
            .iter()
            .find(|(key, _)| *key == "client_id")
            .map(|(_, value)| value.to_owned())
            .unwrap_or_default();
        match ClientCtx::load(state, current.user, &client_id).await {
            Ok(Some(ctx)) => Ok(ctx),
            Ok(None) => Err(AppError::NotFound.into_response()),
            Err(err) => Err(err.into_response()),
        }
    }
}

/// A logged-in staff member; others are sent to the staff login.
#[derive(Clone, Debug)]
pub struct StaffCtx {
    pub staff: Staff,
    pub session: TokenHash,
}

impl FromRequestParts<AppState> for StaffCtx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let found = session_subject(parts, state, SessionKind::Staff)
            .await
            .map_err(IntoResponse::into_response)?;
        let Some((subject, session)) = found else {
            return Err(login_redirect(parts, "/staff/login"));
        };
        let staff = match domain::StaffId::parse(&subject) {
            Ok(id) => store::staff::get(state.db.pool(), &id)
                .await
                .map_err(|e| AppError::from(e).into_response())?,
            Err(_) => None,
        };
        staff
            .map(|staff| StaffCtx { staff, session })
            .ok_or_else(|| login_redirect(parts, "/staff/login"))
    }
}

/// A URL-encoded form whose problems (too large, wrong content type, malformed) become clear
/// 4xx pages instead of axum's plain-text rejections.
#[derive(Debug)]
pub struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(value)) => Ok(Form(value)),
            Err(rejection) => Err(match rejection.status().as_u16() {
                413 => AppError::PayloadTooLarge,
                415 => AppError::UnsupportedMediaType,
                _ => AppError::BadRequest(
                    "The form could not be read. Reload the page and try again.".into(),
                ),
            }),
        }
    }
}

/// Path parameters parsed once into typed ids (`Ids<(PartnerId, ChannelId)>`): a malformed id
/// names nothing, so the page is "not found".
#[derive(Debug)]
pub struct Ids<T>(pub T);

impl<T, S> FromRequestParts<S> for Ids<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(ids)| Ids(ids))
            .map_err(|_| AppError::NotFound.into_response())
    }
}
