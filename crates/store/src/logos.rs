//! A partner's company logo: one re-encoded image per partner, kept in the database with the
//! content hash that names it in its public URL (so a new logo gets a new URL and browsers may
//! cache each one forever).

use crate::StoreError;
use domain::PartnerId;
use sqlx::{Any, Executor};

/// What pages and the API need to know about a logo, without its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogoMeta {
    pub content_type: String,
    pub content_hash: String,
    pub width: i64,
    pub height: i64,
    pub byte_len: i64,
    pub updated_ms: i64,
}

/// A stored logo with its bytes, for serving.
#[derive(Clone, Debug)]
pub struct Logo {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A logo about to be stored (already checked and re-encoded).
#[derive(Debug)]
pub struct NewLogo<'a> {
    pub content_type: &'a str,
    pub content_hash: &'a str,
    pub width: u32,
    pub height: u32,
    pub bytes: &'a [u8],
}

#[derive(sqlx::FromRow)]
struct MetaRow {
    content_type: String,
    content_hash: String,
    width: i64,
    height: i64,
    byte_len: i64,
    updated_ms: i64,
}

pub async fn meta<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
) -> Result<Option<LogoMeta>, StoreError> {
    Ok(sqlx::query_as::<_, MetaRow>(
        "SELECT content_type, content_hash, width, height,
                CAST(LENGTH(bytes) AS BIGINT) AS byte_len, updated_ms
           FROM partner_logos WHERE partner_id = $1",
    )
    .bind(partner.as_str())
    .fetch_optional(ex)
    .await?
    .map(|r| LogoMeta {
        content_type: r.content_type,
        content_hash: r.content_hash,
        width: r.width,
        height: r.height,
        byte_len: r.byte_len,
        updated_ms: r.updated_ms,
    }))
}

/// The partner's logo if its hash is `hash`: an older hash names nothing any more.
pub async fn by_hash<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    hash: &str,
) -> Result<Option<Logo>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        content_type: String,
        bytes: Vec<u8>,
    }
    Ok(sqlx::query_as::<_, Row>(
        "SELECT content_type, bytes FROM partner_logos
          WHERE partner_id = $1 AND content_hash = $2",
    )
    .bind(partner.as_str())
    .bind(hash)
    .fetch_optional(ex)
    .await?
    .map(|r| Logo {
        content_type: r.content_type,
        bytes: r.bytes,
    }))
}

/// Store the partner's logo, replacing the previous one.
pub async fn set<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    logo: &NewLogo<'_>,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO partner_logos
                (partner_id, content_type, content_hash, width, height, bytes, updated_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (partner_id) DO UPDATE SET
                content_type = excluded.content_type, content_hash = excluded.content_hash,
                width = excluded.width, height = excluded.height, bytes = excluded.bytes,
                updated_ms = excluded.updated_ms",
    )
    .bind(partner.as_str())
    .bind(logo.content_type)
    .bind(logo.content_hash)
    .bind(i64::from(logo.width))
    .bind(i64::from(logo.height))
    .bind(logo.bytes.to_vec())
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// Remove the partner's logo; `false` when there was none.
pub async fn remove<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM partner_logos WHERE partner_id = $1")
        .bind(partner.as_str())
        .execute(ex)
        .await?;
    Ok(done.rows_affected() > 0)
}
