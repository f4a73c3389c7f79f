//! List pages of channels for both backends: typed rows through `Any`, SQLite pages written as JSON by SQLite, PostgreSQL pages read through the native driver.

use super::*;

/// One page of the partner's channels matching the filters (and optional free text), and the
/// total that match.
pub async fn list(
    db: &crate::Db,
    partner: &PartnerId,
    query: &ListQuery,
    text: Option<&str>,
) -> Result<(Vec<ChannelView>, i64), StoreError> {
    let (rows, total) = match db.native() {
        None => page::<Row>(db, partner, query, text, COLUMNS, None, false).await?,
        Some(native) => {
            let (rows, total) = native_page(db, native, partner, query, text, false).await?;
            let rows = rows
                .iter()
                .map(<Row as sqlx::FromRow<PgRow>>::from_row)
                .collect::<Result<Vec<_>, _>>()?;
            (rows, total)
        }
    };
    let channels = rows
        .into_iter()
        .map(ChannelView::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((channels, total))
}

/// A page of channels as [`page_json`] returns it: in whichever form its backend makes cheaper
/// to turn into the Partner API's JSON array.
pub enum JsonPage {
    /// SQLite: the JSON array of the API's channel objects, written by the database
    /// ([`dialect::SQLITE_CHANNEL_JSON`]), and how many objects it holds. The page crosses
    /// sqlx's SQLite worker thread as one value instead of 100 rows of 37 columns.
    Written { array: String, count: usize },
    /// PostgreSQL: the rows, for the caller to read in place ([`NativeRows::channels`]) and
    /// write. `json_build_object` would look up the type of every argument of every row in the
    /// catalogue, which made objects written by PostgreSQL three times as dear as its rows.
    Rows(NativeRows),
}

/// A PostgreSQL page's rows as sqlx's own driver returns them (`Db::native`).
pub struct NativeRows(Vec<PgRow>);

impl NativeRows {
    /// Each channel's fields, borrowed from its row.
    pub fn channels(&self) -> Result<Vec<ChannelTexts<'_>>, StoreError> {
        self.0
            .iter()
            .map(|row| ChannelTexts::from_row(row).map_err(StoreError::from))
            .collect()
    }
}

/// [`list`]'s page for the Partner API, in the form its backend makes cheapest ([`JsonPage`]),
/// the total, and where the next page starts when there is one (its `next_cursor`).
pub async fn page_json(
    db: &crate::Db,
    partner: &PartnerId,
    query: &ListQuery,
    text: Option<&str>,
) -> Result<(JsonPage, i64, Option<After>), StoreError> {
    match db.native() {
        None => {
            let select = dialect::SQLITE_CHANNEL_JSON;
            let (rows, total) =
                page::<ArrayRow>(db, partner, query, text, select, Some(SQLITE_ARRAY), true)
                    .await?;
            let Some(row) = rows.into_iter().next() else {
                let page = JsonPage::Written {
                    array: "[]".to_owned(),
                    count: 0,
                };
                return Ok((page, total, None));
            };
            let mut array = row.j;
            let mut count = usize::try_from(row.n).unwrap_or(0);
            let next = match row.keys.as_deref() {
                Some(keys) if row.n > query.limit => {
                    let (after, extra_bytes) = sqlite_page_end(keys)?;
                    // The row past the page only told us there is a next page: cut its object
                    // (and the comma before it) off the array.
                    let keep = array
                        .len()
                        .checked_sub(extra_bytes + 2)
                        .filter(|keep| array.is_char_boundary(*keep))
                        .ok_or_else(|| StoreError::Corrupt("channel page array".into()))?;
                    array.truncate(keep);
                    array.push(']');
                    count -= 1;
                    Some(after)
                }
                _ => None,
            };
            Ok((JsonPage::Written { array, count }, total, next))
        }
        Some(native) => {
            let (mut rows, total) = native_page(db, native, partner, query, text, true).await?;
            let mut next = None;
            if i64::try_from(rows.len()).unwrap_or(i64::MAX) > query.limit {
                rows.pop();
                if let Some(last) = rows.last() {
                    next = Some(after_row(&ChannelTexts::from_row(last)?, &query.sort));
                }
            }
            Ok((JsonPage::Rows(NativeRows(rows)), total, next))
        }
    }
}

/// From the `keys` of an [`ArrayRow`] whose page holds one row more than asked for: where the
/// next page starts (after the last row kept) and the length in bytes of the extra row's object.
fn sqlite_page_end(keys: &str) -> Result<(After, usize), StoreError> {
    let corrupt = || StoreError::Corrupt(format!("channel page keys: {keys:.200}"));
    let mut rows = keys.rsplit(KEYS_SEPARATOR);
    let extra = rows.next().ok_or_else(corrupt)?;
    let last = rows.next().ok_or_else(corrupt)?;
    let extra_bytes = extra
        .split_once(' ')
        .and_then(|(bytes, _)| bytes.parse::<usize>().ok())
        .ok_or_else(corrupt)?;
    let (_, values) = last.split_once(' ').ok_or_else(corrupt)?;
    let values: Vec<serde_json::Value> = serde_json::from_str(values).map_err(|_| corrupt())?;
    let Some((serde_json::Value::String(id), values)) = values.split_last() else {
        return Err(corrupt());
    };
    let values = values
        .iter()
        .map(|value| match value {
            serde_json::Value::String(text) => Some(KeyValue::Text(text.clone())),
            value => value.as_i64().map(KeyValue::Int),
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(corrupt)?;
    Ok((
        After {
            values,
            id: id.clone(),
        },
        extra_bytes,
    ))
}

/// Between the rows of an [`ArrayRow`]'s `keys`: a control character, which JSON always
/// escapes, so no key can hold it.
const KEYS_SEPARATOR: char = '\u{1e}';

/// Wraps a page of `j` objects (in list order: the inner query's `ORDER BY … LIMIT` makes it a
/// co-routine that yields its rows in order, and `group_concat` appends them as they come).
/// `keys` has, for each row in the same order, its object's length in bytes and its sort keys
/// `k` (a JSON array), separated by [`KEYS_SEPARATOR`]: the last row's keys make the next
/// page's cursor, and the length cuts off the row fetched to learn whether there is one.
pub(super) const SQLITE_ARRAY: &str = "SELECT '[' || COALESCE(group_concat(j, ','), '') || ']' AS j, COUNT(*) AS n, MAX(total) AS total,
    group_concat(length(CAST(j AS BLOB)) || ' ' || k, char(30)) AS keys FROM (";

#[derive(sqlx::FromRow)]
pub(super) struct ArrayRow {
    pub(super) j: String,
    pub(super) n: i64,
    pub(super) total: Option<i64>,
    pub(super) keys: Option<String>,
}

pub(super) trait PageRow {
    /// Rows of the page this row stands for.
    fn rows(&self) -> i64 {
        1
    }
    fn total(&self) -> i64;
}

impl PageRow for Row {
    fn total(&self) -> i64 {
        self.total
    }
}

impl PageRow for ArrayRow {
    fn rows(&self) -> i64 {
        self.n
    }
    fn total(&self) -> i64 {
        self.total.unwrap_or(0)
    }
}

/// The page query of [`list`] with `select` as its columns; with `array`, that query becomes
/// the subquery of an aggregate that returns the whole page as one row.
pub(super) async fn page<T>(
    db: &crate::Db,
    partner: &PartnerId,
    query: &ListQuery,
    text: Option<&str>,
    select: &'static str,
    array: Option<&'static str>,
    one_more: bool,
) -> Result<(Vec<T>, i64), StoreError>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + PageRow + Send + Unpin,
{
    let statement = PageStatement::new(db, partner, query, text, select, array, one_more).await?;
    let rows = statement.select.fetch_all::<T, _>(db.pool()).await?;
    let total = match rows.first() {
        Some(first) if statement.counted && first.rows() > 0 => first.total(),
        _ => statement.count(db, partner, query).await?,
    };
    Ok((rows, total))
}

/// The page query of [`list`] through PostgreSQL's native pool, and the total.
pub(super) async fn native_page(
    db: &crate::Db,
    native: &sqlx::PgPool,
    partner: &PartnerId,
    query: &ListQuery,
    text: Option<&str>,
    one_more: bool,
) -> Result<(Vec<PgRow>, i64), StoreError> {
    let statement = PageStatement::new(db, partner, query, text, COLUMNS, None, one_more).await?;
    let rows = statement.select.fetch_native(native).await?;
    let total = match rows.first() {
        Some(first) if statement.counted => first.try_get::<i64, _>("total")?,
        _ => statement.count(db, partner, query).await?,
    };
    Ok((rows, total))
}

/// A list page's statement, and whether its rows carry the total (`total`).
pub(super) struct PageStatement {
    pub(super) select: Select,
    pub(super) counted: bool,
    pub(super) search: Search,
}

impl PageStatement {
    /// With `one_more`, the page holds a row past `query.limit` when there is one, so the
    /// caller knows whether a next page exists without counting.
    pub(super) async fn new(
        db: &crate::Db,
        partner: &PartnerId,
        query: &ListQuery,
        text: Option<&str>,
        select: &'static str,
        array: Option<&'static str>,
        one_more: bool,
    ) -> Result<PageStatement, StoreError> {
        let search = Search::plan(db, query, text).await?;
        // Through the trigram index every match is read anyway, so the page counts them too and
        // the phrase is looked up once; a scan would instead read every match's columns, so
        // there the page stops at its limit and `channel_counts` (read by the page's own
        // statement) or a narrow count gives the total.
        // PostgreSQL checks every candidate of a pattern before it sorts (its trigram index
        // yields them unordered), so there too the page counts the matches rather than a second
        // query reading them all again.
        // A page after a cursor sees only the rows past it, so it cannot count them all.
        let counted_by_page = query.after.is_none()
            && (search.indexed.is_some()
                || (db.backend() == Backend::Postgres && !search.scanned.is_empty()));
        let fetch = query.limit + i64::from(one_more);
        let mut page = Select::new(array.unwrap_or(""));
        // A common phrase's pattern does steer PostgreSQL's plan (the trigram index or the
        // partner's rows), so such a search keeps its per-value plans.
        if (search.is_empty() || search.finds_candidates())
            && dialect::hides_page_binds(db.backend())
        {
            page.opaque_binds();
        }
        page.push(select);
        if array.is_some() {
            push_sort_keys(&mut page, query);
        }
        let mut counted = counted_by_page;
        if counted_by_page {
            // The window needs every match, so it runs over ids alone; the page's columns (and
            // JSON objects) are then built for the rows of the page only.
            page.push(", p.total AS total FROM (SELECT c.id AS page_id, COUNT(*) OVER () AS total");
            page.push(search.from());
            if needs_joins(query) {
                page.push(JOINS);
            }
            where_clause(&mut page, partner, query, &search);
            page.order_by(&query.sort, SORT_COLUMNS, "c.id");
            page.limit(fetch, Some(query.offset));
            page.push(dialect::page_rows_join(db.backend())).push(JOINS);
            page.order_by(&query.sort, SORT_COLUMNS, "c.id");
        } else {
            counted = push_counted_total(&mut page, partner, query, &search);
            if !counted && array.is_some() {
                page.push(", 0 AS total");
            }
            page.push(search.from()).push(JOINS);
            where_clause(&mut page, partner, query, &search);
            if let Some(after) = &query.after {
                page.after(&query.sort, SORT_COLUMNS, "c.id", after);
            }
            page.order_by(&query.sort, SORT_COLUMNS, "c.id");
            page.limit(fetch, Some(query.offset));
        }
        if array.is_some() {
            page.push(")");
        }
        Ok(PageStatement {
            select: page,
            counted,
            search,
        })
    }

    /// The total for pages whose rows do not carry it: filters `channel_counts` cannot
    /// answer, or a page past the last one.
    pub(super) async fn count(
        &self,
        db: &crate::Db,
        partner: &PartnerId,
        query: &ListQuery,
    ) -> Result<i64, StoreError> {
        let mut count = Select::new(COUNT);
        count.push(self.search.from());
        if needs_joins(query) {
            count.push(JOINS);
        }
        where_clause(&mut count, partner, query, &self.search);
        Ok(count.fetch_count(db.pool()).await?)
    }
}

/// `, json_array(<sort columns>, c.id) AS k`: a row's sort keys as [`SQLITE_ARRAY`] reads them.
fn push_sort_keys(page: &mut Select, query: &ListQuery) {
    page.push(", json_array(");
    for key in &query.sort {
        if let Some((_, column)) = SORT_COLUMNS.iter().find(|(f, _)| *f == key.field) {
            page.push(column).push(", ");
        }
    }
    page.push("c.id) AS k");
}
