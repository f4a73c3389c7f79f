//! API keys, stored as SHA-256 digests with a short prefix for recognition: channel keys for the
//! Messaging API (`D360-API-KEY`), partner keys for the Partner API (`X-API-Key`), and the bearer
//! tokens `POST /api/v2/token` hands out.

use crate::{StoreError, parse_column};
use domain::{ApiKeyId, ChannelId, PartnerId, TokenHash, UserId};
use sqlx::{Any, Executor};

#[derive(Clone, Debug)]
pub struct ChannelKey {
    pub id: ApiKeyId,
    pub channel_id: ChannelId,
    pub prefix: String,
    pub app_id: String,
    pub created_ms: i64,
}

#[derive(sqlx::FromRow)]
struct ChannelKeyRow {
    id: String,
    channel_id: String,
    prefix: String,
    app_id: String,
    created_ms: i64,
}

impl TryFrom<ChannelKeyRow> for ChannelKey {
    type Error = StoreError;
    fn try_from(r: ChannelKeyRow) -> Result<Self, StoreError> {
        Ok(ChannelKey {
            id: parse_column("channel_api_keys.id", &r.id, ApiKeyId::parse)?,
            channel_id: parse_column(
                "channel_api_keys.channel_id",
                &r.channel_id,
                ChannelId::parse,
            )?,
            prefix: r.prefix,
            app_id: r.app_id,
            created_ms: r.created_ms,
        })
    }
}

/// A key about to be stored: its id, digest and the prefix shown to people.
pub struct NewKey<'a> {
    pub id: &'a ApiKeyId,
    pub key_hash: &'a TokenHash,
    pub prefix: &'a str,
}

/// Revoke every live key of the channel, then store the new one — in the caller's transaction.
pub async fn replace_channel_key(
    conn: &mut sqlx::AnyConnection,
    partner: &PartnerId,
    channel: &ChannelId,
    key: &NewKey<'_>,
    app_id: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    revoke_channel_keys(&mut *conn, partner, channel, now_ms).await?;
    sqlx::query(
        "INSERT INTO channel_api_keys (id, partner_id, channel_id, key_hash, prefix, app_id, created_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(key.id.as_str())
    .bind(partner.as_str())
    .bind(channel.as_str())
    .bind(key.key_hash.as_str())
    .bind(key.prefix)
    .bind(app_id)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn revoke_channel_keys<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    channel: &ChannelId,
    now_ms: i64,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE channel_api_keys SET revoked_ms = $1
          WHERE partner_id = $2 AND channel_id = $3 AND revoked_ms IS NULL",
    )
    .bind(now_ms)
    .bind(partner.as_str())
    .bind(channel.as_str())
    .execute(ex)
    .await?
    .rows_affected())
}

/// Live keys of a channel, newest first.
pub async fn channel_keys<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    channel: &ChannelId,
) -> Result<Vec<ChannelKey>, StoreError> {
    sqlx::query_as::<_, ChannelKeyRow>(
        "SELECT id, channel_id, prefix, app_id, created_ms FROM channel_api_keys
          WHERE partner_id = $1 AND channel_id = $2 AND revoked_ms IS NULL
          ORDER BY created_ms DESC, id DESC",
    )
    .bind(partner.as_str())
    .bind(channel.as_str())
    .fetch_all(ex)
    .await?
    .into_iter()
    .map(ChannelKey::try_from)
    .collect()
}

/// When the channel's newest key (live or revoked) was made, for the one-per-30-s limit.
pub async fn last_channel_key_ms<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    channel: &ChannelId,
) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar::<_, Option<i64>>(
        "SELECT MAX(created_ms) FROM channel_api_keys WHERE partner_id = $1 AND channel_id = $2",
    )
    .bind(partner.as_str())
    .bind(channel.as_str())
    .fetch_one(ex)
    .await?)
}

#[derive(Clone, Debug)]
pub struct PartnerKey {
    pub id: ApiKeyId,
    pub partner_id: PartnerId,
    pub name: String,
    pub prefix: String,
    pub created_by: String,
    pub created_ms: i64,
    pub last_used_ms: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct PartnerKeyRow {
    id: String,
    partner_id: String,
    name: String,
    prefix: String,
    created_by: String,
    created_ms: i64,
    last_used_ms: Option<i64>,
}

impl TryFrom<PartnerKeyRow> for PartnerKey {
    type Error = StoreError;
    fn try_from(r: PartnerKeyRow) -> Result<Self, StoreError> {
        Ok(PartnerKey {
            id: parse_column("partner_api_keys.id", &r.id, ApiKeyId::parse)?,
            partner_id: parse_column(
                "partner_api_keys.partner_id",
                &r.partner_id,
                PartnerId::parse,
            )?,
            name: r.name,
            prefix: r.prefix,
            created_by: r.created_by,
            created_ms: r.created_ms,
            last_used_ms: r.last_used_ms,
        })
    }
}

pub async fn create_partner_key<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    key: &NewKey<'_>,
    name: &str,
    created_by: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO partner_api_keys (id, partner_id, name, key_hash, prefix, created_by, created_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(key.id.as_str())
    .bind(partner.as_str())
    .bind(name)
    .bind(key.key_hash.as_str())
    .bind(key.prefix)
    .bind(created_by)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(())
}

pub async fn partner_keys<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
) -> Result<Vec<PartnerKey>, StoreError> {
    sqlx::query_as::<_, PartnerKeyRow>(
        "SELECT id, partner_id, name, prefix, created_by, created_ms, last_used_ms FROM partner_api_keys
          WHERE partner_id = $1 AND revoked_ms IS NULL ORDER BY created_ms DESC, id DESC",
    )
    .bind(partner.as_str())
    .fetch_all(ex)
    .await?
    .into_iter()
    .map(PartnerKey::try_from)
    .collect()
}

/// The live partner key with this digest, whichever partner it belongs to (the key is the proof).
pub async fn partner_key_by_hash<'e>(
    ex: impl Executor<'e, Database = Any>,
    key_hash: &TokenHash,
) -> Result<Option<PartnerKey>, StoreError> {
    sqlx::query_as::<_, PartnerKeyRow>(
        "SELECT id, partner_id, name, prefix, created_by, created_ms, last_used_ms FROM partner_api_keys
          WHERE key_hash = $1 AND revoked_ms IS NULL",
    )
    .bind(key_hash.as_str())
    .fetch_optional(ex)
    .await?
    .map(PartnerKey::try_from)
    .transpose()
}

pub async fn touch_partner_key<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &ApiKeyId,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE partner_api_keys SET last_used_ms = $1 WHERE id = $2")
        .bind(now_ms)
        .bind(id.as_str())
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn revoke_partner_key<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &ApiKeyId,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE partner_api_keys SET revoked_ms = $1 WHERE partner_id = $2 AND id = $3 AND revoked_ms IS NULL",
    )
    .bind(now_ms)
    .bind(partner.as_str())
    .bind(id.as_str())
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn create_token<'e>(
    ex: impl Executor<'e, Database = Any>,
    token_hash: &TokenHash,
    user: &UserId,
    now_ms: i64,
    expires_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO api_tokens (token_hash, user_id, created_ms, expires_ms) VALUES ($1, $2, $3, $4)")
        .bind(token_hash.as_str())
        .bind(user.as_str())
        .bind(now_ms)
        .bind(expires_ms)
        .execute(ex)
        .await?;
    Ok(())
}

/// The user a live bearer token belongs to.
pub async fn token_user<'e>(
    ex: impl Executor<'e, Database = Any>,
    token_hash: &TokenHash,
    now_ms: i64,
) -> Result<Option<UserId>, StoreError> {
    sqlx::query_scalar::<_, String>(
        "SELECT user_id FROM api_tokens WHERE token_hash = $1 AND expires_ms > $2",
    )
    .bind(token_hash.as_str())
    .bind(now_ms)
    .fetch_optional(ex)
    .await?
    .map(|id| parse_column("api_tokens.user_id", &id, UserId::parse))
    .transpose()
}

/// What a live messaging key (`D360-API-KEY`) names.
#[derive(Clone, Debug)]
pub struct MessagingKey {
    pub id: ApiKeyId,
    pub partner_id: PartnerId,
    pub channel_id: ChannelId,
}

/// The live messaging key with this digest, whoever owns it: the key alone names its number.
pub async fn messaging_key_by_hash<'e>(
    ex: impl Executor<'e, Database = Any>,
    hash: &TokenHash,
) -> Result<Option<MessagingKey>, StoreError> {
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT id, partner_id, channel_id FROM channel_api_keys
          WHERE key_hash = $1 AND revoked_ms IS NULL",
    )
    .bind(hash.as_str())
    .fetch_optional(ex)
    .await?;
    row.map(|(id, partner, channel)| {
        Ok(MessagingKey {
            id: parse_column("channel_api_keys.id", &id, ApiKeyId::parse)?,
            partner_id: parse_column("channel_api_keys.partner_id", &partner, PartnerId::parse)?,
            channel_id: parse_column("channel_api_keys.channel_id", &channel, ChannelId::parse)?,
        })
    })
    .transpose()
}
