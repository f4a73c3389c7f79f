//! Background jobs. Each kind is one payload type (`store::jobs::JobPayload`: its kind name and
//! serde shape) with one `Job` impl (its attempt budget and `run`), listed once in
//! `Registry::standard`. The runner leases due jobs from the `jobs` table, dispatches each
//! through the registry, and reschedules failures with exponential backoff and jitter until the
//! kind's budget is spent.
//!
//! Adding a kind: a payload struct with `impl JobPayload` (in `services::tasks` when a service
//! enqueues it, else beside its `Job` impl here), `impl Job`, and one `.with::<Kind>()` line in
//! `STANDARD`.

mod channel_progress;
mod messaging;
mod send_mail;
mod sweep;
pub mod webhook_dispatch;

use crate::state::AppState;
use rand::Rng;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use store::jobs::{ClaimedJob, JobPayload};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

pub use sweep::PurgeExpired;

/// A lease long enough for the slowest job (an SMTP send with its 20 s timeout).
const LEASE_MS: i64 = 60_000;
const CONCURRENCY: usize = 8;
const IDLE_POLL: Duration = Duration::from_secs(2);

/// One kind of background work. The payload is the job: it is what was enqueued, read back.
pub trait Job: JobPayload + Send + Sync + 'static {
    /// Attempts before the job is buried as `dead`.
    const MAX_ATTEMPTS: i64 = 5;

    /// Do the work. Jobs must be idempotent: a lease can expire while a slow job still runs.
    fn run(self, ctx: &JobContext<'_>) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// What a running job knows about itself.
#[derive(Debug)]
pub struct JobContext<'a> {
    pub state: &'a AppState,
    pub id: &'a str,
    /// 1 on the first run.
    pub attempt: i64,
    /// No retry follows if this attempt fails.
    pub final_attempt: bool,
}

/// Why a job failed, with its whole cause chain (stored as the job's `last_error`, logged).
#[derive(Debug)]
pub struct JobError(anyhow::Error);

impl JobError {
    pub fn msg(message: impl std::fmt::Display + std::fmt::Debug + Send + Sync + 'static) -> Self {
        Self(anyhow::Error::msg(message))
    }

    /// The innermost cause, e.g. to tell a dropped connection from a refusal.
    pub fn root_cause(&self) -> &(dyn std::error::Error + 'static) {
        self.0.root_cause()
    }
}

impl<E: Into<anyhow::Error>> From<E> for JobError {
    fn from(err: E) -> Self {
        Self(err.into())
    }
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `{:#}`: every cause, outermost first, joined by ": ".
        write!(f, "{:#}", self.0)
    }
}

type Run = for<'a> fn(
    &'a JobContext<'a>,
    &'a str,
) -> Pin<Box<dyn Future<Output = Result<(), JobError>> + Send + 'a>>;

/// A kind the runner can dispatch to.
pub struct Registered {
    pub kind: &'static str,
    pub max_attempts: i64,
    run: Run,
}

impl std::fmt::Debug for Registered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registered")
            .field("kind", &self.kind)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

fn run_typed<'a, J: Job>(
    ctx: &'a JobContext<'a>,
    payload: &'a str,
) -> Pin<Box<dyn Future<Output = Result<(), JobError>> + Send + 'a>> {
    Box::pin(async move {
        let job: J = serde_json::from_str(payload)
            .map_err(|e| anyhow::Error::new(e).context(format!("bad {} payload", J::KIND)))?;
        job.run(ctx).await
    })
}

fn register<J: Job>() -> Registered {
    Registered {
        kind: J::KIND,
        max_attempts: J::MAX_ATTEMPTS,
        run: run_typed::<J>,
    }
}

/// The kinds a runner dispatches to.
#[derive(Debug, Default)]
pub struct Registry {
    kinds: Vec<Registered>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// `J` added: its jobs run through `J::run`.
    pub fn with<J: Job>(mut self) -> Self {
        self.kinds.push(register::<J>());
        self
    }

    /// Every kind this build runs. A kind missing here is retried with backoff, then buried.
    pub fn standard() -> &'static Registry {
        &STANDARD
    }

    pub fn kinds(&self) -> &[Registered] {
        &self.kinds
    }

    fn get(&self, kind: &str) -> Option<&Registered> {
        self.kinds.iter().find(|r| r.kind == kind)
    }
}

static STANDARD: LazyLock<Registry> = LazyLock::new(|| {
    use crate::services::tasks;
    Registry::new()
        .with::<tasks::SendMail>()
        .with::<tasks::ChannelProgress>()
        .with::<tasks::ProcessCancellation>()
        .with::<PurgeExpired>()
        .with::<tasks::MessageReports>()
        .with::<tasks::TemplateReview>()
});

/// Delay before attempt `attempt + 1`: 30 s doubling per attempt, capped at an hour, ±20 %.
pub fn backoff_ms(attempt: i64) -> i64 {
    let exp = u32::try_from(attempt.clamp(1, 8) - 1).unwrap_or(0);
    let base = (30_000_i64 << exp).min(3_600_000);
    let jitter = rand::rng().random_range(-0.2..=0.2);
    base + (base as f64 * jitter) as i64
}

/// The budget of a kind this build does not know. It is retried, not buried at once: during a
/// rolling upgrade, an instance that does not know a new kind yet leaves it to one that does.
const UNKNOWN_KIND_ATTEMPTS: i64 = 5;

async fn execute(state: &AppState, registry: &Registry, job: ClaimedJob) {
    let entry = registry.get(&job.kind);
    let max_attempts = entry.map_or(UNKNOWN_KIND_ATTEMPTS, |e| e.max_attempts);
    let outcome = match entry {
        Some(entry) => {
            let ctx = JobContext {
                state,
                id: &job.id,
                attempt: job.attempts,
                final_attempt: job.attempts >= max_attempts,
            };
            (entry.run)(&ctx, &job.payload).await
        }
        None => Err(JobError::msg(format!(
            "unknown job kind {:?} (not in this build's registry)",
            job.kind
        ))),
    };
    let recorded = match outcome {
        Ok(()) => store::jobs::complete(&state.db, &job.id, state.now_ms()).await,
        Err(err) if job.attempts >= max_attempts => {
            tracing::error!(job = %job.id, kind = %job.kind, error = %err, "job failed for the last time");
            store::jobs::bury(&state.db, &job.id, &err.to_string()).await
        }
        Err(err) => {
            tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, error = %err, "job failed; will retry");
            let at = state.now_ms() + backoff_ms(job.attempts);
            store::jobs::retry(&state.db, &job.id, at, &err.to_string()).await
        }
    };
    if let Err(err) = recorded {
        // The lease will expire and the job run again; jobs are idempotent.
        tracing::error!(job = %job.id, error = %err, "could not record job outcome");
    }
}

/// Run every job that is due now, one after another, until none is left. Tests and the demo
/// seeding use this to drain the queue deterministically.
pub async fn run_due(state: &AppState) -> Result<usize, store::StoreError> {
    run_due_with(state, Registry::standard()).await
}

/// `run_due` with the kinds of `registry`.
pub async fn run_due_with(
    state: &AppState,
    registry: &Registry,
) -> Result<usize, store::StoreError> {
    let mut ran = 0;
    loop {
        let jobs = store::jobs::claim(&state.db, state.now_ms(), LEASE_MS, 16).await?;
        if jobs.is_empty() {
            return Ok(ran);
        }
        for job in jobs {
            execute(state, registry, job).await;
            ran += 1;
        }
    }
}

/// Queue the first run of each recurring kind (each later run queues the next); safe to call
/// from every worker at every start.
pub async fn schedule_recurring(state: &AppState) -> Result<(), store::StoreError> {
    sweep::schedule_first(state).await
}

/// The worker loop of `serve`: schedules the recurring kinds, claims due jobs, runs up to
/// `CONCURRENCY` at once, sleeps until woken or the poll interval passes, and on shutdown waits
/// for jobs in flight.
pub async fn worker(state: AppState, shutdown: CancellationToken) {
    if let Err(err) = schedule_recurring(&state).await {
        tracing::warn!(error = %err, "could not schedule the recurring sweep");
    }
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    loop {
        if shutdown.is_cancelled() {
            break;
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
                        execute(&state, Registry::standard(), job).await;
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

    #[test]
    fn every_kind_is_registered_once() {
        let mut kinds: Vec<&str> = Registry::standard()
            .kinds()
            .iter()
            .map(|r| r.kind)
            .collect();
        let all = kinds.len();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), all, "a kind is registered twice: {kinds:?}");
        assert!(kinds.contains(&"send_mail") && kinds.contains(&"channel_progress"));
    }

    #[test]
    fn job_errors_keep_their_causes() {
        let inner = std::io::Error::other("connection reset");
        let err = JobError::from(anyhow::Error::new(inner).context("sending mail 42"));
        assert_eq!(err.to_string(), "sending mail 42: connection reset");
        assert_eq!(err.root_cause().to_string(), "connection reset");
    }
}
