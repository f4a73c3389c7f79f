//! Verifying a number with the code it received, with a lock after too many wrong codes.

use super::*;

pub const MAX_WRONG_CODES: i64 = 5;

pub const CODE_LOCK_MS: i64 = 60 * 60 * 1000;

/// Check a verification code. Wrong codes count; five lock the number for an hour.
pub async fn verify_number(
    state: &AppState,
    partner: &Partner,
    client_id: &ClientId,
    id: &ChannelId,
    code: &str,
    actor: &Actor,
) -> Result<ChannelView, AppError> {
    let channel = client_channel(state, partner, client_id, id).await?;
    check_code(
        state,
        partner,
        &channel,
        ChannelStatus::PendingVerification,
        code,
    )
    .await?;
    let now = state.now_ms();
    let mut tx = state.db.begin_write().await?;
    let moved = events::transition(
        &mut tx,
        state,
        &partner.id,
        id,
        ChannelStatus::PendingVerification,
        ChannelStatus::Verified,
        "verification code accepted",
        now,
    )
    .await?;
    if !moved {
        return Err(AppError::Conflict(
            "the number changed status meanwhile; reload and try again".into(),
        ));
    }
    enqueue_progress(&mut tx, state, partner, id).await?;
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(&partner.id),
        "channel.verify",
        id.as_str(),
        "",
    )
    .await?;
    tx.commit().await?;
    state.jobs_wakeup.notify_one();
    state.webhooks_wakeup.notify_one();
    channel_by_id(state, partner, id).await
}

/// Check a code the provider sent to a number that waits for one in `expected` (verification
/// or migration): the number must not be locked, the code must be six digits and right. Wrong
/// codes count; `MAX_WRONG_CODES` of them lock the number for `CODE_LOCK_MS`.
pub(crate) async fn check_code(
    state: &AppState,
    partner: &Partner,
    channel: &ChannelView,
    expected: ChannelStatus,
    code: &str,
) -> Result<(), AppError> {
    let id = &channel.id;
    let now = state.now_ms();
    if let Some(until) = channel.locked_until_ms {
        if until > now {
            let secs = u64::try_from((until - now + 999) / 1000).unwrap_or(1);
            return Err(AppError::RateLimited {
                retry_after_secs: secs,
            });
        }
        {
            let mut tx = state.db.begin_write().await?;
            store::channels::reset_attempts(&mut *tx, &partner.id, id).await?;
            tx.commit().await?;
        }
    }
    if channel.status != expected {
        return Err(AppError::Unprocessable(format!(
            "The number is {}; a code is accepted only while it is {}.",
            channel.status.as_str(),
            expected.as_str()
        )));
    }
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::Validation(vec![FieldError::new(
            "code",
            "must be the 6-digit code sent to the number",
        )]));
    }
    let number_id = channel.external_id.clone().unwrap_or_default();
    let check = state
        .whatsapp
        .verify_code(&number_id, code)
        .await
        .map_err(provider_error)?;
    if check == CodeCheck::Verified {
        return Ok(());
    }
    let mut tx = state.db.begin_write().await?;
    let attempts = store::channels::record_wrong_code(
        &mut tx,
        &partner.id,
        id,
        MAX_WRONG_CODES,
        now + CODE_LOCK_MS,
        now,
    )
    .await?;
    tx.commit().await?;
    if attempts >= MAX_WRONG_CODES {
        return Err(AppError::RateLimited {
            retry_after_secs: u64::try_from(CODE_LOCK_MS / 1000).unwrap_or(3600),
        });
    }
    Err(AppError::Validation(vec![FieldError::new(
        "code",
        format!(
            "is not the code sent to the number ({} of {MAX_WRONG_CODES} attempts left)",
            MAX_WRONG_CODES - attempts
        ),
    )]))
}
