//! The audit log: who changed what, when and from where. Append-only.

use crate::StoreError;
use domain::PartnerId;
use domain::ids::row_id;
use sqlx::{Any, Executor};

pub struct AuditEntry<'a> {
    pub partner_id: Option<&'a PartnerId>,
    /// `user`, `staff`, `api_key` or `system`.
    pub actor_kind: &'static str,
    pub actor_id: &'a str,
    pub action: &'static str,
    pub target: &'a str,
    pub detail: &'a str,
    pub ip: &'a str,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AuditRecord {
    pub actor_kind: String,
    pub actor_id: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: String,
    pub created_ms: i64,
}

pub async fn record<'e>(
    ex: impl Executor<'e, Database = Any>,
    entry: &AuditEntry<'_>,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (id, partner_id, actor_kind, actor_id, action, target, detail, ip, created_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(row_id("aud"))
    .bind(entry.partner_id.map(PartnerId::as_str))
    .bind(entry.actor_kind)
    .bind(entry.actor_id)
    .bind(entry.action)
    .bind(entry.target)
    .bind(entry.detail)
    .bind(entry.ip)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// The newest entries about one partner.
pub async fn for_partner<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    limit: i64,
) -> Result<Vec<AuditRecord>, StoreError> {
    Ok(sqlx::query_as::<_, AuditRecord>(
        "SELECT actor_kind, actor_id, action, target, detail, ip, created_ms FROM audit_log
          WHERE partner_id = $1 ORDER BY created_ms DESC, id DESC LIMIT $2",
    )
    .bind(partner.as_str())
    .bind(limit)
    .fetch_all(ex)
    .await?)
}
