//! Migration pages: a client user brings a number live at another provider. The same screens
//! (the Integrated Onboarding frame, shared with the Profile preview) are reachable from the
//! Client Hub (`/client/{client_id}/migrate`) and from the onboarding flow
//! (`/dashboard/app/{partner_id}/migrate`). The onboarding path serves only a logged-in client
//! user of that partner; anyone else is sent to the onboarding login
//! (`/dashboard/app/{partner_id}?next=login`).

use crate::clock::format_ms;
use crate::error::AppError;
use crate::http::client_hub::{actor, brand_name};
use crate::http::extract::{ClientCtx, ClientMeta, CurrentUser, Form, Ids};
use crate::http::onboarding::{Brand, MigrationCodeScreen, MigrationForm, MigrationScreen, Mode};
use crate::http::routes::Routes;
use crate::http::views::{Chrome, FieldErrors};
use crate::services::{accounts, migration, profile};
use crate::state::AppState;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::{ChannelId, ChannelStatus, ClientId, PartnerId, VerificationMethod};

/// Bringing a number from another provider: from the Client Hub and from onboarding.
pub fn router() -> Routes {
    Routes::new()
        .get("/client/{client_id}/migrate", hub_form)
        .post("/client/{client_id}/migrate", hub_start)
        .get("/client/{client_id}/migrate/{channel_id}", hub_progress)
        .post("/client/{client_id}/migrate/{channel_id}/code", hub_code)
        .get("/dashboard/app/{partner_id}/migrate", onboarding_form)
        .post("/dashboard/app/{partner_id}/migrate", onboarding_start)
        .get(
            "/dashboard/app/{partner_id}/migrate/{channel_id}",
            onboarding_progress,
        )
        .post(
            "/dashboard/app/{partner_id}/migrate/{channel_id}/code",
            onboarding_code,
        )
}

/// Where a migration's pages live: under the Client Hub or under the onboarding flow.
struct Base {
    ctx: ClientCtx,
    path: String,
}

async fn brand(state: &AppState, ctx: &ClientCtx) -> Result<Brand, AppError> {
    let stored = profile::profile(state, &ctx.partner.id).await?;
    let id = &ctx.partner.id;
    Ok(Brand {
        partner_id: id.to_string(),
        brand_name: brand_name(state, ctx)
            .await?
            .unwrap_or_else(|| ctx.partner.name.clone()),
        logo_src: stored.logo.map(|l| profile::logo_path(id, &l.content_hash)),
    })
}

// ---- the Client Hub path ------------------------------------------------------------------

fn hub_base(ctx: ClientCtx) -> Base {
    let path = format!("/client/{}/migrate", ctx.client.id);
    Base { ctx, path }
}

async fn hub_form(ctx: ClientCtx, State(state): State<AppState>) -> Result<Response, AppError> {
    form_page(
        &state,
        &hub_base(ctx),
        MigrationForm::default(),
        StatusCode::OK,
    )
    .await
}

async fn hub_start(
    ctx: ClientCtx,
    State(state): State<AppState>,
    meta: ClientMeta,
    Form(form): Form<StartForm>,
) -> Result<Response, AppError> {
    start(&state, hub_base(ctx), &meta, form).await
}

async fn hub_progress(
    ctx: ClientCtx,
    State(state): State<AppState>,
    Ids((_, channel)): Ids<(ClientId, ChannelId)>,
) -> Result<Response, AppError> {
    let base = hub_base(ctx);
    progress_page(&state, &base, &channel, CodeOutcome::default()).await
}

async fn hub_code(
    ctx: ClientCtx,
    State(state): State<AppState>,
    meta: ClientMeta,
    Ids((_, channel)): Ids<(ClientId, ChannelId)>,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    code(&state, hub_base(ctx), &meta, &channel, form).await
}

// ---- the onboarding path -------------------------------------------------------------------

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct ClientQuery {
    client: String,
}

/// The client user of `partner_id` behind this request — the one named by `?client=` when the
/// person acts for several of its clients, else the first — or the redirect to the onboarding
/// login.
async fn onboarding_base(
    state: &AppState,
    partner_raw: &str,
    wanted_client: Option<&str>,
    request: Request,
) -> Result<Result<Base, Response>, AppError> {
    let login = || {
        let target: String = url::form_urlencoded::byte_serialize(partner_raw.as_bytes()).collect();
        Redirect::to(&format!("/dashboard/app/{target}?next=login")).into_response()
    };
    let Ok(partner) = PartnerId::parse(partner_raw) else {
        return Err(AppError::NotFound);
    };
    let (mut parts, _) = request.into_parts();
    let Some(current) = CurrentUser::optional(&mut parts, state).await? else {
        return Ok(Err(login()));
    };
    let accounts = store::client_users::of_user(state.db.pool(), &current.user.id).await?;
    let mine = accounts.iter().filter(|a| a.partner_id == partner);
    let chosen = match wanted_client.filter(|c| !c.is_empty()) {
        Some(wanted) => mine.clone().find(|a| a.client_id.as_str() == wanted),
        None => None,
    }
    .or_else(|| mine.clone().next());
    let Some(account) = chosen else {
        return Ok(Err(login()));
    };
    let client_id = account.client_id.to_string();
    match ClientCtx::load(state, current.user, &client_id).await? {
        Some(ctx) => {
            let path = format!("/dashboard/app/{}/migrate", ctx.partner.id);
            Ok(Ok(Base { ctx, path }))
        }
        None => Ok(Err(login())),
    }
}

/// Like `onboarding_base`, for the pages of one number: the client is the number's.
async fn onboarding_number_base(
    state: &AppState,
    partner_raw: &str,
    channel: &ChannelId,
    request: Request,
) -> Result<Result<Base, Response>, AppError> {
    let Ok(partner) = PartnerId::parse(partner_raw) else {
        return Err(AppError::NotFound);
    };
    let owner = store::channels::get(state.db.pool(), &partner, channel)
        .await?
        .map(|c| c.client_id.to_string());
    let base = onboarding_base(state, partner_raw, owner.as_deref(), request).await?;
    match base {
        // The person acts for other clients of this partner, not for this number's.
        Ok(base) if owner.as_deref() != Some(base.ctx.client.id.as_str()) => {
            Err(AppError::NotFound)
        }
        other => Ok(other),
    }
}

async fn onboarding_form(
    State(state): State<AppState>,
    Path(partner): Path<String>,
    Query(query): Query<ClientQuery>,
    request: Request,
) -> Result<Response, AppError> {
    match onboarding_base(&state, &partner, Some(&query.client), request).await? {
        Ok(base) => form_page(&state, &base, MigrationForm::default(), StatusCode::OK).await,
        Err(redirect) => Ok(redirect),
    }
}

async fn onboarding_start(
    State(state): State<AppState>,
    Path(partner): Path<String>,
    Query(query): Query<ClientQuery>,
    meta: ClientMeta,
    request: Request,
) -> Result<Response, AppError> {
    let (parts, body) = request.into_parts();
    let head = Request::from_parts(parts.clone(), axum::body::Body::empty());
    let base = match onboarding_base(&state, &partner, Some(&query.client), head).await? {
        Ok(base) => base,
        Err(redirect) => return Ok(redirect),
    };
    let Form(form) =
        Form::<StartForm>::from_request(Request::from_parts(parts, body), &state).await?;
    start(&state, base, &meta, form).await
}

async fn onboarding_progress(
    State(state): State<AppState>,
    Path((partner, channel)): Path<(String, String)>,
    request: Request,
) -> Result<Response, AppError> {
    let channel = channel_id(&channel)?;
    match onboarding_number_base(&state, &partner, &channel, request).await? {
        Ok(base) => progress_page(&state, &base, &channel, CodeOutcome::default()).await,
        Err(redirect) => Ok(redirect),
    }
}

async fn onboarding_code(
    State(state): State<AppState>,
    Path((partner, channel)): Path<(String, String)>,
    meta: ClientMeta,
    request: Request,
) -> Result<Response, AppError> {
    let channel = channel_id(&channel)?;
    let (parts, body) = request.into_parts();
    let head = Request::from_parts(parts.clone(), axum::body::Body::empty());
    let base = match onboarding_number_base(&state, &partner, &channel, head).await? {
        Ok(base) => base,
        Err(redirect) => return Ok(redirect),
    };
    let Form(form) =
        Form::<CodeForm>::from_request(Request::from_parts(parts, body), &state).await?;
    code(&state, base, &meta, &channel, form).await
}

// ---- shared ---------------------------------------------------------------------------------

fn channel_id(raw: &str) -> Result<ChannelId, AppError> {
    ChannelId::parse(raw).map_err(|_| AppError::NotFound)
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct StartForm {
    phone_number: String,
    phone_name: String,
    verification_method: String,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

async fn form_page(
    state: &AppState,
    base: &Base,
    mut form: MigrationForm,
    status: StatusCode,
) -> Result<Response, AppError> {
    if base.path.starts_with("/client/") {
        form.back_href = Some(format!("/client/{}", base.ctx.client.id));
    }
    form.blocked = migration::refusal(state, &base.ctx.partner, &base.ctx.client).await?;
    let screen = MigrationScreen {
        chrome: Chrome::new(state, None),
        brand: brand(state, &base.ctx).await?,
        mode: Mode::Live {
            action: base.path.clone(),
        },
        form,
    };
    Ok((status, screen).into_response())
}

async fn start(
    state: &AppState,
    base: Base,
    meta: &ClientMeta,
    form: StartForm,
) -> Result<Response, AppError> {
    let kept = |errors: Vec<domain::FieldError>, error: Option<String>| MigrationForm {
        phone_number: form.phone_number.trim().to_owned(),
        phone_name: form.phone_name.trim().to_owned(),
        voice: form.verification_method == "voice",
        errors: FieldErrors::from(errors),
        error,
        back_href: None,
        blocked: None,
    };
    let request = match accounts::NumberRequest::parse(
        &form.phone_number,
        &form.phone_name,
        Some(&form.verification_method),
        None,
    ) {
        Ok(request) => request,
        Err(errors) => {
            return form_page(state, &base, kept(errors, None), StatusCode::BAD_REQUEST).await;
        }
    };
    let ctx = &base.ctx;
    match migration::start(
        state,
        &ctx.partner,
        &ctx.client.id,
        &request,
        &actor(ctx, meta),
    )
    .await
    {
        Ok(channel) => Ok(Redirect::to(&format!("{}/{}", base.path, channel.id)).into_response()),
        Err(AppError::Validation(errors)) => {
            form_page(state, &base, kept(errors, None), StatusCode::BAD_REQUEST).await
        }
        Err(err @ (AppError::Unprocessable(_) | AppError::Conflict(_))) => {
            let status = err.status();
            form_page(
                state,
                &base,
                kept(Vec::new(), Some(err.public_message())),
                status,
            )
            .await
        }
        Err(err) => Err(err),
    }
}

#[derive(Default)]
struct CodeOutcome {
    code: String,
    error: Option<String>,
}

async fn progress_page(
    state: &AppState,
    base: &Base,
    channel: &ChannelId,
    outcome: CodeOutcome,
) -> Result<Response, AppError> {
    let ctx = &base.ctx;
    let c = accounts::client_channel(state, &ctx.partner, &ctx.client.id, channel).await?;
    if !c.is_migrated {
        return Err(AppError::NotFound);
    }
    let now = state.now_ms();
    let method = VerificationMethod::parse(&c.verification_method).map_or_else(
        |_| c.verification_method.clone(),
        |m| match m {
            // "by SMS", "by voice call": the acronym keeps its capitals.
            VerificationMethod::Sms => m.label().to_owned(),
            VerificationMethod::Voice => m.label().to_lowercase(),
        },
    );
    let screen = MigrationCodeScreen {
        chrome: Chrome::new(state, None),
        brand: brand(state, ctx).await?,
        mode: Mode::Live {
            action: format!("{}/{}/code", base.path, c.id),
        },
        phone: c.phone_number.clone(),
        display_name: c.phone_name.clone(),
        requested: c.status == ChannelStatus::MigrationRequested,
        waiting: c.status == ChannelStatus::WaitingForCode,
        running: c.status == ChannelStatus::Running,
        other_status: (!matches!(
            c.status,
            ChannelStatus::MigrationRequested
                | ChannelStatus::WaitingForCode
                | ChannelStatus::Running
        ))
        .then(|| c.status.label().to_lowercase()),
        method,
        code: outcome.code,
        error: outcome.error,
        sandbox_hint: state.config.dev && state.whatsapp.shows_codes(),
        attempts_left: (accounts::MAX_WRONG_CODES - c.verification_attempts).max(0),
        locked_until: c.locked_until_ms.filter(|u| *u > now).map(format_ms),
        done_href: format!("/client/{}", ctx.client.id),
    };
    Ok(screen.into_response())
}

async fn code(
    state: &AppState,
    base: Base,
    meta: &ClientMeta,
    channel: &ChannelId,
    form: CodeForm,
) -> Result<Response, AppError> {
    let ctx = &base.ctx;
    let submitted = migration::submit_code(
        state,
        &ctx.partner,
        &ctx.client.id,
        channel,
        &form.code,
        &actor(ctx, meta),
    )
    .await;
    let err = match submitted {
        Ok(_) => {
            return Ok(Redirect::to(&format!("{}/{}", base.path, channel)).into_response());
        }
        Err(err) => err,
    };
    let status = err.status();
    let error = match err {
        AppError::Validation(errors) => errors
            .iter()
            .map(|e| format!("The code {}.", e.message))
            .collect::<Vec<_>>()
            .join(" "),
        AppError::RateLimited { retry_after_secs } => format!(
            "Too many wrong codes: try again in {} minutes.",
            retry_after_secs.div_ceil(60)
        ),
        err @ (AppError::Unprocessable(_) | AppError::Conflict(_)) => err.public_message(),
        other => return Err(other),
    };
    let outcome = CodeOutcome {
        code: form.code.trim().chars().take(6).collect(),
        error: Some(error),
    };
    let mut page = progress_page(state, &base, channel, outcome).await?;
    *page.status_mut() = status;
    Ok(page)
}
