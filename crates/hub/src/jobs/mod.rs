//! Background jobs: a runner that leases due jobs from the `jobs` table, runs each kind's
//! handler, and reschedules failures with exponential backoff and jitter until the kind's
//! attempt budget is spent.

mod channel_progress;
mod send_mail;
pub mod webhook_dispatch;

use crate::state::AppState;
use rand::Rng;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

pub const SEND_MAIL: &str = "send_mail";
pub const CHANNEL_PROGRESS: &str = "channel_progress";
pub const PROCESS_CANCELLATION: &str = "process_cancellation";

/// A lease long enough for the slowest job (an SMTP send with its 20 s timeout).
const LEASE_MS: i64 = 60_000;
const CONCURRENCY: usize = 8;
const IDLE_POLL: Duration = Duration::from_secs(2);
const SWEEP_EVERY: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JobError(pub String);

impl From<sqlx::Error> for JobError {
    fn from(err: sqlx::Error) -> Self {
        JobError(store::StoreError::from(err).to_string())
    }
}

impl From<store::StoreError> for JobError {
    fn from(err: store::StoreError) -> Self {
        JobError(err.to_string())
    }
}

/// The most attempts a job kind gets before it is buried.
pub fn max_attempts(kind: &str) -> i64 {
    match kind {
        SEND_MAIL => 8,
        CHANNEL_PROGRESS => 10,
        _ => 5,
    }
}

/// Delay before attempt `attempt + 1`: 30 s doubling per attempt, capped at an hour, ±20 %.
pub fn backoff_ms(attempt: i64) -> i64 {
    let exp = u32::try_from(attempt.clamp(1, 8) - 1).unwrap_or(0);
    let base = (30_000_i64 << exp).min(3_600_000);
    let jitter = rand::rng().random_range(-0.2..=0.2);
    base + (base as f64 * jitter) as i64
}

async fn run_one(state: &AppState, job: &store::jobs::ClaimedJob) -> Result<(), JobError> {
    let final_attempt = job.attempts >= max_attempts(&job.kind);
    match job.kind.as_str() {
        SEND_MAIL => send_mail::run(state, &job.payload, final_attempt).await,
        CHANNEL_PROGRESS => channel_progress::run(state, &job.payload).await,
        PROCESS_CANCELLATION => channel_progress::process_cancellation(state, &job.payload).await,
        other => Err(JobError(format!("unknown job kind {other:?}"))),
    }
}

async fn execute(state: &AppState, job: store::jobs::ClaimedJob) {
    let pool = state.db.pool();
    let outcome = run_one(state, &job).await;
    let recorded = match outcome {
        Ok(()) => store::jobs::complete(pool, &job.id).await,
        Err(err) if job.attempts >= max_attempts(&job.kind) => {
            tracing::error!(job = %job.id, kind = %job.kind, error = %err, "job failed for the last time");
            store::jobs::bury(pool, &job.id, &err.0).await
        }
        Err(err) => {
            tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, error = %err, "job failed; will retry");
            let at = state.now_ms() + backoff_ms(job.attempts);
            store::jobs::retry(pool, &job.id, at, &err.0).await
        }
    };
    if let Err(err) = recorded {
        // The lease will expire and the job run again; jobs are idempotent.
        tracing::error!(job = %job.id, error = %err, "could not record job outcome");
    }
}

/// Run every job that is due now, one after another, until none is left. Tests use this to
/// drain the queue deterministically.
pub async fn run_due(state: &AppState) -> Result<usize, store::StoreError> {
    let mut ran = 0;
    loop {
        let jobs = store::jobs::claim(&state.db, state.now_ms(), LEASE_MS, 16).await?;
        if jobs.is_empty() {
            return Ok(ran);
        }
        for job in jobs {
            execute(state, job).await;
            ran += 1;
        }
    }
}

/// The worker loop of `serve`: claims due jobs, runs up to `CONCURRENCY` at once, sleeps until
/// woken or the poll interval passes, and on shutdown waits for jobs in flight.
pub async fn worker(state: AppState, shutdown: CancellationToken) {
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut next_sweep = tokio::time::Instant::now();
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        if tokio::time::Instant::now() >= next_sweep {
            // Expired sessions are refused on read anyway; sweeping keeps the table small.
            match store::sessions::purge_expired(state.db.pool(), state.now_ms()).await {
                Ok(n) if n > 0 => tracing::info!(sessions = n, "purged expired sessions"),
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "could not purge expired sessions"),
            }
            next_sweep += SWEEP_EVERY;
        }
        let free = permits.available_permits();
        let claimed = if free == 0 {
            Ok(Vec::new())
        } else {
            store::jobs::claim(
                &state.db,
                state.now_ms(),
                LEASE_MS,
                i64::try_from(free).unwrap_or(1),
            )
            .await
        };
        match claimed {
            Ok(jobs) if !jobs.is_empty() => {
                for job in jobs {
                    let Ok(permit) = permits.clone().acquire_owned().await else {
                        break;
                    };
                    let state = state.clone();
                    tokio::spawn(async move {
                        execute(&state, job).await;
                        drop(permit);
                    });
                }
                continue;
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "could not claim jobs"),
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = state.jobs_wakeup.notified() => {}
            () = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
    // Drain: wait until every permit is back, i.e. no job is running.
    let _ = permits
        .acquire_many(u32::try_from(CONCURRENCY).unwrap_or(1))
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        for _ in 0..50 {
            let first = backoff_ms(1);
            assert!((24_000..=36_000).contains(&first), "{first}");
            let late = backoff_ms(20);
            assert!((2_880_000..=4_320_000).contains(&late), "{late}");
        }
    }
}
