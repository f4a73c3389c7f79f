//! Messages sent through the Messaging API with their price, the customer service windows that
//! inbound messages open, and the Idempotency-Key answers kept for a day.

use crate::billing::Holder;
use crate::{StoreError, parse_column};
use domain::pricing::Category;
use domain::{ChannelId, ClientId, Currency, Micros, PartnerId};
use sqlx::{Any, AnyConnection, Executor};

/// A message as the Hub accepted it, owned so that it can wait for a group commit.
#[derive(Clone, Debug)]
pub struct NewMessage {
    pub id: String,
    pub client_id: ClientId,
    pub channel_id: ChannelId,
    /// The account it was charged to; set when the account is held.
    pub account_id: Option<String>,
    pub recipient: String,
    pub country: String,
    pub market: String,
    pub category: Category,
    pub pricing_type: String,
    pub price: Micros,
    pub currency: Currency,
    pub rate_card_id: Option<String>,
    pub template_name: Option<String>,
}

/// A message ready to be written with its charge and its Idempotency-Key answer. The send
/// service gathers many into one transaction (a group commit), each still checked on its own.
#[derive(Clone, Debug)]
pub struct Pending {
    pub partner_id: PartnerId,
    pub message: NewMessage,
    /// The paying account while billing is on: then nothing is sent at a balance of zero.
    pub payer: Option<Holder>,
    /// What the message costs, when it costs anything, and the ledger entry's description.
    pub charge: Option<(Micros, String)>,
    /// The request's Idempotency-Key and the answer to keep under it.
    pub key: Option<(String, KeptAnswer)>,
    pub now_ms: i64,
}

/// What became of a pending message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    Accepted,
    /// The paying balance is at or below zero: nothing was written.
    Refused {
        balance: Micros,
    },
    /// A concurrent request with the same Idempotency-Key was first: nothing was written.
    KeyTaken,
}

#[derive(Clone, Debug)]
pub struct Message {
    pub id: String,
    pub partner_id: PartnerId,
    pub client_id: String,
    pub channel_id: ChannelId,
    pub account_id: Option<String>,
    pub recipient: String,
    pub market: String,
    pub category: Category,
    pub pricing_type: String,
    pub price: Micros,
    pub currency: String,
    pub template_name: Option<String>,
    pub status: String,
    pub error_code: Option<i64>,
    pub created_ms: i64,
    pub modified_ms: i64,
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    id: String,
    partner_id: String,
    client_id: String,
    channel_id: String,
    account_id: Option<String>,
    recipient: String,
    market: String,
    category: String,
    pricing_type: String,
    price_micros: i64,
    currency: String,
    template_name: Option<String>,
    status: String,
    error_code: Option<i64>,
    created_ms: i64,
    modified_ms: i64,
}

impl TryFrom<MessageRow> for Message {
    type Error = StoreError;
    fn try_from(r: MessageRow) -> Result<Self, StoreError> {
        Ok(Message {
            partner_id: parse_column("messages.partner_id", &r.partner_id, PartnerId::parse)?,
            channel_id: parse_column("messages.channel_id", &r.channel_id, ChannelId::parse)?,
            category: parse_column("messages.category", &r.category, |c| {
                Category::parse_stored(c).ok_or(())
            })?,
            id: r.id,
            client_id: r.client_id,
            account_id: r.account_id,
            recipient: r.recipient,
            market: r.market,
            pricing_type: r.pricing_type,
            price: Micros::new(r.price_micros),
            currency: r.currency,
            template_name: r.template_name,
            status: r.status,
            error_code: r.error_code,
            created_ms: r.created_ms,
            modified_ms: r.modified_ms,
        })
    }
}

const COLUMNS: &str = "id, partner_id, client_id, channel_id, account_id, recipient, market, category, pricing_type, price_micros, currency, template_name, status, error_code, created_ms, modified_ms";

pub async fn get<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &str,
) -> Result<Option<Message>, StoreError> {
    sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM messages WHERE partner_id = $1 AND id = $2"
    )))
    .bind(partner.as_str())
    .bind(id)
    .fetch_optional(ex)
    .await?
    .map(Message::try_from)
    .transpose()
}

/// Insert many accepted messages, fifty a statement, in the caller's transaction.
pub async fn insert_many(
    conn: &mut AnyConnection,
    messages: &[(&PartnerId, &NewMessage, i64)],
) -> Result<(), StoreError> {
    use crate::select::{Bind, Select};
    let text = |t: &str| Bind::Text(t.to_owned());
    for chunk in messages.chunks(crate::select::MAX_LIST / 2) {
        let mut q = Select::new(
            "INSERT INTO messages (id, partner_id, client_id, channel_id, account_id, recipient, country, market,
                                   category, pricing_type, price_micros, currency, rate_card_id, template_name,
                                   status, created_ms, modified_ms) VALUES ",
        );
        for (i, (partner, m, now_ms)) in chunk.iter().enumerate() {
            q.values_row(
                i == 0,
                [
                    text(&m.id),
                    text(partner.as_str()),
                    text(m.client_id.as_str()),
                    text(m.channel_id.as_str()),
                    Bind::OptionalText(m.account_id.clone()),
                    text(&m.recipient),
                    text(&m.country),
                    text(&m.market),
                    text(m.category.as_str()),
                    text(&m.pricing_type),
                    Bind::Int(m.price.get()),
                    text(m.currency.as_str()),
                    Bind::OptionalText(m.rate_card_id.clone()),
                    Bind::OptionalText(m.template_name.clone()),
                    text("accepted"),
                    Bind::Int(*now_ms),
                    Bind::Int(*now_ms),
                ],
            );
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Mark many `accepted` or `sent` messages `delivered` at once (never back, as
/// [`set_status`]), in the caller's transaction; the messages this call moved, as they now are.
/// The report job is the system's, across partners, and its ids come from [`awaiting_report`].
pub async fn deliver_many(
    conn: &mut AnyConnection,
    ids: &[&str],
    now_ms: i64,
) -> Result<Vec<Message>, StoreError> {
    static RETURNING: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| format!(") RETURNING {COLUMNS}"));
    let mut moved = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(crate::select::MAX_LIST) {
        // `status || ''` keeps SQLite from answering by the status index (every accepted
        // message) instead of the ids' primary key; PostgreSQL plans by the ids either way.
        let mut q = crate::select::Select::new(
            "UPDATE messages SET status = 'delivered', error_code = NULL, error_title = NULL, modified_ms = ",
        );
        q.bind(crate::select::Bind::Int(now_ms))
            .push(" WHERE status || '' IN ('accepted', 'sent') AND id IN (")
            .bind_texts(chunk.iter().copied())
            .push(RETURNING.as_str());
        for row in q.fetch_all::<MessageRow, _>(&mut *conn).await? {
            moved.push(Message::try_from(row)?);
        }
    }
    Ok(moved)
}

/// Move a message forward (`sent`, `delivered`, `read`) or to `failed`; a status never goes
/// back and `failed` is final. True when this call changed it.
pub async fn set_status(
    conn: &mut AnyConnection,
    partner: &PartnerId,
    id: &str,
    status: &str,
    error: Option<(i64, &str)>,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let allowed_from: &[&str] = match status {
        "sent" => &["accepted"],
        "delivered" => &["accepted", "sent"],
        "read" => &["accepted", "sent", "delivered"],
        "failed" => &["accepted", "sent"],
        _ => &[],
    };
    if allowed_from.is_empty() {
        return Ok(false);
    }
    // Three slots for the statuses it may come from; repeats fill the unused ones.
    let from = |i: usize| allowed_from[i.min(allowed_from.len() - 1)];
    let done = sqlx::query(
        "UPDATE messages SET status = $3, error_code = $4, error_title = $5, modified_ms = $6
          WHERE partner_id = $1 AND id = $2 AND status IN ($7, $8, $9)",
    )
    .bind(partner.as_str())
    .bind(id)
    .bind(status)
    .bind(error.map(|e| e.0))
    .bind(error.map(|e| e.1.to_owned()))
    .bind(now_ms)
    .bind(from(0))
    .bind(from(1))
    .bind(from(2))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Accepted messages the sandbox has not reported on yet, oldest first (its reports move a
/// message from `accepted` to `delivered` or `failed` in one transaction).
pub async fn awaiting_report<'e>(
    ex: impl Executor<'e, Database = Any>,
    accepted_before_ms: i64,
    limit: i64,
) -> Result<Vec<Message>, StoreError> {
    sqlx::query_as::<_, MessageRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM messages WHERE status = 'accepted' AND modified_ms <= $1
          ORDER BY created_ms LIMIT $2"
    )))
    .bind(accepted_before_ms)
    .bind(limit)
    .fetch_all(ex)
    .await?
    .into_iter()
    .map(Message::try_from)
    .collect()
}

/// Open (or extend) the 24-hour window of a user on a number.
pub async fn open_window(
    conn: &mut AnyConnection,
    partner: &PartnerId,
    channel: &ChannelId,
    wa_id: &str,
    expires_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO service_windows (channel_id, wa_id, partner_id, expires_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (channel_id, wa_id) DO UPDATE SET expires_ms = excluded.expires_ms",
    )
    .bind(channel.as_str())
    .bind(wa_id)
    .bind(partner.as_str())
    .bind(expires_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Whether a window with this user is open on this number now.
pub async fn window_open<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    channel: &ChannelId,
    wa_id: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let expires: Option<i64> = sqlx::query_scalar(
        "SELECT expires_ms FROM service_windows WHERE partner_id = $1 AND channel_id = $2 AND wa_id = $3",
    )
    .bind(partner.as_str())
    .bind(channel.as_str())
    .bind(wa_id)
    .fetch_optional(ex)
    .await?;
    Ok(expires.is_some_and(|e| e > now_ms))
}

/// The answer first given to an Idempotency-Key on this number, if still kept.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct KeptAnswer {
    pub body_hash: String,
    pub status_code: i64,
    pub response: String,
    pub created_ms: i64,
}

pub async fn kept_answer<'e>(
    ex: impl Executor<'e, Database = Any>,
    channel: &ChannelId,
    key: &str,
    since_ms: i64,
) -> Result<Option<KeptAnswer>, StoreError> {
    Ok(sqlx::query_as::<_, KeptAnswer>(
        "SELECT body_hash, status_code, response, created_ms FROM message_requests
          WHERE channel_id = $1 AND idempotency_key = $2 AND created_ms >= $3",
    )
    .bind(channel.as_str())
    .bind(key)
    .bind(since_ms)
    .fetch_optional(ex)
    .await?)
}

/// Keep an answer under its key; false when a concurrent request with the same key was first
/// (nothing is written then, and the transaction stays usable).
pub async fn keep_answer(
    conn: &mut AnyConnection,
    channel: &ChannelId,
    key: &str,
    answer: &KeptAnswer,
) -> Result<bool, StoreError> {
    // An expired answer under the same key gives way to the new one.
    sqlx::query(
        "DELETE FROM message_requests WHERE channel_id = $1 AND idempotency_key = $2 AND created_ms < $3",
    )
    .bind(channel.as_str())
    .bind(key)
    .bind(answer.created_ms - KEEP_ANSWERS_MS)
    .execute(&mut *conn)
    .await?;
    let kept = sqlx::query(
        "INSERT INTO message_requests (channel_id, idempotency_key, body_hash, status_code, response, created_ms)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel_id, idempotency_key) DO NOTHING",
    )
    .bind(channel.as_str())
    .bind(key)
    .bind(&answer.body_hash)
    .bind(answer.status_code)
    .bind(&answer.response)
    .bind(answer.created_ms)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(kept == 1)
}

/// How long an Idempotency-Key's answer is kept.
pub const KEEP_ANSWERS_MS: i64 = 24 * 60 * 60 * 1000;

/// Forget answers and windows that ran out.
pub async fn purge_expired(conn: &mut AnyConnection, now_ms: i64) -> Result<u64, StoreError> {
    let answers = sqlx::query("DELETE FROM message_requests WHERE created_ms < $1")
        .bind(now_ms - KEEP_ANSWERS_MS)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    let windows = sqlx::query("DELETE FROM service_windows WHERE expires_ms < $1")
        .bind(now_ms)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(answers + windows)
}

/// Drop a kept answer (the message it described never left), so a retry may send again.
pub async fn forget_answer<'e>(
    ex: impl Executor<'e, Database = Any>,
    channel: &ChannelId,
    key: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM message_requests WHERE channel_id = $1 AND idempotency_key = $2")
        .bind(channel.as_str())
        .bind(key)
        .execute(ex)
        .await?;
    Ok(())
}

/// Messages of one day and kind: how many, and what they cost.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DailyUsage {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    pub category: String,
    pub pricing_type: String,
    pub quantity: i64,
    pub price_micros: i64,
}

/// A client's messages between two instants, by UTC day, category and pricing type. Failed
/// messages are left out: they were refunded and Meta does not count them.
pub async fn daily_usage<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    client: &ClientId,
    from_ms: i64,
    until_ms: i64,
) -> Result<Vec<DailyUsage>, StoreError> {
    Ok(sqlx::query_as::<_, DailyUsage>(
        "SELECT CAST(created_ms / 86400000 AS BIGINT) AS day, category, pricing_type,
                CAST(COUNT(*) AS BIGINT) AS quantity, CAST(SUM(price_micros) AS BIGINT) AS price_micros
           FROM messages
          WHERE partner_id = $1 AND client_id = $2 AND created_ms >= $3 AND created_ms < $4
            AND status <> 'failed'
          GROUP BY CAST(created_ms / 86400000 AS BIGINT), category, pricing_type
          ORDER BY 1",
    )
    .bind(partner.as_str())
    .bind(client.as_str())
    .bind(from_ms)
    .bind(until_ms)
    .fetch_all(ex)
    .await?)
}

/// Whether the partner has sent any message (the demo seeds its history once).
pub async fn any_of_partner<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
) -> Result<bool, StoreError> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT id FROM messages WHERE partner_id = $1 LIMIT 1")
            .bind(partner.as_str())
            .fetch_optional(ex)
            .await?;
    Ok(found.is_some())
}
