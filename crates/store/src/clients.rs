//! A partner's clients. Contact, contact-user and meta fields are plain columns so the Partner
//! API's dotted filter keys (`contact_info.email`, …) map onto indexable, portable SQL.

use crate::select::{Bind, Select};
use crate::{StoreError, parse_column};
use domain::listing::{After, FilterValue, KeyValue, ListQuery, SortKey};
use domain::{ClientId, PartnerId};
use sqlx::{Any, Executor};

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContactInfo {
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub phone: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub street_name: Option<String>,
    pub zip_code: Option<String>,
    pub webpage_url: Option<String>,
    pub language: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContactUser {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MetaInfo {
    pub business_vertical: Option<String>,
    pub timezone: Option<String>,
    pub about: Option<String>,
    pub business_description: Option<String>,
    pub use_case: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Client {
    pub id: ClientId,
    pub partner_id: PartnerId,
    pub name: String,
    pub status: String,
    pub organisation: Option<String>,
    pub max_channels: i64,
    pub partner_payload: Option<String>,
    pub contact_info: ContactInfo,
    pub contact_user: ContactUser,
    pub meta_info: MetaInfo,
    pub created_ms: i64,
    pub modified_ms: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    partner_id: String,
    name: String,
    status: String,
    organisation: Option<String>,
    max_channels: i64,
    partner_payload: Option<String>,
    contact_email: Option<String>,
    contact_full_name: Option<String>,
    contact_phone: Option<String>,
    contact_country: Option<String>,
    contact_city: Option<String>,
    contact_street_name: Option<String>,
    contact_zip_code: Option<String>,
    contact_webpage_url: Option<String>,
    contact_language: Option<String>,
    contact_user_name: Option<String>,
    contact_user_email: Option<String>,
    contact_user_phone: Option<String>,
    meta_business_vertical: Option<String>,
    meta_timezone: Option<String>,
    meta_about: Option<String>,
    meta_business_description: Option<String>,
    meta_use_case: Option<String>,
    created_ms: i64,
    modified_ms: i64,
}

impl TryFrom<Row> for Client {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Client {
            id: parse_column("clients.id", &r.id, ClientId::parse)?,
            partner_id: parse_column("clients.partner_id", &r.partner_id, PartnerId::parse)?,
            name: r.name,
            status: r.status,
            organisation: r.organisation,
            max_channels: r.max_channels,
            partner_payload: r.partner_payload,
            contact_info: ContactInfo {
                email: r.contact_email,
                full_name: r.contact_full_name,
                phone: r.contact_phone,
                country: r.contact_country,
                city: r.contact_city,
                street_name: r.contact_street_name,
                zip_code: r.contact_zip_code,
                webpage_url: r.contact_webpage_url,
                language: r.contact_language,
            },
            contact_user: ContactUser {
                name: r.contact_user_name,
                email: r.contact_user_email,
                phone: r.contact_user_phone,
            },
            meta_info: MetaInfo {
                business_vertical: r.meta_business_vertical,
                timezone: r.meta_timezone,
                about: r.meta_about,
                business_description: r.meta_business_description,
                use_case: r.meta_use_case,
            },
            created_ms: r.created_ms,
            modified_ms: r.modified_ms,
        })
    }
}

const SELECT: &str =
    "SELECT id, partner_id, name, status, organisation, max_channels, partner_payload,
        contact_email, contact_full_name, contact_phone, contact_country, contact_city,
        contact_street_name, contact_zip_code, contact_webpage_url, contact_language,
        contact_user_name, contact_user_email, contact_user_phone, meta_business_vertical,
        meta_timezone, meta_about, meta_business_description, meta_use_case, created_ms, modified_ms
   FROM clients";

/// The Partner API's client filter keys and the column each one reads.
pub const FILTER_COLUMNS: &[(&str, &str)] = &[
    ("id", " AND id = "),
    ("name", " AND name = "),
    ("status", " AND status = "),
    ("organisation", " AND organisation = "),
    ("partner_payload", " AND partner_payload = "),
    ("contact_info.email", " AND contact_email = "),
    ("contact_info.full_name", " AND contact_full_name = "),
    ("contact_info.phone", " AND contact_phone = "),
    ("contact_info.country", " AND contact_country = "),
    ("contact_info.city", " AND contact_city = "),
    ("contact_info.street_name", " AND contact_street_name = "),
    ("contact_info.zip_code", " AND contact_zip_code = "),
    ("contact_info.webpage_url", " AND contact_webpage_url = "),
    ("contact_info.language", " AND contact_language = "),
    ("contact_user.name", " AND contact_user_name = "),
    ("contact_user.email", " AND contact_user_email = "),
    ("contact_user.phone", " AND contact_user_phone = "),
    (
        "meta_info.business_vertical",
        " AND meta_business_vertical = ",
    ),
    ("meta_info.timezone", " AND meta_timezone = "),
    ("meta_info.about", " AND meta_about = "),
    (
        "meta_info.business_description",
        " AND meta_business_description = ",
    ),
    ("meta_info.use_case", " AND meta_use_case = "),
];

const NULL_COLUMNS: &[(&str, &str)] = &[
    ("organisation", " AND organisation IS NULL"),
    ("partner_payload", " AND partner_payload IS NULL"),
    ("contact_info.email", " AND contact_email IS NULL"),
];

/// The sort fields and their columns, every one `NOT NULL` (see `Select::after`).
pub const SORT_COLUMNS: &[(&str, &str)] = &[
    ("created_at", "created_ms"),
    ("modified_at", "modified_ms"),
    ("name", "name"),
    ("id", "id"),
];

/// Where the page after `client` starts, in the order of `sort`.
fn after_client(client: &Client, sort: &[SortKey]) -> After {
    let values = sort
        .iter()
        .filter_map(|key| {
            Some(match key.field {
                "created_at" => KeyValue::Int(client.created_ms),
                "modified_at" => KeyValue::Int(client.modified_ms),
                "name" => KeyValue::Text(client.name.clone()),
                "id" => KeyValue::Text(client.id.to_string()),
                _ => return None,
            })
        })
        .collect();
    After {
        values,
        id: client.id.to_string(),
    }
}

pub struct NewClient<'a> {
    pub id: &'a ClientId,
    pub name: &'a str,
    pub organisation: Option<&'a str>,
    pub max_channels: i64,
    pub partner_payload: Option<&'a str>,
    pub contact_info: &'a ContactInfo,
    pub contact_user: &'a ContactUser,
    pub meta_info: &'a MetaInfo,
}

/// Insert a client; `false` when its (random) id is already taken, so the caller can draw
/// another. Short public ids do collide at scale.
pub async fn create<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    client: &NewClient<'_>,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let c = client.contact_info;
    let u = client.contact_user;
    let m = client.meta_info;
    let done = sqlx::query(
        "INSERT INTO clients (id, partner_id, name, status, organisation, max_channels, partner_payload,
             contact_email, contact_full_name, contact_phone, contact_country, contact_city,
             contact_street_name, contact_zip_code, contact_webpage_url, contact_language,
             contact_user_name, contact_user_email, contact_user_phone, meta_business_vertical,
             meta_timezone, meta_about, meta_business_description, meta_use_case, created_ms, modified_ms)
         VALUES ($1, $2, $3, 'active', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                 $19, $20, $21, $22, $23, $24, $24)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(client.id.as_str())
    .bind(partner.as_str())
    .bind(client.name)
    .bind(client.organisation)
    .bind(client.max_channels)
    .bind(client.partner_payload)
    .bind(c.email.as_deref())
    .bind(c.full_name.as_deref())
    .bind(c.phone.as_deref())
    .bind(c.country.as_deref())
    .bind(c.city.as_deref())
    .bind(c.street_name.as_deref())
    .bind(c.zip_code.as_deref())
    .bind(c.webpage_url.as_deref())
    .bind(c.language.as_deref())
    .bind(u.name.as_deref())
    .bind(u.email.as_deref())
    .bind(u.phone.as_deref())
    .bind(m.business_vertical.as_deref())
    .bind(m.timezone.as_deref())
    .bind(m.about.as_deref())
    .bind(m.business_description.as_deref())
    .bind(m.use_case.as_deref())
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &ClientId,
) -> Result<Option<Client>, StoreError> {
    let mut q = Select::new(SELECT);
    q.push(" WHERE partner_id = ")
        .bind(Bind::Text(partner.to_string()));
    q.push(" AND id = ").bind(Bind::Text(id.to_string()));
    q.fetch_all::<Row, _>(ex)
        .await?
        .into_iter()
        .next()
        .map(Client::try_from)
        .transpose()
}

/// Change the fields the Partner API lets partners change. `None` keeps a field as it is.
pub async fn update<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &ClientId,
    partner_payload: Option<Option<&str>>,
    max_channels: Option<i64>,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE clients SET
            partner_payload = CASE WHEN $1 = 1 THEN $2 ELSE partner_payload END,
            max_channels = COALESCE($3, max_channels),
            modified_ms = $4
          WHERE partner_id = $5 AND id = $6",
    )
    .bind(i64::from(partner_payload.is_some()))
    .bind(partner_payload.flatten())
    .bind(max_channels)
    .bind(now_ms)
    .bind(partner.as_str())
    .bind(id.as_str())
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn where_clause(q: &mut Select, partner: &PartnerId, query: &ListQuery) {
    q.push(" WHERE partner_id = ")
        .bind(Bind::Text(partner.to_string()));
    for (key, value) in &query.filters {
        match value {
            FilterValue::Null => {
                if let Some((_, fragment)) = NULL_COLUMNS.iter().find(|(k, _)| k == key) {
                    q.push(fragment);
                } else {
                    // A column that is never null matches nothing when asked for null.
                    q.push(" AND 1 = 0");
                }
            }
            other => {
                if let Some((_, fragment)) = FILTER_COLUMNS.iter().find(|(k, _)| k == key) {
                    q.push(fragment).bind(Bind::Text(filter_text(other)));
                }
            }
        }
    }
}

/// Filter values compare as text: every client filter column is text.
pub(crate) fn filter_text(value: &FilterValue) -> String {
    match value {
        FilterValue::Text(t) => t.clone(),
        FilterValue::Int(n) => n.to_string(),
        FilterValue::Bool(b) => b.to_string(),
        FilterValue::Null => String::new(),
    }
}

/// One page of the partner's clients, the total matching the filters, and where the next page
/// starts when there is one.
pub async fn list(
    db: &crate::Db,
    partner: &PartnerId,
    query: &ListQuery,
) -> Result<(Vec<Client>, i64, Option<After>), StoreError> {
    let mut count = Select::new("SELECT CAST(COUNT(*) AS BIGINT) FROM clients");
    where_clause(&mut count, partner, query);
    let total = count.fetch_count(db.pool()).await?;
    let mut page = Select::new(SELECT);
    where_clause(&mut page, partner, query);
    if let Some(after) = &query.after {
        page.after(&query.sort, SORT_COLUMNS, "id", after);
    }
    page.order_by(&query.sort, SORT_COLUMNS, "id");
    // One row more than the page says whether there is a next one.
    page.limit(query.limit + 1, Some(query.offset));
    let mut clients = page
        .fetch_all::<Row, _>(db.pool())
        .await?
        .into_iter()
        .map(Client::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let mut next = None;
    if i64::try_from(clients.len()).unwrap_or(i64::MAX) > query.limit {
        clients.pop();
        next = clients.last().map(|last| after_client(last, &query.sort));
    }
    Ok((clients, total, next))
}

/// Clients by name for the Hub's pickers (small partners) — newest first, capped.
pub async fn names<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    limit: i64,
) -> Result<Vec<(ClientId, String)>, StoreError> {
    sqlx::query_as::<_, (String, String)>(
        "SELECT id, name FROM clients WHERE partner_id = $1 ORDER BY LOWER(name), id LIMIT $2",
    )
    .bind(partner.as_str())
    .bind(limit)
    .fetch_all(ex)
    .await?
    .into_iter()
    .map(|(id, name)| Ok((parse_column("clients.id", &id, ClientId::parse)?, name)))
    .collect()
}
