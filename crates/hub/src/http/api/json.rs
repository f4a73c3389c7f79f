//! The Partner API's envelopes and API-only objects. The objects webhook events share with the
//! API (partner, client, channel) live in `crate::wire` and are re-exported here.

use crate::clock::iso_ms;
use domain::listing::{After, ListQuery};
use serde::Serialize;
use store::clients::Client as StoreClient;
use utoipa::ToSchema;

pub use crate::wire::*;

/// The partners a credential may use.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerList<'a> {
    pub partners: Vec<Partner<'a>>,
}

/// How a list was asked for, echoed in its envelope, and where its next page starts.
#[derive(Debug)]
pub struct ListMeta {
    pub count: usize,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
    pub filters: serde_json::Value,
    pub sort: Vec<String>,
    pub next_cursor: Option<String>,
}

impl ListMeta {
    /// `next` is where the page after this one starts (the store's), `None` on the last page.
    pub fn new(count: usize, total: i64, query: &ListQuery, next: Option<&After>) -> ListMeta {
        ListMeta {
            count,
            total,
            limit: query.limit,
            offset: query.offset,
            filters: query.filters_json(),
            sort: query.sort_strings(),
            next_cursor: next.map(|after| query.cursor_after(after)),
        }
    }
}

/// A page of clients.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientList<'a> {
    /// Items on this page.
    pub count: usize,
    /// Items matching the filters.
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
    /// The filters applied, keyed by dotted field path.
    #[schema(value_type = Object)]
    pub filters: serde_json::Value,
    /// Sort keys applied; `-` means descending.
    pub sort: Vec<String>,
    /// Pass as `cursor` for the next page (same `sort` and `filters`); `null` on the last page.
    pub next_cursor: Option<String>,
    pub clients: Vec<Client<'a>>,
}

pub fn client_list<'a>(
    clients: &'a [StoreClient],
    total: i64,
    query: &ListQuery,
    next: Option<&After>,
) -> ClientList<'a> {
    let m = ListMeta::new(clients.len(), total, query, next);
    ClientList {
        count: m.count,
        total: m.total,
        limit: m.limit,
        offset: m.offset,
        filters: m.filters,
        sort: m.sort,
        next_cursor: m.next_cursor,
        clients: clients.iter().map(client).collect(),
    }
}

/// A page of channels.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelList<'a> {
    /// Items on this page.
    pub count: usize,
    /// Items matching the filters.
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
    /// The filters applied, keyed by dotted field path.
    #[schema(value_type = Object)]
    pub filters: serde_json::Value,
    /// Sort keys applied; `-` means descending.
    pub sort: Vec<String>,
    /// Pass as `cursor` for the next page (same `sort` and `filters`); `null` on the last page.
    pub next_cursor: Option<String>,
    pub partner_channels: Vec<Channel<'a>>,
}

pub fn channel_list<'a>(
    channels: Vec<Channel<'a>>,
    total: i64,
    query: &ListQuery,
    next: Option<&After>,
) -> ChannelList<'a> {
    let m = ListMeta::new(channels.len(), total, query, next);
    ChannelList {
        count: m.count,
        total: m.total,
        limit: m.limit,
        offset: m.offset,
        filters: m.filters,
        sort: m.sort,
        next_cursor: m.next_cursor,
        partner_channels: channels,
    }
}

/// The same document as [`channel_list`] for a page the database has already written as a JSON
/// array of channel objects (`store::channels::JsonPage::Written`): the envelope is serialised
/// here and the array is copied in as it is.
pub fn channel_list_json(
    channels: &str,
    count: usize,
    total: i64,
    query: &ListQuery,
    next: Option<&After>,
) -> String {
    let m = ListMeta::new(count, total, query, next);
    let mut out = String::with_capacity(channels.len() + 256);
    out.push_str("{\"count\":");
    out.push_str(&m.count.to_string());
    out.push_str(",\"total\":");
    out.push_str(&m.total.to_string());
    out.push_str(",\"limit\":");
    out.push_str(&m.limit.to_string());
    out.push_str(",\"offset\":");
    out.push_str(&m.offset.to_string());
    out.push_str(",\"filters\":");
    out.push_str(&m.filters.to_string());
    out.push_str(",\"sort\":");
    out.push_str(&serde_json::Value::from(m.sort).to_string());
    out.push_str(",\"next_cursor\":");
    out.push_str(&serde_json::Value::from(m.next_cursor).to_string());
    out.push_str(",\"partner_channels\":");
    out.push_str(channels);
    out.push('}');
    out
}

/// The channels a client shares with its partner (not paged).
#[derive(Debug, Serialize, ToSchema)]
pub struct SharedChannels<'a> {
    pub partner_channels: Vec<Channel<'a>>,
}

/// A new messaging API key; the secret is shown only here.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyCreated<'a> {
    /// Decimal string.
    #[schema(value_type = String)]
    pub id: &'a domain::ApiKeyId,
    /// The messaging API base URL.
    pub address: &'a str,
    pub api_key: &'a str,
    pub app_id: &'a str,
}

/// A messaging API key, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyInfo<'a> {
    #[schema(value_type = String)]
    pub id: &'a domain::ApiKeyId,
    pub address: &'a str,
    pub app_id: &'a str,
    pub api_key_prefix: &'a str,
    pub created_at: String,
}

/// A channel's messaging API keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyList<'a> {
    pub api_keys: Vec<ApiKeyInfo<'a>>,
}

/// Credentials for `POST /api/v2/token`.
#[derive(Debug, ToSchema)]
pub struct TokenRequest {
    /// The user's email.
    pub username: String,
    pub password: String,
}

/// A bearer token.
#[derive(Debug, Serialize, ToSchema)]
pub struct Token {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds.
    pub expires_in: i64,
}

/// OAuth-style error, returned by `POST /token` only.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError<'a> {
    /// `invalid_request`, `invalid_grant` or `slow_down`.
    pub error: &'a str,
    pub error_description: &'a str,
}

/// Every error outside `/token`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorEnvelope {
    pub meta: ErrorMeta,
}

/// The answers every call with credentials can get besides its own: the standard error
/// responses of the OpenAPI document, declared once.
#[derive(utoipa::IntoResponses)]
pub enum CredentialErrors {
    #[response(status = 401, description = "No or invalid credentials")]
    Unauthenticated(ErrorEnvelope),
    #[response(status = 500, description = "Server fault")]
    ServerFault(ErrorEnvelope),
}

/// `CredentialErrors` of a call on one partner, whose id the credential may not use.
#[derive(utoipa::IntoResponses)]
pub enum PartnerErrors {
    #[response(status = 401, description = "No or invalid credentials")]
    Unauthenticated(ErrorEnvelope),
    #[response(status = 403, description = "This credential cannot use this partner")]
    Forbidden(ErrorEnvelope),
    #[response(status = 500, description = "Server fault")]
    ServerFault(ErrorEnvelope),
}

/// The answers of a call with a JSON body that cannot be read at all.
#[derive(utoipa::IntoResponses)]
pub enum BodyErrors {
    #[response(status = 413, description = "Body too large")]
    TooLarge(ErrorEnvelope),
    #[response(status = 415, description = "Body is not JSON")]
    NotJson(ErrorEnvelope),
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorMeta {
    /// Always `false`.
    pub success: bool,
    /// The HTTP status again.
    pub http_code: u16,
    pub developer_message: String,
    /// One line per problem (validation errors).
    pub details: Vec<String>,
}

/// The partner's webhook URL.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookUrlOut {
    pub webhook_url: Option<String>,
}

/// What a webhook test produced.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookTestOut {
    /// True when the receiver answered 2xx.
    pub success: bool,
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    /// The first 1 KB of the response body.
    pub response_excerpt: Option<String>,
    /// The transport problem (DNS, TLS, refused, timeout) or why the status is a failure.
    pub error: Option<String>,
}

/// The secret deliveries are signed with (Standard Webhooks).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookSecretOut {
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

/// One delivery attempt of an event.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventAttempt<'a> {
    /// 1 for the first attempt (a Resend starts again at 1).
    pub attempt: i64,
    pub created_at: String,
    pub url: &'a str,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    /// The start of the receiver's answer (at most 20 KB).
    pub response_excerpt: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// A partner webhook event and its delivery so far.
#[derive(Debug, Serialize, ToSchema)]
pub struct Event<'a> {
    /// `evt_…`, also sent as `webhook-id`.
    pub id: &'a str,
    /// The event name, e.g. `channel_running`.
    pub event: &'a str,
    pub created_at: String,
    /// `pending`, `delivered`, `failed` or `no_url` (no webhook URL was set).
    pub state: &'a str,
    pub attempts_count: i64,
    pub next_attempt_at: Option<String>,
    pub delivered_at: Option<String>,
    /// The exact JSON body that is delivered.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    pub attempts: Vec<EventAttempt<'a>>,
}

pub fn event(e: &crate::services::webhooks::EventWithAttempts) -> Event<'_> {
    let ev = &e.event;
    Event {
        id: &ev.id,
        event: &ev.event_type,
        created_at: iso_ms(ev.created_ms),
        state: &ev.state,
        attempts_count: ev.attempts,
        next_attempt_at: ev.next_attempt_ms.map(iso_ms),
        delivered_at: ev.delivered_ms.map(iso_ms),
        payload: serde_json::from_str(&ev.body).unwrap_or(serde_json::Value::Null),
        attempts: e
            .attempts
            .iter()
            .map(|a| EventAttempt {
                attempt: a.attempt,
                created_at: iso_ms(a.created_ms),
                url: &a.url,
                status_code: a.status_code,
                latency_ms: a.latency_ms,
                response_excerpt: a.response_excerpt.as_deref(),
                error: a.error.as_deref(),
            })
            .collect(),
    }
}

/// A page of events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventList<'a> {
    pub count: usize,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
    #[schema(value_type = Object)]
    pub filters: serde_json::Value,
    pub sort: Vec<String>,
    /// Pass as `cursor` for the next page (same `sort`, `filters` and dates); `null` on the last page.
    pub next_cursor: Option<String>,
    pub events: Vec<Event<'a>>,
}

pub fn event_list<'a>(
    events: &'a [crate::services::webhooks::EventWithAttempts],
    total: i64,
    query: &ListQuery,
    next: Option<&After>,
) -> EventList<'a> {
    let m = ListMeta::new(events.len(), total, query, next);
    EventList {
        count: m.count,
        total: m.total,
        limit: m.limit,
        offset: m.offset,
        filters: m.filters,
        sort: m.sort,
        next_cursor: m.next_cursor,
        events: events.iter().map(event).collect(),
    }
}

/// A balance in its currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct BalanceOut {
    /// In major units (euros, dollars), exact to the micro-unit.
    #[schema(value_type = f64, example = 512.37)]
    pub total: domain::Micros,
    #[schema(example = "eur")]
    pub currency: &'static str,
}

/// One ledger entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerEntryOut<'a> {
    pub id: &'a str,
    /// `partner`, or the Direct-Payment client whose balance it is.
    pub account: String,
    /// `top_up`, `usage`, `refund` or `adjustment`.
    pub kind: &'static str,
    /// Positive credits, negative debits, in major units.
    #[schema(value_type = f64)]
    pub amount: domain::Micros,
    #[schema(value_type = f64)]
    pub balance_after: domain::Micros,
    pub currency: &'static str,
    /// What it is about: a message id (`wamid.…`), an adjustment, a top-up.
    pub reference: &'a str,
    pub description: &'a str,
    pub created_at: String,
}

/// A page of ledger entries.
#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerList<'a> {
    pub count: usize,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
    #[schema(value_type = Object)]
    pub filters: serde_json::Value,
    pub sort: Vec<String>,
    /// Pass as `cursor` for the next page (same `sort`, `filters` and dates); `null` on the last page.
    pub next_cursor: Option<String>,
    pub ledger_entries: Vec<LedgerEntryOut<'a>>,
}

pub fn ledger_list(
    entries: &[store::billing::Entry],
    m: ListMeta,
    currency: domain::Currency,
) -> LedgerList<'_> {
    LedgerList {
        count: m.count,
        total: m.total,
        limit: m.limit,
        offset: m.offset,
        filters: m.filters,
        sort: m.sort,
        next_cursor: m.next_cursor,
        ledger_entries: entries
            .iter()
            .map(|e| LedgerEntryOut {
                id: &e.id,
                account: match &e.holder {
                    store::billing::Holder::Partner => "partner".to_owned(),
                    store::billing::Holder::Client(c) => c.to_string(),
                },
                kind: e.kind.as_str(),
                amount: e.amount,
                balance_after: e.balance_after,
                currency: currency.as_str(),
                reference: &e.reference,
                description: &e.description,
                created_at: iso_ms(e.created_ms),
            })
            .collect(),
    }
}

/// One market's rates per delivered template message, in major units.
#[derive(Debug, Serialize, ToSchema)]
pub struct MarketRatesOut<'a> {
    pub market: &'a str,
    #[schema(value_type = f64)]
    pub marketing: domain::Micros,
    #[schema(value_type = f64)]
    pub utility: domain::Micros,
    #[schema(value_type = f64)]
    pub authentication: domain::Micros,
    /// `null` where the market has no such rate.
    #[schema(value_type = Option<f64>)]
    pub authentication_international: Option<domain::Micros>,
}

/// A rate card version.
#[derive(Debug, Serialize, ToSchema)]
pub struct RateCardOut<'a> {
    pub currency: &'static str,
    pub version: i64,
    /// The UTC day it took effect.
    pub effective_from: String,
    pub markets: Vec<MarketRatesOut<'a>>,
}

pub fn rate_card<'a>(
    version: &store::rate_cards::Version,
    card: &'a domain::pricing::RateCard,
) -> RateCardOut<'a> {
    RateCardOut {
        currency: version.currency.as_str(),
        version: version.version,
        effective_from: iso_ms(version.effective_from_ms)
            .get(..10)
            .unwrap_or_default()
            .to_owned(),
        markets: card
            .markets()
            .map(|m| MarketRatesOut {
                market: &m.market,
                marketing: m.marketing,
                utility: m.utility,
                authentication: m.authentication,
                authentication_international: m.authentication_international,
            })
            .collect(),
    }
}

/// `…/clients/{cid}/info/balance`: every key present, the relics of older pricing as 0.
pub fn client_usage(
    usage: &crate::services::billing::ClientUsage,
    granularity: crate::services::billing::Granularity,
) -> serde_json::Value {
    let zero = domain::Micros::ZERO;
    let periods: Vec<serde_json::Value> = usage
        .usage
        .iter()
        .map(|p| {
            let mut period = serde_json::json!({
                "period_date": iso_ms(p.period_ms),
                "quantity": p.quantity(),
                "free_quantity": p.quantity() - p.paid_quantity(),
                "paid_quantity": p.paid_quantity(),
                "free_tier": 0,
                "free_entry_point": 0,
                "business_initiated_quantity": 0,
                "business_initiated_paid_quantity": 0,
                "business_initiated_price": zero,
                "user_initiated_quantity": 0,
                "user_initiated_paid_quantity": 0,
                "user_initiated_price": zero,
            });
            if let Some(map) = period.as_object_mut() {
                for category in ["marketing", "utility", "authentication", "service"] {
                    let (quantity, paid, price) =
                        p.categories.get(category).copied().unwrap_or((0, 0, zero));
                    map.insert(format!("{category}_quantity"), quantity.into());
                    map.insert(format!("{category}_paid_quantity"), paid.into());
                    map.insert(
                        format!("{category}_price"),
                        serde_json::to_value(price).unwrap_or_default(),
                    );
                }
                map.insert(
                    "total_price".into(),
                    serde_json::to_value(p.total()).unwrap_or_default(),
                );
            }
            period
        })
        .collect();
    serde_json::json!({
        "balance": usage.balance,
        "currency": usage.currency.as_str(),
        "last_renewal": usage.last_renewal.map(|(at, amount)| serde_json::json!({"date": iso_ms(at), "amount": amount})),
        "estimated_template_cost": usage.estimated_template_cost,
        "granularity": match granularity {
            crate::services::billing::Granularity::Day => "day",
            crate::services::billing::Granularity::Month => "month",
        },
        "bi_price_for_currency_and_client_country": usage.estimated_template_cost,
        "ui_price_for_currency_and_client_country": zero,
        "usage": periods,
    })
}
