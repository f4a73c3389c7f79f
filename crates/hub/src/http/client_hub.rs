//! The Client Hub (`/client/…`): where a partner's client, logged in with the same login page as
//! partner users, sees its numbers, grants or revokes its partner's API-key permission, makes
//! its own API key (Direct-Payment numbers without permission), requests or withdraws a
//! cancellation and asks to move to another partner. Every route goes through `ClientCtx`, which
//! finds nothing for anyone but the client's own people. Bringing a number is `migration.rs`.

use crate::clock::format_ms;
use crate::error::AppError;
use crate::http::extract::{ClientCtx, ClientMeta, CurrentUser, Form, Ids};
use crate::http::pages::auth::MessagePage;
use crate::http::routes::Routes;
use crate::http::session;
use crate::http::views::{Chrome, ClientShell, FieldErrors};
use crate::services::audit::Actor;
use crate::services::{accounts, api_keys, client_hub, partner_change};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use domain::{ChannelId, ChannelStatus, ClientId, PaymentModel};

/// The Client Hub: a client's own numbers, keys, cancellations and partner changes.
pub fn router() -> Routes {
    Routes::new()
        .get("/client", home)
        .get("/client/{client_id}", numbers)
        .post(
            "/client/{client_id}/numbers/{channel_id}/permission",
            set_permission,
        )
        .post(
            "/client/{client_id}/numbers/{channel_id}/api-key",
            create_key,
        )
        .post("/client/{client_id}/numbers/{channel_id}/cancel", cancel)
        .post(
            "/client/{client_id}/numbers/{channel_id}/withdraw-cancellation",
            withdraw_cancellation,
        )
        .post("/client/{client_id}/partner-change", request_change)
        .post(
            "/client/{client_id}/partner-change/{request_id}/withdraw",
            withdraw_change,
        )
}

pub fn actor(ctx: &ClientCtx, meta: &ClientMeta) -> Actor {
    Actor::User {
        id: ctx.user.id.to_string(),
        ip: meta.ip.clone(),
    }
}

/// The partner's brand name, which is what clients know it by.
pub async fn brand_name(state: &AppState, ctx: &ClientCtx) -> Result<Option<String>, AppError> {
    Ok(store::partners::settings(state.db.pool(), &ctx.partner.id)
        .await?
        .and_then(|s| s.brand_name))
}

/// `/client`: the person's first client account, or a word on where to go instead.
pub async fn home(
    current: CurrentUser,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let accounts = store::client_users::of_user(state.db.pool(), &current.user.id).await?;
    if let Some(first) = accounts.first() {
        return Ok(Redirect::to(&format!("/client/{}", first.client_id)).into_response());
    }
    let partners = store::partners::of_user(state.db.pool(), &current.user.id).await?;
    let (link_href, link_label) = if partners.is_empty() {
        ("/login", "Back to login")
    } else {
        ("/", "Go to the partner dashboard")
    };
    Ok(MessagePage {
        chrome: Chrome::new(&state, None),
        heading: "No Client Hub account",
        message: format!(
            "You are logged in as {}, but no client account is linked to this email. Your WhatsApp provider adds you when you sign up through its onboarding page.",
            current.user.email
        ),
        link_href,
        link_label,
    }
    .into_response())
}

pub struct KeyView {
    pub prefix: String,
    pub created: String,
}

pub struct NumberRow {
    pub id: String,
    pub phone: String,
    pub display_name: String,
    pub status_label: &'static str,
    pub status_class: &'static str,
    pub shared: bool,
    /// Grant/Revoke is offered (Direct-Payment numbers).
    pub can_toggle: bool,
    /// The client manages this number's keys itself (Direct-Payment, no permission).
    pub own_keys: bool,
    pub keys: Vec<KeyView>,
    pub running: bool,
    pub pending_deletion: bool,
    pub cancels_on: String,
    pub error: Option<String>,
}

pub struct WabaView {
    pub id: String,
    pub name: String,
    pub numbers: Vec<NumberRow>,
}

pub struct WabaOption {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

pub struct RequestRow {
    pub id: String,
    /// Still waiting for the receiving partner: the client may withdraw it.
    pub open: bool,
    pub waba_id: String,
    pub waba_name: String,
    pub from: String,
    pub to: String,
    pub status: String,
    pub status_class: &'static str,
    pub at: String,
}

pub struct NewKeyView {
    pub phone: String,
    pub secret: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "client/numbers.html")]
struct NumbersPage {
    chrome: Chrome,
    shell: ClientShell,
    direct_payment: bool,
    wabas: Vec<WabaView>,
    new_key: Option<NewKeyView>,
    messaging_url: String,
    waba_options: Vec<WabaOption>,
    change_error: Option<String>,
    change_errors: FieldErrors,
    change_partner_id: String,
    requests: Vec<RequestRow>,
}

/// What a POST that re-renders the page (instead of redirecting) adds to it.
#[derive(Default)]
struct Outcome {
    new_key: Option<NewKeyView>,
    /// An action on one number failed: (channel id, why).
    number_error: Option<(ChannelId, String)>,
    change_error: Option<String>,
    change_errors: Vec<domain::FieldError>,
    change_waba: String,
    change_partner_id: String,
}

fn status_class(status: ChannelStatus) -> &'static str {
    match status {
        ChannelStatus::Running => "ok",
        ChannelStatus::Error => "bad",
        ChannelStatus::Cancelled => "",
        _ => "wait",
    }
}

async fn render(
    state: &AppState,
    ctx: &ClientCtx,
    flash: Option<String>,
    outcome: Outcome,
) -> Result<NumbersPage, AppError> {
    let pool = state.db.pool();
    let brand = brand_name(state, ctx).await?;
    let direct_payment = ctx.partner.payment_model == PaymentModel::DirectPayment;
    let channels = client_hub::numbers(state, &ctx.partner, &ctx.client.id).await?;
    let wabas = store::wabas::of_client(pool, &ctx.partner.id, &ctx.client.id).await?;
    let mut views = Vec::with_capacity(wabas.len());
    for waba in &wabas {
        let mut rows = Vec::new();
        for c in channels.iter().filter(|c| c.waba_id == waba.id) {
            let shared = c.partner_permission == domain::PartnerPermission::Shared.as_str();
            let own_keys = direct_payment && !shared;
            let keys = if own_keys {
                store::api_keys::channel_keys(pool, &ctx.partner.id, &c.id)
                    .await?
                    .into_iter()
                    .map(|k| KeyView {
                        prefix: k.prefix,
                        created: format_ms(k.created_ms),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let cancels_on = format_ms(domain::calendar::next_month_start_ms(
                c.cancellation_requested_ms
                    .unwrap_or_else(|| state.now_ms()),
            ));
            rows.push(NumberRow {
                id: c.id.to_string(),
                phone: c.phone_number.clone(),
                display_name: c.phone_name.clone(),
                status_label: c.status.label(),
                status_class: status_class(c.status),
                shared,
                can_toggle: direct_payment && c.status != ChannelStatus::Cancelled,
                own_keys,
                keys,
                running: c.status == ChannelStatus::Running,
                pending_deletion: c.status == ChannelStatus::PendingDeletion,
                cancels_on,
                error: outcome
                    .number_error
                    .as_ref()
                    .filter(|(id, _)| id == &c.id)
                    .map(|(_, why)| why.clone()),
            });
        }
        views.push(WabaView {
            id: waba.id.to_string(),
            name: waba.name.clone(),
            numbers: rows,
        });
    }
    let waba_options = wabas
        .iter()
        .enumerate()
        .map(|(i, w)| WabaOption {
            id: w.id.to_string(),
            label: format!("{} ({})", w.name, w.id),
            selected: if outcome.change_waba.is_empty() {
                i == 0
            } else {
                outcome.change_waba == w.id.as_str()
            },
        })
        .collect();
    let requests = partner_change::of_client(state, &ctx.partner.id, &ctx.client.id)
        .await?
        .into_iter()
        .map(|r| RequestRow {
            id: r.id.clone(),
            open: r.is_open(),
            waba_id: r.waba_id.to_string(),
            waba_name: r.waba_name.clone(),
            from: format!("{} ({})", r.from_partner_name, r.from_partner_id),
            to: format!("{} ({})", r.to_partner_name, r.to_partner_id),
            status_class: match r.status.as_str() {
                "accepted" => "ok",
                "declined" => "bad",
                _ => "wait",
            },
            status: match r.status.as_str() {
                "requested" => "Waiting for the new partner".to_owned(),
                "accepted" => "Accepted: moved".to_owned(),
                "declined" => "Declined".to_owned(),
                "cancelled" => "Withdrawn".to_owned(),
                other => other.to_owned(),
            },
            at: format_ms(r.created_ms),
        })
        .collect();
    Ok(NumbersPage {
        chrome: Chrome::new(state, flash),
        shell: ClientShell::new(ctx, brand.as_deref(), "numbers"),
        direct_payment,
        wabas: views,
        new_key: outcome.new_key,
        messaging_url: state.config.link(""),
        waba_options,
        change_error: outcome.change_error,
        change_errors: FieldErrors::from(outcome.change_errors),
        change_partner_id: outcome.change_partner_id,
        requests,
    })
}

pub async fn numbers(
    ctx: ClientCtx,
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (jar, flash) = session::take_flash(jar, &state.config);
    let page = render(&state, &ctx, flash, Outcome::default()).await?;
    Ok((jar, page).into_response())
}

/// Errors a person can act on are shown next to the number; the rest are error pages.
fn inline(err: AppError) -> Result<String, AppError> {
    match err {
        AppError::Forbidden(why) | AppError::Unprocessable(why) | AppError::Conflict(why) => {
            Ok(why)
        }
        AppError::RateLimited { retry_after_secs } => Ok(format!(
            "A new key was made moments ago. Try again in {retry_after_secs} s."
        )),
        AppError::Validation(errors) => Ok(errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")),
        other => Err(other),
    }
}

fn back(ctx: &ClientCtx, jar: CookieJar, state: &AppState, message: &str) -> Response {
    let jar = session::set_flash(jar, &state.config, message);
    (jar, Redirect::to(&format!("/client/{}", ctx.client.id))).into_response()
}

async fn number_failed(
    state: &AppState,
    ctx: &ClientCtx,
    id: ChannelId,
    err: AppError,
) -> Result<Response, AppError> {
    refused(state, ctx, err, |why| Outcome {
        number_error: Some((id, why)),
        ..Outcome::default()
    })
    .await
}

/// The page again with `err`'s reason where `place` puts it, under `err`'s status; errors that
/// are no one's input (a database fault) pass through.
async fn refused(
    state: &AppState,
    ctx: &ClientCtx,
    err: AppError,
    place: impl FnOnce(String) -> Outcome,
) -> Result<Response, AppError> {
    let status = err.status();
    let why = inline(err)?;
    let page = render(state, ctx, None, place(why)).await?;
    Ok((status, page).into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct PermissionForm {
    grant: String,
}

pub async fn set_permission(
    ctx: ClientCtx,
    State(state): State<AppState>,
    meta: ClientMeta,
    jar: CookieJar,
    Ids((_, id)): Ids<(ClientId, ChannelId)>,
    Form(form): Form<PermissionForm>,
) -> Result<Response, AppError> {
    let grant = match form.grant.as_str() {
        "1" | "true" => true,
        "0" | "false" => false,
        _ => {
            return Err(AppError::BadRequest(
                "The form could not be read. Reload the page and try again.".into(),
            ));
        }
    };
    match client_hub::set_permission(
        &state,
        &ctx.partner,
        &ctx.client.id,
        &id,
        grant,
        &actor(&ctx, &meta),
    )
    .await
    {
        Ok(channel) => {
            let message = if grant {
                format!(
                    "{} may now create API keys for {}.",
                    ctx.partner.name, channel.phone_number
                )
            } else {
                format!(
                    "Permission revoked: {} can no longer create API keys for {}, and its keys stopped working.",
                    ctx.partner.name, channel.phone_number
                )
            };
            Ok(back(&ctx, jar, &state, &message))
        }
        Err(err) => number_failed(&state, &ctx, id, err).await,
    }
}

pub async fn create_key(
    ctx: ClientCtx,
    State(state): State<AppState>,
    meta: ClientMeta,
    Ids((_, id)): Ids<(ClientId, ChannelId)>,
) -> Result<Response, AppError> {
    match api_keys::create_client_channel_key(
        &state,
        &ctx.partner,
        &ctx.client.id,
        &id,
        &actor(&ctx, &meta),
    )
    .await
    {
        Ok(created) => {
            let phone = accounts::client_channel(&state, &ctx.partner, &ctx.client.id, &id)
                .await?
                .phone_number;
            let page = render(
                &state,
                &ctx,
                None,
                Outcome {
                    new_key: Some(NewKeyView {
                        phone,
                        secret: created.secret,
                    }),
                    ..Outcome::default()
                },
            )
            .await?;
            // The secret is in this page only: never cache it.
            Ok(([(axum::http::header::CACHE_CONTROL, "no-store")], page).into_response())
        }
        Err(err) => number_failed(&state, &ctx, id, err).await,
    }
}

async fn cancellation(
    ctx: ClientCtx,
    state: AppState,
    meta: ClientMeta,
    jar: CookieJar,
    id: ChannelId,
    enabled: bool,
) -> Result<Response, AppError> {
    match accounts::set_cancellation(
        &state,
        &ctx.partner,
        &ctx.client.id,
        &id,
        enabled,
        &actor(&ctx, &meta),
    )
    .await
    {
        Ok(channel) => {
            let message = if enabled {
                format!(
                    "{} is cancelled at the end of the month; it keeps working until then.",
                    channel.phone_number
                )
            } else {
                format!(
                    "Cancellation withdrawn: {} keeps running.",
                    channel.phone_number
                )
            };
            Ok(back(&ctx, jar, &state, &message))
        }
        Err(err) => number_failed(&state, &ctx, id, err).await,
    }
}

pub async fn cancel(
    ctx: ClientCtx,
    State(state): State<AppState>,
    meta: ClientMeta,
    jar: CookieJar,
    Ids((_, id)): Ids<(ClientId, ChannelId)>,
) -> Result<Response, AppError> {
    cancellation(ctx, state, meta, jar, id, true).await
}

pub async fn withdraw_cancellation(
    ctx: ClientCtx,
    State(state): State<AppState>,
    meta: ClientMeta,
    jar: CookieJar,
    Ids((_, id)): Ids<(ClientId, ChannelId)>,
) -> Result<Response, AppError> {
    cancellation(ctx, state, meta, jar, id, false).await
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ChangeForm {
    waba: String,
    partner_id: String,
}

pub async fn withdraw_change(
    ctx: ClientCtx,
    State(state): State<AppState>,
    meta: ClientMeta,
    jar: CookieJar,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let result = partner_change::withdraw(
        &state,
        &ctx.partner,
        &ctx.client,
        &id,
        &ctx.user.id,
        &actor(&ctx, &meta),
    )
    .await;
    match result {
        Ok(request) => Ok(back(
            &ctx,
            jar,
            &state,
            &format!(
                "Request withdrawn: {} stays with {}.",
                domain::naming::your_account(&request.waba_name, &request.client_name),
                request.from_partner_name
            ),
        )),
        Err(err) => {
            refused(&state, &ctx, err, |why| Outcome {
                change_error: Some(why),
                ..Outcome::default()
            })
            .await
        }
    }
}

pub async fn request_change(
    ctx: ClientCtx,
    State(state): State<AppState>,
    meta: ClientMeta,
    jar: CookieJar,
    Form(form): Form<ChangeForm>,
) -> Result<Response, AppError> {
    let result = partner_change::request(
        &state,
        &ctx.partner,
        &ctx.client,
        &form.waba,
        &form.partner_id,
        &ctx.user.id,
        &actor(&ctx, &meta),
    )
    .await;
    match result {
        Ok(request) if request.is_open() => Ok(back(
            &ctx,
            jar,
            &state,
            &format!(
                "Request sent: {} decides whether to take over {}.",
                request.to_partner_name,
                domain::naming::your_account(&request.waba_name, &request.client_name)
            ),
        )),
        Ok(request) => {
            // Auto-approved: the WABA has moved, possibly with the client itself.
            let jar = session::set_flash(
                jar,
                &state.config,
                &format!(
                    "{} took over {} at once.",
                    request.to_partner_name,
                    domain::naming::your_account(&request.waba_name, &request.client_name)
                ),
            );
            Ok((jar, Redirect::to("/client")).into_response())
        }
        Err(AppError::Validation(errors)) => {
            let page = render(
                &state,
                &ctx,
                None,
                Outcome {
                    change_errors: errors,
                    change_waba: form.waba.trim().to_owned(),
                    change_partner_id: form.partner_id.trim().to_owned(),
                    ..Outcome::default()
                },
            )
            .await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(err) => {
            refused(&state, &ctx, err, |why| Outcome {
                change_error: Some(why),
                change_waba: form.waba.trim().to_owned(),
                change_partner_id: form.partner_id.trim().to_owned(),
                ..Outcome::default()
            })
            .await
        }
    }
}
