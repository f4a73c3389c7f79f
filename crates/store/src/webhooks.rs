//! Partner webhooks: the endpoint settings on the partner row, the signing secrets, and the
//! durable outbox of events with every delivery attempt. Events are inserted in the transaction
//! of the change that caused them; the dispatcher leases due events, delivers them and records
//! the outcomes of many attempts in one transaction.

use crate::select::{Bind, Select};
use crate::{Backend, Db, StoreError, dialect};
use domain::ids::row_id;
use domain::listing::{After, KeyValue, SortKey};
use domain::{ChannelId, PartnerId};
use sqlx::{Any, Executor};
use std::collections::HashMap;

/// Where a partner's events and clients go.
#[derive(Clone, Debug, Default, sqlx::FromRow)]
pub struct Endpoints {
    pub webhook_url: Option<String>,
    pub redirect_url: Option<String>,
    /// Set when the receiver answered 410 Gone; nothing is delivered until the URL is saved again.
    pub webhook_disabled_ms: Option<i64>,
}

impl Endpoints {
    /// The URL deliveries go to now: none while unset or disabled.
    pub fn active_webhook_url(&self) -> Option<&str> {
        match self.webhook_disabled_ms {
            Some(_) => None,
            None => self.webhook_url.as_deref(),
        }
    }
}

pub async fn endpoints<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
) -> Result<Option<Endpoints>, StoreError> {
    Ok(sqlx::query_as::<_, Endpoints>(
        "SELECT webhook_url, redirect_url, webhook_disabled_ms FROM partners WHERE id = $1",
    )
    .bind(partner.as_str())
    .fetch_optional(ex)
    .await?)
}

/// Save (or clear) the webhook URL. Saving also lifts a 410 suspension: the partner has said
/// where events should go now.
pub async fn set_webhook_url<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    url: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE partners SET webhook_url = $1, webhook_disabled_ms = NULL WHERE id = $2")
        .bind(url)
        .bind(partner.as_str())
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn set_redirect_url<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    url: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE partners SET redirect_url = $1 WHERE id = $2")
        .bind(url)
        .bind(partner.as_str())
        .execute(ex)
        .await?;
    Ok(())
}

/// Stop deliveries after a 410 from `url`; `false` when the URL changed meanwhile (the new one
/// has not been refused).
pub async fn disable<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    url: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE partners SET webhook_disabled_ms = $1
          WHERE id = $2 AND webhook_url = $3 AND webhook_disabled_ms IS NULL",
    )
    .bind(now_ms)
    .bind(partner.as_str())
    .bind(url)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Defaults for numbers created or migrated from now on. `None` keeps a field; a region of
/// `Some(None)` means the US default (no localisation).
pub async fn set_defaults<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    hosting_type: Option<&str>,
    region: Option<Option<&str>>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE partners SET
            default_hosting_type = COALESCE($1, default_hosting_type),
            default_data_storage_region = CASE WHEN $2 = 1 THEN $3 ELSE default_data_storage_region END
          WHERE id = $4",
    )
    .bind(hosting_type)
    .bind(i64::from(region.is_some()))
    .bind(region.flatten())
    .bind(partner.as_str())
    .execute(ex)
    .await?;
    Ok(())
}

/// A signing secret of a partner.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SecretRow {
    pub secret: String,
    pub created_ms: i64,
    pub retires_ms: Option<i64>,
}

/// The secrets that sign deliveries now: the current one first, then any rotated-out secret
/// still inside its grace period.
pub async fn signing_secrets<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    now_ms: i64,
) -> Result<Vec<SecretRow>, StoreError> {
    Ok(sqlx::query_as::<_, SecretRow>(
        "SELECT secret, created_ms, retires_ms FROM webhook_secrets
          WHERE partner_id = $1 AND (retires_ms IS NULL OR retires_ms > $2)
          ORDER BY CASE WHEN retires_ms IS NULL THEN 0 ELSE 1 END, created_ms DESC",
    )
    .bind(partner.as_str())
    .bind(now_ms)
    .fetch_all(ex)
    .await?)
}

/// Signing secrets of many partners at once, for a batch of deliveries.
pub async fn signing_secrets_of(
    db: &Db,
    partners: &[&str],
    now_ms: i64,
) -> Result<HashMap<String, Vec<String>>, StoreError> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in partners.chunks(200) {
        let mut q = Select::new(
            "SELECT partner_id, secret FROM webhook_secrets WHERE (retires_ms IS NULL OR retires_ms > ",
        );
        q.bind(Bind::Int(now_ms))
            .push(") AND partner_id IN (")
            .bind_texts(chunk.iter().copied())
            .push(") ORDER BY partner_id, CASE WHEN retires_ms IS NULL THEN 0 ELSE 1 END, created_ms DESC");
        let rows: Vec<(String, String)> = q.fetch_all(db.pool()).await?;
        for (partner, secret) in rows {
            out.entry(partner).or_default().push(secret);
        }
    }
    Ok(out)
}

/// Make `secret` the current one; the previous current secret keeps signing until `retire_at_ms`.
pub async fn rotate_secret(
    conn: &mut sqlx::AnyConnection,
    partner: &PartnerId,
    secret: &str,
    retire_at_ms: i64,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE webhook_secrets SET retires_ms = $1 WHERE partner_id = $2 AND retires_ms IS NULL",
    )
    .bind(retire_at_ms)
    .bind(partner.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO webhook_secrets (id, partner_id, secret, created_ms) VALUES ($1, $2, $3, $4)",
    )
    .bind(row_id("whs"))
    .bind(partner.as_str())
    .bind(secret)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// An event to put in the outbox.
#[derive(Debug)]
pub struct NewEvent<'a> {
    pub id: &'a str,
    /// The number whose messaging webhook receives it; `None` for the partner's webhook.
    pub channel_id: Option<&'a ChannelId>,
    pub event_type: &'a str,
    /// The exact JSON body every attempt sends.
    pub body: &'a str,
    /// `pending` (deliver from `next_attempt_ms`) or `no_url`.
    pub state: &'a str,
}

pub async fn insert_event<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    event: &NewEvent<'_>,
    now_ms: i64,
) -> Result<(), StoreError> {
    let next = (event.state == "pending").then_some(now_ms);
    sqlx::query(
        "INSERT INTO webhook_events (id, partner_id, event_type, body, state, next_attempt_ms, created_ms, updated_ms, channel_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)",
    )
    .bind(event.id)
    .bind(partner.as_str())
    .bind(event.event_type)
    .bind(event.body)
    .bind(event.state)
    .bind(next)
    .bind(now_ms)
    .bind(event.channel_id.map(ChannelId::as_str))
    .execute(ex)
    .await?;
    Ok(())
}

/// An event leased for delivery, with where it goes now.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DueEvent {
    pub id: String,
    pub partner_id: String,
    pub event_type: String,
    pub body: String,
    pub attempts: i64,
    pub webhook_url: Option<String>,
    pub webhook_disabled_ms: Option<i64>,
    /// Set for a number's messaging webhook event: its own secret and extra headers.
    pub channel_id: Option<String>,
    pub channel_secret: Option<String>,
    pub channel_headers: Option<String>,
}

/// Lease up to `max` due events until `now_ms + lease_ms`.
pub async fn claim_due(
    db: &Db,
    now_ms: i64,
    lease_ms: i64,
    max: i64,
) -> Result<Vec<DueEvent>, StoreError> {
    let mut tx = db.begin_background_write().await?;
    let ids: Vec<(String,)> = sqlx::query_as(dialect::claim_webhook_events(db.backend()))
        .bind(now_ms)
        .bind(now_ms + lease_ms)
        .bind(max)
        .fetch_all(&mut *tx)
        .await?;
    if ids.is_empty() {
        tx.commit().await?;
        return Ok(Vec::new());
    }
    let mut q = Select::new(
        "SELECT e.id, e.partner_id, e.event_type, e.body, e.attempts,
                CASE WHEN e.channel_id IS NULL THEN p.webhook_url ELSE w.url END AS webhook_url,
                CASE WHEN e.channel_id IS NULL THEN p.webhook_disabled_ms ELSE NULL END AS webhook_disabled_ms,
                e.channel_id, w.secret AS channel_secret, w.headers AS channel_headers
           FROM webhook_events e JOIN partners p ON p.id = e.partner_id
           LEFT JOIN channel_webhooks w ON w.channel_id = e.channel_id AND w.partner_id = e.partner_id
          WHERE e.id IN (",
    );
    q.bind_texts(ids.iter().map(|(id,)| id.as_str()))
        .push(") ORDER BY e.next_attempt_ms");
    let due = q.fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(due)
}

/// What happened to an event after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Try again at this time.
    RetryAt(i64),
    /// The schedule is spent, or the receiver said 410 Gone.
    Failed,
    /// No URL to deliver to (unset or disabled): kept for Resend.
    NoUrl,
}

/// One delivery attempt and its consequence for the event.
#[derive(Clone, Debug)]
pub struct AttemptRecord {
    pub event_id: String,
    pub partner_id: String,
    /// The event's attempt count after this attempt (1 for the first).
    pub attempt: i64,
    pub url: String,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
    pub created_ms: i64,
    pub outcome: Outcome,
}

/// Store a batch of attempts and move their events on, in one transaction. An event that was
/// resent meanwhile (its lease was cleared) is still updated: the newest outcome wins.
pub async fn record_attempts(db: &Db, records: &[AttemptRecord]) -> Result<(), StoreError> {
    if records.is_empty() {
        return Ok(());
    }
    let mut tx = db.begin_background_write().await?;
    record_attempts_in(&mut tx, records).await?;
    tx.commit().await?;
    Ok(())
}

/// `record_attempts` inside the caller's transaction: the attempts in one statement and the
/// events' new states in another, per fifty.
pub async fn record_attempts_in(
    tx: &mut sqlx::AnyConnection,
    records: &[AttemptRecord],
) -> Result<(), StoreError> {
    for chunk in records.chunks(crate::select::MAX_LIST / 2) {
        insert_attempts(tx, chunk).await?;
        update_events(tx, chunk).await?;
    }
    Ok(())
}

async fn insert_attempts(
    tx: &mut sqlx::AnyConnection,
    records: &[AttemptRecord],
) -> Result<(), StoreError> {
    let mut q = Select::new(
        "INSERT INTO webhook_attempts (id, event_id, partner_id, attempt, url, status_code, latency_ms, response_excerpt, error, created_ms) VALUES ",
    );
    let mut rows = 0;
    // An event with no URL had no attempt.
    for r in records.iter().filter(|r| r.outcome != Outcome::NoUrl) {
        q.values_row(
            rows == 0,
            [
                Bind::Text(row_id("att")),
                Bind::Text(r.event_id.clone()),
                Bind::Text(r.partner_id.clone()),
                Bind::Int(r.attempt),
                Bind::Text(r.url.clone()),
                Bind::OptionalInt(r.status_code),
                Bind::Int(r.latency_ms),
                Bind::OptionalText(r.response_excerpt.clone()),
                Bind::OptionalText(r.error.clone()),
                Bind::Int(r.created_ms),
            ],
        );
        rows += 1;
    }
    if rows > 0 {
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Each event's new state from a `VALUES` list joined by id (`UPDATE … FROM`, which SQLite and
/// PostgreSQL both read; both name a `VALUES` list's columns `column1`, `column2`, …).
async fn update_events(
    tx: &mut sqlx::AnyConnection,
    records: &[AttemptRecord],
) -> Result<(), StoreError> {
    if records.is_empty() {
        return Ok(());
    }
    let mut q = Select::new(
        "UPDATE webhook_events SET state = v.column2, next_attempt_ms = v.column3, lease_until_ms = NULL,
                attempts = v.column4, last_status = v.column5, last_error = v.column6,
                delivered_ms = COALESCE(v.column7, webhook_events.delivered_ms), updated_ms = v.column8
           FROM (VALUES ",
    );
    for (i, r) in records.iter().enumerate() {
        let (state, next, delivered) = match r.outcome {
            Outcome::Delivered => ("delivered", None, Some(r.created_ms)),
            Outcome::RetryAt(at) => ("pending", Some(at), None),
            Outcome::Failed => ("failed", None, None),
            Outcome::NoUrl => ("no_url", None, None),
        };
        let attempts = if r.outcome == Outcome::NoUrl {
            r.attempt - 1
        } else {
            r.attempt
        };
        q.values_row(
            i == 0,
            [
                Bind::Text(r.event_id.clone()),
                Bind::Text(state.to_owned()),
                Bind::OptionalInt(next),
                Bind::Int(attempts),
                Bind::OptionalInt(r.status_code),
                Bind::OptionalText(r.error.clone()),
                Bind::OptionalInt(delivered),
                Bind::Int(r.created_ms),
            ],
        );
    }
    q.push(") AS v WHERE webhook_events.id = v.column1");
    q.execute(&mut *tx).await?;
    Ok(())
}

/// After a restart of the only process that uses a SQLite file, no lease can belong to anyone
/// alive: release them so interrupted deliveries resume at once. (On PostgreSQL other instances
/// may hold leases; there they simply expire.)
pub async fn release_leases_after_restart(db: &Db) -> Result<u64, StoreError> {
    if db.backend() != Backend::Sqlite {
        return Ok(0);
    }
    let mut tx = db.begin_write().await?;
    let done = sqlx::query(
        "UPDATE webhook_events SET lease_until_ms = NULL WHERE state = 'pending' AND lease_until_ms IS NOT NULL",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

/// An event as the deliveries page and the API show it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EventRow {
    pub id: String,
    pub event_type: String,
    pub body: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_ms: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_ms: i64,
    pub delivered_ms: Option<i64>,
}

/// Which events to list.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    pub event_type: Option<String>,
    pub state: Option<String>,
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub oldest_first: bool,
}

/// The partner's own events: a number's messaging webhook events are the number's.
fn event_where(q: &mut Select, partner: &PartnerId, filter: &EventFilter) {
    q.push(" WHERE channel_id IS NULL AND partner_id = ")
        .bind(Bind::Text(partner.as_str().to_owned()));
    if let Some(t) = &filter.event_type {
        q.push(" AND event_type = ").bind(Bind::Text(t.clone()));
    }
    if let Some(s) = &filter.state {
        q.push(" AND state = ").bind(Bind::Text(s.clone()));
    }
    if let Some(from) = filter.from_ms {
        q.push(" AND created_ms >= ").bind(Bind::Int(from));
    }
    if let Some(until) = filter.until_ms {
        q.push(" AND created_ms < ").bind(Bind::Int(until));
    }
}

/// One page of the partner's events, newest first (or oldest), how many match in all, and
/// where the next page starts when there is one: after the last event's `(created_ms, id)`.
pub async fn list_events(
    db: &Db,
    partner: &PartnerId,
    filter: &EventFilter,
    limit: i64,
    offset: i64,
    after: Option<&After>,
) -> Result<(Vec<EventRow>, i64, Option<After>), StoreError> {
    let sort = [SortKey {
        field: "created_at",
        descending: !filter.oldest_first,
    }];
    let columns = &[("created_at", "created_ms")];
    let mut q = Select::new(
        "SELECT id, event_type, body, state, attempts, next_attempt_ms, last_status, last_error, created_ms, delivered_ms
           FROM webhook_events",
    );
    event_where(&mut q, partner, filter);
    if let Some(after) = after {
        q.after(&sort, columns, "id", after);
    }
    q.order_by(&sort, columns, "id");
    // One row more than the page says whether there is a next one.
    q.push(" LIMIT ")
        .bind(Bind::Int(limit + 1))
        .push(" OFFSET ")
        .bind(Bind::Int(offset));
    let mut rows: Vec<EventRow> = q.fetch_all(db.pool()).await?;
    let mut next = None;
    if i64::try_from(rows.len()).unwrap_or(i64::MAX) > limit {
        rows.pop();
        next = rows.last().map(|last| After {
            values: vec![KeyValue::Int(last.created_ms)],
            id: last.id.clone(),
        });
    }
    let mut c = Select::new("SELECT CAST(COUNT(*) AS BIGINT) FROM webhook_events");
    event_where(&mut c, partner, filter);
    let total = c.fetch_count(db.pool()).await?;
    Ok((rows, total, next))
}

pub async fn event<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &str,
) -> Result<Option<EventRow>, StoreError> {
    Ok(sqlx::query_as::<_, EventRow>(
        "SELECT id, event_type, body, state, attempts, next_attempt_ms, last_status, last_error, created_ms, delivered_ms
           FROM webhook_events WHERE partner_id = $1 AND id = $2 AND channel_id IS NULL",
    )
    .bind(partner.as_str())
    .bind(id)
    .fetch_optional(ex)
    .await?)
}

/// A stored delivery attempt.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AttemptRow {
    pub event_id: String,
    pub attempt: i64,
    pub url: String,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub response_excerpt: Option<String>,
    pub error: Option<String>,
    pub created_ms: i64,
}

/// Every attempt of the given events of the partner, oldest first.
pub async fn attempts_of(
    db: &Db,
    partner: &PartnerId,
    event_ids: &[&str],
) -> Result<Vec<AttemptRow>, StoreError> {
    if event_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Select::new(
        "SELECT event_id, attempt, url, status_code, latency_ms, response_excerpt, error, created_ms
           FROM webhook_attempts WHERE partner_id = ",
    );
    q.bind(Bind::Text(partner.as_str().to_owned()))
        .push(" AND event_id IN (")
        .bind_texts(event_ids.iter().copied())
        .push(") ORDER BY created_ms, id");
    Ok(q.fetch_all(db.pool()).await?)
}

/// Deliver the event again from now, with a fresh retry schedule. `false` if there is no such
/// event of this partner.
pub async fn resend<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE webhook_events SET state = 'pending', attempts = 0, next_attempt_ms = $1,
                lease_until_ms = NULL, updated_ms = $1
          WHERE partner_id = $2 AND id = $3 AND channel_id IS NULL",
    )
    .bind(now_ms)
    .bind(partner.as_str())
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// How many events wait in each state, for `/metrics` and the staff console.
pub async fn count_by_state<'e>(
    ex: impl Executor<'e, Database = Any>,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(sqlx::query_as::<_, (String, i64)>(
        "SELECT state, CAST(COUNT(*) AS BIGINT) FROM webhook_events GROUP BY state ORDER BY state",
    )
    .fetch_all(ex)
    .await?)
}

/// A pending delivery to a number's messaging webhook, written with others in one statement.
#[derive(Clone, Debug)]
pub struct PendingDelivery {
    pub id: String,
    pub partner_id: PartnerId,
    pub channel_id: ChannelId,
    pub event_type: &'static str,
    /// The exact JSON body every attempt sends.
    pub body: String,
}

/// Queue many messaging-webhook deliveries, due now, in the caller's transaction.
pub async fn insert_pending(
    conn: &mut sqlx::AnyConnection,
    deliveries: &[PendingDelivery],
    now_ms: i64,
) -> Result<(), StoreError> {
    // Nine values a row: a statement stays under `MAX_LIST` rows and a thousand values.
    for chunk in deliveries.chunks(crate::select::MAX_LIST / 2) {
        let mut q = Select::new(
            "INSERT INTO webhook_events (id, partner_id, event_type, body, state, next_attempt_ms, created_ms, updated_ms, channel_id) VALUES ",
        );
        for (i, d) in chunk.iter().enumerate() {
            q.values_row(
                i == 0,
                [
                    Bind::Text(d.id.clone()),
                    Bind::Text(d.partner_id.as_str().to_owned()),
                    Bind::Text(d.event_type.to_owned()),
                    Bind::Text(d.body.clone()),
                    Bind::Text("pending".to_owned()),
                    Bind::Int(now_ms),
                    Bind::Int(now_ms),
                    Bind::Int(now_ms),
                    Bind::Text(d.channel_id.as_str().to_owned()),
                ],
            );
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}
