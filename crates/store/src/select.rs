//! A small SQL builder for the few dynamic queries (list filters and sorts). sqlx's QueryBuilder
//! writes `?` placeholders for the Any driver, which PostgreSQL rejects; this one numbers `$n`
//! itself. Only `&'static str` fragments can be pushed, so input can never become SQL.

use sqlx::any::AnyArguments;
use sqlx::postgres::{PgArguments, PgPool, PgRow};
use sqlx::{Any, Arguments, AssertSqlSafe};

/// A value bound into a dynamic query.
#[derive(Clone, Debug)]
pub enum Bind {
    Text(String),
    Int(i64),
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

    /// `ORDER BY` from the requested sort keys, each mapped to its (ascending, descending)
    /// fragment, then the id as tie-break running the same way as the first key so one index
    /// scan serves the whole order.
    pub fn order_by(
        &mut self,
        sort: &[domain::listing::SortKey],
        columns: &[(&str, &'static str, &'static str)],
        id: (&'static str, &'static str),
    ) -> &mut Self {
        self.push(" ORDER BY ");
        for key in sort {
            if let Some((_, asc, desc)) = columns.iter().find(|(f, _, _)| *f == key.field) {
                self.push(if key.descending { desc } else { asc })
                    .push(", ");
            }
        }
        let descending = sort.first().is_some_and(|k| k.descending);
        self.push(if descending { id.1 } else { id.0 })
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

    pub async fn fetch_count<'e, E>(&self, ex: E) -> Result<i64, sqlx::Error>
    where
        E: sqlx::Executor<'e, Database = Any>,
    {
        sqlx::query_scalar_with::<Any, i64, _>(AssertSqlSafe(self.sql.clone()), self.arguments()?)
            .fetch_one(ex)
            .await
    }
}
