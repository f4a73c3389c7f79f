//! Invitations to join a partner: a hashed single-use token that expires, in one of the states
//! pending → accepted | cancelled.

use crate::{StoreError, parse_column};
use domain::{Email, InvitationId, PartnerId, Role, TokenHash};
use sqlx::{Any, Executor};

#[derive(Clone, Debug)]
pub struct Invitation {
    pub id: InvitationId,
    pub partner_id: PartnerId,
    pub partner_name: String,
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub state: String,
    pub created_ms: i64,
    pub expires_ms: i64,
}

impl Invitation {
    pub fn is_pending(&self, now_ms: i64) -> bool {
        self.state == "pending" && self.expires_ms > now_ms
    }
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    partner_id: String,
    partner_name: String,
    email: String,
    name: String,
    role: String,
    state: String,
    created_ms: i64,
    expires_ms: i64,
}

impl TryFrom<Row> for Invitation {
    type Error = StoreError;
    fn try_from(row: Row) -> Result<Self, StoreError> {
        Ok(Invitation {
            id: parse_column("invitations.id", &row.id, InvitationId::parse)?,
            partner_id: parse_column("invitations.partner_id", &row.partner_id, PartnerId::parse)?,
            partner_name: row.partner_name,
            email: parse_column("invitations.email", &row.email, Email::parse)?,
            name: row.name,
            role: parse_column("invitations.role", &row.role, Role::parse)?,
            state: row.state,
            created_ms: row.created_ms,
            expires_ms: row.expires_ms,
        })
    }
}

pub struct NewInvitation<'a> {
    pub id: &'a InvitationId,
    pub token_hash: &'a TokenHash,
    pub email: &'a Email,
    pub name: &'a str,
    pub role: Role,
    pub invited_by: Option<&'a str>,
    pub expires_ms: i64,
}

pub async fn create<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    invitation: &NewInvitation<'_>,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO invitations (id, token_hash, partner_id, email, name, role, invited_by, state,
                                  created_ms, expires_ms, updated_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $8)",
    )
    .bind(invitation.id.as_str())
    .bind(invitation.token_hash.as_str())
    .bind(partner.as_str())
    .bind(invitation.email.as_str())
    .bind(invitation.name)
    .bind(invitation.role.as_str())
    .bind(invitation.invited_by)
    .bind(now_ms)
    .bind(invitation.expires_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// The invitation a link's token names, whatever partner it is for (the token is the proof).
pub async fn by_token<'e>(
    ex: impl Executor<'e, Database = Any>,
    token_hash: &TokenHash,
) -> Result<Option<Invitation>, StoreError> {
    sqlx::query_as::<_, Row>(
        "SELECT i.id, i.partner_id, p.name AS partner_name, i.email, i.name, i.role,
                i.state, i.created_ms, i.expires_ms
           FROM invitations i JOIN partners p ON p.id = i.partner_id
          WHERE i.token_hash = $1",
    )
    .bind(token_hash.as_str())
    .fetch_optional(ex)
    .await?
    .map(Invitation::try_from)
    .transpose()
}

pub async fn get<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &InvitationId,
) -> Result<Option<Invitation>, StoreError> {
    sqlx::query_as::<_, Row>(
        "SELECT i.id, i.partner_id, p.name AS partner_name, i.email, i.name, i.role,
                i.state, i.created_ms, i.expires_ms
           FROM invitations i JOIN partners p ON p.id = i.partner_id
          WHERE i.partner_id = $1 AND i.id = $2",
    )
    .bind(partner.as_str())
    .bind(id.as_str())
    .fetch_optional(ex)
    .await?
    .map(Invitation::try_from)
    .transpose()
}

/// Pending invitations of a partner (expired ones included, so the page can offer a resend).
pub async fn pending<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
) -> Result<Vec<Invitation>, StoreError> {
    sqlx::query_as::<_, Row>(
        "SELECT i.id, i.partner_id, p.name AS partner_name, i.email, i.name, i.role,
                i.state, i.created_ms, i.expires_ms
           FROM invitations i JOIN partners p ON p.id = i.partner_id
          WHERE i.partner_id = $1 AND i.state = 'pending'
          ORDER BY i.created_ms, i.id",
    )
    .bind(partner.as_str())
    .fetch_all(ex)
    .await?
    .into_iter()
    .map(Invitation::try_from)
    .collect()
}

/// A fresh token and expiry for a pending invitation (resend). False when it is not pending.
pub async fn renew<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &InvitationId,
    token_hash: &TokenHash,
    expires_ms: i64,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE invitations SET token_hash = $1, expires_ms = $2, updated_ms = $3
          WHERE partner_id = $4 AND id = $5 AND state = 'pending'",
    )
    .bind(token_hash.as_str())
    .bind(expires_ms)
    .bind(now_ms)
    .bind(partner.as_str())
    .bind(id.as_str())
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Move a pending invitation to `accepted` or `cancelled`. False when it was not pending (so a
/// link can be used only once, even by two tabs at the same moment).
pub async fn close<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    id: &InvitationId,
    state: &'static str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE invitations SET state = $1, updated_ms = $2
          WHERE partner_id = $3 AND id = $4 AND state = 'pending'",
    )
    .bind(state)
    .bind(now_ms)
    .bind(partner.as_str())
    .bind(id.as_str())
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}
