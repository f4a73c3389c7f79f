//! People who log in to partner screens. A user exists once per email, whatever number of
//! partners they belong to (see `partners` for memberships).

use crate::{StoreError, parse_column};
use domain::{Email, UserId};
use sqlx::{Any, Executor};

#[derive(Clone, Debug)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub has_password: bool,
    pub created_ms: i64,
    pub last_login_ms: Option<i64>,
}

/// A user with the stored password hash, for the login check only.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub user: User,
    pub password_hash: Option<String>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    email: String,
    name: String,
    password_hash: Option<String>,
    created_ms: i64,
    last_login_ms: Option<i64>,
}

impl TryFrom<UserRow> for Credentials {
    type Error = StoreError;
    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(Credentials {
            user: User {
                id: parse_column("users.id", &row.id, UserId::parse)?,
                email: parse_column("users.email", &row.email, Email::parse)?,
                name: row.name,
                has_password: row.password_hash.is_some(),
                created_ms: row.created_ms,
                last_login_ms: row.last_login_ms,
            },
            password_hash: row.password_hash,
        })
    }
}

pub async fn credentials_by_email<'e>(
    ex: impl Executor<'e, Database = Any>,
    email: &Email,
) -> Result<Option<Credentials>, StoreError> {
    sqlx::query_as::<_, UserRow>(
        "SELECT id, email, name, password_hash, created_ms, last_login_ms FROM users WHERE email = $1",
    )
    .bind(email.as_str())
    .fetch_optional(ex)
    .await?
    .map(Credentials::try_from)
    .transpose()
}

pub async fn by_email<'e>(
    ex: impl Executor<'e, Database = Any>,
    email: &Email,
) -> Result<Option<User>, StoreError> {
    Ok(credentials_by_email(ex, email).await?.map(|c| c.user))
}

pub async fn get<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &UserId,
) -> Result<Option<User>, StoreError> {
    sqlx::query_as::<_, UserRow>(
        "SELECT id, email, name, password_hash, created_ms, last_login_ms FROM users WHERE id = $1",
    )
    .bind(id.as_str())
    .fetch_optional(ex)
    .await?
    .map(|row| Credentials::try_from(row).map(|c| c.user))
    .transpose()
}

/// The user with this email, created (without a password) when there is none yet.
pub async fn ensure(
    conn: &mut sqlx::AnyConnection,
    email: &Email,
    name: &str,
    now_ms: i64,
) -> Result<User, StoreError> {
    sqlx::query(
        "INSERT INTO users (id, email, name, created_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (email) DO NOTHING",
    )
    .bind(UserId::generate().as_str())
    .bind(email.as_str())
    .bind(name)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    by_email(&mut *conn, email)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("user {email} vanished after insert")))
}

pub async fn set_password<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &UserId,
    password_hash: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(id.as_str())
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn set_name<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &UserId,
    name: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(id.as_str())
        .execute(ex)
        .await?;
    Ok(())
}

pub async fn record_login<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &UserId,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET last_login_ms = $1 WHERE id = $2")
        .bind(now_ms)
        .bind(id.as_str())
        .execute(ex)
        .await?;
    Ok(())
}

/// A new user with a password, unless the email is taken (then `None`: the caller must not say
/// which, see the onboarding sign-up). One statement, so two sign-ups racing cannot both win.
pub async fn create_with_password(
    conn: &mut sqlx::AnyConnection,
    email: &Email,
    name: &str,
    password_hash: &str,
    now_ms: i64,
) -> Result<Option<User>, StoreError> {
    let id = UserId::generate();
    let inserted = sqlx::query(
        "INSERT INTO users (id, email, name, password_hash, created_ms) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (email) DO NOTHING",
    )
    .bind(id.as_str())
    .bind(email.as_str())
    .bind(name)
    .bind(password_hash)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(None);
    }
    get(&mut *conn, &id).await
}
