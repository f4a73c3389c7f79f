//! The CSV export's batches, in keyset order.

use super::*;

/// Where an export batch ends: the last row's creation time and id.
#[derive(Clone, Debug)]
pub struct Cursor {
    pub created_ms: i64,
    pub id: String,
}

/// How far an export has read: rows so far, and the last row (for newest-first exports).
#[derive(Clone, Debug, Default)]
pub struct ExportPosition {
    pub offset: i64,
    pub after: Option<Cursor>,
}

/// A channel as a line of the CSV export: only what the export shows, and where the row is.
#[derive(Clone, Debug)]
pub struct ExportRow {
    pub id: String,
    pub created_ms: i64,
    pub client_name: String,
    pub client_organisation: Option<String>,
    pub client_email: Option<String>,
    pub phone_number: String,
    pub phone_name: String,
    pub status: ChannelStatus,
    pub waba_business_status: Option<String>,
    pub waba_fb_account_status: String,
}

/// The export's columns: a third of [`COLUMNS`], which is what 100,000 rows cost to decode.
pub(super) const EXPORT_COLUMNS: &str = "SELECT c.id, c.created_ms, cl.name AS client_name,
        cl.organisation AS client_organisation, cl.contact_email AS client_email,
        c.phone_number, c.phone_name, c.status, w.business_status AS waba_business_status,
        w.fb_account_status AS waba_fb_account_status";

#[derive(sqlx::FromRow)]
pub(super) struct ExportRowColumns {
    pub(super) id: String,
    pub(super) created_ms: i64,
    pub(super) client_name: String,
    pub(super) client_organisation: Option<String>,
    pub(super) client_email: Option<String>,
    pub(super) phone_number: String,
    pub(super) phone_name: String,
    pub(super) status: String,
    pub(super) waba_business_status: Option<String>,
    pub(super) waba_fb_account_status: String,
}

impl TryFrom<ExportRowColumns> for ExportRow {
    type Error = StoreError;
    fn try_from(r: ExportRowColumns) -> Result<Self, StoreError> {
        Ok(ExportRow {
            status: parse_column("channels.status", &r.status, ChannelStatus::parse)?,
            id: r.id,
            created_ms: r.created_ms,
            client_name: r.client_name,
            client_organisation: r.client_organisation,
            client_email: r.client_email,
            phone_number: r.phone_number,
            phone_name: r.phone_name,
            waba_business_status: r.waba_business_status,
            waba_fb_account_status: r.waba_fb_account_status,
        })
    }
}

/// The next `limit` channels of an export, without a count. Newest-first exports (the default)
/// continue after the last row read, so every batch costs the same and a number added meanwhile
/// cannot shift rows between batches; other orders page by offset.
pub async fn export_batch(
    db: &crate::Db,
    partner: &PartnerId,
    query: &ListQuery,
    text: Option<&str>,
    position: &ExportPosition,
    limit: i64,
) -> Result<Vec<ExportRow>, StoreError> {
    let newest_first =
        matches!(query.sort.as_slice(), [key] if key.field == "created_at" && key.descending);
    let search = Search::plan(db, query, text).await?;
    let sqlite = db.backend() == Backend::Sqlite;
    let mut page = Select::new(if sqlite { SQLITE_EXPORT_ARRAY } else { "" });
    page.push(EXPORT_COLUMNS);
    page.push(search.from()).push(JOINS);
    where_clause(&mut page, partner, query, &search);
    if newest_first {
        if let Some(after) = &position.after {
            // `created_ms <=` bounds the index range, so each batch starts where the last
            // ended instead of reading past every row exported so far.
            page.push(" AND c.created_ms <= ")
                .bind(Bind::Int(after.created_ms));
            page.push(" AND (c.created_ms < ")
                .bind(Bind::Int(after.created_ms));
            page.push(" OR (c.created_ms = ")
                .bind(Bind::Int(after.created_ms));
            page.push(" AND c.id < ")
                .bind(Bind::Text(after.id.clone()))
                .push("))");
        }
        page.push(" ORDER BY c.created_ms DESC, c.id DESC")
            .limit(limit, None);
    } else {
        page.order_by(&query.sort, SORT_COLUMNS, "c.id");
        page.limit(limit, Some(position.offset));
    }
    if sqlite {
        page.push(")");
        let Some(batch) = page.fetch_all::<ExportBatch, _>(db.pool()).await?.pop() else {
            return Ok(Vec::new());
        };
        let rows: Vec<ExportRowTuple> = serde_json::from_str(&batch.j)
            .map_err(|e| StoreError::Corrupt(format!("export batch: {e}")))?;
        return rows
            .into_iter()
            .map(|t| {
                ExportRow::try_from(ExportRowColumns {
                    id: t.0,
                    created_ms: t.1,
                    client_name: t.2,
                    client_organisation: t.3,
                    client_email: t.4,
                    phone_number: t.5,
                    phone_name: t.6,
                    status: t.7,
                    waba_business_status: t.8,
                    waba_fb_account_status: t.9,
                })
            })
            .collect();
    }
    let rows = page.fetch_all::<ExportRowColumns, _>(db.pool()).await?;
    rows.into_iter().map(ExportRow::try_from).collect()
}

/// On SQLite an export batch crosses sqlx's worker thread as one JSON array of row arrays, in
/// the batch's order (as [`SQLITE_ARRAY`] does for list pages): row by row, the hand-over cost
/// more than the query.
pub(super) const SQLITE_EXPORT_ARRAY: &str =
    "SELECT COALESCE(json_group_array(json_array(id, created_ms,
    client_name, client_organisation, client_email, phone_number, phone_name, status,
    waba_business_status, waba_fb_account_status)), '[]') AS j FROM (";

#[derive(sqlx::FromRow)]
pub(super) struct ExportBatch {
    pub(super) j: String,
}

pub(super) type ExportRowTuple = (
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    String,
);
