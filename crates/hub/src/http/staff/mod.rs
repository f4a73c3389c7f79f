//! The staff console at `/staff`: its own login and session cookie, partners, the mail outbox.

use crate::clock::format_ms;
use crate::error::AppError;
use crate::http::extract::{ClientMeta, Form, StaffCtx};
use crate::http::pages::auth::{LoginForm, LoginPage, login_failure};
use crate::http::routes::Routes;
use crate::http::session::{self, safe_next};
use crate::http::views::{Chrome, FieldErrors};
use crate::services::audit::Actor;
use crate::services::{auth, partners};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;

mod billing;

const PAGE_SIZE: i64 = 50;

/// The staff console (mounted at `/staff`).
pub fn router() -> Routes {
    Routes::new()
        .get("/", || async { Redirect::to("/staff/partners") })
        .get("/login", login_form)
        .post("/login", login_submit)
        .post("/logout", logout)
        .get("/partners", partners_list)
        .post("/partners", partner_create)
        .get("/partners/new", partner_form)
        .get("/outbox", outbox)
        .get("/outbox/{mail_id}", mail_detail)
        .merge(billing::router())
}

fn login_page(state: &AppState, flash: Option<String>, email: String, next: String) -> LoginPage {
    LoginPage {
        chrome: Chrome::new(state, flash),
        heading: "Staff login",
        action: "/staff/login",
        show_forgot: false,
        email,
        next,
        error: None,
    }
}

#[derive(Debug, serde::Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_form(
    State(state): State<AppState>,
    Query(q): Query<NextQuery>,
    jar: CookieJar,
) -> impl IntoResponse {
    let (jar, flash) = session::take_flash(jar, &state.config);
    let next = safe_next(q.next.as_deref())
        .filter(|n| n.starts_with("/staff") || n == "/metrics")
        .unwrap_or_default();
    (jar, login_page(&state, flash, String::new(), next))
}

async fn login_submit(
    State(state): State<AppState>,
    meta: ClientMeta,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(Some(&form.next)).filter(|n| n.starts_with("/staff") || n == "/metrics");
    let page = login_page(
        &state,
        None,
        form.email.trim().to_owned(),
        next.clone().unwrap_or_default(),
    );
    if form.email.trim().is_empty() || form.password.is_empty() {
        let error = Some("Enter your email and password.".to_owned());
        return (StatusCode::BAD_REQUEST, LoginPage { error, ..page }).into_response();
    }
    match auth::login_staff(&state, &form.email, &form.password, &meta).await {
        Ok(login) => {
            let cookie = session::session_cookie(
                &state.config,
                session::staff_cookie(&state.config),
                login.token.expose(),
                state.config.staff_session_ttl_ms,
            );
            (
                jar.add(cookie),
                Redirect::to(&next.unwrap_or_else(|| "/staff/partners".into())),
            )
                .into_response()
        }
        Err(err) => login_failure(page, err),
    }
}

async fn logout(State(state): State<AppState>, jar: CookieJar) -> Result<Response, AppError> {
    if let Some(cookie) = jar.get(session::staff_cookie(&state.config)) {
        auth::logout(&state, &domain::TokenHash::of(cookie.value())).await?;
    }
    let jar = jar.add(session::removal(
        &state.config,
        session::staff_cookie(&state.config),
    ));
    let jar = session::set_flash(
        jar,
        &state.config,
        "You have logged out of the staff console.",
    );
    Ok((jar, Redirect::to("/staff/login")).into_response())
}

#[derive(Debug, serde::Deserialize)]
struct PageQuery {
    page: Option<String>,
}

/// Page number from the query (1-based); anything unreadable is page 1.
fn page_number(q: &PageQuery) -> i64 {
    q.page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1)
}

fn neighbours(page: i64, total: i64) -> (Option<i64>, Option<i64>) {
    (
        (page > 1).then_some(page - 1),
        (page * PAGE_SIZE < total).then_some(page + 1),
    )
}

struct PartnerRow {
    id: String,
    name: String,
    payment_model: &'static str,
    currency: String,
    status: String,
    created: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/partners.html")]
struct PartnersPage {
    chrome: Chrome,
    staff_name: String,
    section: &'static str,
    partners: Vec<PartnerRow>,
    total: i64,
    prev: Option<i64>,
    next: Option<i64>,
}

async fn partners_list(
    staff: StaffCtx,
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let page = page_number(&q);
    let total = store::partners::count_all(state.db.pool()).await?;
    let rows =
        store::partners::list_all(state.db.pool(), PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let (prev, next) = neighbours(page, total);
    let (jar, flash) = session::take_flash(jar, &state.config);
    let view = PartnersPage {
        chrome: Chrome::new(&state, flash),
        staff_name: staff.staff.name,
        section: "partners",
        partners: rows
            .into_iter()
            .map(|p| PartnerRow {
                id: p.id.to_string(),
                name: p.name,
                payment_model: p.payment_model.label(),
                currency: p.currency.as_str().to_uppercase(),
                status: p.status,
                created: format_ms(p.created_ms),
            })
            .collect(),
        total,
        prev,
        next,
    };
    Ok((jar, view).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/partner_new.html")]
struct PartnerFormPage {
    chrome: Chrome,
    staff_name: String,
    section: &'static str,
    errors: FieldErrors,
    name: String,
    owner_email: String,
    currency: String,
    payment_model: String,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct PartnerForm {
    name: String,
    owner_email: String,
    currency: String,
    payment_model: String,
}

async fn partner_form(staff: StaffCtx, State(state): State<AppState>) -> impl IntoResponse {
    PartnerFormPage {
        chrome: Chrome::new(&state, None),
        staff_name: staff.staff.name,
        section: "partners",
        errors: FieldErrors::default(),
        name: String::new(),
        owner_email: String::new(),
        currency: "eur".into(),
        payment_model: "partner_payment".into(),
    }
}

async fn partner_create(
    staff: StaffCtx,
    State(state): State<AppState>,
    meta: ClientMeta,
    jar: CookieJar,
    Form(form): Form<PartnerForm>,
) -> Result<Response, AppError> {
    let request = match partners::PartnerRequest::parse(
        &form.name,
        &form.owner_email,
        &form.currency,
        &form.payment_model,
    ) {
        Ok(r) => r,
        Err(errors) => {
            let view = PartnerFormPage {
                chrome: Chrome::new(&state, None),
                staff_name: staff.staff.name,
                section: "partners",
                errors: FieldErrors::from(errors),
                name: form.name.trim().to_owned(),
                owner_email: form.owner_email.trim().to_owned(),
                currency: form.currency,
                payment_model: form.payment_model,
            };
            return Ok((StatusCode::BAD_REQUEST, view).into_response());
        }
    };
    let actor = Actor::Staff {
        id: staff.staff.id.to_string(),
        ip: meta.ip,
    };
    let created = partners::create(&state, &request, &actor).await?;
    let message = format!(
        "Partner {} created ({}). An invitation was sent to {}.",
        request.name.as_str(),
        created.id,
        request.owner_email
    );
    let jar = session::set_flash(jar, &state.config, &message);
    Ok((jar, Redirect::to("/staff/partners")).into_response())
}

struct MailRow {
    id: String,
    to: String,
    subject: String,
    state: String,
    error: Option<String>,
    created: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    staff_name: String,
    section: &'static str,
    smtp: bool,
    mails: Vec<MailRow>,
    total: i64,
    prev: Option<i64>,
    next: Option<i64>,
}

async fn outbox(
    staff: StaffCtx,
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
) -> Result<Response, AppError> {
    let page = page_number(&q);
    let total = store::mail::count(state.db.pool()).await?;
    let mails = store::mail::recent(state.db.pool(), PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let (prev, next) = neighbours(page, total);
    Ok(OutboxPage {
        chrome: Chrome::new(&state, None),
        staff_name: staff.staff.name,
        section: "outbox",
        smtp: state.mailer.is_some(),
        mails: mails
            .into_iter()
            .map(|m| MailRow {
                id: m.id,
                to: m.to_addr,
                subject: m.subject,
                state: m.state,
                error: m.last_error,
                created: format_ms(m.created_ms),
            })
            .collect(),
        total,
        prev,
        next,
    }
    .into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "staff/mail.html")]
struct MailPage {
    chrome: Chrome,
    staff_name: String,
    section: &'static str,
    to: String,
    subject: String,
    state: String,
    error: Option<String>,
    created: String,
    body: String,
}

async fn mail_detail(
    staff: StaffCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let mail = store::mail::get(state.db.pool(), &id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(MailPage {
        chrome: Chrome::new(&state, None),
        staff_name: staff.staff.name,
        section: "outbox",
        to: mail.to_addr,
        subject: mail.subject,
        state: mail.state,
        error: mail.last_error,
        created: format_ms(mail.created_ms),
        body: mail.body_text,
    }
    .into_response())
}
