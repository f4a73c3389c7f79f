//! WhatsApp Business Accounts of a partner's clients.

use crate::{StoreError, parse_column};
use domain::{ClientId, PartnerId, WabaId};
use sqlx::{Any, Executor};

#[derive(Clone, Debug, sqlx::FromRow)]
struct Row {
    id: String,
    client_id: String,
    external_id: Option<String>,
    name: String,
    namespace: Option<String>,
    fb_account_status: String,
    created_ms: i64,
}

#[derive(Clone, Debug)]
pub struct Waba {
    pub id: WabaId,
    pub client_id: ClientId,
    pub external_id: Option<String>,
    pub name: String,
    pub namespace: Option<String>,
    pub fb_account_status: String,
    pub created_ms: i64,
}

impl TryFrom<Row> for Waba {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Waba {
            id: parse_column("wabas.id", &r.id, WabaId::parse)?,
            client_id: parse_column("wabas.client_id", &r.client_id, ClientId::parse)?,
            external_id: r.external_id,
            name: r.name,
            namespace: r.namespace,
            fb_account_status: r.fb_account_status,
            created_ms: r.created_ms,
        })
    }
}

pub struct NewWaba<'a> {
    pub id: &'a WabaId,
    pub client_id: &'a ClientId,
    pub name: &'a str,
    pub external_id: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub fb_account_status: &'a str,
    pub business_name: Option<&'a str>,
}

/// Insert a WABA; `false` when its random id is already taken.
pub async fn create<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    waba: &NewWaba<'_>,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO wabas (id, partner_id, client_id, external_id, name, namespace, fb_account_status,
                            business_name, business_status, business_type, created_ms, modified_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 'business', $9, $9)
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(waba.id.as_str())
    .bind(partner.as_str())
    .bind(waba.client_id.as_str())
    .bind(waba.external_id)
    .bind(waba.name)
    .bind(waba.namespace)
    .bind(waba.fb_account_status)
    .bind(waba.business_name)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The WABA, if it belongs to `partner`.
pub async fn get<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &WabaId,
) -> Result<Option<Waba>, StoreError> {
    sqlx::query_as::<_, Row>(
        "SELECT id, client_id, external_id, name, namespace, fb_account_status, created_ms
           FROM wabas WHERE partner_id = $1 AND id = $2",
    )
    .bind(partner.as_str())
    .bind(id.as_str())
    .fetch_optional(ex)
    .await?
    .map(Waba::try_from)
    .transpose()
}

/// The WABA, if it belongs to `partner` and to `client`.
pub async fn get_for_client<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    client: &ClientId,
    id: &WabaId,
) -> Result<Option<Waba>, StoreError> {
    sqlx::query_as::<_, Row>(
        "SELECT id, client_id, external_id, name, namespace, fb_account_status, created_ms
           FROM wabas WHERE partner_id = $1 AND client_id = $2 AND id = $3",
    )
    .bind(partner.as_str())
    .bind(client.as_str())
    .bind(id.as_str())
    .fetch_optional(ex)
    .await?
    .map(Waba::try_from)
    .transpose()
}

/// The client's first WABA, where new numbers go when the caller names none.
pub async fn first_of_client<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    client: &ClientId,
) -> Result<Option<Waba>, StoreError> {
    sqlx::query_as::<_, Row>(
        "SELECT id, client_id, external_id, name, namespace, fb_account_status, created_ms
           FROM wabas WHERE partner_id = $1 AND client_id = $2 ORDER BY created_ms, id LIMIT 1",
    )
    .bind(partner.as_str())
    .bind(client.as_str())
    .fetch_optional(ex)
    .await?
    .map(Waba::try_from)
    .transpose()
}

/// The provider confirmed the account: record its Meta-side id and review status.
pub async fn set_external<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &WabaId,
    external_id: &str,
    namespace: &str,
    fb_account_status: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE wabas SET external_id = $1, namespace = $2, fb_account_status = $3,
                          business_status = 'verified', business_id = $1, modified_ms = $4
          WHERE partner_id = $5 AND id = $6",
    )
    .bind(external_id)
    .bind(namespace)
    .bind(fb_account_status)
    .bind(now_ms)
    .bind(partner.as_str())
    .bind(id.as_str())
    .execute(ex)
    .await?;
    Ok(())
}

/// Every WABA of the client, oldest first.
pub async fn of_client<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    client: &ClientId,
) -> Result<Vec<Waba>, StoreError> {
    sqlx::query_as::<_, Row>(
        "SELECT id, client_id, external_id, name, namespace, fb_account_status, created_ms
           FROM wabas WHERE partner_id = $1 AND client_id = $2 ORDER BY created_ms, id",
    )
    .bind(partner.as_str())
    .bind(client.as_str())
    .fetch_all(ex)
    .await?
    .into_iter()
    .map(Waba::try_from)
    .collect()
}
