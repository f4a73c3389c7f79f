//! A small SQL builder for the few dynamic queries (list filters and sorts). sqlx's QueryBuilder
//! writes `?` placeholders for the Any driver, which PostgreSQL rejects; this one numbers `$n`
//! itself. Only `&'static str` fragments can be pushed, so input can never become SQL.

use sqlx::any::AnyArguments;
use sqlx::postgres::{PgArguments, PgPool, PgRow};
use sqlx::{Any, Arguments, AssertSqlSafe};

/// Which page of a keyset-paged list: `limit` rows after `offset` rows, or after the cursor's
/// row (`after`), newest first unless `oldest_first`.
#[derive(Clone, Copy, Debug)]
pub struct Page<'a> {
    pub limit: i64,
    pub offset: i64,
    pub after: Option<&'a domain::listing::After>,
    pub oldest_first: bool,
}

impl Select {
    /// The rest of a keyset-paged list ordered by `(created, id)`, newest first unless the page
    /// says otherwise: the rows after the cursor's, the order, and one row more than the page
    /// (see [`next_after`]) after `offset` rows.
    pub fn created_page(
        &mut self,
        page: &Page<'_>,
        created: &'static str,
        id: &'static str,
    ) -> &mut Self {
        let sort = [domain::listing::SortKey {
            field: "created_at",
            descending: !page.oldest_first,
        }];
        let columns = &[("created_at", created)];
        if let Some(after) = page.after {
            self.after(&sort, columns, id, after);
        }
        self.order_by(&sort, columns, id);
        self.push(" LIMIT ")
            .bind(Bind::Int(page.limit + 1))
            .push(" OFFSET ")
            .bind(Bind::Int(page.offset))
    }
}

/// A list read one row beyond its page: drop that row and say where the next page starts
/// (after the page's last row, by its `(created_ms, id)`), or `None` on the last page.
pub fn next_after<T>(
    rows: &mut Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> (i64, String),
) -> Option<domain::listing::After> {
    if i64::try_from(rows.len()).unwrap_or(i64::MAX) <= limit {
        return None;
    }
    rows.pop();
    rows.last().map(|last| {
        let (created_ms, id) = key(last);
        domain::listing::After {
            values: vec![domain::listing::KeyValue::Int(created_ms)],
            id,
        }
    })
}

/// The most values one statement binds into an `IN (…)` list or a multi-row `VALUES`: far below
/// SQLite's and PostgreSQL's limits, and few distinct statement shapes for their caches.
pub const MAX_LIST: usize = 100;

/// A value bound into a dynamic query.
#[derive(Clone, Debug)]
pub enum Bind {
    Text(String),
    Int(i64),
    OptionalInt(Option<i64>),
    OptionalText(Option<String>),
}

#[derive(Debug, Default)]
pub struct Select {
    sql: String,
    binds: Vec<Bind>,
    /// Placeholders are written `(SELECT $n)`: see [`Select::opaque_binds`].
    opaque: bool,
}

impl Select {
    pub fn new(base: &'static str) -> Self {
        Self {
            sql: base.to_owned(),
            binds: Vec::new(),
            opaque: false,
        }
    }

    /// From here on write each placeholder as `(SELECT $n)`, which hides the value from the
    /// planner. PostgreSQL plans a prepared statement for its values ("custom plan") as long as
    /// that looks cheaper than one plan for any value, and for a big partner's page it always
    /// does, so every page was planned again (a quarter of its CPU). With the values hidden both
    /// plans cost the same and the first one is kept. Only for statements whose best plan
    /// does not depend on the values; see `dialect::hides_page_binds`.
    pub fn opaque_binds(&mut self) -> &mut Self {
        self.opaque = true;
        self
    }

    pub fn push(&mut self, fragment: &'static str) -> &mut Self {
        self.sql.push_str(fragment);
        self
    }

    /// Append a `$n` placeholder for `value`.
    pub fn bind(&mut self, value: Bind) -> &mut Self {
        self.binds.push(value);
        if self.opaque {
            self.sql.push_str("(SELECT ");
        }
        self.sql.push('$');
        self.sql.push_str(&self.binds.len().to_string());
        if self.opaque {
            self.sql.push(')');
        }
        self
    }

    /// One row of a multi-row `VALUES` list, `($a, $b, …)`, after a comma unless it is the
    /// first.
    pub fn values_row(&mut self, first: bool, values: impl IntoIterator<Item = Bind>) -> &mut Self {
        self.push(if first { "(" } else { ", (" });
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(value);
        }
        self.push(")")
    }

    /// `$a, $b, …`: one placeholder per value, for an `IN (…)` list.
    pub fn bind_texts<'v>(&mut self, values: impl IntoIterator<Item = &'v str>) -> &mut Self {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(Bind::Text(value.to_owned()));
        }
        self
    }

    /// ` LIMIT n` (and ` OFFSET m`) written as numbers, not bound: SQLite re-prepares a statement
    /// every time a bound LIMIT or OFFSET is bound again (the values steer its planner), which
    /// cost list queries more than running them. An `i64` carries no SQL, and the few distinct
    /// values in use stay in the statement cache.
    pub fn limit(&mut self, limit: i64, offset: Option<i64>) -> &mut Self {
        self.sql.push_str(" LIMIT ");
        self.sql.push_str(&limit.to_string());
        if let Some(offset) = offset {
            self.sql.push_str(" OFFSET ");
            self.sql.push_str(&offset.to_string());
        }
        self
    }

    /// `ORDER BY` from the requested sort keys, each mapped to its column, then the id as
    /// tie-break running the same way as the first key so one index scan serves the whole
    /// order. [`Select::after`] must see the same keys to continue this order.
    pub fn order_by(
        &mut self,
        sort: &[domain::listing::SortKey],
        columns: &[(&str, &'static str)],
        id: &'static str,
    ) -> &mut Self {
        self.push(" ORDER BY ");
        for (column, descending) in order(sort, columns, id) {
            self.push(column)
                .push(if descending { " DESC" } else { " ASC" })
                .push(", ");
        }
        // `order` ends with the id; drop its trailing separator.
        self.sql.truncate(self.sql.len() - 2);
        self
    }

    /// ` AND …`: only the rows after `after` in the order [`Select::order_by`] writes for the
    /// same keys (keyset paging). When every key runs one way this is one row-value comparison,
    /// `(a, id) < ($1, $2)`, which both databases answer from an index on `(a, id)` by seeking
    /// instead of skipping rows; mixed directions need the expanded form, `a > $1 OR (a = $1
    /// AND …)`. Sort columns must be `NOT NULL`: a null compares as neither before nor after.
    pub fn after(
        &mut self,
        sort: &[domain::listing::SortKey],
        columns: &[(&str, &'static str)],
        id: &'static str,
        after: &domain::listing::After,
    ) -> &mut Self {
        let order = order(sort, columns, id);
        let values: Vec<Bind> = sort
            .iter()
            .zip(&after.values)
            .filter(|(key, _)| columns.iter().any(|(f, _)| *f == key.field))
            .map(|(_, value)| match value {
                domain::listing::KeyValue::Int(n) => Bind::Int(*n),
                domain::listing::KeyValue::Text(text) => Bind::Text(text.clone()),
            })
            .chain(std::iter::once(Bind::Text(after.id.clone())))
            .collect();
        let keys: Vec<_> = order.into_iter().zip(values).collect();
        let Some(((_, first_descending), _)) = keys.first() else {
            return self;
        };
        let one_way = keys.iter().all(|((_, d), _)| d == first_descending);
        let later = |descending: bool| if descending { " < " } else { " > " };
        // The first key's bound alone, which every planner takes as the index range (SQLite's
        // does not for an `OR` of ranges); the rest only narrows it.
        let ((first_column, _), first_value) = &keys[0];
        self.push(" AND ")
            .push(first_column)
            .push(if *first_descending { " <= " } else { " >= " })
            .bind(first_value.clone());
        if one_way {
            self.push(" AND (");
            for (i, ((column, _), _)) in keys.iter().enumerate() {
                self.push(if i == 0 { "" } else { ", " }).push(column);
            }
            self.push(")").push(later(*first_descending)).push("(");
            for (i, (_, value)) in keys.iter().enumerate() {
                self.push(if i == 0 { "" } else { ", " })
                    .bind(value.clone());
            }
            return self.push(")");
        }
        self.push(" AND ");
        let last = keys.len() - 1;
        for (i, ((column, descending), value)) in keys.iter().enumerate() {
            self.push("(").push(column).push(later(*descending));
            self.bind(value.clone());
            if i < last {
                self.push(" OR (")
                    .push(column)
                    .push(" = ")
                    .bind(value.clone());
                self.push(" AND ");
            }
        }
        for i in 0..keys.len() {
            self.push(if i < last { "))" } else { ")" });
        }
        self
    }

    pub fn sql(&self) -> &str {
        &self.sql
    }

    fn arguments(&self) -> Result<AnyArguments, sqlx::Error> {
        let mut args = AnyArguments::default();
        for bind in &self.binds {
            match bind {
                Bind::Text(text) => args.add(text.clone()).map_err(sqlx::Error::Encode)?,
                Bind::Int(n) => args.add(*n).map_err(sqlx::Error::Encode)?,
                Bind::OptionalInt(n) => args.add(*n).map_err(sqlx::Error::Encode)?,
                Bind::OptionalText(t) => args.add(t.clone()).map_err(sqlx::Error::Encode)?,
            }
        }
        Ok(args)
    }

    /// The rows through sqlx's PostgreSQL driver (`Db::native`), for callers that read them
    /// in place.
    pub async fn fetch_native(&self, pool: &PgPool) -> Result<Vec<PgRow>, sqlx::Error> {
        let mut args = PgArguments::default();
        for bind in &self.binds {
            match bind {
                Bind::Text(text) => args.add(text.as_str()).map_err(sqlx::Error::Encode)?,
                Bind::Int(n) => args.add(*n).map_err(sqlx::Error::Encode)?,
                Bind::OptionalInt(n) => args.add(*n).map_err(sqlx::Error::Encode)?,
                Bind::OptionalText(t) => args.add(t.as_deref()).map_err(sqlx::Error::Encode)?,
            }
        }
        sqlx::query_with(AssertSqlSafe(self.sql.clone()), args)
            .fetch_all(pool)
            .await
    }

    pub async fn fetch_all<'e, T, E>(&self, ex: E) -> Result<Vec<T>, sqlx::Error>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
        E: sqlx::Executor<'e, Database = Any>,
    {
        sqlx::query_as_with::<Any, T, _>(AssertSqlSafe(self.sql.clone()), self.arguments()?)
            .fetch_all(ex)
            .await
    }

    /// Run a statement that returns no rows; the number of rows it changed.
    pub async fn execute<'e, E>(&self, ex: E) -> Result<u64, sqlx::Error>
    where
        E: sqlx::Executor<'e, Database = Any>,
    {
        Ok(
            sqlx::query_with::<Any, _>(AssertSqlSafe(self.sql.clone()), self.arguments()?)
                .execute(ex)
                .await?
                .rows_affected(),
        )
    }

    pub async fn fetch_count<'e, E>(&self, ex: E) -> Result<i64, sqlx::Error>
    where
        E: sqlx::Executor<'e, Database = Any>,
    {
        sqlx::query_scalar_with::<Any, i64, _>(AssertSqlSafe(self.sql.clone()), self.arguments()?)
            .fetch_one(ex)
            .await
    }
}

/// The columns of an order and whether each runs descending: the requested keys that have a
/// column, then the id the same way as the first.
fn order(
    sort: &[domain::listing::SortKey],
    columns: &[(&str, &'static str)],
    id: &'static str,
) -> Vec<(&'static str, bool)> {
    let mut order: Vec<(&'static str, bool)> = sort
        .iter()
        .filter_map(|key| {
            columns
                .iter()
                .find(|(f, _)| *f == key.field)
                .map(|(_, column)| (*column, key.descending))
        })
        .collect();
    order.push((id, sort.first().is_some_and(|k| k.descending)));
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::listing::{After, KeyValue, SortKey};

    const COLUMNS: &[(&str, &str)] = &[("created_at", "c.created_ms"), ("status", "c.status")];

    fn key(field: &'static str, descending: bool) -> SortKey {
        SortKey { field, descending }
    }

    fn after(values: Vec<KeyValue>) -> After {
        After {
            values,
            id: "x".into(),
        }
    }

    #[test]
    fn one_way_keys_compare_as_one_row_value_under_the_first_keys_bound() {
        let sort = [key("created_at", true)];
        let mut q = Select::new("");
        q.after(&sort, COLUMNS, "c.id", &after(vec![KeyValue::Int(5)]))
            .order_by(&sort, COLUMNS, "c.id");
        assert_eq!(
            q.sql(),
            " AND c.created_ms <= $1 AND (c.created_ms, c.id) < ($2, $3) ORDER BY c.created_ms DESC, c.id DESC"
        );
        assert_eq!(q.binds.len(), 3);
    }

    #[test]
    fn mixed_directions_expand_key_by_key() {
        let sort = [key("status", false), key("created_at", true)];
        let mut q = Select::new("");
        let values = vec![KeyValue::Text("running".into()), KeyValue::Int(5)];
        q.after(&sort, COLUMNS, "c.id", &after(values))
            .order_by(&sort, COLUMNS, "c.id");
        assert_eq!(
            q.sql(),
            " AND c.status >= $1 AND (c.status > $2 OR (c.status = $3 AND (c.created_ms < $4 OR (c.created_ms = $5 AND (c.id > $6))))) ORDER BY c.status ASC, c.created_ms DESC, c.id ASC"
        );
    }
}
