//! The Messaging API's background work: the sandbox's reports on sent messages (delivered, or
//! failed and refunded) and its decisions on submitted templates. Both are idempotent: a report
//! moves a message only forward, and a template is decided once.

use super::{Job, JobContext, JobError};
use crate::services::messaging::{reports, templates};
use crate::services::tasks::{MessageReports, TemplateReview};

impl Job for MessageReports {
    async fn run(self, ctx: &JobContext<'_>) -> Result<(), JobError> {
        reports::report_due(ctx.state).await?;
        Ok(())
    }
}

impl Job for TemplateReview {
    async fn run(self, ctx: &JobContext<'_>) -> Result<(), JobError> {
        templates::review(ctx.state, &self.partner_id, &self.template_id).await?;
        Ok(())
    }
}
