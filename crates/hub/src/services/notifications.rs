//! The bell: a person marks their notifications of one partner read.

use crate::error::AppError;
use crate::state::AppState;
use domain::{PartnerId, UserId};

/// Mark one notification read; `false` when it is not this person's (or does not exist).
pub async fn mark_read(
    state: &AppState,
    partner: &PartnerId,
    user: &UserId,
    id: &str,
) -> Result<bool, AppError> {
    let mut tx = state.db.begin_write().await?;
    let found =
        store::notifications::mark_read(&mut *tx, partner, user, id, state.now_ms()).await?;
    tx.commit().await?;
    Ok(found)
}

/// Mark every unread notification of this person at this partner read; how many were unread.
pub async fn mark_all_read(
    state: &AppState,
    partner: &PartnerId,
    user: &UserId,
) -> Result<u64, AppError> {
    let mut tx = state.db.begin_write().await?;
    let marked =
        store::notifications::mark_all_read(&mut *tx, partner, user, state.now_ms()).await?;
    tx.commit().await?;
    Ok(marked)
}
