//! The mail outbox. Every message is written here first; with SMTP configured a job sends it and
//! marks it `sent` (or records why it failed); without SMTP it stays `stored` for the staff console.

use crate::StoreError;
use domain::ids::row_id;
use sqlx::{Any, Executor};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct OutboxMail {
    pub id: String,
    pub to_addr: String,
    pub subject: String,
    pub body_text: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_ms: i64,
    pub sent_ms: Option<i64>,
}

/// Write a message to the outbox and return its id. `state` is `queued` (a send job follows) or
/// `stored` (no transport: the outbox is the delivery).
pub async fn insert<'e>(
    ex: impl Executor<'e, Database = Any>,
    to: &str,
    subject: &str,
    body_text: &str,
    state: &'static str,
    now_ms: i64,
) -> Result<String, StoreError> {
    let id = row_id("mail");
    sqlx::query(
        "INSERT INTO mail_outbox (id, to_addr, subject, body_text, state, created_ms)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(to)
    .bind(subject)
    .bind(body_text)
    .bind(state)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(id)
}

pub async fn get<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
) -> Result<Option<OutboxMail>, StoreError> {
    Ok(sqlx::query_as::<_, OutboxMail>(
        "SELECT id, to_addr, subject, body_text, state, attempts, last_error, created_ms, sent_ms
           FROM mail_outbox WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(ex)
    .await?)
}

/// One page of the outbox, newest first.
pub async fn recent<'e>(
    ex: impl Executor<'e, Database = Any>,
    limit: i64,
    offset: i64,
) -> Result<Vec<OutboxMail>, StoreError> {
    Ok(sqlx::query_as::<_, OutboxMail>(
        "SELECT id, to_addr, subject, body_text, state, attempts, last_error, created_ms, sent_ms
           FROM mail_outbox ORDER BY created_ms DESC, id DESC LIMIT $1 OFFSET $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(ex)
    .await?)
}

pub async fn count<'e>(ex: impl Executor<'e, Database = Any>) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT CAST(COUNT(*) AS BIGINT) FROM mail_outbox")
            .fetch_one(ex)
            .await?,
    )
}

pub async fn mark_sent<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE mail_outbox SET state = 'sent', sent_ms = $1, attempts = attempts + 1, last_error = NULL
          WHERE id = $2",
    )
    .bind(now_ms)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(())
}

/// Record a failed attempt; `state` stays `queued` while retries remain, `failed` after.
pub async fn mark_attempt_failed<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    error: &str,
    final_attempt: bool,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $1, state = $2 WHERE id = $3",
    )
    .bind(error)
    .bind(if final_attempt { "failed" } else { "queued" })
    .bind(id)
    .execute(ex)
    .await?;
    Ok(())
}
