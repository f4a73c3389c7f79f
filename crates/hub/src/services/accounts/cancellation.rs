//! Cancelling a number at the end of its month, or withdrawing the request.

use super::*;
use domain::calendar::next_month_start_ms;

/// Ask to cancel a running number at the end of the month (`enabled`), or withdraw the request.
pub async fn set_cancellation(
    state: &AppState,
    partner: &Partner,
    client_id: &ClientId,
    id: &ChannelId,
    enabled: bool,
    actor: &Actor,
) -> Result<ChannelView, AppError> {
    let channel = client_channel(state, partner, client_id, id).await?;
    let (from, to, reason) = if enabled {
        (
            ChannelStatus::Running,
            ChannelStatus::PendingDeletion,
            "cancellation requested",
        )
    } else {
        (
            ChannelStatus::PendingDeletion,
            ChannelStatus::Running,
            "cancellation withdrawn",
        )
    };
    if channel.status != from {
        return Err(AppError::Unprocessable(if enabled {
            format!(
                "Only running numbers can be cancelled; this one is {}.",
                channel.status.as_str()
            )
        } else {
            format!(
                "There is no pending cancellation to withdraw; the number is {}.",
                channel.status.as_str()
            )
        }));
    }
    let now = state.now_ms();
    let mut tx = state.db.begin_write().await?;
    if !events::transition(&mut tx, state, &partner.id, id, from, to, reason, now).await? {
        return Err(AppError::Conflict(
            "the number changed status meanwhile; reload and try again".into(),
        ));
    }
    if enabled {
        let job = tasks::ProcessCancellation {
            partner_id: partner.id.clone(),
            channel_id: id.clone(),
        };
        tasks::enqueue(&mut tx, &job, &Schedule::at(next_month_start_ms(now)), now).await?;
    }
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(&partner.id),
        if enabled {
            "channel.cancel"
        } else {
            "channel.cancel_withdraw"
        },
        id.as_str(),
        "",
    )
    .await?;
    tx.commit().await?;
    state.webhooks_wakeup.notify_one();
    channel_by_id(state, partner, id).await
}
