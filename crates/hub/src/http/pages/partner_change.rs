//! The Partner Change page: requests of other partners' clients to move to this partner (open
//! first, with Accept / Decline), this partner's clients moving away (read only), and the
//! Owners' automatic approval switch.

use crate::clock::format_ms;
use crate::error::AppError;
use crate::http::extract::{Form, PartnerCtx, RequireOwner};
use crate::http::routes::Routes;
use crate::http::session;
use crate::http::views::{Chrome, Shell};
use crate::services::partner_change;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use store::partner_changes::PartnerChange;

/// Partner change requests towards this partner.
pub fn router() -> Routes {
    Routes::new()
        .get("/partner/{partner_id}/partner-change", show)
        .post(
            "/partner/{partner_id}/partner-change/auto-approve",
            set_auto_approve,
        )
        .post(
            "/partner/{partner_id}/partner-change/{request_id}/accept",
            accept,
        )
        .post(
            "/partner/{partner_id}/partner-change/{request_id}/decline",
            decline,
        )
}

pub struct RequestView {
    pub id: String,
    pub client_name: String,
    pub waba_id: String,
    pub waba_name: String,
    pub numbers: i64,
    /// The account in a sentence (`domain::naming::account_of`).
    pub account: String,
    /// "2 numbers".
    pub numbers_label: String,
    /// The partner on the other side of the request.
    pub other_partner: String,
    pub at: String,
    pub status: &'static str,
    pub status_class: &'static str,
    pub open: bool,
}

fn view(r: PartnerChange, incoming: bool) -> RequestView {
    let (status, status_class) = match r.status.as_str() {
        "requested" => ("Waiting for a decision", "wait"),
        "accepted" => ("Accepted", "ok"),
        "declined" => ("Declined", "bad"),
        "cancelled" => ("Withdrawn by the client", ""),
        _ => ("Closed", ""),
    };
    let other = if incoming {
        format!("{} ({})", r.from_partner_name, r.from_partner_id)
    } else {
        format!("{} ({})", r.to_partner_name, r.to_partner_id)
    };
    RequestView {
        account: domain::naming::account_of(&r.waba_name, &r.client_name),
        numbers_label: domain::naming::numbers(r.numbers),
        open: r.is_open(),
        id: r.id,
        client_name: r.client_name,
        waba_id: r.waba_id.to_string(),
        waba_name: r.waba_name,
        numbers: r.numbers,
        other_partner: other,
        at: format_ms(r.created_ms),
        status,
        status_class,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "partner/partner_change.html")]
struct PartnerChangePage {
    chrome: Chrome,
    shell: Shell,
    auto_approve: bool,
    incoming: Vec<RequestView>,
    outgoing: Vec<RequestView>,
    error: Option<String>,
}

async fn render(
    state: &AppState,
    ctx: &PartnerCtx,
    flash: Option<String>,
    error: Option<String>,
) -> Result<PartnerChangePage, AppError> {
    let (incoming, outgoing) = partner_change::lists(state, &ctx.partner.id).await?;
    let auto_approve = store::partners::settings(state.db.pool(), &ctx.partner.id)
        .await?
        .is_some_and(|s| s.auto_approves_partner_changes());
    Ok(PartnerChangePage {
        chrome: Chrome::new(state, flash),
        shell: Shell::new(ctx, "partner-change"),
        auto_approve,
        incoming: incoming.into_iter().map(|r| view(r, true)).collect(),
        outgoing: outgoing.into_iter().map(|r| view(r, false)).collect(),
        error,
    })
}

pub async fn show(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (jar, flash) = session::take_flash(jar, &state.config);
    let page = render(&state, &ctx, flash, None).await?;
    Ok((jar, page).into_response())
}

fn page_path(ctx: &PartnerCtx) -> String {
    format!("/partner/{}/partner-change", ctx.partner.id)
}

async fn decided(
    ctx: PartnerCtx,
    state: AppState,
    jar: CookieJar,
    outcome: Result<PartnerChange, AppError>,
    accepted: bool,
) -> Result<Response, AppError> {
    match outcome {
        Ok(r) => {
            let account = domain::naming::account_of(&r.waba_name, &r.client_name);
            let message = if accepted {
                format!(
                    "{} moved to you: {account}, with {}.",
                    r.client_name,
                    domain::naming::numbers(r.numbers)
                )
            } else {
                format!("Declined: {account} stays with {}.", r.from_partner_name)
            };
            let jar = session::set_flash(jar, &state.config, &message);
            Ok((jar, Redirect::to(&page_path(&ctx))).into_response())
        }
        Err(AppError::Unprocessable(why) | AppError::Conflict(why)) => {
            let page = render(&state, &ctx, None, Some(why)).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Err(err) => Err(err),
    }
}

pub async fn accept(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    jar: CookieJar,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let outcome = partner_change::accept(&state, &ctx.partner, &id, &ctx.actor()).await;
    decided(ctx, state, jar, outcome, true).await
}

pub async fn decline(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    jar: CookieJar,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let outcome = partner_change::decline(&state, &ctx.partner, &id, &ctx.actor()).await;
    decided(ctx, state, jar, outcome, false).await
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct AutoApproveForm {
    auto_approve: String,
}

pub async fn set_auto_approve(
    RequireOwner(ctx): RequireOwner,
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<AutoApproveForm>,
) -> Result<Response, AppError> {
    let on = matches!(form.auto_approve.as_str(), "1" | "true" | "on");
    partner_change::set_auto_approve(&state, &ctx.partner.id, on, &ctx.actor()).await?;
    let message = if on {
        "Automatic approval is on: requests to move to you are accepted at once."
    } else {
        "Automatic approval is off: you decide on each request."
    };
    let jar = session::set_flash(jar, &state.config, message);
    Ok((jar, Redirect::to(&page_path(&ctx))).into_response())
}
