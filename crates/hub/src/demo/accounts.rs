//! Demo WhatsApp accounts: twenty clients and sixty numbers of Demo Partner spread over every
//! status, with status histories that unfold over the past month, a few numbers still moving
//! through the sandbox right now, and some Direct-Payment numbers of Other Partner. Seeded once:
//! a partner that already has clients is left alone.

use crate::clock::{Clock, ManualClock};
use crate::error::AppError;
use crate::services::accounts::{self, ClientRequest, NumberRequest};
use crate::services::audit::Actor;
use crate::state::AppState;
use domain::{ChannelStatus, PartnerId, QualityRating, VerificationMethod};
use std::sync::Arc;
use store::clients::{ContactInfo, ContactUser, MetaInfo};
use store::partners::Partner;

const CLIENTS: &[(&str, &str)] = &[
    ("Acme Shoes", "DE"),
    ("Bella Pasta", "IT"),
    ("Casa Verde", "ES"),
    ("Delta Logistics", "NL"),
    ("Echo Fitness", "GB"),
    ("Fjord Travel", "NO"),
    ("Green Grocer", "DE"),
    ("Harbor Insurance", "US"),
    ("Indigo Fashion", "FR"),
    ("Juniper Dental", "AT"),
    ("Kite Surf School", "PT"),
    ("Lumen Energy", "DE"),
    ("Mosaic Books", "BE"),
    ("Nova Telecom", "CH"),
    ("Orbit Bikes", "DK"),
    ("Pixel Print", "PL"),
    ("Quartz Watches", "CH"),
    ("Riverside Clinic", "IE"),
    ("Sunny Bakery", "ES"),
    ("Tundra Outdoor", "SE"),
];

/// What each demo number ends up as (cycled over the sixty numbers).
const TARGETS: &[ChannelStatus] = &[
    ChannelStatus::Running,
    ChannelStatus::Running,
    ChannelStatus::Running,
    ChannelStatus::PendingVerification,
    ChannelStatus::Running,
    ChannelStatus::PendingDeletion,
    ChannelStatus::Running,
    ChannelStatus::Error,
    ChannelStatus::Running,
    ChannelStatus::Cancelled,
    ChannelStatus::Running,
    ChannelStatus::PendingDeletion,
];

fn demo_phone(index: usize) -> String {
    format!("+4915120{:06}", 100 + index)
}

fn client_request(name: &str, country: &str) -> Result<ClientRequest, AppError> {
    let slug: String = name
        .to_lowercase()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    ClientRequest::parse(
        name,
        Some(format!("{name} GmbH")),
        Some(10),
        Some(format!("crm-{slug}")),
        ContactInfo {
            email: Some(format!("whatsapp@{slug}.example")),
            country: Some(country.to_owned()),
            ..ContactInfo::default()
        },
        ContactUser::default(),
        MetaInfo::default(),
    )
    .map_err(AppError::Validation)
}

/// How far back the seeded history starts.
pub(super) const HISTORY_MS: i64 = 35 * 24 * 3_600_000;

/// A copy of the app whose clock starts `back_ms` ago and whose sandbox answers at once, so the
/// seeded histories look like weeks of real use.
pub(super) fn backdated(state: &AppState, back_ms: i64) -> (AppState, ManualClock) {
    let clock = ManualClock::starting_at(state.now_ms() - back_ms);
    let mut config = state.config.clone();
    config.whatsapp.sandbox_delay_ms = 0;
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    (
        AppState::new(
            state.db.clone(),
            config,
            shared,
            None,
            state.whatsapp.clone(),
            state.webhook_client.clone(),
        ),
        clock,
    )
}

/// The app on a clock a month back (`past`), the app on the real clock (`now`), and the clock.
struct Seeder<'a> {
    past: AppState,
    now: &'a AppState,
    clock: ManualClock,
}

async fn drive(
    seeder: &Seeder<'_>,
    partner: &Partner,
    client: &domain::ClientId,
    phone: &str,
    name: &str,
    target: ChannelStatus,
) -> Result<(), AppError> {
    let (state, now_state, clock) = (&seeder.past, seeder.now, &seeder.clock);
    let actor = Actor::System;
    let request = NumberRequest::parse(phone, name, Some(VerificationMethod::Sms.as_str()), None)
        .map_err(AppError::Validation)?;
    let channel = accounts::add_number(state, partner, client, &request, &actor).await?;
    clock.advance_ms(7 * 60_000);
    if target == ChannelStatus::Error {
        let mut conn = state.db.begin_write().await?;
        crate::services::events::transition(
            &mut conn,
            state,
            &partner.id,
            &channel.id,
            ChannelStatus::Created,
            ChannelStatus::Error,
            "provider refused: display name does not match the business",
            clock.now_ms(),
        )
        .await?;
        conn.commit().await?;
        return Ok(());
    }
    crate::jobs::run_due(state).await?;
    if target == ChannelStatus::PendingVerification {
        return Ok(());
    }
    clock.advance_ms(25 * 60_000);
    // A wrong code first now and then, as people do.
    if phone.ends_with('7') {
        let _ =
            accounts::verify_number(state, partner, client, &channel.id, "123456", &actor).await;
    }
    accounts::verify_number(state, partner, client, &channel.id, "000000", &actor).await?;
    if target == ChannelStatus::Verified {
        return Ok(());
    }
    clock.advance_ms(2 * 3_600_000);
    crate::jobs::run_due(state).await?;
    if target == ChannelStatus::PendingDeletion {
        // Requested this month (on the real clock), so it stays pending until the month ends.
        accounts::set_cancellation(now_state, partner, client, &channel.id, true, &actor).await?;
    }
    if target == ChannelStatus::Cancelled {
        clock.advance_ms(12 * 3_600_000);
        accounts::set_cancellation(state, partner, client, &channel.id, true, &actor).await?;
        clock.advance_ms(12 * 3_600_000);
        let mut conn = state.db.begin_write().await?;
        crate::services::events::transition(
            &mut conn,
            state,
            &partner.id,
            &channel.id,
            ChannelStatus::PendingDeletion,
            ChannelStatus::Cancelled,
            "cancelled at the end of the month",
            clock.now_ms(),
        )
        .await?;
        conn.commit().await?;
    }
    if target == ChannelStatus::Running && phone.ends_with('3') {
        {
            let mut tx = state.db.begin_write().await?;
            store::channels::set_provider_facts(
                &mut *tx,
                &partner.id,
                &channel.id,
                None,
                QualityRating::Yellow.as_str(),
                None,
                clock.now_ms(),
            )
            .await?;
            tx.commit().await?;
        }
        // Falling quality comes with Meta's warnings: the bell and the deliveries page show them.
        if phone.ends_with("13") {
            let mut tx = state.db.begin_write().await?;
            crate::services::events::account_alert(
                &mut tx,
                state,
                &partner.id,
                &channel.id,
                crate::services::events::AccountAlert::Restriction,
            )
            .await?;
            tx.commit().await?;
        }
    }
    Ok(())
}

/// Seed Demo Partner's (and Other Partner's) WhatsApp accounts unless they have clients already.
pub async fn seed(state: &AppState, demo: &PartnerId, other: &PartnerId) -> Result<(), AppError> {
    let Some(partner) = store::partners::get(state.db.pool(), demo).await? else {
        return Ok(());
    };
    if !store::clients::names(state.db.pool(), demo, 1)
        .await?
        .is_empty()
    {
        return Ok(());
    }
    let (past, clock) = backdated(state, HISTORY_MS);
    let seeder = Seeder {
        past: past.clone(),
        now: state,
        clock: clock.clone(),
    };
    let mut clients = Vec::new();
    for (name, country) in CLIENTS {
        clients.push(
            accounts::create_client(
                &past,
                &partner,
                &client_request(name, country)?,
                &Actor::System,
            )
            .await?
            .id,
        );
        clock.advance_ms(3_600_000);
    }
    for index in 0..56 {
        let client = &clients[index % clients.len()];
        let target = TARGETS[index % TARGETS.len()];
        let name = format!("{} Support", CLIENTS[index % CLIENTS.len()].0);
        drive(&seeder, &partner, client, &demo_phone(index), &name, target).await?;
        clock.advance_ms(6 * 3_600_000);
    }
    // Four numbers added just now: they walk through the sandbox while the demo runs.
    for index in 56..60 {
        let request = NumberRequest::parse(&demo_phone(index), "New Line", None, None)
            .map_err(AppError::Validation)?;
        accounts::add_number(
            state,
            &partner,
            &clients[index % clients.len()],
            &request,
            &Actor::System,
        )
        .await?;
    }
    if let Some(other) = store::partners::get(state.db.pool(), other).await? {
        let (past, clock) = backdated(state, HISTORY_MS);
        let seeder = Seeder {
            past: past.clone(),
            now: state,
            clock,
        };
        for (i, (name, country)) in [("Zephyr Games", "US"), ("Yonder Realty", "CA")]
            .iter()
            .enumerate()
        {
            let client = accounts::create_client(
                &past,
                &other,
                &client_request(name, country)?,
                &Actor::System,
            )
            .await?;
            for j in 0..2 {
                let phone = format!("+1201555{:04}", 100 + i * 10 + j);
                drive(
                    &seeder,
                    &other,
                    &client.id,
                    &phone,
                    &format!("{name} Desk"),
                    ChannelStatus::Running,
                )
                .await?;
            }
        }
    }
    Ok(())
}
