//! Work a use case leaves for later: the payloads of background jobs. A service enqueues one in
//! the transaction of the change that asks for it (so the job exists if and only if the change
//! commits); `crate::jobs` runs each kind. Services name only these payloads, never the runner.

use domain::{ChannelId, PartnerId};
use store::jobs::{JobPayload, Schedule};

/// Deliver one outbox message through the mailer.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SendMail {
    pub mail_id: String,
}

impl JobPayload for SendMail {
    const KIND: &'static str = "send_mail";
}

/// Take a number through the provider's next asynchronous step.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ChannelProgress {
    pub partner_id: PartnerId,
    pub channel_id: ChannelId,
}

impl JobPayload for ChannelProgress {
    const KIND: &'static str = "channel_progress";
}

/// Cancel a number whose cancellation is still requested when its month ends.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ProcessCancellation {
    pub partner_id: PartnerId,
    pub channel_id: ChannelId,
}

impl JobPayload for ProcessCancellation {
    const KIND: &'static str = "process_cancellation";
}

/// Queue `payload` on the caller's connection (usually its transaction); `false` when a job with
/// the schedule's unique key already exists. The caller wakes the runner after its commit.
pub async fn enqueue<P: JobPayload>(
    conn: &mut sqlx::AnyConnection,
    payload: &P,
    schedule: &Schedule,
    now_ms: i64,
) -> Result<bool, store::StoreError> {
    Ok(store::jobs::enqueue(conn, payload, schedule, now_ms)
        .await?
        .is_some())
}

/// Settle the messages the sandbox has had long enough (one job per second of sends).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct MessageReports {}

impl JobPayload for MessageReports {
    const KIND: &'static str = "message_reports";
}

/// Let the provider decide on a submitted template.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TemplateReview {
    pub partner_id: PartnerId,
    pub template_id: String,
}

impl JobPayload for TemplateReview {
    const KIND: &'static str = "template_review";
}
