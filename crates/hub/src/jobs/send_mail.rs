//! Deliver one outbox message through the configured mailer. Idempotent: a message already
//! marked sent is not sent again.

use super::{Job, JobContext, JobError};
use crate::providers::mail::OutgoingMail;
use crate::services::tasks::SendMail;

impl Job for SendMail {
    const MAX_ATTEMPTS: i64 = 8;

    async fn run(self, ctx: &JobContext<'_>) -> Result<(), JobError> {
        let state = ctx.state;
        let Some(mail) = store::mail::get(state.db.pool(), &self.mail_id).await? else {
            return Ok(());
        };
        if mail.state == "sent" {
            return Ok(());
        }
        let Some(mailer) = &state.mailer else {
            return Err(JobError::msg("no mailer configured"));
        };
        let outgoing = OutgoingMail {
            to: mail.to_addr.clone(),
            subject: mail.subject.clone(),
            body_text: mail.body_text.clone(),
        };
        match mailer.send(&outgoing).await {
            Ok(()) => {
                let mut tx = state.db.begin_write().await?;
                store::mail::mark_sent(&mut *tx, &mail.id, state.now_ms()).await?;
                tx.commit().await?;
                Ok(())
            }
            Err(err) => {
                let mut tx = state.db.begin_write().await?;
                let reason = err.to_string();
                store::mail::mark_attempt_failed(&mut *tx, &mail.id, &reason, ctx.final_attempt)
                    .await?;
                tx.commit().await?;
                Err(anyhow::Error::new(err)
                    .context(format!("sending mail {}", mail.id))
                    .into())
            }
        }
    }
}
