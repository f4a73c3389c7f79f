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

pub async fn enqueue<'e>(
    ex: impl Executor<'e, Database = Any>,
    kind: &str,
    payload: &str,
    run_at_ms: i64,
    now_ms: i64,
) -> Result<String, StoreError> {
    let id = row_id("job");
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, run_at_ms, state, created_ms)
         VALUES ($1, $2, $3, $4, 'queued', $5)",
    )
    .bind(&id)
    .bind(kind)
    .bind(payload)
    .bind(run_at_ms)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(id)
}

/// Lease up to `max` due jobs until `now_ms + lease_ms`.
pub async fn claim(
    db: &Db,
    now_ms: i64,
    lease_ms: i64,
    max: i64,
) -> Result<Vec<ClaimedJob>, StoreError> {
    let mut tx = db.begin_write().await?;
    let jobs = sqlx::query_as::<_, ClaimedJob>(dialect::claim_jobs(db.backend()))
        .bind(now_ms)
        .bind(now_ms + lease_ms)
        .bind(max)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(jobs)
}

/// The job is finished: remove it.
pub async fn complete<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM jobs WHERE id = $1")
        .bind(id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Run the job again at `run_at_ms`, remembering why this attempt failed.
pub async fn retry<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    run_at_ms: i64,
    error: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE jobs SET run_at_ms = $1, lease_until_ms = NULL, last_error = $2 WHERE id = $3",
    )
    .bind(run_at_ms)
    .bind(error)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(())
}

/// Give up on the job; it stays in the table as `dead` for operators to see.
pub async fn bury<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    error: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE jobs SET state = 'dead', lease_until_ms = NULL, last_error = $1 WHERE id = $2",
    )
    .bind(error)
    .bind(id)
    .execute(ex)
    .await?;
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
