//! Partner webhook events: written to the outbox in the same transaction as the change that
//! caused them, so a crash right after the commit loses nothing. The dispatcher
//! (`jobs::webhook_dispatch`) delivers them.
//!
//! Channel status changes go through `transition` here rather than the store directly, so no
//! status change can forget its event.

use crate::clock::iso_ms;
use crate::state::AppState;
use crate::wire;
use domain::webhook_event::{EventId, EventType};
use domain::{ChannelId, ChannelStatus, PartnerId};
use sqlx::AnyConnection;
use store::StoreError;
use store::notifications::{Audience, NewNotification};

/// The exact body every delivery of an event sends.
pub fn body(id: &EventId, event: EventType, created_ms: i64, data: &serde_json::Value) -> String {
    serde_json::json!({
        "id": id.as_str(),
        "event": event.as_str(),
        "created_at": iso_ms(created_ms),
        "data": data,
    })
    .to_string()
}

/// Put an event in the partner's outbox. Without an active webhook URL it is stored as
/// `no_url`: visible on the deliveries page and resendable once a URL is set.
pub async fn emit(
    conn: &mut AnyConnection,
    state: &AppState,
    partner: &PartnerId,
    event: EventType,
    data: &serde_json::Value,
) -> Result<EventId, StoreError> {
    let now = state.now_ms();
    let id = EventId::generate();
    let endpoints = store::webhooks::endpoints(&mut *conn, partner).await?;
    let deliverable = endpoints
        .as_ref()
        .and_then(store::webhooks::Endpoints::active_webhook_url)
        .is_some();
    let body = body(&id, event, now, data);
    store::webhooks::insert_event(
        &mut *conn,
        partner,
        &store::webhooks::NewEvent {
            channel_id: None,
            id: id.as_str(),
            event_type: event.as_str(),
            body: &body,
            state: if deliverable { "pending" } else { "no_url" },
        },
        now,
    )
    .await?;
    Ok(id)
}

/// The channel object of the Partner API, as `channel_*` and `cancellation_*` events carry it.
async fn channel_data(
    conn: &mut AnyConnection,
    partner: &PartnerId,
    id: &ChannelId,
) -> Result<Option<serde_json::Value>, StoreError> {
    let Some(view) = store::channels::get(&mut *conn, partner, id).await? else {
        return Ok(None);
    };
    serde_json::to_value(wire::channel(&view))
        .map(Some)
        .map_err(|e| StoreError::Corrupt(format!("channel {id} does not serialise: {e}")))
}

/// Emit a channel event with the channel as it is now (inside the caller's transaction).
pub async fn channel_event(
    conn: &mut AnyConnection,
    state: &AppState,
    partner: &PartnerId,
    id: &ChannelId,
    event: EventType,
) -> Result<(), StoreError> {
    if let Some(data) = channel_data(conn, partner, id).await? {
        emit(conn, state, partner, event, &data).await?;
    }
    Ok(())
}

/// The event a status change announces: the specific one where the vocabulary has one, the
/// generic `channel_status_changed` otherwise.
pub fn event_for(from: ChannelStatus, to: ChannelStatus) -> EventType {
    use ChannelStatus as S;
    match (from, to) {
        (_, S::Verified) => EventType::ChannelSubmitted,
        (_, S::Ready) => EventType::ChannelReady,
        (S::PendingDeletion, S::Running) => EventType::CancellationRevoke,
        (_, S::Running) => EventType::ChannelRunning,
        (S::Running, S::PendingDeletion) => EventType::CancellationRequest,
        (_, S::Cancelled) => EventType::CancellationProcessed,
        _ => EventType::ChannelStatusChanged,
    }
}

/// Move a channel between statuses, record the step, emit its event(s) and, when the partner
/// must act, notify its users — all in the caller's transaction. `false` when the channel was
/// no longer in `from` (nothing happened).
#[allow(clippy::too_many_arguments)]
pub async fn transition(
    conn: &mut AnyConnection,
    state: &AppState,
    partner: &PartnerId,
    id: &ChannelId,
    from: ChannelStatus,
    to: ChannelStatus,
    reason: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    if !store::channels::transition(&mut *conn, partner, id, from, to, reason, now_ms).await? {
        return Ok(false);
    }
    let Some(data) = channel_data(conn, partner, id).await? else {
        return Ok(true);
    };
    let event = event_for(from, to);
    emit(conn, state, partner, event, &data).await?;
    // A number going live for the first time is also "live" in the sense of the vocabulary
    // we follow: it can message real customers (sandbox-mode numbers never are).
    if event == EventType::ChannelRunning
        && data.get("account_mode").and_then(|m| m.as_str()) == Some("live")
    {
        emit(conn, state, partner, EventType::ChannelLive, &data).await?;
    }
    if let Some((title, body)) = action_needed(to, &data, reason) {
        notify_about_number(conn, partner, id, "channel_action", &title, &body, now_ms).await?;
    }
    Ok(true)
}

/// Tell everyone of the partner about one of its numbers, linking to the number's page.
async fn notify_about_number(
    conn: &mut AnyConnection,
    partner: &PartnerId,
    id: &ChannelId,
    kind: &str,
    title: &str,
    body: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    let link = format!("/partner/{partner}/accounts/{id}");
    store::notifications::notify(
        &mut *conn,
        partner,
        Audience::Everyone,
        &NewNotification {
            kind,
            title,
            body,
            link: Some(&link),
        },
        None,
        now_ms,
    )
    .await?;
    Ok(())
}

fn phone_of(data: &serde_json::Value) -> &str {
    data.pointer("/setup_info/phone_number")
        .and_then(|v| v.as_str())
        .unwrap_or("a number")
}

/// Status changes after which the partner (or its client) has to do something.
fn action_needed(
    to: ChannelStatus,
    data: &serde_json::Value,
    reason: &str,
) -> Option<(String, String)> {
    let phone = phone_of(data);
    match to {
        ChannelStatus::PendingVerification => Some((
            format!("{phone} waits for its verification code"),
            format!("{reason}. Enter the 6-digit code on the number's page."),
        )),
        ChannelStatus::Error => Some((
            format!("{phone} needs attention"),
            format!("The number stopped in status error: {reason}."),
        )),
        _ => None,
    }
}

/// Kinds of account events the sandbox can raise, as Meta would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountAlert {
    Violation,
    Restriction,
}

/// `account_alert` in its own transaction, then wake the dispatcher; `false` when the partner
/// has no such channel.
pub async fn raise_account_alert(
    state: &AppState,
    partner: &PartnerId,
    id: &ChannelId,
    alert: AccountAlert,
) -> Result<bool, StoreError> {
    let mut tx = state.db.begin_write().await?;
    if !account_alert(&mut tx, state, partner, id, alert).await? {
        return Ok(false);
    }
    tx.commit().await?;
    state.webhooks_wakeup.notify_one();
    Ok(true)
}

/// Raise `account_violation` or `account_restriction` for a channel's WABA (the sandbox's
/// stand-in for Meta's policy enforcement), and tell the partner's users.
pub async fn account_alert(
    conn: &mut AnyConnection,
    state: &AppState,
    partner: &PartnerId,
    id: &ChannelId,
    alert: AccountAlert,
) -> Result<bool, StoreError> {
    let Some(view) = store::channels::get(&mut *conn, partner, id).await? else {
        return Ok(false);
    };
    let now = state.now_ms();
    let (event, data, title, body) = match alert {
        AccountAlert::Violation => (
            EventType::AccountViolation,
            serde_json::json!({
                "waba_account_id": view.waba_id.as_str(),
                "waba_external_id": view.waba_external_id,
                "channel_id": view.id.as_str(),
                "phone_number": view.phone_number,
                "violation_type": "SCAM",
                "violation_info": {"reason": "Messages reported as misleading by recipients."},
            }),
            format!("Policy violation on {}", view.phone_number),
            "Meta reported a policy violation on this WhatsApp Business Account. Review the messages sent and the business's use case.".to_owned(),
        ),
        AccountAlert::Restriction => (
            EventType::AccountRestriction,
            serde_json::json!({
                "waba_account_id": view.waba_id.as_str(),
                "waba_external_id": view.waba_external_id,
                "channel_id": view.id.as_str(),
                "phone_number": view.phone_number,
                "restriction_info": [{
                    "restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING",
                    "expiration": iso_ms(now + 7 * 24 * 3600 * 1000),
                }],
            }),
            format!("Messaging restricted on {}", view.phone_number),
            "Meta restricted business-initiated messaging on this account for 7 days.".to_owned(),
        ),
    };
    emit(conn, state, partner, event, &data).await?;
    notify_about_number(conn, partner, id, event.as_str(), &title, &body, now).await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ChannelStatus as S;

    #[test]
    fn each_step_of_the_status_machine_names_its_event() {
        assert_eq!(
            event_for(S::Created, S::PendingVerification),
            EventType::ChannelStatusChanged
        );
        assert_eq!(
            event_for(S::PendingVerification, S::Verified),
            EventType::ChannelSubmitted
        );
        assert_eq!(event_for(S::Verified, S::Ready), EventType::ChannelReady);
        assert_eq!(event_for(S::Ready, S::Running), EventType::ChannelRunning);
        assert_eq!(
            event_for(S::Running, S::PendingDeletion),
            EventType::CancellationRequest
        );
        assert_eq!(
            event_for(S::PendingDeletion, S::Running),
            EventType::CancellationRevoke
        );
        assert_eq!(
            event_for(S::PendingDeletion, S::Cancelled),
            EventType::CancellationProcessed
        );
        assert_eq!(
            event_for(S::Ready, S::Error),
            EventType::ChannelStatusChanged
        );
    }
}
