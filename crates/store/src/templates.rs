//! Message templates of a WABA: submitted, then approved or rejected by the provider. Only an
//! approved template can be sent, and its category sets the price.

use crate::select::{Bind, Page, Select};
use crate::{StoreError, parse_column};
use domain::ids::row_id;
use domain::listing::After;
use domain::message::NewTemplate;
use domain::pricing::Category;
use domain::{PartnerId, WabaId};
use sqlx::{Any, AnyConnection, Executor};

#[derive(Clone, Debug)]
pub struct Template {
    pub id: String,
    pub partner_id: PartnerId,
    pub waba_id: WabaId,
    pub name: String,
    pub language: String,
    pub category: Category,
    pub components: String,
    /// `submitted`, `approved` or `rejected`.
    pub status: String,
    pub rejected_reason: Option<String>,
    pub created_ms: i64,
    pub modified_ms: i64,
}

#[derive(sqlx::FromRow)]
struct TemplateRow {
    id: String,
    partner_id: String,
    waba_id: String,
    name: String,
    language: String,
    category: String,
    components: String,
    status: String,
    rejected_reason: Option<String>,
    created_ms: i64,
    modified_ms: i64,
}

impl TryFrom<TemplateRow> for Template {
    type Error = StoreError;
    fn try_from(r: TemplateRow) -> Result<Self, StoreError> {
        Ok(Template {
            partner_id: parse_column(
                "message_templates.partner_id",
                &r.partner_id,
                PartnerId::parse,
            )?,
            waba_id: parse_column("message_templates.waba_id", &r.waba_id, WabaId::parse)?,
            category: parse_column("message_templates.category", &r.category, |c| {
                Category::parse_stored(c).ok_or(())
            })?,
            id: r.id,
            name: r.name,
            language: r.language,
            components: r.components,
            status: r.status,
            rejected_reason: r.rejected_reason,
            created_ms: r.created_ms,
            modified_ms: r.modified_ms,
        })
    }
}

const COLUMNS: &str = "id, partner_id, waba_id, name, language, category, components, status, rejected_reason, created_ms, modified_ms";

/// Store a submitted template; a name and language the WABA already has is a conflict.
pub async fn submit(
    conn: &mut AnyConnection,
    partner: &PartnerId,
    waba: &WabaId,
    template: &NewTemplate,
    now_ms: i64,
) -> Result<Template, StoreError> {
    let id = row_id("tpl");
    sqlx::query(
        "INSERT INTO message_templates (id, partner_id, waba_id, name, language, category, components, status, created_ms, modified_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'submitted', $8, $8)",
    )
    .bind(&id)
    .bind(partner.as_str())
    .bind(waba.as_str())
    .bind(template.name.as_str())
    .bind(template.language.as_str())
    .bind(template.category.as_str())
    .bind(&template.components)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    by_id(&mut *conn, partner, &id)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("template {id} vanished")))
}

pub async fn by_id<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &str,
) -> Result<Option<Template>, StoreError> {
    sqlx::query_as::<_, TemplateRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM message_templates WHERE partner_id = $1 AND id = $2"
    )))
    .bind(partner.as_str())
    .bind(id)
    .fetch_optional(ex)
    .await?
    .map(Template::try_from)
    .transpose()
}

/// The WABA's template of that name and language.
pub async fn find<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    waba: &WabaId,
    name: &str,
    language: &str,
) -> Result<Option<Template>, StoreError> {
    sqlx::query_as::<_, TemplateRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM message_templates
          WHERE partner_id = $1 AND waba_id = $2 AND name = $3 AND language = $4"
    )))
    .bind(partner.as_str())
    .bind(waba.as_str())
    .bind(name)
    .bind(language)
    .fetch_optional(ex)
    .await?
    .map(Template::try_from)
    .transpose()
}

/// Which templates a listing wants.
#[derive(Clone, Debug, Default)]
pub struct TemplateFilter {
    pub name: Option<String>,
    pub status: Option<String>,
    pub category: Option<Category>,
}

/// A page of the WABA's templates, newest first (or oldest), how many match in all, and where
/// the next page starts.
pub async fn list(
    conn: &mut AnyConnection,
    partner: &PartnerId,
    waba: &WabaId,
    filter: &TemplateFilter,
    page: &Page<'_>,
) -> Result<(Vec<Template>, i64, Option<After>), StoreError> {
    let filtered = |base: &'static str| {
        let mut q = Select::new(base);
        q.push(" WHERE partner_id = ")
            .bind(Bind::Text(partner.as_str().to_owned()))
            .push(" AND waba_id = ")
            .bind(Bind::Text(waba.as_str().to_owned()));
        if let Some(name) = &filter.name {
            q.push(" AND name = ").bind(Bind::Text(name.clone()));
        }
        if let Some(status) = &filter.status {
            q.push(" AND status = ").bind(Bind::Text(status.clone()));
        }
        if let Some(category) = filter.category {
            q.push(" AND category = ")
                .bind(Bind::Text(category.as_str().to_owned()));
        }
        q
    };
    let mut listed = filtered(
        "SELECT id, partner_id, waba_id, name, language, category, components, status, rejected_reason, created_ms, modified_ms FROM message_templates",
    );
    listed.created_page(page, "created_ms", "id");
    let mut rows = listed
        .fetch_all::<TemplateRow, _>(&mut *conn)
        .await?
        .into_iter()
        .map(Template::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let next = crate::select::next_after(&mut rows, page.limit, |t| (t.created_ms, t.id.clone()));
    let total = filtered("SELECT CAST(COUNT(*) AS BIGINT) FROM message_templates")
        .fetch_count(&mut *conn)
        .await?;
    Ok((rows, total, next))
}

/// Move a submitted template to `approved` or `rejected`; false when it was not submitted
/// (already decided, or deleted), so a decision is applied once.
pub async fn decide(
    conn: &mut AnyConnection,
    partner: &PartnerId,
    id: &str,
    status: &str,
    reason: Option<&str>,
    now_ms: i64,
) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE message_templates SET status = $3, rejected_reason = $4, modified_ms = $5
          WHERE partner_id = $1 AND id = $2 AND status = 'submitted'",
    )
    .bind(partner.as_str())
    .bind(id)
    .bind(status)
    .bind(reason)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}

/// Delete every language of the named template; how many were deleted.
pub async fn delete_named(
    conn: &mut AnyConnection,
    partner: &PartnerId,
    waba: &WabaId,
    name: &str,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "DELETE FROM message_templates WHERE partner_id = $1 AND waba_id = $2 AND name = $3",
    )
    .bind(partner.as_str())
    .bind(waba.as_str())
    .bind(name)
    .execute(&mut *conn)
    .await?
    .rows_affected())
}
