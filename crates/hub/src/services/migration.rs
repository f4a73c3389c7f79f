//! Migration: a client brings a number that is live at another provider. The number is created
//! as `migration_requested` (with the partner's default hosting type and storage region, marked
//! `is_migrated`); the provider then sends a migration code (`channel_progress` job, after the
//! sandbox delay like every other asynchronous step) and the number waits in
//! `waiting_for_code`; the right code makes it `running` here. Each step is written to the
//! status history and announced by webhook through `events::transition`. Wrong codes count and
//! lock exactly like verification codes.

use crate::error::AppError;
use crate::services::accounts::{self, Arrival, NumberRequest};
use crate::services::audit::{self, Actor};
use crate::services::events;
use crate::state::AppState;
use domain::{ChannelId, ChannelStatus, ClientId, FieldError};
use store::channels::ChannelView;
use store::partners::Partner;

/// The number is on the platform already (with this partner or another): a migration brings
/// numbers from other providers only.
fn already_here(phone: &str) -> AppError {
    AppError::Validation(vec![FieldError::new(
        "phone_number",
        format!(
            "{phone} is already on this platform, so it cannot be migrated here; migration brings numbers from other providers"
        ),
    )])
}

/// Why the client cannot bring a number at all right now (its number limit, or the partner's
/// "Allow clients to add phone number" off for clients that have numbers), in the words the
/// migration form shows before anything is typed; `None` when it may.
pub async fn refusal(
    state: &AppState,
    partner: &Partner,
    client: &store::clients::Client,
) -> Result<Option<String>, AppError> {
    let pool = state.db.pool();
    let live = store::channels::count_live_for_client(pool, &partner.id, &client.id).await?;
    if live >= client.max_channels {
        return Ok(Some(format!(
            "You already have {live} of your {} numbers. Ask {} to raise the limit, or cancel a number first.",
            client.max_channels, partner.name
        )));
    }
    let settings = store::partners::settings(pool, &partner.id)
        .await?
        .ok_or(AppError::NotFound)?;
    // "Allow clients to add phone number" off: a client that has numbers already brings no
    // more (one without any, e.g. just signed up, may bring its first), as in onboarding.
    if !domain::onboarding::client_may_add_numbers(
        partner.payment_model,
        settings.allows_clients_to_add_numbers(),
        live == 0,
    ) {
        return Ok(Some(format!(
            "{} does not let existing clients add numbers. Ask them to add this number for you.",
            partner.name
        )));
    }
    Ok(None)
}

/// Ask to migrate `request.phone` to the client (of `partner`). The code is requested in the
/// background.
pub async fn start(
    state: &AppState,
    partner: &Partner,
    client_id: &ClientId,
    request: &NumberRequest,
    actor: &Actor,
) -> Result<ChannelView, AppError> {
    let pool = state.db.pool();
    let client = accounts::client(state, partner, client_id).await?;
    if let Some(why) = refusal(state, partner, &client).await? {
        return Err(AppError::Unprocessable(why));
    }
    if store::channels::phone_in_use(pool, request.phone.as_str()).await? {
        return Err(already_here(request.phone.as_str()));
    }
    let existing_waba = store::wabas::first_of_client(pool, &partner.id, client_id).await?;
    let mut tx = state.db.begin_write().await?;
    let waba_id = match existing_waba {
        Some(waba) => waba.id,
        None => accounts::new_waba(&mut tx, partner, &client, state.now_ms()).await?,
    };
    let conflict = || already_here(request.phone.as_str());
    let id = accounts::insert_channel(
        &mut tx,
        state,
        partner,
        &client,
        &waba_id,
        request,
        Arrival::Migrated,
        actor,
        conflict,
    )
    .await?;
    tx.commit().await?;
    state.jobs_wakeup.notify_one();
    state.webhooks_wakeup.notify_one();
    accounts::channel(state, partner, &id).await
}

/// The migration code the number received: right, and the number is live here.
pub async fn submit_code(
    state: &AppState,
    partner: &Partner,
    client_id: &ClientId,
    id: &ChannelId,
    code: &str,
    actor: &Actor,
) -> Result<ChannelView, AppError> {
    let channel = accounts::client_channel(state, partner, client_id, id).await?;
    if channel.status == ChannelStatus::MigrationRequested {
        return Err(AppError::Unprocessable(
            "The migration code is still on its way; wait until the page asks for it.".into(),
        ));
    }
    accounts::check_code(
        state,
        partner,
        &channel,
        ChannelStatus::WaitingForCode,
        code,
    )
    .await?;
    let number_id = channel.external_id.clone().unwrap_or_default();
    state
        .whatsapp
        .register(&number_id)
        .await
        .map_err(accounts::provider_error)?;
    let facts = state
        .whatsapp
        .number_facts(&number_id)
        .await
        .map_err(accounts::provider_error)?;
    let now = state.now_ms();
    let mut tx = state.db.begin_write().await?;
    store::channels::set_provider_facts(
        &mut *tx,
        &partner.id,
        id,
        None,
        facts.quality_rating.as_str(),
        Some(facts.messaging_limit.as_str()),
        now,
    )
    .await?;
    let moved = events::transition(
        &mut tx,
        state,
        &partner.id,
        id,
        ChannelStatus::WaitingForCode,
        ChannelStatus::Running,
        "migration code accepted: live here",
        now,
    )
    .await?;
    if !moved {
        return Err(AppError::Conflict(
            "the number changed status meanwhile; reload and try again".into(),
        ));
    }
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(&partner.id),
        "channel.migrate_verify",
        id.as_str(),
        "",
    )
    .await?;
    tx.commit().await?;
    state.webhooks_wakeup.notify_one();
    accounts::channel(state, partner, id).await
}
