//! Client Hub accounts: which people act for which clients. The person is a `users` row (one
//! per email, the same login as partner screens); this table says which clients they may use.
//! Every lookup of a client goes through its partner, so a client id alone opens nothing.

use crate::{StoreError, parse_column};
use domain::{ClientId, PartnerId, UserId};
use sqlx::{Any, Executor};

/// Let `user` act for `client` (of `partner`); adding them again changes nothing. `false` when
/// the client is not the partner's.
pub async fn add<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    client: &ClientId,
    user: &UserId,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO client_users (client_id, user_id, created_ms)
         SELECT id, $3, $4 FROM clients WHERE id = $2 AND partner_id = $1
         ON CONFLICT (client_id, user_id) DO NOTHING",
    )
    .bind(partner.as_str())
    .bind(client.as_str())
    .bind(user.as_str())
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(inserted.rows_affected() > 0)
}

/// Whether `user` may act for `client` of `partner`.
pub async fn is_user_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    client: &ClientId,
    user: &UserId,
) -> Result<bool, StoreError> {
    let found = sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM client_users cu
           JOIN clients cl ON cl.id = cu.client_id
          WHERE cl.partner_id = $1 AND cu.client_id = $2 AND cu.user_id = $3",
    )
    .bind(partner.as_str())
    .bind(client.as_str())
    .bind(user.as_str())
    .fetch_one(ex)
    .await?;
    Ok(found > 0)
}

/// A client a person may act for, with its partner, as the account switcher and the Client
/// Hub list them.
#[derive(Clone, Debug)]
pub struct ClientAccount {
    pub partner_id: PartnerId,
    pub partner_name: String,
    pub client_id: ClientId,
    pub client_name: String,
}

/// Every client `user` may act for, by client name.
pub async fn of_user<'e>(
    ex: impl Executor<'e, Database = Any>,
    user: &UserId,
) -> Result<Vec<ClientAccount>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        partner_id: String,
        partner_name: String,
        client_id: String,
        client_name: String,
    }
    sqlx::query_as::<_, Row>(
        "SELECT p.id AS partner_id, p.name AS partner_name, cl.id AS client_id,
                cl.name AS client_name
           FROM client_users cu
           JOIN clients cl ON cl.id = cu.client_id
           JOIN partners p ON p.id = cl.partner_id
          WHERE cu.user_id = $1
          ORDER BY LOWER(cl.name), cl.id",
    )
    .bind(user.as_str())
    .fetch_all(ex)
    .await?
    .into_iter()
    .map(|r| {
        Ok(ClientAccount {
            partner_id: parse_column("clients.partner_id", &r.partner_id, PartnerId::parse)?,
            partner_name: r.partner_name,
            client_id: parse_column("clients.id", &r.client_id, ClientId::parse)?,
            client_name: r.client_name,
        })
    })
    .collect()
}

/// The emails of everyone who acts for `client` (of `partner`), for mail about the client.
pub async fn emails_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    client: &ClientId,
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar::<_, String>(
        "SELECT u.email FROM client_users cu
           JOIN clients cl ON cl.id = cu.client_id
           JOIN users u ON u.id = cu.user_id
          WHERE cl.partner_id = $1 AND cu.client_id = $2
          ORDER BY u.email",
    )
    .bind(partner.as_str())
    .bind(client.as_str())
    .fetch_all(ex)
    .await?)
}

/// Give the users of `from` (a client of `from_partner`) access to `to` as well (a client of
/// `to_partner`), e.g. when a partner change splits a client in two. Returns how many.
pub async fn copy<'e>(
    ex: impl Executor<'e, Database = Any>,
    from_partner: &PartnerId,
    from: &ClientId,
    to_partner: &PartnerId,
    to: &ClientId,
    now_ms: i64,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "INSERT INTO client_users (client_id, user_id, created_ms)
         SELECT t.id, cu.user_id, $5
           FROM client_users cu
           JOIN clients f ON f.id = cu.client_id AND f.partner_id = $1
           JOIN clients t ON t.id = $4 AND t.partner_id = $3
          WHERE cu.client_id = $2
         ON CONFLICT (client_id, user_id) DO NOTHING",
    )
    .bind(from_partner.as_str())
    .bind(from.as_str())
    .bind(to_partner.as_str())
    .bind(to.as_str())
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(done.rows_affected())
}

/// The clients of `partner` that `user` may act for, by client name. Another partner's clients
/// never appear, whatever the person holds there.
pub async fn of_user_for_partner<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    user: &UserId,
) -> Result<Vec<ClientId>, StoreError> {
    sqlx::query_scalar::<_, String>(
        "SELECT cl.id FROM client_users cu
           JOIN clients cl ON cl.id = cu.client_id
          WHERE cl.partner_id = $1 AND cu.user_id = $2
          ORDER BY LOWER(cl.name), cl.id",
    )
    .bind(partner.as_str())
    .bind(user.as_str())
    .fetch_all(ex)
    .await?
    .iter()
    .map(|id| parse_column("clients.id", id, ClientId::parse))
    .collect()
}
