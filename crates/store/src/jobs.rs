//! The job queue: one table, leased claims, retries rescheduled by the runner. Jobs must be
//! idempotent: a lease can expire while a slow job still runs, and then it runs twice.

use crate::{Db, StoreError, dialect};
use domain::ids::row_id;
use sqlx::{Any, Executor};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: String,
    pub kind: String,
    pub payload: String,
    pub attempts: i64,
}

/// A job's payload as it is stored: its kind names the handler that runs it.
pub trait JobPayload: serde::Serialize + serde::de::DeserializeOwned {
    /// The `jobs.kind` of this payload; never change it once rows of it exist.
    const KIND: &'static str;
}

/// When a job runs, and the key that makes it exist once.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub run_at_ms: i64,
    /// At most one job ever exists per key: enqueueing it again, even after it has run, does
    /// nothing.
    pub unique_key: Option<String>,
}

impl Schedule {
    /// Due at `run_at_ms`, with no key.
    pub fn at(run_at_ms: i64) -> Self {
        Self {
            run_at_ms,
            unique_key: None,
        }
    }

    /// Due at `run_at_ms`, once per `key`.
    pub fn once(run_at_ms: i64, key: impl Into<String>) -> Self {
        Self {
            run_at_ms,
            unique_key: Some(key.into()),
        }
    }
}

/// Queue `payload`; `None` when its unique key was already taken (nothing was queued).
pub async fn enqueue<'e, P: JobPayload>(
    ex: impl Executor<'e, Database = Any>,
    payload: &P,
    schedule: &Schedule,
    now_ms: i64,
) -> Result<Option<String>, StoreError> {
    let body = serde_json::to_string(payload)
        .map_err(|e| StoreError::Corrupt(format!("job payload of {}: {e}", P::KIND)))?;
    let id = row_id("job");
    let inserted = sqlx::query(
        "INSERT INTO jobs (id, kind, payload, run_at_ms, state, created_ms, unique_key)
         VALUES ($1, $2, $3, $4, 'queued', $5, $6)
         ON CONFLICT (unique_key) DO NOTHING",
    )
    .bind(&id)
    .bind(P::KIND)
    .bind(&body)
    .bind(schedule.run_at_ms)
    .bind(now_ms)
    .bind(schedule.unique_key.as_deref())
    .execute(ex)
    .await?
    .rows_affected();
    Ok((inserted == 1).then_some(id))
}

/// Lease up to `max` due jobs until `now_ms + lease_ms`.
pub async fn claim(
    db: &Db,
    now_ms: i64,
    lease_ms: i64,
    max: i64,
) -> Result<Vec<ClaimedJob>, StoreError> {
    let mut tx = db.begin_background_write().await?;
    let jobs = sqlx::query_as::<_, ClaimedJob>(dialect::claim_jobs(db.backend()))
        .bind(now_ms)
        .bind(now_ms + lease_ms)
        .bind(max)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(jobs)
}

/// The job is finished: remove it, or, if it has a unique key, keep it as `done` so the key
/// stays taken.
pub async fn complete(db: &Db, id: &str, now_ms: i64) -> Result<(), StoreError> {
    let mut tx = db.begin_background_write().await?;
    sqlx::query(
        "UPDATE jobs SET state = 'done', lease_until_ms = NULL, finished_ms = $2
          WHERE id = $1 AND unique_key IS NOT NULL",
    )
    .bind(id)
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM jobs WHERE id = $1 AND unique_key IS NULL")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Forget keyed jobs that finished before `before_ms` (their keys can then be used again).
pub async fn purge_done(db: &Db, before_ms: i64) -> Result<u64, StoreError> {
    let mut tx = db.begin_background_write().await?;
    let purged = sqlx::query("DELETE FROM jobs WHERE state = 'done' AND finished_ms < $1")
        .bind(before_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(purged)
}

/// The jobs of `kind` in the table (any state), soonest due first.
pub async fn list_kind<'e>(
    ex: impl Executor<'e, Database = Any>,
    kind: &str,
) -> Result<Vec<JobRow>, StoreError> {
    Ok(sqlx::query_as::<_, JobRow>(
        "SELECT id, payload, state, unique_key, run_at_ms, attempts, last_error FROM jobs
          WHERE kind = $1 ORDER BY run_at_ms, id",
    )
    .bind(kind)
    .fetch_all(ex)
    .await?)
}

/// A job as operators (and tests) see it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct JobRow {
    pub id: String,
    pub payload: String,
    pub state: String,
    pub unique_key: Option<String>,
    pub run_at_ms: i64,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// Run the job again at `run_at_ms`, remembering why this attempt failed.
pub async fn retry(db: &Db, id: &str, run_at_ms: i64, error: &str) -> Result<(), StoreError> {
    let mut tx = db.begin_background_write().await?;
    sqlx::query(
        "UPDATE jobs SET run_at_ms = $1, lease_until_ms = NULL, last_error = $2 WHERE id = $3",
    )
    .bind(run_at_ms)
    .bind(error)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Give up on the job; it stays in the table as `dead` for operators to see.
pub async fn bury(db: &Db, id: &str, error: &str) -> Result<(), StoreError> {
    let mut tx = db.begin_background_write().await?;
    sqlx::query(
        "UPDATE jobs SET state = 'dead', lease_until_ms = NULL, last_error = $1 WHERE id = $2",
    )
    .bind(error)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// How many jobs wait in each state, for `/metrics` and the staff console.
pub async fn count_by_state<'e>(
    ex: impl Executor<'e, Database = Any>,
) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(sqlx::query_as::<_, (String, i64)>(
        "SELECT state, CAST(COUNT(*) AS BIGINT) FROM jobs GROUP BY state ORDER BY state",
    )
    .fetch_all(ex)
    .await?)
}
