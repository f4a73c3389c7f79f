//! A number's messaging webhook: set with `POST /v1/configs/webhook`, signed with the number's own
//! secret (Standard Webhooks headers and Meta's `X-Hub-Signature-256`), and fed through the same
//! durable outbox as partner webhooks with Cloud API bodies: message statuses with their pricing,
//! and inbound messages.

use super::{MessagingError, Sender};
use crate::state::AppState;
use domain::message::WebhookHeaders;
use domain::webhook_event::EventId;
use domain::webhook_signature::WebhookSecret;
use domain::webhook_url::WebhookUrl;
use domain::{ChannelId, PartnerId};
use sqlx::AnyConnection;
use std::collections::HashMap;
use store::StoreError;
use store::channel_webhooks::{ChannelWebhook, Target};
use store::webhooks::PendingDelivery;

/// The outbox's `event_type` of a messaging webhook delivery (Meta's `field`).
const EVENT_TYPE: &str = "messages";

/// What `POST`/`GET /v1/configs/webhook` answer: the URL and header names; header values are
/// shown as set only in the answer that sets them, and the secret only when it is new.
pub fn webhook_json(
    hook: &ChannelWebhook,
    secret_shown: bool,
    values_shown: bool,
) -> serde_json::Value {
    let headers = WebhookHeaders::from_json(&hook.headers);
    let shown: serde_json::Map<String, serde_json::Value> = headers
        .pairs()
        .iter()
        .map(|(k, v)| {
            let value = if values_shown {
                v.clone()
            } else {
                "••••••".to_owned()
            };
            (k.clone(), value.into())
        })
        .collect();
    let mut out = serde_json::json!({"url": hook.url, "headers": shown});
    if secret_shown && let Some(map) = out.as_object_mut() {
        map.insert("secret".into(), hook.secret.clone().into());
    }
    out
}

/// Set the number's webhook; the first time, a secret is made and shown once.
pub async fn set(
    state: &AppState,
    sender: &Sender,
    body: &serde_json::Value,
) -> Result<serde_json::Value, MessagingError> {
    let url = match body.get("url") {
        Some(serde_json::Value::String(u)) => u,
        Some(_) => return Err(param("url", "must be a string")),
        None => return Err(param("url", "is required")),
    };
    let url =
        WebhookUrl::parse(url, "url", state.config.dev).map_err(|e| param("url", &e.message))?;
    let headers = WebhookHeaders::parse(body.get("headers"))?;
    let fresh = WebhookSecret::generate();
    let now = state.now_ms();
    let mut tx = state.db.begin_write().await?;
    let before =
        store::channel_webhooks::get(&mut *tx, &sender.partner.id, &sender.channel.id).await?;
    let hook = store::channel_webhooks::set(
        &mut tx,
        &sender.partner.id,
        &sender.channel.id,
        url.as_str(),
        &headers.to_json(),
        fresh.as_str(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(webhook_json(&hook, before.is_none(), true))
}

pub async fn get(state: &AppState, sender: &Sender) -> Result<serde_json::Value, MessagingError> {
    let hook =
        store::channel_webhooks::get(state.db.pool(), &sender.partner.id, &sender.channel.id)
            .await?
            .ok_or_else(|| {
                MessagingError::NotFound(
                    "This number has no messaging webhook; set one with POST /v1/configs/webhook."
                        .into(),
                )
            })?;
    Ok(webhook_json(&hook, false, false))
}

/// A new secret, shown once; the old one stops signing at once.
pub async fn rotate(
    state: &AppState,
    sender: &Sender,
) -> Result<serde_json::Value, MessagingError> {
    let fresh = WebhookSecret::generate();
    let mut tx = state.db.begin_write().await?;
    let rotated = store::channel_webhooks::rotate_secret(
        &mut tx,
        &sender.partner.id,
        &sender.channel.id,
        fresh.as_str(),
        state.now_ms(),
    )
    .await?;
    tx.commit().await?;
    if !rotated {
        return Err(MessagingError::NotFound(
            "This number has no messaging webhook; set one with POST /v1/configs/webhook.".into(),
        ));
    }
    Ok(serde_json::json!({"secret": fresh.as_str()}))
}

fn param(field: &str, message: &str) -> MessagingError {
    MessagingError::InvalidParameter(domain::message::ParamError {
        field: field.into(),
        message: message.into(),
    })
}

/// The Cloud API's envelope around `value`, naming the number as Meta does (`metadata`, and the
/// WABA as the entry's id).
fn envelope(number: &Target, value: serde_json::Value) -> serde_json::Value {
    let mut value = value;
    if let Some(map) = value.as_object_mut() {
        map.insert("messaging_product".into(), "whatsapp".into());
        map.insert(
            "metadata".into(),
            serde_json::json!({
                "display_phone_number": number.phone_number.trim_start_matches('+'),
                "phone_number_id": number.external_id.as_deref().unwrap_or(number.channel_id.as_str()),
            }),
        );
    }
    let waba = number
        .waba_external_id
        .as_deref()
        .unwrap_or(number.waba_id.as_str());
    serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": waba, "changes": [{"value": value, "field": "messages"}]}],
    })
}

/// The numbers a batch of reports touches, read once: whether each has a messaging webhook,
/// and how its deliveries name it.
#[derive(Debug, Default)]
pub struct Numbers(HashMap<String, Option<Target>>);

impl Numbers {
    /// Read every number of `channels` not read yet, in one query.
    pub async fn load(
        &mut self,
        conn: &mut AnyConnection,
        channels: &[&str],
    ) -> Result<(), StoreError> {
        let mut missing: Vec<&str> = channels
            .iter()
            .copied()
            .filter(|c| !self.0.contains_key(*c))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if missing.is_empty() {
            return Ok(());
        }
        for target in store::channel_webhooks::targets(conn, &missing).await? {
            self.0.insert(target.channel_id.clone(), Some(target));
        }
        for channel in missing {
            self.0.entry(channel.to_owned()).or_insert(None);
        }
        Ok(())
    }

    /// The number, when it has a messaging webhook (it must have been loaded).
    fn with_webhook(&self, channel: &ChannelId) -> Option<&Target> {
        self.0.get(channel.as_str()).and_then(Option::as_ref)
    }
}

/// A delivery of `value` to the number's messaging webhook, if it has one.
fn delivery(
    numbers: &Numbers,
    partner: &PartnerId,
    channel: &ChannelId,
    value: serde_json::Value,
) -> Option<PendingDelivery> {
    let number = numbers.with_webhook(channel)?;
    Some(PendingDelivery {
        id: EventId::generate().as_str().to_owned(),
        partner_id: partner.clone(),
        channel_id: channel.clone(),
        event_type: EVENT_TYPE,
        body: envelope(number, value).to_string(),
    })
}

/// Queue a delivery to the number's messaging webhook, if it has one (in the caller's
/// transaction).
async fn enqueue(
    conn: &mut AnyConnection,
    state: &AppState,
    numbers: &mut Numbers,
    partner: &PartnerId,
    channel: &ChannelId,
    value: serde_json::Value,
) -> Result<(), StoreError> {
    numbers.load(conn, &[channel.as_str()]).await?;
    let Some(delivery) = delivery(numbers, partner, channel, value) else {
        return Ok(());
    };
    store::webhooks::insert_pending(conn, &[delivery], state.now_ms()).await
}

/// A message's status as Meta reports it, with its pricing (the `value` of a delivery).
fn status_value(
    state: &AppState,
    message: &store::messages::Message,
    status: &str,
    error: Option<(i64, &str)>,
) -> serde_json::Value {
    let billable = message.pricing_type == domain::pricing::PricingType::Regular.as_str();
    let mut item = serde_json::json!({
        "id": message.id,
        "status": status,
        "timestamp": (state.now_ms() / 1000).to_string(),
        "recipient_id": message.recipient,
        "pricing": {
            "billable": billable,
            "pricing_model": "PMP",
            "category": message.category.as_str(),
            "type": message.pricing_type,
        },
    });
    if let (Some((code, title)), Some(map)) = (error, item.as_object_mut()) {
        map.insert(
            "errors".into(),
            serde_json::json!([{"code": code, "title": title, "message": title}]),
        );
    }
    serde_json::json!({"statuses": [item]})
}

/// A message's new status, queued to its number's webhook (in the caller's transaction).
pub async fn status_in(
    conn: &mut AnyConnection,
    state: &AppState,
    numbers: &mut Numbers,
    message: &store::messages::Message,
    status: &str,
    error: Option<(i64, &str)>,
) -> Result<(), StoreError> {
    let value = status_value(state, message, status, error);
    enqueue(
        conn,
        state,
        numbers,
        &message.partner_id,
        &message.channel_id,
        value,
    )
    .await
}

/// The delivery of a message's new status, for a number already loaded into `numbers`.
pub fn status_delivery(
    state: &AppState,
    numbers: &Numbers,
    message: &store::messages::Message,
    status: &str,
) -> Option<PendingDelivery> {
    delivery(
        numbers,
        &message.partner_id,
        &message.channel_id,
        status_value(state, message, status, None),
    )
}

/// An inbound message from a user.
pub async fn inbound_in(
    conn: &mut AnyConnection,
    state: &AppState,
    partner: &PartnerId,
    channel: &ChannelId,
    from: &str,
    text: &str,
) -> Result<(), StoreError> {
    let id = format!("wamid.in.{}", domain::ids::row_id("msg"));
    let value = serde_json::json!({
        "contacts": [{"profile": {"name": ""}, "wa_id": from}],
        "messages": [{
            "from": from,
            "id": id,
            "timestamp": (state.now_ms() / 1000).to_string(),
            "type": "text",
            "text": {"body": text},
        }],
    });
    enqueue(
        conn,
        state,
        &mut Numbers::default(),
        partner,
        channel,
        value,
    )
    .await
}
