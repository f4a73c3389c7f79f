//! A partner's billing in the staff console: turn billing on, mark the partner eligible for
//! authentication-international rates, and adjust a balance (the partner's or a Direct-Payment
//! client's) with a reason. Every action is audited as the staff member who did it.

use crate::error::AppError;
use crate::http::extract::{ClientMeta, Form, StaffCtx};
use crate::http::routes::Routes;
use crate::http::session;
use crate::http::views::{Chrome, FieldErrors};
use crate::services::audit::Actor;
use crate::services::billing;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use domain::{ClientId, FieldError, Micros, Money, PartnerId};
use store::billing::Holder;

pub fn router() -> Routes {
    Routes::new()
        .get("/partners/{partner_id}/billing", show)
        .post("/partners/{partner_id}/billing/enable", enable)
        .post(
            "/partners/{partner_id}/billing/auth-international",
            auth_international,
        )
        .post("/partners/{partner_id}/billing/adjust", adjust)
}

pub struct BalanceRow {
    pub holder: String,
    pub whose: String,
    pub balance: String,
    pub paused: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/billing.html")]
struct BillingPage {
    chrome: Chrome,
    staff_name: String,
    section: &'static str,
    partner_id: String,
    partner_name: String,
    currency: String,
    enabled: bool,
    auth_international: bool,
    balances: Vec<BalanceRow>,
    errors: FieldErrors,
    holder: String,
    amount: String,
    reason: String,
}

fn partner_id(raw: &str) -> Result<PartnerId, AppError> {
    PartnerId::parse(raw).map_err(|_| AppError::NotFound)
}

async fn page(
    state: &AppState,
    staff: &StaffCtx,
    partner: &PartnerId,
    flash: Option<String>,
    errors: Vec<FieldError>,
    form: AdjustForm,
) -> Result<BillingPage, AppError> {
    let found = store::partners::get(state.db.pool(), partner)
        .await?
        .ok_or(AppError::NotFound)?;
    let settings = store::billing::settings(state.db.pool(), partner).await?;
    let balances = billing::balances(state, &found)
        .await?
        .into_iter()
        .map(|a| BalanceRow {
            holder: match &a.holder {
                Holder::Partner => "partner".to_owned(),
                Holder::Client(id) => id.to_string(),
            },
            whose: match (&a.holder, &a.client_name) {
                (Holder::Partner, _) => format!("{} (partner)", found.name),
                (Holder::Client(_), Some(name)) => format!("{name} (client)"),
                (Holder::Client(id), None) => id.to_string(),
            },
            balance: Money::new(a.balance, a.currency).to_string(),
            paused: a.paused && settings.enabled_ms.is_some(),
        })
        .collect();
    Ok(BillingPage {
        chrome: Chrome::new(state, flash),
        staff_name: staff.staff.name.clone(),
        section: "partners",
        partner_id: found.id.to_string(),
        partner_name: found.name,
        currency: found.currency.as_str().to_uppercase(),
        enabled: settings.enabled_ms.is_some(),
        auth_international: settings.auth_international,
        balances,
        errors: FieldErrors::from(errors),
        holder: form.holder,
        amount: form.amount,
        reason: form.reason,
    })
}

async fn show(
    staff: StaffCtx,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let partner = partner_id(&raw)?;
    let (jar, flash) = session::take_flash(jar, &state.config);
    let view = page(
        &state,
        &staff,
        &partner,
        flash,
        Vec::new(),
        AdjustForm::default(),
    )
    .await?;
    Ok((jar, view).into_response())
}

fn actor(staff: &StaffCtx, meta: ClientMeta) -> Actor {
    Actor::Staff {
        id: staff.staff.id.to_string(),
        ip: meta.ip,
    }
}

fn back(state: &AppState, jar: CookieJar, partner: &PartnerId, message: &str) -> Response {
    let jar = session::set_flash(jar, &state.config, message);
    (
        jar,
        Redirect::to(&format!("/staff/partners/{partner}/billing")),
    )
        .into_response()
}

async fn enable(
    staff: StaffCtx,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    meta: ClientMeta,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let partner = partner_id(&raw)?;
    billing::enable(&state, &partner, &actor(&staff, meta)).await?;
    Ok(back(
        &state,
        jar,
        &partner,
        "Billing is on: the partner's numbers send only while the paying balance is above 0.",
    ))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct EligibilityForm {
    eligible: String,
}

async fn auth_international(
    staff: StaffCtx,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    meta: ClientMeta,
    jar: CookieJar,
    Form(form): Form<EligibilityForm>,
) -> Result<Response, AppError> {
    let partner = partner_id(&raw)?;
    let eligible = form.eligible == "yes";
    billing::set_auth_international(&state, &partner, eligible, &actor(&staff, meta)).await?;
    Ok(back(
        &state,
        jar,
        &partner,
        if eligible {
            "The partner is eligible for authentication-international rates."
        } else {
            "The partner is no longer eligible for authentication-international rates."
        },
    ))
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct AdjustForm {
    holder: String,
    amount: String,
    reason: String,
}

async fn adjust(
    staff: StaffCtx,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    meta: ClientMeta,
    jar: CookieJar,
    Form(form): Form<AdjustForm>,
) -> Result<Response, AppError> {
    let partner = partner_id(&raw)?;
    let mut errors = Vec::new();
    let holder = match form.holder.trim() {
        "" | "partner" => Some(Holder::Partner),
        other => match ClientId::parse(other) {
            Ok(id) => Some(Holder::Client(id)),
            Err(_) => {
                errors.push(FieldError::new(
                    "holder",
                    "must be the partner or one of its clients",
                ));
                None
            }
        },
    };
    let amount = match Micros::parse_major(&form.amount) {
        Ok(a) if a == Micros::ZERO => {
            errors.push(FieldError::new("amount", "must not be zero"));
            None
        }
        Ok(a) => Some(a),
        Err(e) => {
            errors.push(e.on("amount"));
            None
        }
    };
    if form.reason.trim().is_empty() {
        errors.push(FieldError::new(
            "reason",
            "is required: say why the balance changes",
        ));
    }
    let (Some(holder), Some(amount), true) = (holder, amount, errors.is_empty()) else {
        let view = page(&state, &staff, &partner, None, errors, form).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response());
    };
    match billing::adjust(
        &state,
        &partner,
        &holder,
        amount,
        &form.reason,
        &actor(&staff, meta),
    )
    .await
    {
        Ok(balance) => Ok(back(
            &state,
            jar,
            &partner,
            &format!("Adjusted by {amount}; the balance is now {balance}."),
        )),
        Err(AppError::Validation(errors)) => {
            let view = page(&state, &staff, &partner, None, errors, form).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, view).into_response())
        }
        Err(e) => Err(e),
    }
}
