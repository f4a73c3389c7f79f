//! Queueing mail. The message is written to the outbox inside the caller's transaction, so it is
//! sent if and only if the change that caused it commits. With a mailer configured a `send_mail`
//! job delivers it; without one the outbox is the end of the road (the staff console shows it,
//! and in development mode the log prints it so the links can be followed).

use crate::services::tasks::{self, SendMail};
use crate::state::AppState;
use store::StoreError;
use store::jobs::Schedule;

pub async fn queue(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    to: &str,
    subject: &str,
    body_text: &str,
) -> Result<String, StoreError> {
    let now = state.now_ms();
    let stateful = if state.mailer.is_some() {
        "queued"
    } else {
        "stored"
    };
    let id = store::mail::insert(&mut *conn, to, subject, body_text, stateful, now).await?;
    if state.mailer.is_some() {
        let job = SendMail {
            mail_id: id.clone(),
        };
        tasks::enqueue(conn, &job, &Schedule::at(now), now).await?;
    } else if state.config.dev {
        // Development only: mail carries single-use links, which must never reach production logs.
        tracing::info!(
            to,
            subject,
            "mail kept in the outbox (no SMTP configured):\n{body_text}"
        );
    } else {
        tracing::info!(mail_id = %id, "mail kept in the outbox (no SMTP configured)");
    }
    Ok(id)
}
