//! The Messaging API's use cases: a number's key names the number; sending prices the message
//! (its template's category, the recipient's market, the customer service window) and debits the
//! paying account in the transaction that accepts it; templates are submitted and decided by the
//! provider; inbound messages open windows; the provider's reports settle messages (a failed
//! message is refunded once).

pub mod error;
pub mod reports;
pub mod send;
pub mod templates;
pub mod webhook;

use crate::state::AppState;
use domain::{ApiKeyId, ChannelStatus, TokenHash};
pub use error::MessagingError;
use store::channels::ChannelView;
use store::partners::Partner;

/// A number, as its messaging key names it, with its partner's billing settings.
#[derive(Clone, Debug)]
pub struct Sender {
    pub key_id: ApiKeyId,
    pub partner: Partner,
    pub channel: ChannelView,
    pub settings: store::billing::Settings,
}

/// Longest key accepted before hashing; real keys are far shorter.
const MAX_KEY_CHARS: usize = 256;

/// The number a `D360-API-KEY` names; unknown, revoked or missing keys are refused alike.
pub async fn authenticate(
    state: &AppState,
    presented: Option<&str>,
) -> Result<Sender, MessagingError> {
    let presented = presented
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_CHARS)
        .ok_or(MessagingError::Unauthenticated)?;
    let hash = TokenHash::of(presented);
    let now = state.now_ms();
    if let Some(known) = state.messaging_keys.get(hash.as_str(), now) {
        return Ok(Sender {
            key_id: known.key_id,
            partner: known.partner,
            channel: known.channel,
            settings: known.settings,
        });
    }
    let pool = state.db.pool();
    let key = store::api_keys::messaging_key_by_hash(pool, &hash)
        .await?
        .ok_or(MessagingError::Unauthenticated)?;
    let partner = store::partners::get(pool, &key.partner_id)
        .await?
        .ok_or(MessagingError::Unauthenticated)?;
    let channel = store::channels::get(pool, &key.partner_id, &key.channel_id)
        .await?
        .ok_or(MessagingError::Unauthenticated)?;
    let settings = store::billing::settings(pool, &key.partner_id).await?;
    state.messaging_keys.put(
        hash.as_str().to_owned(),
        now,
        crate::state::messaging_keys::KnownKey {
            key_id: key.id.clone(),
            partner: partner.clone(),
            channel: channel.clone(),
            settings,
        },
    );
    Ok(Sender {
        key_id: key.id,
        partner,
        channel,
        settings,
    })
}

impl Sender {
    /// Whether the number can send at all (running, or cancelled but not yet at month end).
    pub fn can_send(&self) -> Result<(), MessagingError> {
        match self.channel.status {
            ChannelStatus::Running | ChannelStatus::PendingDeletion => Ok(()),
            other => Err(MessagingError::NotRegistered(format!(
                "The number {} is {}, not running, so it cannot send messages.",
                self.channel.phone_number,
                other.as_str()
            ))),
        }
    }

    /// The number's E.164 digits, for the authentication-international rule.
    pub fn digits(&self) -> &str {
        self.channel.phone_number.trim_start_matches('+')
    }
}

/// `GET /health_status`: whether the number can send now, in the Cloud API's shape.
pub async fn health(
    state: &AppState,
    sender: &Sender,
) -> Result<serde_json::Value, MessagingError> {
    let mut errors = Vec::new();
    if let Err(e) = sender.can_send() {
        errors.push(
            serde_json::json!({"error_code": 133010, "error_description": e.cloud().details}),
        );
    }
    if let Some(refusal) = send::balance_refusal(state, sender).await? {
        let cloud = refusal.cloud();
        errors.push(
            serde_json::json!({"error_code": cloud.code, "error_description": cloud.details}),
        );
    }
    let can = if errors.is_empty() {
        "AVAILABLE"
    } else {
        "BLOCKED"
    };
    Ok(serde_json::json!({
        "health_status": {
            "can_send_message": can,
            "entities": [{
                "entity_type": "PHONE_NUMBER",
                "id": sender.channel.id.as_str(),
                "can_send_message": can,
                "errors": errors,
            }],
        },
    }))
}
