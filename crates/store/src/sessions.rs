//! Login sessions for users and staff. The cookie carries a random token; only its SHA-256 is
//! stored, so reading this table does not let anyone log in.

use crate::StoreError;
use domain::TokenHash;
use sqlx::{Any, Executor};

/// Whose session it is. Kept apart so a staff cookie can never open partner screens, nor a
/// user cookie the staff console.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionKind {
    User,
    Staff,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::User => "user",
            SessionKind::Staff => "staff",
        }
    }
}

pub struct NewSession<'a> {
    pub token_hash: &'a TokenHash,
    pub kind: SessionKind,
    pub subject_id: &'a str,
    pub expires_ms: i64,
    pub ip: &'a str,
    pub user_agent: &'a str,
}

pub async fn create<'e>(
    ex: impl Executor<'e, Database = Any>,
    session: &NewSession<'_>,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, kind, subject_id, created_ms, expires_ms, last_seen_ms, ip, user_agent)
         VALUES ($1, $2, $3, $4, $5, $4, $6, $7)",
    )
    .bind(session.token_hash.as_str())
    .bind(session.kind.as_str())
    .bind(session.subject_id)
    .bind(now_ms)
    .bind(session.expires_ms)
    .bind(session.ip)
    .bind(session.user_agent)
    .execute(ex)
    .await?;
    Ok(())
}

/// The subject id of a live session of `kind`, if the token hash names one.
pub async fn subject<'e>(
    ex: impl Executor<'e, Database = Any>,
    kind: SessionKind,
    token_hash: &TokenHash,
    now_ms: i64,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar::<_, String>(
        "SELECT subject_id FROM sessions WHERE token_hash = $1 AND kind = $2 AND expires_ms > $3",
    )
    .bind(token_hash.as_str())
    .bind(kind.as_str())
    .bind(now_ms)
    .fetch_optional(ex)
    .await?)
}

pub async fn delete<'e>(
    ex: impl Executor<'e, Database = Any>,
    token_hash: &TokenHash,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash.as_str())
        .execute(ex)
        .await?;
    Ok(())
}

/// End every session of a subject (after a password reset).
pub async fn delete_all_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    kind: SessionKind,
    subject_id: &str,
) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM sessions WHERE kind = $1 AND subject_id = $2")
            .bind(kind.as_str())
            .bind(subject_id)
            .execute(ex)
            .await?
            .rows_affected(),
    )
}

/// End every session of the subject but `keep` (the one that changed the password).
pub async fn delete_others_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    kind: SessionKind,
    subject_id: &str,
    keep: &TokenHash,
) -> Result<u64, StoreError> {
    Ok(
        sqlx::query(
            "DELETE FROM sessions WHERE kind = $1 AND subject_id = $2 AND token_hash <> $3",
        )
        .bind(kind.as_str())
        .bind(subject_id)
        .bind(keep.as_str())
        .execute(ex)
        .await?
        .rows_affected(),
    )
}

pub async fn purge_expired<'e>(
    ex: impl Executor<'e, Database = Any>,
    now_ms: i64,
) -> Result<u64, StoreError> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_ms <= $1")
        .bind(now_ms)
        .execute(ex)
        .await?
        .rows_affected())
}

/// Remember that this person signed in from `ip` (see `is_known_address`).
pub async fn remember_address<'e>(
    ex: impl Executor<'e, Database = Any>,
    kind: SessionKind,
    subject_id: &str,
    ip: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sign_in_addresses (subject_kind, subject_id, ip, last_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (subject_kind, subject_id, ip) DO UPDATE SET last_ms = excluded.last_ms",
    )
    .bind(kind.as_str())
    .bind(subject_id)
    .bind(ip)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// Whether this person has signed in from `ip` before: strangers' failed guesses never keep
/// them out from there.
pub async fn is_known_address<'e>(
    ex: impl Executor<'e, Database = Any>,
    kind: SessionKind,
    subject_id: &str,
    ip: &str,
) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT 1 FROM sign_in_addresses WHERE subject_kind = $1 AND subject_id = $2 AND ip = $3",
    )
    .bind(kind.as_str())
    .bind(subject_id)
    .bind(ip)
    .fetch_optional(ex)
    .await?
    .is_some())
}

/// Forget addresses not signed in from since `before_ms`.
pub async fn forget_addresses_before<'e>(
    ex: impl Executor<'e, Database = Any>,
    before_ms: i64,
) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM sign_in_addresses WHERE last_ms < $1")
            .bind(before_ms)
            .execute(ex)
            .await?
            .rows_affected(),
    )
}

/// When a live session began (the onboarding flow treats a client signed up in this very
/// session as new).
pub async fn created_ms<'e>(
    ex: impl Executor<'e, Database = Any>,
    token_hash: &TokenHash,
) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT created_ms FROM sessions WHERE token_hash = $1")
            .bind(token_hash.as_str())
            .fetch_optional(ex)
            .await?,
    )
}
