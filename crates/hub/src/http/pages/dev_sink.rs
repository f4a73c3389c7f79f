//! Development mode only: a webhook receiver built into the Hub (`POST /dev/webhook-sink/{id}`,
//! answering 200 or `?status=`), and a page listing what it received with each signature
//! checked against the partner's secrets. Outside development mode both are "not found".

use crate::clock::format_ms;
use crate::error::AppError;
use crate::http::extract::PartnerCtx;
use crate::http::routes::Routes;
use crate::http::views::{Chrome, Shell};
use crate::state::AppState;
use crate::state::dev_sink::Received;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use domain::PartnerId;
use domain::webhook_signature::{self, WebhookSecret};

/// Development mode: the built-in webhook receiver.
pub fn router() -> Routes {
    Routes::new()
        .get("/dev/webhook-sink/{partner_id}", show)
        .post("/dev/webhook-sink/{partner_id}", receive)
        .post("/dev/webhook-sink/{partner_id}/clear", clear)
}

/// How far a timestamp may be from now before the sink calls it a replay (Standard Webhooks'
/// usual tolerance).
const TOLERANCE_S: i64 = 5 * 60;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct SinkQuery {
    status: Option<u16>,
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

pub async fn receive(
    State(state): State<AppState>,
    Path(partner_id): Path<String>,
    Query(query): Query<SinkQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    if !state.config.dev {
        return Err(AppError::NotFound);
    }
    let partner = PartnerId::parse(&partner_id).map_err(|_| AppError::NotFound)?;
    let answered = query
        .status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let now = state.now_ms();
    let id = header(&headers, "webhook-id");
    let timestamp = header(&headers, "webhook-timestamp");
    let signature = header(&headers, "webhook-signature");
    let secrets = store::webhooks::signing_secrets(state.db.pool(), &partner, now).await?;
    let verdict = match timestamp.parse::<i64>() {
        Err(_) => Err("no valid webhook-timestamp header".to_owned()),
        Ok(ts) => {
            let mut last = Err("the partner has no signing secret".to_owned());
            for s in &secrets {
                let Ok(secret) = WebhookSecret::parse(&s.secret) else {
                    continue;
                };
                last = webhook_signature::verify(
                    &secret,
                    &id,
                    ts,
                    &body,
                    &signature,
                    now / 1000,
                    TOLERANCE_S,
                )
                .map_err(|e| e.to_string());
                if last.is_ok() {
                    break;
                }
            }
            last
        }
    };
    let text = String::from_utf8_lossy(&body).into_owned();
    let event = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("event").and_then(|e| e.as_str()).map(str::to_owned))
        .unwrap_or_default();
    state.dev_sink.record(
        &partner,
        Received {
            received_ms: now,
            webhook_id: id,
            event,
            answered: answered.as_u16(),
            signature: verdict,
            body: text,
        },
    );
    Ok((answered, "received").into_response())
}

pub struct ReceivedView {
    pub at: String,
    pub webhook_id: String,
    pub event: String,
    pub answered: u16,
    pub verified: bool,
    pub problem: String,
    pub body: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "partner/dev_sink.html")]
struct SinkPage {
    chrome: Chrome,
    shell: Shell,
    sink_url: String,
    items: Vec<ReceivedView>,
}

pub async fn show(ctx: PartnerCtx, State(state): State<AppState>) -> Result<Response, AppError> {
    if !state.config.dev {
        return Err(AppError::NotFound);
    }
    let items = state
        .dev_sink
        .list(&ctx.partner.id)
        .into_iter()
        .map(|r| ReceivedView {
            at: format_ms(r.received_ms),
            webhook_id: r.webhook_id,
            event: r.event,
            answered: r.answered,
            verified: r.signature.is_ok(),
            problem: r.signature.err().unwrap_or_default(),
            body: serde_json::from_str::<serde_json::Value>(&r.body)
                .and_then(|v| serde_json::to_string_pretty(&v))
                .unwrap_or(r.body),
        })
        .collect();
    let page = SinkPage {
        chrome: Chrome::new(&state, None),
        shell: Shell::new(&ctx, "integration"),
        sink_url: state
            .config
            .link(&format!("/dev/webhook-sink/{}", ctx.partner.id)),
        items,
    };
    Ok(page.into_response())
}

pub async fn clear(ctx: PartnerCtx, State(state): State<AppState>) -> Result<Response, AppError> {
    if !state.config.dev {
        return Err(AppError::NotFound);
    }
    state.dev_sink.clear(&ctx.partner.id);
    Ok(Redirect::to(&format!("/dev/webhook-sink/{}", ctx.partner.id)).into_response())
}
