//! Notifications in the header bell: one row per person who should see it, so each person reads
//! and clears their own.

use crate::StoreError;
use domain::ids::row_id;
use domain::{PartnerId, UserId};
use sqlx::{Any, Executor};

/// Who of a partner's users a notification is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Owners,
    Everyone,
}

#[derive(Debug)]
pub struct NewNotification<'a> {
    /// A short machine name, e.g. `webhook_test_failed`.
    pub kind: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    /// A path inside the Hub where the person can act on it.
    pub link: Option<&'a str>,
}

/// Notify the partner's users (all, or only Owners) who had joined by `now_ms`: a note dated
/// before someone joined is news they never missed. With `unless_unread_since_ms`, a person
/// who still has an unread notification of the same kind from that time on gets no second one
/// (a receiver that is down for a day must not bury the bell). Returns how many were notified.
pub async fn notify<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    audience: Audience,
    note: &NewNotification<'_>,
    unless_unread_since_ms: Option<i64>,
    now_ms: i64,
) -> Result<u64, StoreError> {
    // One id prefix per notification; each recipient's row appends their user id.
    let prefix = format!("{}_", row_id("ntf"));
    let done = sqlx::query(
        "INSERT INTO notifications (id, partner_id, user_id, kind, title, body, link, created_ms)
         SELECT $1 || m.user_id, m.partner_id, m.user_id, $2, $3, $4, $5, $6
           FROM memberships m
          WHERE m.partner_id = $7 AND ($8 = 0 OR m.role = 'owner') AND m.created_ms <= $6
            AND NOT EXISTS (SELECT 1 FROM notifications n
                             WHERE n.user_id = m.user_id AND n.partner_id = m.partner_id
                               AND n.kind = $2 AND n.read_ms IS NULL AND n.created_ms >= $9)",
    )
    .bind(prefix)
    .bind(note.kind)
    .bind(note.title)
    .bind(note.body)
    .bind(note.link)
    .bind(now_ms)
    .bind(partner.as_str())
    .bind(i64::from(audience == Audience::Owners))
    // Without de-duplication the window starts after now, so nothing earlier matches.
    .bind(unless_unread_since_ms.unwrap_or(i64::MAX))
    .execute(ex)
    .await?;
    Ok(done.rows_affected())
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Notification {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub created_ms: i64,
    pub read_ms: Option<i64>,
}

pub async fn unread_count<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    user: &UserId,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM notifications
          WHERE user_id = $1 AND partner_id = $2 AND read_ms IS NULL",
    )
    .bind(user.as_str())
    .bind(partner.as_str())
    .fetch_one(ex)
    .await?)
}

/// One page of the person's notifications for this partner, newest first, and the total.
pub async fn list(
    db: &crate::Db,
    partner: &PartnerId,
    user: &UserId,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Notification>, i64), StoreError> {
    let rows = sqlx::query_as::<_, Notification>(
        "SELECT id, kind, title, body, link, created_ms, read_ms FROM notifications
          WHERE user_id = $1 AND partner_id = $2
          ORDER BY created_ms DESC, id DESC LIMIT $3 OFFSET $4",
    )
    .bind(user.as_str())
    .bind(partner.as_str())
    .bind(limit)
    .bind(offset)
    .fetch_all(db.pool())
    .await?;
    let total = sqlx::query_scalar::<_, i64>(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM notifications WHERE user_id = $1 AND partner_id = $2",
    )
    .bind(user.as_str())
    .bind(partner.as_str())
    .fetch_one(db.pool())
    .await?;
    Ok((rows, total))
}

/// Mark one notification read; `false` when it is not this person's (or does not exist).
pub async fn mark_read<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    user: &UserId,
    id: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE notifications SET read_ms = COALESCE(read_ms, $1)
          WHERE id = $2 AND user_id = $3 AND partner_id = $4",
    )
    .bind(now_ms)
    .bind(id)
    .bind(user.as_str())
    .bind(partner.as_str())
    .execute(ex)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// When the partner's newest notification was made, if it has any.
pub async fn newest_ms<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
) -> Result<Option<i64>, StoreError> {
    Ok(sqlx::query_scalar::<_, Option<i64>>(
        "SELECT MAX(created_ms) FROM notifications WHERE partner_id = $1",
    )
    .bind(partner.as_str())
    .fetch_one(ex)
    .await?)
}

/// Mark read every notification of the partner created before `before_ms`, for everyone: how the
/// demo makes its seeded history look already seen.
pub async fn mark_read_before<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    before_ms: i64,
    now_ms: i64,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE notifications SET read_ms = $1
          WHERE partner_id = $2 AND created_ms < $3 AND read_ms IS NULL",
    )
    .bind(now_ms)
    .bind(partner.as_str())
    .bind(before_ms)
    .execute(ex)
    .await?;
    Ok(done.rows_affected())
}

pub async fn mark_all_read<'e>(
    ex: impl Executor<'e, Database = Any>,
    partner: &PartnerId,
    user: &UserId,
    now_ms: i64,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE notifications SET read_ms = $1
          WHERE user_id = $2 AND partner_id = $3 AND read_ms IS NULL",
    )
    .bind(now_ms)
    .bind(user.as_str())
    .bind(partner.as_str())
    .execute(ex)
    .await?;
    Ok(done.rows_affected())
}
