//! WhatsApp accounts (`services::accounts`): clients, their WABAs and numbers. Creating and verifying numbers, the
//! asynchronous steps the provider takes (through `channel_progress` jobs), cancellation, and
//! the rules around them (max_channels, one live number per phone on the platform, locks after
//! wrong codes). Pages and the Partner API both call these functions.

mod cancellation;
mod clients;
mod numbers;
mod verification;

pub use cancellation::*;
pub use clients::*;
pub use numbers::*;
pub use verification::*;

use crate::error::AppError;
use crate::providers::whatsapp::CodeCheck;
use crate::services::audit::{self, Actor};
use crate::services::events;
use crate::services::tasks;
use crate::state::AppState;
use domain::listing::ListQuery;
use domain::webhook_event::EventType;
use domain::{
    ChannelId, ChannelStatus, ClientId, FieldError, PartnerPermission, PhoneNumber, QualityRating,
    VerificationMethod, WabaId, partner_permission,
};
use store::channels::{ChannelView, NewChannel};
use store::clients::{Client, ContactInfo, ContactUser, MetaInfo, NewClient};
use store::jobs::Schedule;
use store::partners::Partner;

pub(crate) fn search_text(phone: &PhoneNumber, display_name: &str, client: &Client) -> String {
    format!(
        "{} {} {} {} {}",
        phone.as_str(),
        phone.digits(),
        display_name,
        client.name,
        client.contact_info.email.as_deref().unwrap_or("")
    )
    .to_lowercase()
}

pub(crate) async fn enqueue_progress(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    partner: &Partner,
    channel: &ChannelId,
) -> Result<(), store::StoreError> {
    let job = tasks::ChannelProgress {
        partner_id: partner.id.clone(),
        channel_id: channel.clone(),
    };
    let now = state.now_ms();
    let when = Schedule::at(now + state.config.whatsapp.sandbox_delay_ms);
    tasks::enqueue(conn, &job, &when, now).await?;
    Ok(())
}

/// A new (pending) WABA for a client's first number.
pub(crate) async fn new_waba(
    conn: &mut sqlx::AnyConnection,
    partner: &Partner,
    client: &Client,
    now: i64,
) -> Result<WabaId, AppError> {
    let mut waba_id = WabaId::generate();
    let mut tries = 0;
    loop {
        let new = store::wabas::NewWaba {
            id: &waba_id,
            client_id: &client.id,
            name: &client.name,
            external_id: None,
            namespace: None,
            fb_account_status: "pending",
            business_name: client.organisation.as_deref().or(Some(&client.name)),
        };
        if store::wabas::create(&mut *conn, &partner.id, &new, now).await? {
            return Ok(waba_id);
        }
        tries = id_taken(tries)?;
        waba_id = WabaId::generate();
    }
}

/// Six random characters do collide once there are many rows: draw again, a few times.
pub(crate) fn id_taken(tries: u32) -> Result<u32, AppError> {
    if tries >= 4 {
        return Err(AppError::Internal(anyhow::anyhow!(
            "no free id after 5 draws"
        )));
    }
    Ok(tries + 1)
}

pub(crate) fn phone_taken(phone: &PhoneNumber) -> AppError {
    AppError::Conflict(format!(
        "phone_number {} is already registered on the platform",
        phone.as_str()
    ))
}

pub(crate) fn provider_error(err: crate::providers::whatsapp::ProviderError) -> AppError {
    match err {
        crate::providers::whatsapp::ProviderError::Rejected(why) => {
            AppError::Unprocessable(format!("The WhatsApp provider refused: {why}"))
        }
        crate::providers::whatsapp::ProviderError::Unavailable(why) => {
            tracing::warn!(error = %why, "WhatsApp provider unavailable");
            AppError::Unavailable
        }
    }
}

/// How a number comes to the platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// A new number, added by the partner, the client or onboarding.
    Added,
    /// A number migrated from another provider.
    Migrated,
}

/// Insert a client's new number in the caller's transaction, with its first provider step
/// queued, its `channel_created` event and its audit entry; the caller commits, then wakes the
/// runners. `on_conflict` says why the phone cannot be taken when it already is.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_channel(
    tx: &mut sqlx::AnyConnection,
    state: &AppState,
    partner: &Partner,
    client: &Client,
    waba_id: &WabaId,
    request: &NumberRequest,
    arrival: Arrival,
    actor: &Actor,
    on_conflict: impl Fn() -> AppError,
) -> Result<ChannelId, AppError> {
    let settings = store::partners::settings(&mut *tx, &partner.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let permission = partner_permission(partner.payment_model, false);
    let search = search_text(&request.phone, &request.display_name, client);
    let (status, note, action) = match arrival {
        Arrival::Added => (ChannelStatus::Created, "number added", "channel.create"),
        Arrival::Migrated => (
            ChannelStatus::MigrationRequested,
            "migration requested",
            "channel.migrate",
        ),
    };
    let now = state.now_ms();
    let mut id = ChannelId::generate();
    let mut tries = 0;
    loop {
        let new = NewChannel {
            id: &id,
            client_id: &client.id,
            waba_id,
            phone_number: request.phone.as_str(),
            phone_name: &request.display_name,
            verification_method: request.method.as_str(),
            status,
            account_mode: "live",
            hosting_type: &settings.default_hosting_type,
            data_storage_region: settings.default_data_storage_region.as_deref(),
            partner_permission: permission.as_str(),
            quality_rating: QualityRating::Unknown.as_str(),
            is_migrated: arrival == Arrival::Migrated,
            search_text: &search,
        };
        match store::channels::create(&mut *tx, &partner.id, &new, note, now).await {
            Ok(true) => break,
            Ok(false) => {
                tries = id_taken(tries)?;
                id = ChannelId::generate();
            }
            Err(e) if e.is_conflict() => return Err(on_conflict()),
            Err(e) => return Err(e.into()),
        }
    }
    enqueue_progress(tx, state, partner, &id).await?;
    events::channel_event(tx, state, &partner.id, &id, EventType::ChannelCreated).await?;
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(&partner.id),
        action,
        id.as_str(),
        request.phone.as_str(),
    )
    .await?;
    Ok(id)
}
