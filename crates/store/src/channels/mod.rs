//! Channels (phone numbers): the row and the joined view the API and pages show (with client and
//! WABA), creation, status transitions with their history, verification attempts and
//! cancellation. The free-text search planner (`search`), the list pages of both backends
//! (`pages`) and the export's batches (`export`) live beside.

mod export;
mod pages;
mod search;

pub use export::*;
pub use pages::*;
use search::*;

use crate::clients::filter_text;
use crate::select::{Bind, Select};
use crate::{Backend, StoreError, dialect, parse_column};
use domain::listing::{After, FilterValue, KeyValue, ListQuery, SortKey};
use domain::{ChannelId, ChannelStatus, ClientId, PartnerId, WabaId};
use sqlx::Row as _;
use sqlx::postgres::PgRow;
use sqlx::{Any, Executor};

/// A channel as shown to its partner: the number with its client and WABA.
#[derive(Clone, Debug)]
pub struct ChannelView {
    pub id: ChannelId,
    pub partner_id: PartnerId,
    pub client_id: ClientId,
    pub waba_id: WabaId,
    pub phone_number: String,
    pub phone_name: String,
    pub verification_method: String,
    pub default_language: Option<String>,
    pub status: ChannelStatus,
    pub account_mode: String,
    pub hosting_type: String,
    pub data_storage_region: Option<String>,
    pub partner_permission: String,
    pub current_limit: Option<String>,
    pub quality_rating: String,
    pub external_id: Option<String>,
    pub is_migrated: bool,
    pub verification_attempts: i64,
    pub locked_until_ms: Option<i64>,
    pub billing_started_ms: Option<i64>,
    pub terminated_ms: Option<i64>,
    pub cancelled_ms: Option<i64>,
    pub cancellation_requested_ms: Option<i64>,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub client_name: String,
    pub client_partner_payload: Option<String>,
    pub client_email: Option<String>,
    pub client_organisation: Option<String>,
    pub waba_external_id: Option<String>,
    pub waba_name: String,
    pub waba_namespace: Option<String>,
    pub waba_fb_account_status: String,
    pub waba_business_id: Option<String>,
    pub waba_business_name: Option<String>,
    pub waba_business_status: Option<String>,
    pub waba_business_type: Option<String>,
}

/// A channel's columns, [`COLUMNS`].
#[derive(sqlx::FromRow)]
pub(super) struct Row {
    id: String,
    partner_id: String,
    client_id: String,
    waba_id: String,
    phone_number: String,
    phone_name: String,
    verification_method: String,
    default_language: Option<String>,
    status: String,
    account_mode: String,
    hosting_type: String,
    data_storage_region: Option<String>,
    partner_permission: String,
    current_limit: Option<String>,
    quality_rating: String,
    external_id: Option<String>,
    is_migrated: i64,
    verification_attempts: i64,
    locked_until_ms: Option<i64>,
    billing_started_ms: Option<i64>,
    terminated_ms: Option<i64>,
    cancelled_ms: Option<i64>,
    cancellation_requested_ms: Option<i64>,
    created_ms: i64,
    modified_ms: i64,
    client_name: String,
    client_partner_payload: Option<String>,
    client_email: Option<String>,
    client_organisation: Option<String>,
    waba_external_id: Option<String>,
    waba_name: String,
    waba_namespace: Option<String>,
    waba_fb_account_status: String,
    waba_business_id: Option<String>,
    waba_business_name: Option<String>,
    waba_business_status: Option<String>,
    waba_business_type: Option<String>,
    /// `COUNT(*) OVER ()` or the counted total, when the query asks for it.
    #[sqlx(default)]
    total: i64,
}

/// A channel's fields for the Partner API as texts: borrowed from the native driver's row on a
/// PostgreSQL list page (`NativeRows`), so a page of 100 channels is not copied into owned
/// strings on its way to the response, or from a [`ChannelView`]. What the API does not show
/// is left out.
#[derive(Debug)]
pub struct ChannelTexts<'a> {
    pub id: &'a str,
    pub client_id: &'a str,
    pub waba_id: &'a str,
    pub phone_number: &'a str,
    pub phone_name: &'a str,
    pub verification_method: &'a str,
    pub default_language: Option<&'a str>,
    pub status: &'a str,
    pub account_mode: &'a str,
    pub hosting_type: &'a str,
    pub data_storage_region: Option<&'a str>,
    pub partner_permission: &'a str,
    pub current_limit: Option<&'a str>,
    pub quality_rating: &'a str,
    pub external_id: Option<&'a str>,
    pub is_migrated: bool,
    pub billing_started_ms: Option<i64>,
    pub terminated_ms: Option<i64>,
    pub cancelled_ms: Option<i64>,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub client_name: &'a str,
    pub client_partner_payload: Option<&'a str>,
    pub client_email: Option<&'a str>,
    pub waba_external_id: Option<&'a str>,
    pub waba_name: &'a str,
    pub waba_namespace: Option<&'a str>,
    pub waba_fb_account_status: &'a str,
    pub waba_business_id: Option<&'a str>,
    pub waba_business_name: Option<&'a str>,
    pub waba_business_status: Option<&'a str>,
    pub waba_business_type: Option<&'a str>,
}

impl<'a> ChannelTexts<'a> {
    /// Reads a row of [`COLUMNS`] by position (the order of `Row`'s fields): by name, each of
    /// a page's 3,400 values would be a hash lookup.
    fn from_row(row: &'a PgRow) -> Result<Self, sqlx::Error> {
        Ok(ChannelTexts {
            id: row.try_get_unchecked(0)?,
            client_id: row.try_get_unchecked(2)?,
            waba_id: row.try_get_unchecked(3)?,
            phone_number: row.try_get_unchecked(4)?,
            phone_name: row.try_get_unchecked(5)?,
            verification_method: row.try_get_unchecked(6)?,
            default_language: row.try_get_unchecked(7)?,
            status: row.try_get_unchecked(8)?,
            account_mode: row.try_get_unchecked(9)?,
            hosting_type: row.try_get_unchecked(10)?,
            data_storage_region: row.try_get_unchecked(11)?,
            partner_permission: row.try_get_unchecked(12)?,
            current_limit: row.try_get_unchecked(13)?,
            quality_rating: row.try_get_unchecked(14)?,
            external_id: row.try_get_unchecked(15)?,
            is_migrated: row.try_get_unchecked::<i64, _>(16)? != 0,
            billing_started_ms: row.try_get_unchecked(19)?,
            terminated_ms: row.try_get_unchecked(20)?,
            cancelled_ms: row.try_get_unchecked(21)?,
            created_ms: row.try_get_unchecked(23)?,
            modified_ms: row.try_get_unchecked(24)?,
            client_name: row.try_get_unchecked(25)?,
            client_partner_payload: row.try_get_unchecked(26)?,
            client_email: row.try_get_unchecked(27)?,
            waba_external_id: row.try_get_unchecked(29)?,
            waba_name: row.try_get_unchecked(30)?,
            waba_namespace: row.try_get_unchecked(31)?,
            waba_fb_account_status: row.try_get_unchecked(32)?,
            waba_business_id: row.try_get_unchecked(33)?,
            waba_business_name: row.try_get_unchecked(34)?,
            waba_business_status: row.try_get_unchecked(35)?,
            waba_business_type: row.try_get_unchecked(36)?,
        })
    }
}

impl ChannelView {
    /// Its fields as [`ChannelTexts`], for writers that take either.
    pub fn texts(&self) -> ChannelTexts<'_> {
        ChannelTexts {
            id: self.id.as_str(),
            client_id: self.client_id.as_str(),
            waba_id: self.waba_id.as_str(),
            phone_number: &self.phone_number,
            phone_name: &self.phone_name,
            verification_method: &self.verification_method,
            default_language: self.default_language.as_deref(),
            status: self.status.as_str(),
            account_mode: &self.account_mode,
            hosting_type: &self.hosting_type,
            data_storage_region: self.data_storage_region.as_deref(),
            partner_permission: &self.partner_permission,
            current_limit: self.current_limit.as_deref(),
            quality_rating: &self.quality_rating,
            external_id: self.external_id.as_deref(),
            is_migrated: self.is_migrated,
            billing_started_ms: self.billing_started_ms,
            terminated_ms: self.terminated_ms,
            cancelled_ms: self.cancelled_ms,
            created_ms: self.created_ms,
            modified_ms: self.modified_ms,
            client_name: &self.client_name,
            client_partner_payload: self.client_partner_payload.as_deref(),
            client_email: self.client_email.as_deref(),
            waba_external_id: self.waba_external_id.as_deref(),
            waba_name: &self.waba_name,
            waba_namespace: self.waba_namespace.as_deref(),
            waba_fb_account_status: &self.waba_fb_account_status,
            waba_business_id: self.waba_business_id.as_deref(),
            waba_business_name: self.waba_business_name.as_deref(),
            waba_business_status: self.waba_business_status.as_deref(),
            waba_business_type: self.waba_business_type.as_deref(),
        }
    }
}

impl TryFrom<Row> for ChannelView {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(ChannelView {
            id: parse_column("channels.id", &r.id, ChannelId::parse)?,
            partner_id: parse_column("channels.partner_id", &r.partner_id, PartnerId::parse)?,
            client_id: parse_column("channels.client_id", &r.client_id, ClientId::parse)?,
            waba_id: parse_column("channels.waba_id", &r.waba_id, WabaId::parse)?,
            phone_number: r.phone_number,
            phone_name: r.phone_name,
            verification_method: r.verification_method,
            default_language: r.default_language,
            status: parse_column("channels.status", &r.status, ChannelStatus::parse)?,
            account_mode: r.account_mode,
            hosting_type: r.hosting_type,
            data_storage_region: r.data_storage_region,
            partner_permission: r.partner_permission,
            current_limit: r.current_limit,
            quality_rating: r.quality_rating,
            external_id: r.external_id,
            is_migrated: r.is_migrated != 0,
            verification_attempts: r.verification_attempts,
            locked_until_ms: r.locked_until_ms,
            billing_started_ms: r.billing_started_ms,
            terminated_ms: r.terminated_ms,
            cancelled_ms: r.cancelled_ms,
            cancellation_requested_ms: r.cancellation_requested_ms,
            created_ms: r.created_ms,
            modified_ms: r.modified_ms,
            client_name: r.client_name,
            client_partner_payload: r.client_partner_payload,
            client_email: r.client_email,
            client_organisation: r.client_organisation,
            waba_external_id: r.waba_external_id,
            waba_name: r.waba_name,
            waba_namespace: r.waba_namespace,
            waba_fb_account_status: r.waba_fb_account_status,
            waba_business_id: r.waba_business_id,
            waba_business_name: r.waba_business_name,
            waba_business_status: r.waba_business_status,
            waba_business_type: r.waba_business_type,
        })
    }
}

pub(super) const COLUMNS: &str = "SELECT c.id, c.partner_id, c.client_id, c.waba_id, c.phone_number, c.phone_name,
        c.verification_method, c.default_language, c.status, c.account_mode, c.hosting_type,
        c.data_storage_region, c.partner_permission, c.current_limit, c.quality_rating, c.external_id,
        c.is_migrated, c.verification_attempts, c.locked_until_ms, c.billing_started_ms, c.terminated_ms,
        c.cancelled_ms, c.cancellation_requested_ms, c.created_ms, c.modified_ms,
        cl.name AS client_name, cl.partner_payload AS client_partner_payload,
        cl.contact_email AS client_email, cl.organisation AS client_organisation,
        w.external_id AS waba_external_id, w.name AS waba_name, w.namespace AS waba_namespace,
        w.fb_account_status AS waba_fb_account_status, w.business_id AS waba_business_id,
        w.business_name AS waba_business_name, w.business_status AS waba_business_status,
        w.business_type AS waba_business_type";

pub(super) const FROM_CHANNELS: &str = " FROM channels c";

pub(super) const JOINS: &str =
    " JOIN clients cl ON cl.id = c.client_id JOIN wabas w ON w.id = c.waba_id";

pub(super) const COUNT: &str = "SELECT CAST(COUNT(*) AS BIGINT)";

pub(super) fn needs_joins(query: &ListQuery) -> bool {
    query
        .filters
        .iter()
        .any(|(key, _)| key.starts_with("client.") || key.starts_with("waba_account.fb"))
}

/// The Partner API's channel filter keys and the comparison each one makes.
pub(super) const FILTER_COLUMNS: &[(&str, &str)] = &[
    ("id", " AND c.id = "),
    ("status", " AND c.status = "),
    ("client_id", " AND c.client_id = "),
    ("account_mode", " AND c.account_mode = "),
    ("hosting_type", " AND c.hosting_type = "),
    ("data_storage_region", " AND c.data_storage_region = "),
    ("partner_permission", " AND c.partner_permission = "),
    ("external_id", " AND c.external_id = "),
    ("current_limit", " AND c.current_limit = "),
    ("current_quality_rating", " AND c.quality_rating = "),
    ("setup_info.phone_number", " AND c.phone_number = "),
    ("setup_info.phone_name", " AND c.phone_name = "),
    ("waba_account.id", " AND c.waba_id = "),
    (
        "waba_account.fb_account_status",
        " AND w.fb_account_status = ",
    ),
    ("client.contact_info.email", " AND cl.contact_email = "),
];

pub(super) const NULL_COLUMNS: &[(&str, &str)] = &[
    ("data_storage_region", " AND c.data_storage_region IS NULL"),
    ("external_id", " AND c.external_id IS NULL"),
    ("current_limit", " AND c.current_limit IS NULL"),
    ("client.contact_info.email", " AND cl.contact_email IS NULL"),
];

/// Sort fields and their columns, every one `NOT NULL` (see `Select::after`).
pub(super) const SORT_COLUMNS: &[(&str, &str)] = &[
    ("created_at", "c.created_ms"),
    ("modified_at", "c.modified_ms"),
    ("status", "c.status"),
    ("id", "c.id"),
    ("client_id", "c.client_id"),
    ("setup_info.phone_number", "c.phone_number"),
    ("setup_info.phone_name", "c.phone_name"),
];

/// The values of [`SORT_COLUMNS`] in `row` for each of `sort`'s keys: where the page after it
/// starts.
pub(super) fn after_row(row: &ChannelTexts<'_>, sort: &[SortKey]) -> After {
    let values = sort
        .iter()
        .filter_map(|key| {
            Some(match key.field {
                "created_at" => KeyValue::Int(row.created_ms),
                "modified_at" => KeyValue::Int(row.modified_ms),
                "status" => KeyValue::Text(row.status.to_owned()),
                "id" => KeyValue::Text(row.id.to_owned()),
                "client_id" => KeyValue::Text(row.client_id.to_owned()),
                "setup_info.phone_number" => KeyValue::Text(row.phone_number.to_owned()),
                "setup_info.phone_name" => KeyValue::Text(row.phone_name.to_owned()),
                _ => return None,
            })
        })
        .collect();
    After {
        values,
        id: row.id.to_owned(),
    }
}

pub async fn get<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &ChannelId,
) -> Result<Option<ChannelView>, StoreError> {
    let mut q = Select::new(COLUMNS);
    q.push(FROM_CHANNELS).push(JOINS);
    q.push(" WHERE c.partner_id = ")
        .bind(Bind::Text(partner.to_string()));
    q.push(" AND c.id = ").bind(Bind::Text(id.to_string()));
    q.fetch_all::<Row, _>(ex)
        .await?
        .into_iter()
        .next()
        .map(ChannelView::try_from)
        .transpose()
}

pub struct NewChannel<'a> {
    pub id: &'a ChannelId,
    pub client_id: &'a ClientId,
    pub waba_id: &'a WabaId,
    pub phone_number: &'a str,
    pub phone_name: &'a str,
    pub verification_method: &'a str,
    pub status: ChannelStatus,
    pub account_mode: &'a str,
    pub hosting_type: &'a str,
    pub data_storage_region: Option<&'a str>,
    pub partner_permission: &'a str,
    pub quality_rating: &'a str,
    pub is_migrated: bool,
    /// Lower-cased number, display name, client name and email for free-text search.
    pub search_text: &'a str,
}

/// Insert a channel and its first history entry; `false` when its random id is already taken.
/// A live number elsewhere on the platform is a `Conflict` on `channels_live_phone`.
/// The partner's oldest running number it may manage (shared with it), if any.
pub async fn first_running_shared<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
) -> Result<Option<ChannelId>, StoreError> {
    let id: Option<String> = sqlx::query_scalar(
        "SELECT id FROM channels WHERE partner_id = $1 AND status = 'running' AND partner_permission = 'shared'
          ORDER BY created_ms, id LIMIT 1",
    )
    .bind(partner.as_str())
    .fetch_optional(ex)
    .await?;
    id.map(|id| parse_column("channels.id", &id, ChannelId::parse))
        .transpose()
}

pub async fn create(
    conn: &mut sqlx::AnyConnection,
    partner: &PartnerId,
    channel: &NewChannel<'_>,
    reason: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO channels (id, partner_id, client_id, waba_id, phone_number, phone_name,
             verification_method, status, account_mode, hosting_type, data_storage_region,
             partner_permission, quality_rating, is_migrated, search_text, created_ms, modified_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(channel.id.as_str())
    .bind(partner.as_str())
    .bind(channel.client_id.as_str())
    .bind(channel.waba_id.as_str())
    .bind(channel.phone_number)
    .bind(channel.phone_name)
    .bind(channel.verification_method)
    .bind(channel.status.as_str())
    .bind(channel.account_mode)
    .bind(channel.hosting_type)
    .bind(channel.data_storage_region)
    .bind(channel.partner_permission)
    .bind(channel.quality_rating)
    .bind(i64::from(channel.is_migrated))
    .bind(channel.search_text)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    count_status(&mut *conn, partner, channel.status, 1).await?;
    record_history(
        &mut *conn,
        partner,
        channel.id,
        None,
        channel.status,
        reason,
        now_ms,
    )
    .await?;
    Ok(true)
}

/// Keep `channel_counts` in step with a channel entering (`delta` 1) or leaving (-1) a status.
pub(crate) async fn count_status(
    conn: &mut sqlx::AnyConnection,
    partner: &PartnerId,
    status: ChannelStatus,
    delta: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO channel_counts (partner_id, status, n) VALUES ($1, $2, $3)
         ON CONFLICT (partner_id, status) DO UPDATE SET n = channel_counts.n + $3",
    )
    .bind(partner.as_str())
    .bind(status.as_str())
    .bind(delta)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// When the query filters by nothing but the status, adds the total it would report to the
/// select list as a column `total` read from `channel_counts` (so the page and its total are
/// one statement) and returns true; returns false when a real count is needed.
fn push_counted_total(
    q: &mut Select,
    partner: &PartnerId,
    query: &ListQuery,
    search: &Search,
) -> bool {
    if !search.is_empty() {
        return false;
    }
    match query.filters.as_slice() {
        [] => {
            q.push(
                ", COALESCE((SELECT CAST(SUM(n) AS BIGINT) FROM channel_counts WHERE partner_id = ",
            )
            .bind(Bind::Text(partner.to_string()))
            .push("), 0) AS total");
        }
        [("status", FilterValue::Text(status))] => {
            q.push(", COALESCE((SELECT n FROM channel_counts WHERE partner_id = ")
                .bind(Bind::Text(partner.to_string()))
                .push(" AND status = ")
                .bind(Bind::Text(status.clone()))
                .push("), 0) AS total");
        }
        _ => return false,
    }
    true
}

/// History ids sort in the order the steps happened, even several within one millisecond.
pub(super) fn history_id(now_ms: i64) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed) % 1_000_000;
    format!("hist_{now_ms:013}{seq:06}_{}", domain::ids::row_id("x"))
}

pub(super) async fn record_history<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &ChannelId,
    from: Option<ChannelStatus>,
    to: ChannelStatus,
    reason: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO channel_status_history (id, partner_id, channel_id, from_status, to_status, reason, created_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(history_id(now_ms))
    .bind(partner.as_str())
    .bind(id.as_str())
    .bind(from.map(ChannelStatus::as_str))
    .bind(to.as_str())
    .bind(reason)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// Move a channel from `from` to `to` (only if it is still in `from`, so concurrent movers cannot
/// both win) and record the step. Running for the first time starts billing; cancelled stops it.
pub async fn transition(
    conn: &mut sqlx::AnyConnection,
    partner: &PartnerId,
    id: &ChannelId,
    from: ChannelStatus,
    to: ChannelStatus,
    reason: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE channels SET status = $1, modified_ms = $2,
                billing_started_ms = CASE WHEN $1 = 'running' AND billing_started_ms IS NULL THEN $2 ELSE billing_started_ms END,
                cancelled_ms = CASE WHEN $1 = 'cancelled' THEN $2 ELSE cancelled_ms END,
                terminated_ms = CASE WHEN $1 = 'cancelled' THEN $2 ELSE terminated_ms END,
                cancellation_requested_ms = CASE WHEN $1 = 'pending_deletion' THEN $2
                                                 WHEN $1 = 'running' THEN NULL
                                                 ELSE cancellation_requested_ms END
          WHERE partner_id = $3 AND id = $4 AND status = $5",
    )
    .bind(to.as_str())
    .bind(now_ms)
    .bind(partner.as_str())
    .bind(id.as_str())
    .bind(from.as_str())
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    count_status(&mut *conn, partner, from, -1).await?;
    count_status(&mut *conn, partner, to, 1).await?;
    record_history(&mut *conn, partner, id, Some(from), to, reason, now_ms).await?;
    Ok(true)
}

/// One step of a channel's status timeline.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct HistoryEntry {
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: String,
    pub created_ms: i64,
}

pub async fn history<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &ChannelId,
) -> Result<Vec<HistoryEntry>, StoreError> {
    Ok(sqlx::query_as::<_, HistoryEntry>(
        "SELECT from_status, to_status, reason, created_ms FROM channel_status_history
          WHERE partner_id = $1 AND channel_id = $2 ORDER BY created_ms, id",
    )
    .bind(partner.as_str())
    .bind(id.as_str())
    .fetch_all(ex)
    .await?)
}

/// Count a wrong verification code; at `max_attempts` the channel is locked until `lock_until_ms`.
/// Returns the attempts so far.
pub async fn record_wrong_code(
    conn: &mut sqlx::AnyConnection,
    partner: &PartnerId,
    id: &ChannelId,
    max_attempts: i64,
    lock_until_ms: i64,
    now_ms: i64,
) -> Result<i64, StoreError> {
    sqlx::query(
        "UPDATE channels SET verification_attempts = verification_attempts + 1, modified_ms = $1,
                locked_until_ms = CASE WHEN verification_attempts + 1 >= $2 THEN $3 ELSE locked_until_ms END
          WHERE partner_id = $4 AND id = $5",
    )
    .bind(now_ms)
    .bind(max_attempts)
    .bind(lock_until_ms)
    .bind(partner.as_str())
    .bind(id.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT verification_attempts FROM channels WHERE partner_id = $1 AND id = $2",
    )
    .bind(partner.as_str())
    .bind(id.as_str())
    .fetch_one(&mut *conn)
    .await?)
}

/// A lock has run out: start counting wrong codes afresh.
pub async fn reset_attempts<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &ChannelId,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE channels SET verification_attempts = 0, locked_until_ms = NULL WHERE partner_id = $1 AND id = $2")
        .bind(partner.as_str())
        .bind(id.as_str())
        .execute(ex)
        .await?;
    Ok(())
}

/// The provider's view of a number: its Meta id, quality rating and messaging limit.
pub async fn set_provider_facts<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &ChannelId,
    external_id: Option<&str>,
    quality_rating: &str,
    current_limit: Option<&str>,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE channels SET external_id = COALESCE($1, external_id), quality_rating = $2,
                current_limit = COALESCE($3, current_limit), modified_ms = $4
          WHERE partner_id = $5 AND id = $6",
    )
    .bind(external_id)
    .bind(quality_rating)
    .bind(current_limit)
    .bind(now_ms)
    .bind(partner.as_str())
    .bind(id.as_str())
    .execute(ex)
    .await?;
    Ok(())
}

/// How many channels (not cancelled) a client has, for `max_channels`.
pub async fn count_live_for_client<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    client: &ClientId,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM channels
          WHERE partner_id = $1 AND client_id = $2 AND status <> 'cancelled'",
    )
    .bind(partner.as_str())
    .bind(client.as_str())
    .fetch_one(ex)
    .await?)
}

/// Is this number live (not cancelled) anywhere on the platform?
pub async fn phone_in_use<'e>(
    ex: impl Executor<'e, Database = Any>,
    phone: &str,
) -> Result<bool, StoreError> {
    let n = sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM channels WHERE phone_number = $1 AND status <> 'cancelled'",
    )
    .bind(phone)
    .fetch_one(ex)
    .await?;
    Ok(n > 0)
}

/// Set the partner's API-key permission on a channel of `client`; `false` when the channel is
/// not this client's (of this partner).
pub async fn set_permission<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    client: &ClientId,
    id: &ChannelId,
    permission: domain::PartnerPermission,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE channels SET partner_permission = $1, modified_ms = $2
          WHERE partner_id = $3 AND client_id = $4 AND id = $5",
    )
    .bind(permission.as_str())
    .bind(now_ms)
    .bind(partner.as_str())
    .bind(client.as_str())
    .bind(id.as_str())
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(phrase: &str, backend: Backend) -> Vec<(String, bool)> {
        trigrams(phrase, backend)
            .into_iter()
            .map(|t| (t.text, t.joined))
            .collect()
    }

    fn plain(texts: &[&str]) -> Vec<(String, bool)> {
        texts.iter().map(|t| ((*t).to_owned(), false)).collect()
    }

    #[test]
    fn postgres_finds_a_phrase_across_words_by_its_joined_trigrams_first() {
        let mut expected = vec![("nt0".to_owned(), true)];
        expected.extend(plain(&["cli", "lie", "ien", "ent"]));
        assert_eq!(texts("client 0", Backend::Postgres), expected);
        // SQLite's trigram index holds the space itself.
        assert_eq!(
            texts("client 0", Backend::Sqlite),
            plain(&["cli", "lie", "ien", "ent", "nt ", "t 0"])
        );
        // Spaces in a row are one gap; a joined trigram is letters and digits only.
        let mut expected = vec![("abc".to_owned(), true), ("bcd".to_owned(), true)];
        expected.extend(plain(&[" cd"]));
        assert_eq!(texts("ab  cd", Backend::Postgres), expected);
        assert_eq!(texts("a.b c", Backend::Postgres), Vec::new());
        // A word's start (" 97") is pg_trgm's own.
        let mut expected = vec![("nt9".to_owned(), true), ("t97".to_owned(), true)];
        expected.extend(plain(&["cli", "lie", "ien", "ent", " 97"]));
        assert_eq!(texts("client 97", Backend::Postgres), expected);
    }
}
