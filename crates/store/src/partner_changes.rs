//! Partner change requests (a client moving one WABA, with all its numbers, to another partner)
//! and the move itself. A request is seen by exactly two partners, the one it leaves (`from`)
//! and the one it goes to (`to`), so every read names the partner asking and matches one side.
//!
//! The move runs inside the caller's transaction: WABA, channels, their history and keys change
//! partner together, and `channel_counts` is adjusted for both partners in the same step.

use crate::{StoreError, parse_column};
use domain::{ChannelId, ChannelStatus, ClientId, PartnerId, PartnerPermission, UserId, WabaId};
use sqlx::{Any, Executor};

/// Where a request stands.
pub const REQUESTED: &str = "requested";
pub const ACCEPTED: &str = "accepted";
pub const DECLINED: &str = "declined";
/// The client withdrew the request before the receiving partner decided.
pub const WITHDRAWN: &str = "cancelled";

/// A request as both partners' pages and the Client Hub show it.
#[derive(Clone, Debug)]
pub struct PartnerChange {
    pub id: String,
    pub waba_id: WabaId,
    pub waba_name: String,
    pub client_id: ClientId,
    pub client_name: String,
    pub from_partner_id: PartnerId,
    pub from_partner_name: String,
    pub to_partner_id: PartnerId,
    pub to_partner_name: String,
    pub status: String,
    pub created_ms: i64,
    pub decided_ms: Option<i64>,
    pub completed_ms: Option<i64>,
    /// Numbers on the WABA now (not cancelled).
    pub numbers: i64,
}

impl PartnerChange {
    pub fn is_open(&self) -> bool {
        self.status == REQUESTED
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    waba_id: String,
    waba_name: String,
    client_id: String,
    client_name: String,
    from_partner_id: String,
    from_partner_name: String,
    to_partner_id: String,
    to_partner_name: String,
    status: String,
    created_ms: i64,
    decided_ms: Option<i64>,
    completed_ms: Option<i64>,
    numbers: i64,
}

impl TryFrom<Row> for PartnerChange {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(PartnerChange {
            id: r.id,
            waba_id: parse_column("partner_change_requests.waba_id", &r.waba_id, WabaId::parse)?,
            waba_name: r.waba_name,
            client_id: parse_column(
                "partner_change_requests.client_id",
                &r.client_id,
                ClientId::parse,
            )?,
            client_name: r.client_name,
            from_partner_id: parse_column(
                "partner_change_requests.from_partner_id",
                &r.from_partner_id,
                PartnerId::parse,
            )?,
            from_partner_name: r.from_partner_name,
            to_partner_id: parse_column(
                "partner_change_requests.to_partner_id",
                &r.to_partner_id,
                PartnerId::parse,
            )?,
            to_partner_name: r.to_partner_name,
            status: r.status,
            created_ms: r.created_ms,
            decided_ms: r.decided_ms,
            completed_ms: r.completed_ms,
            numbers: r.numbers,
        })
    }
}

/// The request query with `$rest` (conditions, order, limit) appended, as one literal. The
/// client's name is read through `clients` by id: after a move the client may belong to either
/// side, and the request keeps naming the client that asked.
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT r.id, r.waba_id, w.name AS waba_name, r.client_id, cl.name AS client_name,
                r.from_partner_id, fp.name AS from_partner_name, r.to_partner_id,
                tp.name AS to_partner_name, r.status, r.created_ms, r.decided_ms, r.completed_ms,
                (SELECT CAST(COUNT(*) AS BIGINT) FROM channels c
                  WHERE c.waba_id = r.waba_id AND c.status <> 'cancelled') AS numbers
           FROM partner_change_requests r
           JOIN wabas w ON w.id = r.waba_id
           JOIN clients cl ON cl.id = r.client_id
           JOIN partners fp ON fp.id = r.from_partner_id
           JOIN partners tp ON tp.id = r.to_partner_id",
            $rest
        )
    };
}

fn convert(rows: Vec<Row>) -> Result<Vec<PartnerChange>, StoreError> {
    rows.into_iter().map(PartnerChange::try_from).collect()
}

pub struct NewRequest<'a> {
    pub id: &'a str,
    pub waba: &'a WabaId,
    pub client: &'a ClientId,
    pub from: &'a PartnerId,
    pub to: &'a PartnerId,
    pub requested_by: &'a UserId,
}

/// Store a request unless the WABA (of `from`'s client) already has an open one; `false` then.
/// The check and the insert are one statement, so two clicks cannot open two requests.
pub async fn create<'e>(
    ex: impl Executor<'e, Database = Any>,
    request: &NewRequest<'_>,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO partner_change_requests
             (id, waba_id, client_id, from_partner_id, to_partner_id, status, requested_by, created_ms)
         SELECT $1, w.id, w.client_id, w.partner_id, $4, 'requested', $5, $6
           FROM wabas w
          WHERE w.id = $2 AND w.client_id = $3 AND w.partner_id = $7
            AND NOT EXISTS (SELECT 1 FROM partner_change_requests o
                             WHERE o.waba_id = w.id AND o.status = 'requested')",
    )
    .bind(request.id)
    .bind(request.waba.as_str())
    .bind(request.client.as_str())
    .bind(request.to.as_str())
    .bind(request.requested_by.as_str())
    .bind(now_ms)
    .bind(request.from.as_str())
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A request `partner` is one side of.
pub async fn get<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &str,
) -> Result<Option<PartnerChange>, StoreError> {
    let rows = sqlx::query_as::<_, Row>(select!(
        " WHERE r.id = $1 AND (r.from_partner_id = $2 OR r.to_partner_id = $2)"
    ))
    .bind(id)
    .bind(partner.as_str())
    .fetch_all(ex)
    .await?;
    Ok(convert(rows)?.into_iter().next())
}

/// Requests towards `partner`: open ones first, then the newest.
pub async fn incoming<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    limit: i64,
) -> Result<Vec<PartnerChange>, StoreError> {
    let rows = sqlx::query_as::<_, Row>(select!(
        " WHERE r.to_partner_id = $1
          ORDER BY CASE WHEN r.status = 'requested' THEN 0 ELSE 1 END, r.created_ms DESC, r.id
          LIMIT $2"
    ))
    .bind(partner.as_str())
    .bind(limit)
    .fetch_all(ex)
    .await?;
    convert(rows)
}

/// Requests of `partner`'s clients to leave it, newest first.
pub async fn outgoing<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    limit: i64,
) -> Result<Vec<PartnerChange>, StoreError> {
    let rows = sqlx::query_as::<_, Row>(select!(
        " WHERE r.from_partner_id = $1 ORDER BY r.created_ms DESC, r.id LIMIT $2"
    ))
    .bind(partner.as_str())
    .bind(limit)
    .fetch_all(ex)
    .await?;
    convert(rows)
}

/// The requests a client made while with `partner` (or that brought it to `partner`).
pub async fn of_client<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    client: &ClientId,
) -> Result<Vec<PartnerChange>, StoreError> {
    let rows = sqlx::query_as::<_, Row>(select!(
        " WHERE r.client_id = $1 AND (r.from_partner_id = $2 OR r.to_partner_id = $2)
          ORDER BY r.created_ms DESC, r.id LIMIT 50"
    ))
    .bind(client.as_str())
    .bind(partner.as_str())
    .fetch_all(ex)
    .await?;
    convert(rows)
}

/// Accept or decline an open request towards `to`; `false` when it is not open (any more).
pub async fn decide<'e>(
    ex: impl Executor<'e, Database = Any>,
    to: &PartnerId,
    id: &str,
    status: &str,
    decided_by: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE partner_change_requests SET status = $1, decided_by = $2, decided_ms = $3,
                completed_ms = CASE WHEN $1 = 'accepted' THEN $3 ELSE completed_ms END
          WHERE id = $4 AND to_partner_id = $5 AND status = 'requested'",
    )
    .bind(status)
    .bind(decided_by)
    .bind(now_ms)
    .bind(id)
    .bind(to.as_str())
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The client withdraws its open request (made while with `from`); `false` when it is not
/// open (any more) or not this client's.
pub async fn withdraw<'e>(
    ex: impl Executor<'e, Database = Any>,
    from: &PartnerId,
    client: &ClientId,
    id: &str,
    withdrawn_by: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE partner_change_requests SET status = 'cancelled', decided_by = $1, decided_ms = $2
          WHERE id = $3 AND from_partner_id = $4 AND client_id = $5 AND status = 'requested'",
    )
    .bind(withdrawn_by)
    .bind(now_ms)
    .bind(id)
    .bind(from.as_str())
    .bind(client.as_str())
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many WABAs the client has (with its partner).
pub async fn waba_count<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    client: &ClientId,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM wabas WHERE partner_id = $1 AND client_id = $2",
    )
    .bind(partner.as_str())
    .bind(client.as_str())
    .fetch_one(ex)
    .await?)
}

/// Hand a client (keeping its id, and so its Client Hub users) from one partner to another.
pub async fn move_client<'e>(
    ex: impl Executor<'e, Database = Any>,
    from: &PartnerId,
    to: &PartnerId,
    client: &ClientId,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE clients SET partner_id = $1, modified_ms = $2 WHERE id = $3 AND partner_id = $4",
    )
    .bind(to.as_str())
    .bind(now_ms)
    .bind(client.as_str())
    .bind(from.as_str())
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A channel as it was just before its WABA moved.
#[derive(Clone, Debug)]
pub struct MovedChannel {
    pub id: ChannelId,
    pub status: ChannelStatus,
    pub cancellation_requested_ms: Option<i64>,
}

/// Move a WABA of `from` with every channel on it to `to`, under `client` (a client of `to`).
/// Channel counts follow for both partners; history and keys change partner with their channel.
/// Keys of channels the old partner had permission on are revoked first (it may hold them);
/// the others are the client's own and keep working. `permission` is what every moved channel
/// gets from its new partner. Returns the channels moved.
pub async fn move_waba(
    conn: &mut sqlx::AnyConnection,
    from: &PartnerId,
    to: &PartnerId,
    waba: &WabaId,
    client: &ClientId,
    permission: PartnerPermission,
    now_ms: i64,
) -> Result<Vec<MovedChannel>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Moving {
        id: String,
        status: String,
        cancellation_requested_ms: Option<i64>,
    }
    let moving = sqlx::query_as::<_, Moving>(
        "SELECT id, status, cancellation_requested_ms FROM channels
          WHERE partner_id = $1 AND waba_id = $2 ORDER BY created_ms, id",
    )
    .bind(from.as_str())
    .bind(waba.as_str())
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|m| {
        Ok(MovedChannel {
            id: parse_column("channels.id", &m.id, ChannelId::parse)?,
            status: parse_column("channels.status", &m.status, ChannelStatus::parse)?,
            cancellation_requested_ms: m.cancellation_requested_ms,
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    for channel in &moving {
        crate::channels::count_status(&mut *conn, from, channel.status, -1).await?;
        crate::channels::count_status(&mut *conn, to, channel.status, 1).await?;
    }
    sqlx::query(
        "UPDATE channel_api_keys SET revoked_ms = $1
          WHERE partner_id = $2 AND revoked_ms IS NULL
            AND channel_id IN (SELECT id FROM channels WHERE partner_id = $2 AND waba_id = $3
                                                    AND partner_permission = 'shared')",
    )
    .bind(now_ms)
    .bind(from.as_str())
    .bind(waba.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE channel_api_keys SET partner_id = $1
          WHERE partner_id = $2
            AND channel_id IN (SELECT id FROM channels WHERE partner_id = $2 AND waba_id = $3)",
    )
    .bind(to.as_str())
    .bind(from.as_str())
    .bind(waba.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE channel_status_history SET partner_id = $1
          WHERE partner_id = $2
            AND channel_id IN (SELECT id FROM channels WHERE partner_id = $2 AND waba_id = $3)",
    )
    .bind(to.as_str())
    .bind(from.as_str())
    .bind(waba.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE channels SET partner_id = $1, client_id = $2, partner_permission = $3, modified_ms = $4
          WHERE partner_id = $5 AND waba_id = $6",
    )
    .bind(to.as_str())
    .bind(client.as_str())
    .bind(permission.as_str())
    .bind(now_ms)
    .bind(from.as_str())
    .bind(waba.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE wabas SET partner_id = $1, client_id = $2, modified_ms = $3
          WHERE partner_id = $4 AND id = $5",
    )
    .bind(to.as_str())
    .bind(client.as_str())
    .bind(now_ms)
    .bind(from.as_str())
    .bind(waba.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(moving)
}
