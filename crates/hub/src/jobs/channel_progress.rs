//! The provider's asynchronous steps for a number, one per run: register it and send the code
//! (created → pending_verification; for a migration, migration_requested → waiting_for_code),
//! register the verified number (verified → ready), and read its quality and limit once live
//! (ready → running). Also the month-end cancellation.
//! Idempotent: each step only moves a channel that is still in the step's starting status.

use super::JobError;
use crate::providers::whatsapp::ProviderError;
use crate::services::events;
use crate::state::AppState;
use domain::{ChannelId, ChannelStatus, PartnerId, PhoneNumber, VerificationMethod};

#[derive(serde::Deserialize)]
struct Payload {
    partner_id: String,
    channel_id: String,
}

fn ids(payload: &str) -> Result<(PartnerId, ChannelId), JobError> {
    let p: Payload =
        serde_json::from_str(payload).map_err(|e| JobError(format!("bad payload: {e}")))?;
    let partner = PartnerId::parse(&p.partner_id).map_err(|_| JobError("bad partner id".into()))?;
    let channel = ChannelId::parse(&p.channel_id).map_err(|_| JobError("bad channel id".into()))?;
    Ok((partner, channel))
}

/// A refusal moves the number to `error` (retrying will not help); anything else is retried.
async fn give_up_or_retry(
    state: &AppState,
    partner: &PartnerId,
    channel: &ChannelId,
    from: ChannelStatus,
    err: ProviderError,
) -> Result<(), JobError> {
    match err {
        ProviderError::Unavailable(why) => Err(JobError(why)),
        ProviderError::Rejected(why) => {
            let mut tx = state.db.begin_write().await?;
            events::transition(
                &mut tx,
                state,
                partner,
                channel,
                from,
                ChannelStatus::Error,
                &format!("provider refused: {why}"),
                state.now_ms(),
            )
            .await?;
            tx.commit().await?;
            state.webhooks_wakeup.notify_one();
            Ok(())
        }
    }
}

pub async fn run(state: &AppState, payload: &str) -> Result<(), JobError> {
    let (partner, id) = ids(payload)?;
    let pool = state.db.pool();
    let Some(channel) = store::channels::get(pool, &partner, &id).await? else {
        return Ok(());
    };
    let provider = &state.whatsapp;
    let now = state.now_ms();
    match channel.status {
        // A new number and a migrating one take the same provider steps up to the code.
        ChannelStatus::Created | ChannelStatus::MigrationRequested => {
            let from = channel.status;
            let waba_external = match &channel.waba_external_id {
                Some(external) => external.clone(),
                None => match provider
                    .create_waba(
                        channel
                            .waba_business_name
                            .as_deref()
                            .unwrap_or(&channel.waba_name),
                    )
                    .await
                {
                    Ok(created) => {
                        store::wabas::set_external(
                            pool,
                            &partner,
                            &channel.waba_id,
                            &created.external_id,
                            &created.namespace,
                            "verified",
                            now,
                        )
                        .await?;
                        created.external_id
                    }
                    Err(err) => {
                        return give_up_or_retry(state, &partner, &id, from, err).await;
                    }
                },
            };
            let number_id = match &channel.external_id {
                Some(external) => external.clone(),
                None => {
                    let phone = PhoneNumber::parse(&channel.phone_number)
                        .map_err(|e| JobError(e.to_string()))?;
                    match provider
                        .add_number(&waba_external, &phone, &channel.phone_name)
                        .await
                    {
                        Ok(added) => {
                            store::channels::set_provider_facts(
                                pool,
                                &partner,
                                &id,
                                Some(&added.external_id),
                                &channel.quality_rating,
                                None,
                                now,
                            )
                            .await?;
                            added.external_id
                        }
                        Err(err) => {
                            return give_up_or_retry(state, &partner, &id, from, err).await;
                        }
                    }
                }
            };
            let method = VerificationMethod::parse(&channel.verification_method)
                .unwrap_or(VerificationMethod::Sms);
            if let Err(err) = provider.request_code(&number_id, method).await {
                return give_up_or_retry(state, &partner, &id, from, err).await;
            }
            let (to, what) = if from == ChannelStatus::MigrationRequested {
                (ChannelStatus::WaitingForCode, "migration code")
            } else {
                (ChannelStatus::PendingVerification, "verification code")
            };
            let reason = format!("{what} sent by {}", method.label().to_lowercase());
            let mut tx = state.db.begin_write().await?;
            events::transition(&mut tx, state, &partner, &id, from, to, &reason, now).await?;
            tx.commit().await?;
            state.webhooks_wakeup.notify_one();
        }
        ChannelStatus::Verified => {
            if let Err(err) = provider
                .register(channel.external_id.as_deref().unwrap_or_default())
                .await
            {
                return give_up_or_retry(state, &partner, &id, ChannelStatus::Verified, err).await;
            }
            let mut tx = state.db.begin_write().await?;
            if events::transition(
                &mut tx,
                state,
                &partner,
                &id,
                ChannelStatus::Verified,
                ChannelStatus::Ready,
                "registered for messaging",
                now,
            )
            .await?
            {
                let next =
                    serde_json::json!({ "partner_id": partner, "channel_id": id }).to_string();
                store::jobs::enqueue(
                    &mut *tx,
                    super::CHANNEL_PROGRESS,
                    &next,
                    now + state.config.whatsapp.sandbox_delay_ms,
                    now,
                )
                .await?;
            }
            tx.commit().await?;
            state.jobs_wakeup.notify_one();
            state.webhooks_wakeup.notify_one();
        }
        ChannelStatus::Ready => {
            let facts = match provider
                .number_facts(channel.external_id.as_deref().unwrap_or_default())
                .await
            {
                Ok(facts) => facts,
                Err(err) => {
                    return give_up_or_retry(state, &partner, &id, ChannelStatus::Ready, err).await;
                }
            };
            let mut tx = state.db.begin_write().await?;
            store::channels::set_provider_facts(
                &mut *tx,
                &partner,
                &id,
                None,
                facts.quality_rating.as_str(),
                Some(facts.messaging_limit.as_str()),
                now,
            )
            .await?;
            events::transition(
                &mut tx,
                state,
                &partner,
                &id,
                ChannelStatus::Ready,
                ChannelStatus::Running,
                "live: messaging enabled",
                now,
            )
            .await?;
            tx.commit().await?;
            state.webhooks_wakeup.notify_one();
        }
        _ => {}
    }
    Ok(())
}

/// Month end: a number whose cancellation is still requested is cancelled (billing stops).
pub async fn process_cancellation(state: &AppState, payload: &str) -> Result<(), JobError> {
    let (partner, id) = ids(payload)?;
    let mut tx = state.db.begin_write().await?;
    events::transition(
        &mut tx,
        state,
        &partner,
        &id,
        ChannelStatus::PendingDeletion,
        ChannelStatus::Cancelled,
        "cancelled at the end of the month",
        state.now_ms(),
    )
    .await?;
    tx.commit().await?;
    state.webhooks_wakeup.notify_one();
    Ok(())
}
