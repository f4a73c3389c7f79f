//! A number's messaging webhook: where its message statuses and inbound messages go, the extra
//! headers sent with them, and the number's own signing secret (never the partner's).

use crate::StoreError;
use domain::{ChannelId, PartnerId};
use sqlx::{Any, AnyConnection, Executor};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ChannelWebhook {
    pub url: String,
    /// A JSON object of header names to values.
    pub headers: String,
    pub secret: String,
    pub created_ms: i64,
    pub modified_ms: i64,
}

pub async fn get<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    channel: &ChannelId,
) -> Result<Option<ChannelWebhook>, StoreError> {
    Ok(sqlx::query_as::<_, ChannelWebhook>(
        "SELECT url, headers, secret, created_ms, modified_ms FROM channel_webhooks
          WHERE partner_id = $1 AND channel_id = $2",
    )
    .bind(partner.as_str())
    .bind(channel.as_str())
    .fetch_optional(ex)
    .await?)
}

/// Set the URL and headers; a number without a webhook yet gets `new_secret`, one that has
/// one keeps its secret. Returns the row as stored.
pub async fn set(
    conn: &mut AnyConnection,
    partner: &PartnerId,
    channel: &ChannelId,
    url: &str,
    headers: &str,
    new_secret: &str,
    now_ms: i64,
) -> Result<ChannelWebhook, StoreError> {
    sqlx::query(
        "INSERT INTO channel_webhooks (channel_id, partner_id, url, headers, secret, created_ms, modified_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $6)
         ON CONFLICT (channel_id) DO UPDATE SET url = excluded.url, headers = excluded.headers,
                                                modified_ms = excluded.modified_ms",
    )
    .bind(channel.as_str())
    .bind(partner.as_str())
    .bind(url)
    .bind(headers)
    .bind(new_secret)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    get(&mut *conn, partner, channel)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("messaging webhook of {channel} vanished")))
}

/// Replace the secret; false when the number has no webhook.
pub async fn rotate_secret(
    conn: &mut AnyConnection,
    partner: &PartnerId,
    channel: &ChannelId,
    secret: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE channel_webhooks SET secret = $3, modified_ms = $4 WHERE partner_id = $1 AND channel_id = $2",
    )
    .bind(partner.as_str())
    .bind(channel.as_str())
    .bind(secret)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// How a number with a messaging webhook is named in its deliveries.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Target {
    pub channel_id: String,
    pub phone_number: String,
    pub external_id: Option<String>,
    pub waba_id: String,
    pub waba_external_id: Option<String>,
}

/// The numbers among `channels` that have a messaging webhook, in one read (a report batch
/// touches many numbers; the sandbox's report job is the system's, across partners).
pub async fn targets(
    conn: &mut AnyConnection,
    channels: &[&str],
) -> Result<Vec<Target>, StoreError> {
    let mut found = Vec::with_capacity(channels.len());
    for chunk in channels.chunks(crate::select::MAX_LIST) {
        let mut q = crate::select::Select::new(
            "SELECT c.id AS channel_id, c.phone_number, c.external_id, c.waba_id,
                    w.external_id AS waba_external_id
               FROM channel_webhooks h
               JOIN channels c ON c.id = h.channel_id AND c.partner_id = h.partner_id
               JOIN wabas w ON w.id = c.waba_id AND w.partner_id = c.partner_id
              WHERE h.channel_id IN (",
        );
        q.bind_texts(chunk.iter().copied()).push(")");
        found.extend(q.fetch_all::<Target, _>(&mut *conn).await?);
    }
    Ok(found)
}
