//! Billing for the demo: a EUR rate card derived from the shipped USD one, billing on for both
//! demo partners with positive balances (Demo Partner's own, Other Partner's Direct-Payment
//! clients'), an approved template of each category on a running number of Demo Partner, and
//! three months of messages sent through the real metering path on a clock moved back, so the
//! Billing page, the ledger, usage and the balance have something real to show.

use super::accounts::backdated;
use crate::error::AppError;
use crate::services::audit::Actor;
use crate::services::messaging::{self, reports, send, templates};
use crate::services::{api_keys, billing};
use crate::state::AppState;
use domain::{Currency, Micros, PartnerId};
use store::billing::Holder;

/// The conversion rate of the demo's derived EUR card (EUR per USD).
const DEMO_FX_PPM: i64 = 920_000;
const DAY_MS: i64 = 24 * 3_600_000;
const HISTORY_DAYS: i64 = 90;

/// The templates the demo number has, by category.
pub const TEMPLATES: [(&str, &str); 3] = [
    ("spring_sale", "MARKETING"),
    ("order_update", "UTILITY"),
    ("login_code", "AUTHENTICATION"),
];

/// What the start-up message shows for trying the Messaging API.
#[derive(Debug)]
pub struct DemoMessaging {
    pub number: String,
    /// A fresh messaging key of that number, shown once.
    pub key: String,
}

/// Recipients in several markets; the last one cannot be reached (the sandbox fails `…0000`).
const RECIPIENTS: [&str; 6] = [
    "4915123456701",
    "33612345678",
    "12025550142",
    "919812345678",
    "5511987654321",
    "4915123450000",
];

async fn ensure_eur_card(state: &AppState) -> Result<(), AppError> {
    let versions = store::rate_cards::versions(state.db.pool()).await?;
    if versions.iter().any(|v| v.currency == Currency::Eur) {
        return Ok(());
    }
    let effective =
        domain::calendar::day_start_ms(domain::pricing::SHIPPED_USD_CARD_EFFECTIVE_FROM)
            .unwrap_or(0);
    billing::derive_card(state, Currency::Eur, DEMO_FX_PPM, effective).await?;
    Ok(())
}

async fn credit(
    state: &AppState,
    partner: &PartnerId,
    holder: &Holder,
    amount: &str,
    reason: &str,
) -> Result<(), AppError> {
    let amount = Micros::parse_major(amount).map_err(|e| AppError::Internal(e.into()))?;
    billing::adjust(state, partner, holder, amount, reason, &Actor::System).await?;
    Ok(())
}

pub async fn seed(
    state: &AppState,
    demo: &PartnerId,
    other: &PartnerId,
) -> Result<Option<DemoMessaging>, AppError> {
    ensure_eur_card(state).await?;
    let pool = state.db.pool();
    let Some(partner) = store::partners::get(pool, demo).await? else {
        return Ok(None);
    };
    let Some(channel) = store::channels::first_running_shared(pool, demo).await? else {
        return Ok(None);
    };
    let key = match api_keys::create_channel_key(state, &partner, &channel, &Actor::System).await {
        Ok(made) => made.secret,
        // The demo started again within the key interval: the history is there already, and
        // the number's page makes a key when one is needed.
        Err(AppError::RateLimited { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let sender = messaging::authenticate(state, Some(&key))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("the demo key: {e}")))?;
    let seeded = store::messages::any_of_partner(pool, demo).await?;
    if !seeded {
        seed_history(state, &key, demo).await?;
        seed_other_partner(state, other).await?;
    }
    Ok(Some(DemoMessaging {
        number: sender.channel.phone_number.clone(),
        key,
    }))
}

/// Three months of use on a clock moved back: top-ups, templates, customers writing in, and
/// messages of every kind (a few undeliverable, so refunds show too).
async fn seed_history(state: &AppState, key: &str, demo: &PartnerId) -> Result<(), AppError> {
    let (past, clock) = backdated(state, HISTORY_DAYS * DAY_MS);
    billing::enable(&past, demo, &Actor::System).await?;
    credit(
        &past,
        demo,
        &Holder::Partner,
        "150.00",
        "Opening prepayment",
    )
    .await?;
    let sender = messaging::authenticate(&past, Some(key))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("the demo key: {e}")))?;
    for (name, category) in TEMPLATES {
        let body = serde_json::json!({"name": name, "category": category, "language": "en",
            "components": [{"type": "BODY", "text": "Hello {{1}}, this is Demo Cloud Messaging."}]});
        if let Ok(template) = templates::submit(&past, &sender, &body).await {
            templates::review(&past, demo, &template.id).await?;
        }
    }
    for day in 0..HISTORY_DAYS {
        clock.advance_ms(DAY_MS);
        if day == 45 {
            credit(&past, demo, &Holder::Partner, "100.00", "Second prepayment").await?;
        }
        for (i, to) in RECIPIENTS.iter().enumerate() {
            // Not every customer hears from the business every day.
            if (day + i as i64) % 3 == 0 {
                continue;
            }
            let (name, _) = TEMPLATES[(day as usize + i) % TEMPLATES.len()];
            let template = serde_json::json!({"messaging_product": "whatsapp", "to": to, "type": "template",
                "template": {"name": name, "language": {"code": "en"}}});
            send_quietly(&past, &sender, &template).await;
            if i == 0 && day % 4 == 0 {
                // A customer writes in, and the business answers inside the free window.
                let from = domain::message::WaId::parse(to, "from")
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
                templates::simulate_inbound(
                    &past,
                    demo,
                    &sender.channel.id,
                    &from,
                    "Hi, where is my order?",
                )
                .await?;
                let reply = serde_json::json!({"messaging_product": "whatsapp", "to": to, "type": "text",
                    "text": {"body": "It left our warehouse this morning."}});
                send_quietly(&past, &sender, &reply).await;
            }
        }
        clock.advance_ms(1_000);
        reports::report_due(&past).await?;
    }
    Ok(())
}

async fn send_quietly(state: &AppState, sender: &messaging::Sender, body: &serde_json::Value) {
    let raw = body.to_string();
    if let Err(err) = send::send(state, sender, raw.as_bytes(), None).await {
        tracing::warn!(error = %err, "a demo message was refused");
    }
}

/// Other Partner's clients pay directly: billing on, and each of them a positive balance.
async fn seed_other_partner(state: &AppState, other: &PartnerId) -> Result<(), AppError> {
    billing::enable(state, other, &Actor::System).await?;
    for (client, _) in store::clients::names(state.db.pool(), other, 100).await? {
        credit(
            state,
            other,
            &Holder::Client(client),
            "50.00",
            "Opening prepayment",
        )
        .await?;
    }
    Ok(())
}
