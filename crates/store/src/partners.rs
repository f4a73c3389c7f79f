//! Partners and who belongs to them (memberships with a role).

use crate::{StoreError, parse_column};
use domain::{Currency, Email, PartnerId, PaymentModel, Role, UserId};
use sqlx::{Any, Executor};

#[derive(Clone, Debug)]
pub struct Partner {
    pub id: PartnerId,
    pub name: String,
    pub currency: Currency,
    pub payment_model: PaymentModel,
    pub status: String,
    pub created_ms: i64,
}

#[derive(sqlx::FromRow)]
struct PartnerRow {
    id: String,
    name: String,
    currency: String,
    payment_model: String,
    status: String,
    created_ms: i64,
}

impl TryFrom<PartnerRow> for Partner {
    type Error = StoreError;
    fn try_from(row: PartnerRow) -> Result<Self, StoreError> {
        Ok(Partner {
            id: parse_column("partners.id", &row.id, PartnerId::parse)?,
            name: row.name,
            currency: parse_column("partners.currency", &row.currency, Currency::parse)?,
            payment_model: parse_column(
                "partners.payment_model",
                &row.payment_model,
                PaymentModel::parse,
            )?,
            status: row.status,
            created_ms: row.created_ms,
        })
    }
}

pub struct NewPartner<'a> {
    pub id: &'a PartnerId,
    pub name: &'a str,
    pub currency: Currency,
    pub payment_model: PaymentModel,
}

pub async fn create<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &NewPartner<'_>,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO partners (id, name, currency, payment_model, status, created_ms)
         VALUES ($1, $2, $3, $4, 'active', $5)",
    )
    .bind(partner.id.as_str())
    .bind(partner.name)
    .bind(partner.currency.as_str())
    .bind(partner.payment_model.as_str())
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// A partner by id. Only callers that already proved access (membership, staff) use this.
pub async fn get<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &PartnerId,
) -> Result<Option<Partner>, StoreError> {
    sqlx::query_as::<_, PartnerRow>(
        "SELECT id, name, currency, payment_model, status, created_ms FROM partners WHERE id = $1",
    )
    .bind(id.as_str())
    .fetch_optional(ex)
    .await?
    .map(Partner::try_from)
    .transpose()
}

pub async fn by_name<'e>(
    ex: impl Executor<'e, Database = Any>,
    name: &str,
) -> Result<Option<Partner>, StoreError> {
    sqlx::query_as::<_, PartnerRow>(
        "SELECT id, name, currency, payment_model, status, created_ms FROM partners
          WHERE name = $1 ORDER BY created_ms, id LIMIT 1",
    )
    .bind(name)
    .fetch_optional(ex)
    .await?
    .map(Partner::try_from)
    .transpose()
}

/// One page of all partners, newest first, for the staff console.
pub async fn list_all<'e>(
    ex: impl Executor<'e, Database = Any>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Partner>, StoreError> {
    sqlx::query_as::<_, PartnerRow>(
        "SELECT id, name, currency, payment_model, status, created_ms FROM partners
          ORDER BY created_ms DESC, id DESC LIMIT $1 OFFSET $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(ex)
    .await?
    .into_iter()
    .map(Partner::try_from)
    .collect()
}

pub async fn count_all<'e>(ex: impl Executor<'e, Database = Any>) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar::<_, i64>("SELECT CAST(COUNT(*) AS BIGINT) FROM partners")
            .fetch_one(ex)
            .await?,
    )
}

/// Make `user` a member of `partner` with `role`; an existing membership keeps its role.
pub async fn add_member<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    user: &UserId,
    role: Role,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO memberships (partner_id, user_id, role, created_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (partner_id, user_id) DO NOTHING",
    )
    .bind(partner.as_str())
    .bind(user.as_str())
    .bind(role.as_str())
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// The user's role in the partner, or `None` when they are not a member.
pub async fn role_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    user: &UserId,
) -> Result<Option<Role>, StoreError> {
    sqlx::query_scalar::<_, String>(
        "SELECT role FROM memberships WHERE partner_id = $1 AND user_id = $2",
    )
    .bind(partner.as_str())
    .bind(user.as_str())
    .fetch_optional(ex)
    .await?
    .map(|role| parse_column("memberships.role", &role, Role::parse))
    .transpose()
}

/// A partner the user belongs to, with the user's role there.
#[derive(Clone, Debug)]
pub struct Membership {
    pub partner: Partner,
    pub role: Role,
}

/// Every partner whose user list holds this user, by name.
pub async fn of_user<'e>(
    ex: impl Executor<'e, Database = Any>,
    user: &UserId,
) -> Result<Vec<Membership>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        partner: PartnerRow,
        role: String,
    }
    sqlx::query_as::<_, Row>(
        "SELECT p.id, p.name, p.currency, p.payment_model, p.status, p.created_ms, m.role
           FROM memberships m JOIN partners p ON p.id = m.partner_id
          WHERE m.user_id = $1
          ORDER BY LOWER(p.name), p.id",
    )
    .bind(user.as_str())
    .fetch_all(ex)
    .await?
    .into_iter()
    .map(|row| {
        Ok(Membership {
            role: parse_column("memberships.role", &row.role, Role::parse)?,
            partner: Partner::try_from(row.partner)?,
        })
    })
    .collect()
}

/// A member of a partner as the Users tab shows them.
#[derive(Clone, Debug)]
pub struct Member {
    pub user_id: UserId,
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub joined_ms: i64,
    pub last_login_ms: Option<i64>,
}

pub async fn members<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
) -> Result<Vec<Member>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
        email: String,
        name: String,
        role: String,
        created_ms: i64,
        last_login_ms: Option<i64>,
    }
    sqlx::query_as::<_, Row>(
        "SELECT u.id, u.email, u.name, m.role, m.created_ms, u.last_login_ms
           FROM memberships m JOIN users u ON u.id = m.user_id
          WHERE m.partner_id = $1
          ORDER BY m.created_ms, u.email",
    )
    .bind(partner.as_str())
    .fetch_all(ex)
    .await?
    .into_iter()
    .map(|row| {
        Ok(Member {
            user_id: parse_column("users.id", &row.id, UserId::parse)?,
            email: parse_column("users.email", &row.email, Email::parse)?,
            name: row.name,
            role: parse_column("memberships.role", &row.role, Role::parse)?,
            joined_ms: row.created_ms,
            last_login_ms: row.last_login_ms,
        })
    })
    .collect()
}

/// Is the person with this email already a member of the partner?
pub async fn has_member_email<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    email: &Email,
) -> Result<bool, StoreError> {
    let n = sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM memberships m JOIN users u ON u.id = m.user_id
          WHERE m.partner_id = $1 AND u.email = $2",
    )
    .bind(partner.as_str())
    .bind(email.as_str())
    .fetch_one(ex)
    .await?;
    Ok(n > 0)
}

/// The partner's settings the Partner API exposes so far.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PartnerSettings {
    pub brand_name: Option<String>,
    pub solution_id: Option<String>,
    pub country: Option<String>,
    pub default_hosting_type: String,
    pub default_data_storage_region: Option<String>,
    pub webhook_url: Option<String>,
    pub redirect_url: Option<String>,
    /// 0 or 1 (portable booleans); meaningful for Partner-Payment partners only.
    pub allow_client_to_add_phone_no: i64,
    /// The content hash of the partner's logo, which names its public URL; `None` without one.
    pub logo_hash: Option<String>,
    /// 0 or 1: partner change requests towards this partner are accepted without a person.
    pub partner_change_auto_approve: i64,
}

impl PartnerSettings {
    pub fn allows_clients_to_add_numbers(&self) -> bool {
        self.allow_client_to_add_phone_no != 0
    }

    pub fn auto_approves_partner_changes(&self) -> bool {
        self.partner_change_auto_approve != 0
    }
}

pub async fn settings<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
) -> Result<Option<PartnerSettings>, StoreError> {
    Ok(sqlx::query_as::<_, PartnerSettings>(
        "SELECT p.brand_name, p.solution_id, p.country, p.default_hosting_type,
                p.default_data_storage_region, p.webhook_url, p.redirect_url,
                p.allow_client_to_add_phone_no, l.content_hash AS logo_hash,
                p.partner_change_auto_approve
           FROM partners p LEFT JOIN partner_logos l ON l.partner_id = p.id
          WHERE p.id = $1",
    )
    .bind(partner.as_str())
    .fetch_optional(ex)
    .await?)
}

/// Change brand name and/or Solution ID; `None` keeps a field, `Some(None)` clears it.
pub async fn update_settings<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    brand_name: Option<Option<&str>>,
    solution_id: Option<Option<&str>>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE partners SET
            brand_name = CASE WHEN $1 = 1 THEN $2 ELSE brand_name END,
            solution_id = CASE WHEN $3 = 1 THEN $4 ELSE solution_id END
          WHERE id = $5",
    )
    .bind(i64::from(brand_name.is_some()))
    .bind(brand_name.flatten())
    .bind(i64::from(solution_id.is_some()))
    .bind(solution_id.flatten())
    .bind(partner.as_str())
    .execute(ex)
    .await?;
    Ok(())
}

/// Turn Allow clients to add phone number on or off.
pub async fn set_allow_client_to_add_phone_no<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    allow: bool,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE partners SET allow_client_to_add_phone_no = $1 WHERE id = $2")
        .bind(i64::from(allow))
        .bind(partner.as_str())
        .execute(ex)
        .await?;
    Ok(())
}

/// Turn automatic approval of incoming partner change requests on or off.
pub async fn set_partner_change_auto_approve<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    auto_approve: bool,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE partners SET partner_change_auto_approve = $1 WHERE id = $2")
        .bind(i64::from(auto_approve))
        .bind(partner.as_str())
        .execute(ex)
        .await?;
    Ok(())
}
