//! Integration settings and partner webhooks: saving and testing the webhook and redirect URLs,
//! the signing secret (reveal, rotate), the hosting and storage defaults, the list of events with
//! their attempts, Resend, and one delivery attempt as the dispatcher makes it.

use crate::error::AppError;
use crate::providers::webhook_client::Exchange;
use crate::services::audit::{self, Actor};
use crate::state::AppState;
use domain::webhook_event::{DeliveryState, EventId, EventType};
use domain::webhook_signature::{self, WebhookSecret};
use domain::webhook_url::WebhookUrl;
use domain::{DataStorageRegion, FieldError, HostingType, PartnerId};
use store::notifications::{Audience, NewNotification};
use store::webhooks::{AttemptRecord, Endpoints, Outcome};

/// How long a rotated-out secret keeps signing, so receivers can switch without losing events.
pub const ROTATION_GRACE_MS: i64 = 24 * 60 * 60 * 1000;
/// How much of a test's response the Integration tab shows (bytes, cut at a character).
pub const TEST_EXCERPT_BYTES: usize = 1024;

/// Which of the two URLs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlKind {
    Webhook,
    Redirect,
}

impl UrlKind {
    pub fn field(self) -> &'static str {
        match self {
            UrlKind::Webhook => "webhook_url",
            UrlKind::Redirect => "partner_redirect_url",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            UrlKind::Webhook => "Partner webhook URL",
            UrlKind::Redirect => "Redirect URL",
        }
    }
}

/// Parse a URL from a form or the API: empty clears it.
pub fn parse_url(
    state: &AppState,
    kind: UrlKind,
    raw: Option<&str>,
) -> Result<Option<WebhookUrl>, FieldError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(raw) => WebhookUrl::parse(raw, kind.field(), state.config.dev).map(Some),
    }
}

pub async fn endpoints(state: &AppState, partner: &PartnerId) -> Result<Endpoints, AppError> {
    store::webhooks::endpoints(state.db.pool(), partner)
        .await?
        .ok_or(AppError::NotFound)
}

/// Save (or clear) one URL; the previous value is overwritten. Returns the previous value.
pub async fn save_url(
    state: &AppState,
    partner: &PartnerId,
    kind: UrlKind,
    url: Option<&WebhookUrl>,
    actor: &Actor,
) -> Result<Option<String>, AppError> {
    let mut tx = state.db.begin_write().await?;
    let previous = save_url_in(&mut tx, state, partner, kind, url, actor).await?;
    tx.commit().await?;
    Ok(previous)
}

/// `save_url` inside the caller's transaction (a partner update writes several fields at once).
pub async fn save_url_in(
    tx: &mut sqlx::AnyConnection,
    state: &AppState,
    partner: &PartnerId,
    kind: UrlKind,
    url: Option<&WebhookUrl>,
    actor: &Actor,
) -> Result<Option<String>, AppError> {
    let before = store::webhooks::endpoints(&mut *tx, partner)
        .await?
        .ok_or(AppError::NotFound)?;
    let value = url.map(WebhookUrl::as_str);
    let previous = match kind {
        UrlKind::Webhook => {
            store::webhooks::set_webhook_url(&mut *tx, partner, value).await?;
            ensure_secret(tx, state, partner).await?;
            before.webhook_url
        }
        UrlKind::Redirect => {
            store::webhooks::set_redirect_url(&mut *tx, partner, value).await?;
            before.redirect_url
        }
    };
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(partner),
        match kind {
            UrlKind::Webhook => "partner.webhook_url",
            UrlKind::Redirect => "partner.redirect_url",
        },
        partner.as_str(),
        &url.map_or_else(|| "(cleared)".to_owned(), WebhookUrl::redacted),
    )
    .await?;
    Ok(previous)
}

/// Make sure the partner has a signing secret (every partner gets one the first time it is
/// needed).
async fn ensure_secret(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    partner: &PartnerId,
) -> Result<Vec<String>, store::StoreError> {
    let now = state.now_ms();
    let existing = store::webhooks::signing_secrets(&mut *conn, partner, now).await?;
    if !existing.is_empty() {
        return Ok(existing.into_iter().map(|s| s.secret).collect());
    }
    let secret = WebhookSecret::generate();
    store::webhooks::rotate_secret(conn, partner, secret.as_str(), now, now).await?;
    Ok(vec![secret.as_str().to_owned()])
}

/// The secret that signs deliveries now (created on first use).
pub async fn reveal_secret(
    state: &AppState,
    partner: &PartnerId,
    actor: &Actor,
) -> Result<String, AppError> {
    let mut tx = state.db.begin_write().await?;
    let secrets = ensure_secret(&mut tx, state, partner).await?;
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(partner),
        "partner.webhook_secret.reveal",
        partner.as_str(),
        "",
    )
    .await?;
    tx.commit().await?;
    secrets
        .into_iter()
        .next()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("no signing secret after creating one")))
}

/// A new secret; the old one keeps signing (as a second signature) for 24 hours.
pub async fn rotate_secret(
    state: &AppState,
    partner: &PartnerId,
    actor: &Actor,
) -> Result<String, AppError> {
    let now = state.now_ms();
    let secret = WebhookSecret::generate();
    let mut tx = state.db.begin_write().await?;
    store::webhooks::rotate_secret(
        &mut tx,
        partner,
        secret.as_str(),
        now + ROTATION_GRACE_MS,
        now,
    )
    .await?;
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(partner),
        "partner.webhook_secret.rotate",
        partner.as_str(),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(secret.as_str().to_owned())
}

/// The defaults for numbers created or migrated from now on.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultsChange {
    pub hosting_type: Option<HostingType>,
    /// `Some(None)`: the US default (no localisation).
    pub region: Option<Option<DataStorageRegion>>,
}

pub async fn set_defaults(
    state: &AppState,
    partner: &PartnerId,
    change: DefaultsChange,
    actor: &Actor,
) -> Result<(), AppError> {
    let mut tx = state.db.begin_write().await?;
    set_defaults_in(&mut tx, state, partner, change, actor).await?;
    tx.commit().await?;
    Ok(())
}

/// `set_defaults` inside the caller's transaction.
pub async fn set_defaults_in(
    tx: &mut sqlx::AnyConnection,
    state: &AppState,
    partner: &PartnerId,
    change: DefaultsChange,
    actor: &Actor,
) -> Result<(), AppError> {
    let settings = store::partners::settings(&mut *tx, partner)
        .await?
        .ok_or(AppError::NotFound)?;
    if change.hosting_type == Some(HostingType::OnPremise)
        && settings.default_hosting_type != HostingType::OnPremise.as_str()
    {
        return Err(AppError::Unprocessable(
            "On-Premise hosting is legacy and takes no new numbers; the default can only move to cloud_api.".into(),
        ));
    }
    store::webhooks::set_defaults(
        &mut *tx,
        partner,
        change.hosting_type.map(HostingType::as_str),
        change.region.map(|r| r.map(DataStorageRegion::as_str)),
    )
    .await?;
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(partner),
        "partner.defaults",
        partner.as_str(),
        &format!(
            "hosting={} region={}",
            change.hosting_type.map_or("unchanged", HostingType::as_str),
            match change.region {
                None => "unchanged",
                Some(None) => "US",
                Some(Some(r)) => r.as_str(),
            }
        ),
    )
    .await?;
    Ok(())
}

/// The outcome of a Test button, as the page and the API show it.
#[derive(Clone, Debug)]
pub struct TestResult {
    pub success: bool,
    pub url: String,
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    pub excerpt: Option<String>,
    pub error: Option<String>,
}

impl TestResult {
    fn from_exchange(url: &str, ex: &Exchange, success: bool) -> Self {
        Self {
            success,
            url: url.to_owned(),
            status_code: ex.status,
            latency_ms: ex.latency_ms,
            excerpt: ex.excerpt.as_deref().map(|e| {
                let mut end = e.len().min(TEST_EXCERPT_BYTES);
                while !e.is_char_boundary(end) {
                    end -= 1;
                }
                e[..end].to_owned()
            }),
            error: ex.error.clone().or_else(|| {
                (!success).then(|| match ex.status {
                    Some(s) => format!("the receiver answered {s}; only 2xx counts as delivered"),
                    None => "no answer".to_owned(),
                })
            }),
        }
    }

    /// One line for a notification.
    pub fn summary(&self) -> String {
        match (&self.error, self.status_code) {
            (Some(e), _) => e.clone(),
            (None, Some(s)) => format!("answered {s} in {} ms", self.latency_ms),
            (None, None) => "no answer".to_owned(),
        }
    }
}

/// Signature headers for a delivery of `body` now.
fn signed_headers(
    secrets: &[String],
    id: &str,
    timestamp_s: i64,
    body: &str,
) -> Vec<(String, String)> {
    let parsed: Vec<WebhookSecret> = secrets
        .iter()
        .filter_map(|s| WebhookSecret::parse(s).ok())
        .collect();
    let refs: Vec<&WebhookSecret> = parsed.iter().collect();
    vec![
        ("webhook-id".to_owned(), id.to_owned()),
        ("webhook-timestamp".to_owned(), timestamp_s.to_string()),
        (
            "webhook-signature".to_owned(),
            webhook_signature::signature_header(&refs, id, timestamp_s, body.as_bytes()),
        ),
    ]
}

/// Send a signed `test` event to the saved webhook URL now. It is stored with its attempt (it
/// shows on the deliveries page) but never retried; a failure also notifies the partner's users.
pub async fn test_webhook(
    state: &AppState,
    partner: &PartnerId,
    actor: &Actor,
) -> Result<TestResult, AppError> {
    let endpoints = endpoints(state, partner).await?;
    let Some(url) = endpoints.webhook_url.clone() else {
        return Err(AppError::Unprocessable(
            "There is no partner webhook URL to test. Save one first.".into(),
        ));
    };
    let secrets = {
        let mut tx = state.db.begin_write().await?;
        let s = ensure_secret(&mut tx, state, partner).await?;
        tx.commit().await?;
        s
    };
    let now = state.now_ms();
    let id = EventId::generate();
    let data = serde_json::json!({
        "partner_id": partner.as_str(),
        "message": "This is a test event from Partner Hub. Deliveries to this URL are signed with your webhook secret.",
    });
    let body = crate::services::events::body(&id, EventType::Test, now, &data);
    let headers = signed_headers(&secrets, id.as_str(), now / 1000, &body);
    let exchange = state
        .webhook_client
        .post(&url, &headers, body.clone())
        .await;
    let result = TestResult::from_exchange(&url, &exchange, exchange.is_success());
    let mut tx = state.db.begin_write().await?;
    store::webhooks::insert_event(
        &mut *tx,
        partner,
        &store::webhooks::NewEvent {
            channel_id: None,
            id: id.as_str(),
            event_type: EventType::Test.as_str(),
            body: &body,
            state: DeliveryState::Pending.as_str(),
        },
        now,
    )
    .await?;
    let attempt = AttemptRecord {
        event_id: id.as_str().to_owned(),
        partner_id: partner.as_str().to_owned(),
        attempt: 1,
        url: url.clone(),
        status_code: exchange.status.map(i64::from),
        latency_ms: exchange.latency_ms,
        response_excerpt: exchange.excerpt.clone(),
        error: result.error.clone(),
        created_ms: state.now_ms(),
        outcome: if result.success {
            Outcome::Delivered
        } else {
            Outcome::Failed
        },
    };
    store::webhooks::record_attempts_in(&mut tx, std::slice::from_ref(&attempt)).await?;
    if !result.success {
        notify_test_failed(&mut *tx, state, partner, UrlKind::Webhook, &result).await?;
    }
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(partner),
        "partner.webhook_url.test",
        partner.as_str(),
        &result.summary(),
    )
    .await?;
    tx.commit().await?;
    Ok(result)
}

/// Does the saved redirect URL answer? Any answer below 400 counts (a redirect page may well
/// redirect on); a failure notifies the partner's users like a webhook test.
pub async fn test_redirect(state: &AppState, partner: &PartnerId) -> Result<TestResult, AppError> {
    let endpoints = endpoints(state, partner).await?;
    let Some(url) = endpoints.redirect_url.clone() else {
        return Err(AppError::Unprocessable(
            "There is no redirect URL to test. Save one first.".into(),
        ));
    };
    let exchange = state.webhook_client.get(&url).await;
    let answered = exchange.status.is_some_and(|s| s < 400);
    let mut result = TestResult::from_exchange(&url, &exchange, answered);
    if !answered && exchange.error.is_none() {
        result.error = exchange
            .status
            .map(|s| format!("the page answered {s}; clients would land on an error"));
    }
    if !answered {
        notify_test_failed(state.db.pool(), state, partner, UrlKind::Redirect, &result).await?;
    }
    Ok(result)
}

/// A failed Test button also reaches everyone of the partner through the bell.
async fn notify_test_failed<'e>(
    ex: impl sqlx::Executor<'e, Database = sqlx::Any>,
    state: &AppState,
    partner: &PartnerId,
    kind: UrlKind,
    result: &TestResult,
) -> Result<(), store::StoreError> {
    let (kind, title) = match kind {
        UrlKind::Webhook => ("webhook_test_failed", "Webhook test failed"),
        UrlKind::Redirect => ("redirect_test_failed", "Redirect URL test failed"),
    };
    let body = format!("Test of {}: {}", result.url, result.summary());
    store::notifications::notify(
        ex,
        partner,
        Audience::Everyone,
        &NewNotification {
            kind,
            title,
            body: &body,
            link: Some(&format!("/partner/{partner}/integration")),
        },
        None,
        state.now_ms(),
    )
    .await?;
    Ok(())
}

/// Which events to list, parsed from a page's or the API's query.
#[derive(Clone, Debug, Default)]
pub struct EventQuery {
    pub event_type: Option<EventType>,
    pub state: Option<DeliveryState>,
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Oldest first instead of newest first.
    pub oldest_first: bool,
    pub limit: i64,
    pub offset: i64,
    /// The page starts after this event (keyset paging).
    pub after: Option<domain::listing::After>,
}

/// An event with its attempts.
#[derive(Clone, Debug)]
pub struct EventWithAttempts {
    pub event: store::webhooks::EventRow,
    pub attempts: Vec<store::webhooks::AttemptRow>,
}

/// A page of events with their attempts, the total, and where the next page starts.
pub async fn list_events(
    state: &AppState,
    partner: &PartnerId,
    query: &EventQuery,
) -> Result<(Vec<EventWithAttempts>, i64, Option<domain::listing::After>), AppError> {
    let filter = store::webhooks::EventFilter {
        event_type: query.event_type.map(|t| t.as_str().to_owned()),
        state: query.state.map(|s| s.as_str().to_owned()),
        from_ms: query.from_ms,
        until_ms: query.until_ms,
        oldest_first: query.oldest_first,
    };
    let (events, total, next) = store::webhooks::list_events(
        &state.db,
        partner,
        &filter,
        query.limit,
        query.offset,
        query.after.as_ref(),
    )
    .await?;
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    let mut by_event: std::collections::HashMap<String, Vec<_>> = std::collections::HashMap::new();
    for attempt in store::webhooks::attempts_of(&state.db, partner, &ids).await? {
        by_event
            .entry(attempt.event_id.clone())
            .or_default()
            .push(attempt);
    }
    let rows = events
        .into_iter()
        .map(|event| EventWithAttempts {
            attempts: by_event.remove(&event.id).unwrap_or_default(),
            event,
        })
        .collect();
    Ok((rows, total, next))
}

pub async fn event(
    state: &AppState,
    partner: &PartnerId,
    id: &EventId,
) -> Result<EventWithAttempts, AppError> {
    let event = store::webhooks::event(state.db.pool(), partner, id.as_str())
        .await?
        .ok_or(AppError::NotFound)?;
    let attempts = store::webhooks::attempts_of(&state.db, partner, &[id.as_str()]).await?;
    Ok(EventWithAttempts { event, attempts })
}

/// Deliver an event again from now, with a fresh retry schedule.
pub async fn resend(
    state: &AppState,
    partner: &PartnerId,
    id: &EventId,
    actor: &Actor,
) -> Result<EventWithAttempts, AppError> {
    // Another partner's (or an unknown) event is "not found" whatever the URL settings are.
    store::webhooks::event(state.db.pool(), partner, id.as_str())
        .await?
        .ok_or(AppError::NotFound)?;
    let endpoints = endpoints(state, partner).await?;
    if endpoints.active_webhook_url().is_none() {
        return Err(AppError::Unprocessable(
            if endpoints.webhook_url.is_some() {
                "The webhook URL is disabled (the receiver answered 410 Gone). Save the URL again to resume deliveries, then resend.".into()
            } else {
                "There is no partner webhook URL to deliver to. Save one first, then resend.".into()
            },
        ));
    }
    let mut tx = state.db.begin_write().await?;
    if !store::webhooks::resend(&mut *tx, partner, id.as_str(), state.now_ms()).await? {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(partner),
        "webhook_event.resend",
        id.as_str(),
        "",
    )
    .await?;
    tx.commit().await?;
    state.webhooks_wakeup.notify_one();
    event(state, partner, id).await
}

/// One attempt of a leased event: sign, send, and decide what happens next.
pub async fn attempt(
    state: &AppState,
    due: &store::webhooks::DueEvent,
    secrets: &[String],
) -> Delivery {
    let attempt = due.attempts + 1;
    let now = state.now_ms();
    let record = |url: &str, ex: Option<&Exchange>, error: Option<String>, outcome| AttemptRecord {
        event_id: due.id.clone(),
        partner_id: due.partner_id.clone(),
        attempt,
        url: url.to_owned(),
        status_code: ex.and_then(|e| e.status).map(i64::from),
        latency_ms: ex.map_or(0, |e| e.latency_ms),
        response_excerpt: ex.and_then(|e| e.excerpt.clone()),
        error,
        created_ms: state.now_ms(),
        outcome,
    };
    let url = match (&due.webhook_url, due.webhook_disabled_ms) {
        (Some(url), None) => url.clone(),
        _ => {
            return Delivery {
                record: record("", None, None, Outcome::NoUrl),
                gone: false,
                exhausted: false,
            };
        }
    };
    // Saved while development mode allowed it, or before the rules tightened: not sent.
    if let Err(e) = WebhookUrl::parse(&url, "webhook_url", state.config.dev) {
        return Delivery {
            record: record(
                &url,
                None,
                Some(format!("the saved URL is not allowed: {}", e.message)),
                Outcome::Failed,
            ),
            gone: false,
            exhausted: true,
        };
    }
    let headers = match (&due.channel_id, &due.channel_secret) {
        // A number's messaging webhook: its own secret, Meta's signature header too, and the
        // headers its owner asked for.
        (Some(_), Some(secret)) => {
            let mut headers =
                signed_headers(std::slice::from_ref(secret), &due.id, now / 1000, &due.body);
            if let Ok(parsed) = WebhookSecret::parse(secret) {
                headers.push((
                    "x-hub-signature-256".to_owned(),
                    webhook_signature::hub_signature_256(&parsed, due.body.as_bytes()),
                ));
            }
            let extra = domain::message::WebhookHeaders::from_json(
                due.channel_headers.as_deref().unwrap_or("{}"),
            );
            headers.extend(extra.pairs().iter().cloned());
            headers
        }
        _ => signed_headers(secrets, &due.id, now / 1000, &due.body),
    };
    let exchange = state
        .webhook_client
        .post(&url, &headers, due.body.clone())
        .await;
    if exchange.is_success() {
        return Delivery {
            record: record(&url, Some(&exchange), None, Outcome::Delivered),
            gone: false,
            exhausted: false,
        };
    }
    let error = exchange.error.clone().or_else(|| {
        exchange
            .status
            .map(|s| format!("the receiver answered {s}"))
    });
    if exchange.status == Some(410) {
        return Delivery {
            record: record(&url, Some(&exchange), error, Outcome::Failed),
            gone: true,
            exhausted: false,
        };
    }
    let attempt_no = u32::try_from(attempt).unwrap_or(u32::MAX);
    let jitter = rand::random_range(-1.0..=1.0);
    match domain::webhook_retry::next_delay_ms(attempt_no, jitter) {
        Some(delay) => {
            let retry_after = exchange
                .retry_after
                .as_deref()
                .and_then(|h| domain::webhook_retry::parse_retry_after(h, now));
            let wait = domain::webhook_retry::with_retry_after(delay, retry_after);
            Delivery {
                record: record(&url, Some(&exchange), error, Outcome::RetryAt(now + wait)),
                gone: false,
                exhausted: false,
            }
        }
        None => Delivery {
            record: record(&url, Some(&exchange), error, Outcome::Failed),
            gone: false,
            exhausted: true,
        },
    }
}

/// The result of one attempt, with what the partner must hear about it.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub record: AttemptRecord,
    /// The receiver answered 410 Gone: stop delivering to this URL.
    pub gone: bool,
    /// The retry schedule is spent: the event failed for good.
    pub exhausted: bool,
}

/// After a batch is recorded: disable URLs that answered 410 and tell the Owners, and tell
/// the partner's users about events that failed for good (once while unread).
pub async fn after_batch(state: &AppState, deliveries: &[Delivery]) -> Result<(), AppError> {
    let now = state.now_ms();
    for d in deliveries {
        let Ok(partner) = PartnerId::parse(&d.record.partner_id) else {
            continue;
        };
        let link = format!("/partner/{partner}/integration/webhooks");
        if d.gone {
            let mut tx = state.db.begin_write().await?;
            if store::webhooks::disable(&mut *tx, &partner, &d.record.url, now).await? {
                let body = format!(
                    "{} answered 410 Gone, so deliveries stopped. Save the URL again (or a new one) on the Integration tab to resume; then resend what was missed.",
                    d.record.url
                );
                store::notifications::notify(
                    &mut *tx,
                    &partner,
                    Audience::Owners,
                    &NewNotification {
                        kind: "webhook_disabled",
                        title: "Webhook URL disabled",
                        body: &body,
                        link: Some(&format!("/partner/{partner}/integration")),
                    },
                    None,
                    now,
                )
                .await?;
                tracing::warn!(partner = %partner, "webhook URL answered 410; deliveries disabled");
            }
            tx.commit().await?;
        } else if d.exhausted {
            let body = format!(
                "Event {} could not be delivered to {} ({}). Retries are exhausted; fix the receiver and press Resend.",
                d.record.event_id,
                d.record.url,
                d.record.error.as_deref().unwrap_or("no 2xx answer")
            );
            {
                let mut tx = state.db.begin_write().await?;
                store::notifications::notify(
                    &mut *tx,
                    &partner,
                    Audience::Everyone,
                    &NewNotification {
                        kind: "webhook_failed",
                        title: "Webhook deliveries are failing",
                        body: &body,
                        link: Some(&link),
                    },
                    Some(now - 24 * 60 * 60 * 1000),
                    now,
                )
                .await?;
                tx.commit().await?;
            }
        }
    }
    Ok(())
}
