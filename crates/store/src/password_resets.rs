//! Single-use password reset tokens (hashed), for users and staff alike.

use crate::StoreError;
use crate::sessions::SessionKind;
use domain::TokenHash;
use sqlx::{Any, Executor};

fn kind_str(kind: SessionKind) -> &'static str {
    match kind {
        SessionKind::User => "user",
        SessionKind::Staff => "staff",
    }
}

pub async fn create<'e>(
    ex: impl Executor<'e, Database = Any>,
    kind: SessionKind,
    subject_id: &str,
    token_hash: &TokenHash,
    now_ms: i64,
    expires_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO password_resets (token_hash, kind, subject_id, created_ms, expires_ms)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash.as_str())
    .bind(kind_str(kind))
    .bind(subject_id)
    .bind(now_ms)
    .bind(expires_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// Is this token usable right now? (For showing the form; `redeem` is what counts.)
pub async fn is_live<'e>(
    ex: impl Executor<'e, Database = Any>,
    kind: SessionKind,
    token_hash: &TokenHash,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let n = sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM password_resets
          WHERE token_hash = $1 AND kind = $2 AND used_ms IS NULL AND expires_ms > $3",
    )
    .bind(token_hash.as_str())
    .bind(kind_str(kind))
    .bind(now_ms)
    .fetch_one(ex)
    .await?;
    Ok(n > 0)
}

/// Use the token: returns the subject id once, and never again.
pub async fn redeem<'e>(
    ex: impl Executor<'e, Database = Any>,
    kind: SessionKind,
    token_hash: &TokenHash,
    now_ms: i64,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar::<_, String>(
        "UPDATE password_resets SET used_ms = $1
          WHERE token_hash = $2 AND kind = $3 AND used_ms IS NULL AND expires_ms > $1
      RETURNING subject_id",
    )
    .bind(now_ms)
    .bind(token_hash.as_str())
    .bind(kind_str(kind))
    .fetch_optional(ex)
    .await?)
}
