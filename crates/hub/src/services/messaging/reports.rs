//! The provider's reports on sent messages. `delivered` settles a message; `failed` refunds its
//! charge with a `refund` entry keyed by the message id, so a second report refunds nothing.
//! The sandbox reports on its own messages in batches (`report_due`).

use crate::error::AppError;
use crate::providers::whatsapp::Report;
use crate::services::billing;
use crate::services::messaging::webhook::{self, Numbers};
use crate::services::tasks::MessageReports;
use crate::state::AppState;
use domain::PartnerId;
use domain::ledger::EntryKind;
use std::collections::HashSet;
use store::billing::{Gate, NewEntry};
use store::jobs::Schedule;

/// Messages settled per transaction: small enough that senders waiting for the write turn are
/// not held up long.
const BATCH: i64 = 50;
/// Batches one job run settles before it hands the rest to a follow-up run.
const RUN_BATCHES: usize = 40;

/// Mark a message failed and refund what it cost (once).
pub async fn settle_failed(
    state: &AppState,
    partner: &PartnerId,
    id: &str,
    code: i64,
    title: &str,
) -> Result<(), AppError> {
    let mut tx = state.db.begin_write().await?;
    failed_in(
        &mut tx,
        state,
        &mut Numbers::default(),
        partner,
        id,
        code,
        title,
    )
    .await?;
    tx.commit().await?;
    state.webhooks_wakeup.notify_one();
    Ok(())
}

async fn failed_in(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    numbers: &mut Numbers,
    partner: &PartnerId,
    id: &str,
    code: i64,
    title: &str,
) -> Result<(), AppError> {
    let now = state.now_ms();
    if !store::messages::set_status(&mut *conn, partner, id, "failed", Some((code, title)), now)
        .await?
    {
        return Ok(());
    }
    let Some(message) = store::messages::get(&mut *conn, partner, id).await? else {
        return Ok(());
    };
    webhook::status_in(
        conn,
        state,
        numbers,
        &message,
        "failed",
        Some((code, title)),
    )
    .await?;
    let Some(account_id) = &message.account_id else {
        return Ok(());
    };
    if !message.price.is_positive() {
        return Ok(());
    }
    let Some(mut held) = store::billing::hold_by_id(&mut *conn, partner, account_id).await? else {
        return Ok(());
    };
    let description = format!("refund: message {id} was not delivered ({title})");
    billing::post_in(
        conn,
        state,
        &mut held,
        &NewEntry {
            amount: message.price,
            kind: EntryKind::Refund,
            reference: id,
            description: &description,
            idempotency_key: &format!("refund:{id}"),
        },
        Gate::Always,
    )
    .await?;
    held.save(conn).await?;
    Ok(())
}

async fn apply_in(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    numbers: &mut Numbers,
    partner: &PartnerId,
    id: &str,
    report: &Report,
) -> Result<(), AppError> {
    let now = state.now_ms();
    match report {
        Report::Delivered => {
            for status in ["sent", "delivered"] {
                if store::messages::set_status(&mut *conn, partner, id, status, None, now).await?
                    && let Some(message) = store::messages::get(&mut *conn, partner, id).await?
                {
                    webhook::status_in(conn, state, numbers, &message, status, None).await?;
                }
            }
        }
        Report::Failed { code, title } => {
            failed_in(conn, state, numbers, partner, id, *code, title).await?
        }
    }
    Ok(())
}

/// The sandbox's reports on every message accepted at least its delay ago, in one transaction
/// per batch. Returns how many messages were settled.
pub async fn report_due(state: &AppState) -> Result<usize, AppError> {
    // A real provider reports through its own webhooks; its accepted messages wait for those
    // (a report job queued before a switch of provider must not spin on them).
    if !state.whatsapp.simulates() {
        return Ok(0);
    }
    let mut settled = 0;
    // Batch after batch, each its own short transaction (senders wait for the write turn
    // between them); a backlog longer than this run continues in a follow-up job.
    for _ in 0..RUN_BATCHES {
        let (count, full) = report_batch(state).await?;
        settled += count;
        if !full {
            return Ok(settled);
        }
    }
    let now = state.now_ms();
    let mut tx = state.db.begin_background_write().await?;
    crate::services::tasks::enqueue(
        &mut tx,
        &MessageReports {},
        &Schedule::once(now, format!("message_reports:more:{now}:{settled}")),
        now,
    )
    .await?;
    tx.commit().await?;
    state.jobs_wakeup.notify_one();
    Ok(settled)
}

/// One batch of reports in one transaction: how many were settled, and whether the batch was
/// full (more may be due).
async fn report_batch(state: &AppState) -> Result<(usize, bool), AppError> {
    let now = state.now_ms();
    let delay = state.config.whatsapp.sandbox_delay_ms;
    let due = store::messages::awaiting_report(state.db.pool(), now - delay, BATCH).await?;
    if due.is_empty() {
        return Ok((0, false));
    }
    let mut tx = state.db.begin_background_write().await?;
    let mut numbers = Numbers::default();
    let mut delivered = Vec::with_capacity(due.len());
    for message in &due {
        match state.whatsapp.simulated_report(&message.recipient) {
            Some(Report::Delivered) => delivered.push(message.id.as_str()),
            Some(report) => {
                apply_in(
                    &mut tx,
                    state,
                    &mut numbers,
                    &message.partner_id,
                    &message.id,
                    &report,
                )
                .await?;
            }
            None => {}
        }
    }
    // The delivered ones together: one statement moves them all and one reads their numbers;
    // each gets its `sent` (if the batch found it accepted) and `delivered` statuses, written
    // fifty deliveries a statement.
    if !delivered.is_empty() {
        let channels: Vec<&str> = due.iter().map(|m| m.channel_id.as_str()).collect();
        numbers.load(&mut tx, &channels).await?;
        let moved = store::messages::deliver_many(&mut tx, &delivered, now).await?;
        let was_accepted: HashSet<&str> = due
            .iter()
            .filter(|m| m.status == "accepted")
            .map(|m| m.id.as_str())
            .collect();
        let mut deliveries = Vec::with_capacity(2 * moved.len());
        for message in &moved {
            if was_accepted.contains(message.id.as_str()) {
                deliveries.extend(webhook::status_delivery(state, &numbers, message, "sent"));
            }
            deliveries.extend(webhook::status_delivery(
                state,
                &numbers,
                message,
                "delivered",
            ));
        }
        store::webhooks::insert_pending(&mut tx, &deliveries, now).await?;
    }
    tx.commit().await?;
    state.webhooks_wakeup.notify_one();
    Ok((
        due.len(),
        i64::try_from(due.len()).unwrap_or(i64::MAX) >= BATCH,
    ))
}
