//! The provider's asynchronous steps for a number, one per run: register it and send the code
//! (created → pending_verification; for a migration, migration_requested → waiting_for_code),
//! register the verified number (verified → ready), and read its quality and limit once live
//! (ready → running). Also the month-end cancellation.
//! Idempotent: each step only moves a channel that is still in the step's starting status.

use super::{Job, JobContext, JobError};
use crate::providers::whatsapp::ProviderError;
use crate::services::events;
use crate::services::tasks::{self, ChannelProgress, ProcessCancellation};
use crate::state::AppState;
use domain::{ChannelId, ChannelStatus, PartnerId, PhoneNumber, VerificationMethod};
use store::jobs::Schedule;

/// A refusal moves the number to `error` (retrying will not help); anything else is retried.
async fn give_up_or_retry(
    state: &AppState,
    partner: &PartnerId,
    channel: &ChannelId,
    from: ChannelStatus,
    err: ProviderError,
) -> Result<(), JobError> {
    match err {
        ProviderError::Unavailable(why) => Err(JobError::msg(why)),
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

impl Job for ChannelProgress {
    const MAX_ATTEMPTS: i64 = 10;

    async fn run(self, ctx: &JobContext<'_>) -> Result<(), JobError> {
        progress(ctx.state, self.partner_id, self.channel_id).await
    }
}

impl Job for ProcessCancellation {
    async fn run(self, ctx: &JobContext<'_>) -> Result<(), JobError> {
        process_cancellation(ctx.state, &self.partner_id, &self.channel_id).await
    }
}

async fn progress(state: &AppState, partner: PartnerId, id: ChannelId) -> Result<(), JobError> {
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
                        {
                            let mut tx = state.db.begin_write().await?;
                            store::wabas::set_external(
                                &mut *tx,
                                &partner,
                                &channel.waba_id,
                                &created.external_id,
                                &created.namespace,
                                "verified",
                                now,
                            )
                            .await?;
                            tx.commit().await?;
                        }
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
                        .map_err(|e| anyhow::anyhow!("stored phone number: {e}"))?;
                    match provider
                        .add_number(&waba_external, &phone, &channel.phone_name)
                        .await
                    {
                        Ok(added) => {
                            {
                                let mut tx = state.db.begin_write().await?;
                                store::channels::set_provider_facts(
                                    &mut *tx,
                                    &partner,
                                    &id,
                                    Some(&added.external_id),
                                    &channel.quality_rating,
                                    None,
                                    now,
                                )
                                .await?;
                                tx.commit().await?;
                            }
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
                let next = ChannelProgress {
                    partner_id: partner.clone(),
                    channel_id: id.clone(),
                };
                let when = Schedule::at(now + state.config.whatsapp.sandbox_delay_ms);
                tasks::enqueue(&mut tx, &next, &when, now).await?;
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
async fn process_cancellation(
    state: &AppState,
    partner: &PartnerId,
    id: &ChannelId,
) -> Result<(), JobError> {
    let mut tx = state.db.begin_write().await?;
    events::transition(
        &mut tx,
        state,
        partner,
        id,
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
