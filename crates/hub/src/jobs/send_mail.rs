//! Deliver one outbox message through the configured mailer. Idempotent: a message already
//! marked sent is not sent again.

use super::JobError;
use crate::providers::mail::OutgoingMail;
use crate::state::AppState;

#[derive(serde::Deserialize)]
struct Payload {
    mail_id: String,
}

pub async fn run(state: &AppState, payload: &str, final_attempt: bool) -> Result<(), JobError> {
    let payload: Payload =
        serde_json::from_str(payload).map_err(|e| JobError(format!("bad payload: {e}")))?;
    let pool = state.db.pool();
    let Some(mail) = store::mail::get(pool, &payload.mail_id).await? else {
        return Ok(());
    };
    if mail.state == "sent" {
        return Ok(());
    }
    let Some(mailer) = &state.mailer else {
        return Err(JobError("no mailer configured".into()));
    };
    let outgoing = OutgoingMail {
        to: mail.to_addr.clone(),
        subject: mail.subject.clone(),
        body_text: mail.body_text.clone(),
    };
    match mailer.send(&outgoing).await {
        Ok(()) => {
            store::mail::mark_sent(pool, &mail.id, state.now_ms()).await?;
            Ok(())
        }
        Err(err) => {
            store::mail::mark_attempt_failed(pool, &mail.id, &err.to_string(), final_attempt)
                .await?;
            Err(JobError(err.to_string()))
        }
    }
}
