//! Webhook deliveries: every event of the partner with its attempts, filters (event type,
//! delivery state, date) kept in the URL, a payload viewer and Resend.

use crate::clock::format_ms;
use crate::error::AppError;
use crate::http::extract::{ClientMeta, Ids, PartnerCtx};
use crate::http::routes::Routes;
use crate::http::session;
use crate::http::views::{Chrome, Shell};
use crate::services::audit::Actor;
use crate::services::webhooks::{self, EventQuery, EventWithAttempts};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use domain::PartnerId;
use domain::webhook_event::{DeliveryState, EventId, EventType};

/// The webhook delivery log.
pub fn router() -> Routes {
    Routes::new()
        .get("/partner/{partner_id}/integration/webhooks", list)
        .get(
            "/partner/{partner_id}/integration/webhooks/{event_id}",
            show,
        )
        .post(
            "/partner/{partner_id}/integration/webhooks/{event_id}/resend",
            resend,
        )
}

const PAGE_SIZE: i64 = 50;

pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

pub struct AttemptView {
    pub attempt: i64,
    pub at: String,
    pub url: String,
    pub status: String,
    pub ok: bool,
    pub latency_ms: i64,
    pub excerpt: String,
    pub error: String,
}

pub struct EventView {
    pub id: String,
    pub event: String,
    pub created: String,
    pub state: &'static str,
    pub state_class: &'static str,
    pub attempts: i64,
    pub last: String,
    pub next: String,
    pub payload: String,
    pub attempt_rows: Vec<AttemptView>,
}

fn state_label(state: &str) -> (&'static str, &'static str) {
    match state {
        "delivered" => ("Delivered", "ok"),
        "pending" => ("Retrying", "wait"),
        "failed" => ("Failed", "bad"),
        "no_url" => ("No URL", ""),
        _ => ("Unknown", ""),
    }
}

fn view(e: &EventWithAttempts) -> EventView {
    let ev = &e.event;
    let (state, state_class) = state_label(&ev.state);
    let (state, state_class) = if ev.state == "pending" && ev.attempts == 0 {
        ("Queued", "wait")
    } else {
        (state, state_class)
    };
    let payload = serde_json::from_str::<serde_json::Value>(&ev.body)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| ev.body.clone());
    EventView {
        id: ev.id.clone(),
        event: ev.event_type.clone(),
        created: format_ms(ev.created_ms),
        state,
        state_class,
        attempts: ev.attempts,
        last: match (ev.last_status, &ev.last_error) {
            (Some(s), _) => format!("HTTP {s}"),
            (None, Some(e)) => e.clone(),
            (None, None) => "—".into(),
        },
        next: ev
            .next_attempt_ms
            .filter(|_| ev.state == "pending")
            .map(format_ms)
            .unwrap_or_default(),
        payload,
        attempt_rows: e
            .attempts
            .iter()
            .rev()
            .map(|a| AttemptView {
                attempt: a.attempt,
                at: format_ms(a.created_ms),
                url: a.url.clone(),
                status: a
                    .status_code
                    .map_or_else(|| "no answer".into(), |s| s.to_string()),
                ok: a.status_code.is_some_and(|s| (200..300).contains(&s)),
                latency_ms: a.latency_ms,
                excerpt: a.response_excerpt.clone().unwrap_or_default(),
                error: a.error.clone().unwrap_or_default(),
            })
            .collect(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "partner/webhooks.html")]
struct DeliveriesPage {
    chrome: Chrome,
    shell: Shell,
    events: Vec<EventView>,
    total: i64,
    event_types: Vec<Choice>,
    states: Vec<Choice>,
    from: String,
    until: String,
    filtered: bool,
    range: String,
    prev_href: Option<String>,
    next_href: Option<String>,
    problem: Option<String>,
    has_url: bool,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct DeliveriesQuery {
    event: String,
    state: String,
    /// `YYYY-MM-DD`, inclusive.
    from: String,
    /// `YYYY-MM-DD`, inclusive.
    until: String,
    page: String,
}

/// Midnight UTC of a `YYYY-MM-DD` date, in milliseconds.
fn day_start_ms(raw: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw.trim(), &format)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp() * 1000)
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

impl DeliveriesQuery {
    fn href(&self, partner: &str, page: i64) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("event", &self.event),
            ("state", &self.state),
            ("from", &self.from),
            ("until", &self.until),
        ] {
            if !v.is_empty() {
                q.append_pair(k, v);
            }
        }
        if page > 1 {
            q.append_pair("page", &page.to_string());
        }
        let q = q.finish();
        if q.is_empty() {
            format!("/partner/{partner}/integration/webhooks")
        } else {
            format!("/partner/{partner}/integration/webhooks?{q}")
        }
    }
}

pub async fn list(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    Query(q): Query<DeliveriesQuery>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (jar, flash) = session::take_flash(jar, &state.config);
    // Bad filter values are named on the page; the list then ignores them instead of failing.
    let mut problems = Vec::new();
    let event_type = match q.event.trim() {
        "" => None,
        raw => EventType::parse(raw)
            .map_err(|_| problems.push(format!("“{raw}” is not an event type")))
            .ok(),
    };
    let delivery_state = match q.state.trim() {
        "" => None,
        raw => DeliveryState::parse(raw)
            .map_err(|_| problems.push(format!("“{raw}” is not a delivery state")))
            .ok(),
    };
    let mut date = |raw: &str, label: &str| match raw.trim() {
        "" => None,
        r => {
            let parsed = day_start_ms(r);
            if parsed.is_none() {
                problems.push(format!("{label} “{r}” is not a date like 2026-12-01"));
            }
            parsed
        }
    };
    let from_ms = date(&q.from, "From");
    let until_ms = date(&q.until, "Until").map(|d| d + DAY_MS);
    let page_no = q
        .page
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let query = EventQuery {
        event_type,
        state: delivery_state,
        from_ms,
        until_ms,
        oldest_first: false,
        limit: PAGE_SIZE,
        offset: (page_no - 1).saturating_mul(PAGE_SIZE),
        after: None,
    };
    let (rows, total, _) = webhooks::list_events(&state, &ctx.partner.id, &query).await?;
    let endpoints = webhooks::endpoints(&state, &ctx.partner.id).await?;
    let partner = ctx.partner.id.to_string();
    let shown = i64::try_from(rows.len()).unwrap_or(0);
    let page = DeliveriesPage {
        chrome: Chrome::new(&state, flash),
        shell: Shell::new(&ctx, "integration"),
        events: rows.iter().map(view).collect(),
        total,
        event_types: EventType::ALL
            .iter()
            .map(|t| Choice {
                value: t.as_str(),
                label: t.as_str(),
                selected: event_type == Some(*t),
            })
            .collect(),
        states: DeliveryState::ALL
            .iter()
            .map(|s| Choice {
                value: s.as_str(),
                label: state_label(s.as_str()).0,
                selected: delivery_state == Some(*s),
            })
            .collect(),
        from: q.from.clone(),
        until: q.until.clone(),
        filtered: event_type.is_some()
            || delivery_state.is_some()
            || from_ms.is_some()
            || until_ms.is_some(),
        range: if total == 0 {
            String::new()
        } else {
            format!("{}–{} of {total}", query.offset + 1, query.offset + shown)
        },
        prev_href: (page_no > 1).then(|| q.href(&partner, page_no - 1)),
        next_href: (query.offset + shown < total).then(|| q.href(&partner, page_no + 1)),
        problem: (!problems.is_empty()).then(|| problems.join("; ")),
        has_url: endpoints.active_webhook_url().is_some(),
    };
    Ok((jar, page).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "partner/webhook_event.html")]
struct EventPage {
    chrome: Chrome,
    shell: Shell,
    event: EventView,
    has_url: bool,
}

pub async fn show(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    Ids((_, id)): Ids<(PartnerId, EventId)>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (jar, flash) = session::take_flash(jar, &state.config);
    let event = webhooks::event(&state, &ctx.partner.id, &id).await?;
    let endpoints = webhooks::endpoints(&state, &ctx.partner.id).await?;
    let page = EventPage {
        chrome: Chrome::new(&state, flash),
        shell: Shell::new(&ctx, "integration"),
        event: view(&event),
        has_url: endpoints.active_webhook_url().is_some(),
    };
    Ok((jar, page).into_response())
}

pub async fn resend(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    meta: ClientMeta,
    Ids((_, id)): Ids<(PartnerId, EventId)>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let actor = Actor::User {
        id: ctx.user.id.to_string(),
        ip: meta.ip,
    };
    let message = match webhooks::resend(&state, &ctx.partner.id, &id, &actor).await {
        Ok(_) => format!("Event {id} is queued for delivery again."),
        Err(AppError::Unprocessable(why)) => why,
        Err(other) => return Err(other),
    };
    let jar = session::set_flash(jar, &state.config, &message);
    Ok((
        jar,
        Redirect::to(&format!(
            "/partner/{}/integration/webhooks/{id}",
            ctx.partner.id
        )),
    )
        .into_response())
}
