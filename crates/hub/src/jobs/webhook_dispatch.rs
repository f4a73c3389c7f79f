//! The webhook dispatcher: leases due events from the outbox, delivers up to `IN_FLIGHT` at once,
//! and records finished attempts in batches (one transaction for many), so throughput is bound
//! by the receivers rather than by one commit per delivery.
//!
//! At-least-once: an event is marked delivered only after its 2xx is recorded; if the process
//! dies first, its lease runs out (or, on SQLite, is released at the next start) and it is sent
//! again with the same `webhook-id`, which receivers use to drop duplicates.

use crate::services::webhooks::{self, Delivery};
use crate::state::AppState;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

/// Deliveries in flight at once, across all partners.
const IN_FLIGHT: usize = 256;
/// Most events leased per claim.
const CLAIM_BATCH: usize = 128;
/// Most attempts recorded per transaction.
const RECORD_BATCH: usize = 128;
/// Poll interval while idle (enqueues in this process wake the dispatcher at once).
const IDLE_POLL: Duration = Duration::from_millis(250);

/// A lease outlives the slowest attempt (the receiver timeout) plus the time to record it.
fn lease_ms(state: &AppState) -> i64 {
    i64::try_from(state.config.webhooks.timeout_ms).unwrap_or(10_000) * 2 + 30_000
}

/// Secrets for the partners of a batch; partners without one get one (a partner whose URL was
/// stored directly, e.g. by a migration or a seed, has none yet).
async fn secrets_for(
    state: &AppState,
    events: &[store::webhooks::DueEvent],
) -> Result<HashMap<String, Vec<String>>, store::StoreError> {
    let mut partners: Vec<&str> = events.iter().map(|e| e.partner_id.as_str()).collect();
    partners.sort_unstable();
    partners.dedup();
    let mut found =
        store::webhooks::signing_secrets_of(&state.db, &partners, state.now_ms()).await?;
    for partner in partners {
        if found.contains_key(partner) {
            continue;
        }
        let Ok(id) = domain::PartnerId::parse(partner) else {
            continue;
        };
        let secret = domain::webhook_signature::WebhookSecret::generate();
        let now = state.now_ms();
        let mut tx = state.db.begin_write().await?;
        store::webhooks::rotate_secret(&mut tx, &id, secret.as_str(), now, now).await?;
        tx.commit().await?;
        found.insert(partner.to_owned(), vec![secret.as_str().to_owned()]);
    }
    Ok(found)
}

/// After a batch is recorded: count its outcomes, then disable URLs that answered 410 and tell
/// partners about events that failed for good.
async fn follow_up(state: &AppState, batch: &[Delivery]) {
    for d in batch {
        let outcome = match d.record.outcome {
            store::webhooks::Outcome::Delivered => "delivered",
            store::webhooks::Outcome::RetryAt(_) => "retry",
            store::webhooks::Outcome::Failed => "failed",
            store::webhooks::Outcome::NoUrl => "no_url",
        };
        metrics::counter!("partnerhub_webhook_attempts_total", "outcome" => outcome).increment(1);
    }
    if let Err(err) = webhooks::after_batch(state, batch).await {
        tracing::warn!(error = %err, "could not notify about failed webhooks");
    }
}

/// Write finished attempts in batches, then act on 410s and exhausted events.
async fn recorder(state: AppState, mut finished: mpsc::Receiver<Delivery>) {
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while let Some(first) = finished.recv().await {
        batch.push(first);
        while batch.len() < RECORD_BATCH {
            match finished.try_recv() {
                Ok(d) => batch.push(d),
                Err(_) => break,
            }
        }
        let records: Vec<_> = batch.iter().map(|d| d.record.clone()).collect();
        let mut tries = 0;
        loop {
            match store::webhooks::record_attempts(&state.db, &records).await {
                Ok(()) => break,
                Err(err) if tries < 5 => {
                    tries += 1;
                    tracing::warn!(error = %err, "could not record webhook attempts; retrying");
                    tokio::time::sleep(Duration::from_millis(200 * tries)).await;
                }
                Err(err) => {
                    // The leases run out and the events are sent again: at least once holds.
                    tracing::error!(error = %err, attempts = records.len(), "could not record webhook attempts");
                    break;
                }
            }
        }
        follow_up(&state, &batch).await;
        batch.clear();
    }
}

/// Run until `shutdown`; then wait for deliveries in flight and record them.
pub async fn dispatcher(state: AppState, shutdown: CancellationToken) {
    match store::webhooks::release_leases_after_restart(&state.db).await {
        Ok(n) if n > 0 => tracing::info!(
            events = n,
            "resuming webhook deliveries interrupted by a restart"
        ),
        Ok(_) => {}
        Err(err) => tracing::warn!(error = %err, "could not release webhook leases"),
    }
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let (done_tx, done_rx) = mpsc::channel::<Delivery>(IN_FLIGHT * 2);
    let recorder = tokio::spawn(recorder(state.clone(), done_rx));
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        let free = permits.available_permits();
        if free == 0 {
            // Wait for a slot instead of polling the table.
            tokio::select! {
                () = shutdown.cancelled() => break,
                permit = permits.clone().acquire_owned() => drop(permit),
            }
            continue;
        }
        let claimed = store::webhooks::claim_due(
            &state.db,
            state.now_ms(),
            lease_ms(&state),
            i64::try_from(free.min(CLAIM_BATCH)).unwrap_or(1),
        )
        .await;
        match claimed {
            Ok(events) if !events.is_empty() => {
                let secrets = match secrets_for(&state, &events).await {
                    Ok(s) => s,
                    Err(err) => {
                        tracing::warn!(error = %err, "could not load webhook secrets");
                        tokio::time::sleep(IDLE_POLL).await;
                        continue;
                    }
                };
                for event in events {
                    let Ok(permit) = permits.clone().acquire_owned().await else {
                        break;
                    };
                    let state = state.clone();
                    let done = done_tx.clone();
                    let secrets = secrets.get(&event.partner_id).cloned().unwrap_or_default();
                    tokio::spawn(async move {
                        let delivery = webhooks::attempt(&state, &event, &secrets).await;
                        let _ = done.send(delivery).await;
                        drop(permit);
                    });
                }
                continue;
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "could not claim webhook events"),
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = state.webhooks_wakeup.notified() => {}
            () = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
    let _ = permits
        .acquire_many(u32::try_from(IN_FLIGHT).unwrap_or(1))
        .await;
    drop(done_tx);
    let _ = recorder.await;
}

/// Deliver every due event now, one batch after another, and record them; tests use this to
/// drain the outbox deterministically. Returns how many attempts were made.
pub async fn run_due(state: &AppState) -> Result<usize, store::StoreError> {
    let mut made = 0;
    loop {
        let events = store::webhooks::claim_due(
            &state.db,
            state.now_ms(),
            lease_ms(state),
            i64::try_from(CLAIM_BATCH).unwrap_or(1),
        )
        .await?;
        if events.is_empty() {
            return Ok(made);
        }
        let secrets = secrets_for(state, &events).await?;
        let mut deliveries = Vec::with_capacity(events.len());
        for event in &events {
            let s = secrets.get(&event.partner_id).cloned().unwrap_or_default();
            deliveries.push(webhooks::attempt(state, event, &s).await);
        }
        let records: Vec<_> = deliveries.iter().map(|d| d.record.clone()).collect();
        store::webhooks::record_attempts(&state.db, &records).await?;
        follow_up(state, &deliveries).await;
        made += deliveries.len();
    }
}
