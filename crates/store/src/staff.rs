//! BSP staff accounts: a table of their own, so no partner user can ever become staff by a
//! role mix-up, and staff never land in partner screens by accident.

use crate::{StoreError, parse_column};
use domain::{Email, StaffId};
use sqlx::{Any, Executor};

#[derive(Clone, Debug)]
pub struct Staff {
    pub id: StaffId,
    pub email: Email,
    pub name: String,
    pub created_ms: i64,
    pub last_login_ms: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct StaffRow {
    id: String,
    email: String,
    name: String,
    password_hash: String,
    created_ms: i64,
    last_login_ms: Option<i64>,
}

fn split(row: StaffRow) -> Result<(Staff, String), StoreError> {
    Ok((
        Staff {
            id: parse_column("staff.id", &row.id, StaffId::parse)?,
            email: parse_column("staff.email", &row.email, Email::parse)?,
            name: row.name,
            created_ms: row.created_ms,
            last_login_ms: row.last_login_ms,
        },
        row.password_hash,
    ))
}

/// Create a staff account, or replace name and password when the email already exists (so the
/// CLI and the demo seeding can be re-run).
pub async fn upsert<'e>(
    ex: impl Executor<'e, Database = Any>,
    email: &Email,
    name: &str,
    password_hash: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO staff (id, email, name, password_hash, created_ms) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (email) DO UPDATE SET name = excluded.name, password_hash = excluded.password_hash",
    )
    .bind(StaffId::generate().as_str())
    .bind(email.as_str())
    .bind(name)
    .bind(password_hash)
    .bind(now_ms)
    .execute(ex)
    .await?;
    Ok(())
}

/// The staff account and its password hash, for the login check.
pub async fn credentials_by_email<'e>(
    ex: impl Executor<'e, Database = Any>,
    email: &Email,
) -> Result<Option<(Staff, String)>, StoreError> {
    sqlx::query_as::<_, StaffRow>(
        "SELECT id, email, name, password_hash, created_ms, last_login_ms FROM staff WHERE email = $1",
    )
    .bind(email.as_str())
    .fetch_optional(ex)
    .await?
    .map(split)
    .transpose()
}

pub async fn get<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &StaffId,
) -> Result<Option<Staff>, StoreError> {
    sqlx::query_as::<_, StaffRow>(
        "SELECT id, email, name, password_hash, created_ms, last_login_ms FROM staff WHERE id = $1",
    )
    .bind(id.as_str())
    .fetch_optional(ex)
    .await?
    .map(|row| split(row).map(|(staff, _)| staff))
    .transpose()
}

pub async fn set_password<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &StaffId,
    password_hash: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE staff SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(id.as_str())
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn record_login<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &StaffId,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE staff SET last_login_ms = $1 WHERE id = $2")
        .bind(now_ms)
        .bind(id.as_str())
        .execute(ex)
        .await?;
    Ok(())
}
