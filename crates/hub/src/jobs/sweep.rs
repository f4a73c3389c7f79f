//! The hourly sweep, a recurring job: expired sessions (refused on read anyway) and keyed jobs
//! finished over 30 days ago are deleted, so those tables stay small. Each run schedules the
//! next under the next hour's unique key, so however many workers start, one sweep per hour
//! exists.

use super::{Job, JobContext, JobError};
use crate::state::AppState;
use store::jobs::{JobPayload, Schedule};

const HOUR_MS: i64 = 3_600_000;
/// How long a finished keyed job keeps its key taken.
const KEEP_DONE_MS: i64 = 30 * 24 * HOUR_MS;

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PurgeExpired {
    /// Hours since the epoch of the run this job is.
    pub hour: i64,
}

impl JobPayload for PurgeExpired {
    const KIND: &'static str = "purge_expired";
}

fn schedule(hour: i64, run_at_ms: i64) -> (PurgeExpired, Schedule) {
    let key = format!("{}:{hour}", PurgeExpired::KIND);
    (PurgeExpired { hour }, Schedule::once(run_at_ms, key))
}

/// Make sure this hour's sweep exists (a no-op when another worker, or an earlier start of
/// this one, already queued it).
pub async fn schedule_first(state: &AppState) -> Result<(), store::StoreError> {
    let now = state.now_ms();
    let (job, when) = schedule(now.div_euclid(HOUR_MS), now);
    let mut tx = state.db.begin_background_write().await?;
    store::jobs::enqueue(&mut *tx, &job, &when, now).await?;
    tx.commit().await?;
    Ok(())
}

/// A sign-in address unused this long no longer counts as known (see `services::auth`).
const KEEP_ADDRESSES_MS: i64 = 180 * 24 * HOUR_MS;

impl Job for PurgeExpired {
    async fn run(self, ctx: &JobContext<'_>) -> Result<(), JobError> {
        let state = ctx.state;
        let now = state.now_ms();
        let mut tx = state.db.begin_background_write().await?;
        let sessions = store::sessions::purge_expired(&mut *tx, now).await?;
        store::sessions::forget_addresses_before(&mut *tx, now - KEEP_ADDRESSES_MS).await?;
        store::messages::purge_expired(&mut tx, now).await?;
        tx.commit().await?;
        let jobs = store::jobs::purge_done(&state.db, now - KEEP_DONE_MS).await?;
        if sessions + jobs > 0 {
            tracing::info!(sessions, jobs, "purged expired sessions and finished jobs");
        }
        // The next run: the hour after this one's, or after now if this one ran late.
        let next = (self.hour + 1).max(now.div_euclid(HOUR_MS) + 1);
        let (job, when) = schedule(next, next * HOUR_MS);
        let mut tx = state.db.begin_background_write().await?;
        store::jobs::enqueue(&mut *tx, &job, &when, now).await?;
        tx.commit().await?;
        Ok(())
    }
}
