//! Message templates through the Messaging API (the sender's WABA) and the Partner API (a WABA
//! of the partner), the provider's review, and simulated inbound messages, which open the
//! customer service windows templates are priced against.

use super::{MessagingError, Sender};
use crate::clock::iso_ms;
use crate::error::AppError;
use crate::providers::whatsapp::TemplateDecision;
use crate::services::events;
use crate::services::tasks::{self, TemplateReview};
use crate::state::AppState;
use domain::message::{NewTemplate, ParamError, TemplateName, WaId};
use domain::webhook_event::EventType;
use domain::{PartnerId, WabaId};
use store::jobs::Schedule;
use store::templates::{Template, TemplateFilter};

/// How long an inbound message keeps the customer service window open.
pub const WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// A template as the APIs show it.
pub fn template_json(t: &Template) -> serde_json::Value {
    let components: serde_json::Value =
        serde_json::from_str(&t.components).unwrap_or(serde_json::Value::Array(Vec::new()));
    serde_json::json!({
        "id": t.id,
        "name": t.name,
        "language": t.language,
        "category": t.category.meta_name(),
        "status": t.status,
        "rejected_reason": t.rejected_reason,
        "components": components,
        "waba_id": t.waba_id.as_str(),
        "created_at": iso_ms(t.created_ms),
        "modified_at": iso_ms(t.modified_ms),
    })
}

/// Submit a template for the sender's WABA; the provider decides later.
pub async fn submit(
    state: &AppState,
    sender: &Sender,
    body: &serde_json::Value,
) -> Result<Template, MessagingError> {
    let template = NewTemplate::parse(body)?;
    let now = state.now_ms();
    let mut tx = state.db.begin_write().await?;
    let stored = match store::templates::submit(
        &mut tx,
        &sender.partner.id,
        &sender.channel.waba_id,
        &template,
        now,
    )
    .await
    {
        Ok(t) => t,
        Err(e) if e.is_conflict() => {
            tx.rollback().await?;
            return Err(MessagingError::Conflict(format!(
                "A template named {} in {} already exists on this WhatsApp Business Account.",
                template.name.as_str(),
                template.language.as_str()
            )));
        }
        Err(e) => return Err(e.into()),
    };
    tasks::enqueue(
        &mut tx,
        &TemplateReview {
            partner_id: sender.partner.id.clone(),
            template_id: stored.id.clone(),
        },
        &Schedule::at(now + state.config.whatsapp.sandbox_delay_ms),
        now,
    )
    .await?;
    tx.commit().await?;
    state.jobs_wakeup.notify_one();
    Ok(stored)
}

/// The provider's decision, applied once, with a partner webhook event.
pub async fn review(state: &AppState, partner: &PartnerId, id: &str) -> Result<(), AppError> {
    let Some(template) = store::templates::by_id(state.db.pool(), partner, id).await? else {
        return Ok(());
    };
    let Some(decision) = state.whatsapp.simulated_template_decision(&template.name) else {
        return Ok(());
    };
    let (status, reason) = match &decision {
        TemplateDecision::Approved => ("approved", None),
        TemplateDecision::Rejected { reason } => ("rejected", Some(reason.as_str())),
    };
    let mut tx = state.db.begin_write().await?;
    if store::templates::decide(&mut tx, partner, id, status, reason, state.now_ms()).await?
        && let Some(decided) = store::templates::by_id(&mut *tx, partner, id).await?
    {
        {
            events::emit(
                &mut tx,
                state,
                partner,
                EventType::TemplateStatusChanged,
                &serde_json::json!({"template": template_json(&decided)}),
            )
            .await?;
        }
    }
    tx.commit().await?;
    state.webhooks_wakeup.notify_one();
    Ok(())
}

/// A page of a WABA of the partner's templates, how many match, and where the next page
/// starts; another partner's WABA is not found.
pub async fn list(
    state: &AppState,
    partner: &PartnerId,
    waba: &WabaId,
    filter: &TemplateFilter,
    page: &store::select::Page<'_>,
) -> Result<(Vec<Template>, i64, Option<domain::listing::After>), AppError> {
    store::wabas::get(state.db.pool(), partner, waba)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut conn = state.db.pool().acquire().await?;
    Ok(store::templates::list(&mut conn, partner, waba, filter, page).await?)
}

/// Delete a template (every language of the name) from the sender's WABA.
pub async fn delete(state: &AppState, sender: &Sender, name: &str) -> Result<(), MessagingError> {
    let name = TemplateName::parse(name, "name")?;
    let mut tx = state.db.begin_write().await?;
    let deleted = store::templates::delete_named(
        &mut tx,
        &sender.partner.id,
        &sender.channel.waba_id,
        name.as_str(),
    )
    .await?;
    tx.commit().await?;
    if deleted == 0 {
        return Err(MessagingError::NotFound(format!(
            "No template named {} exists on this WhatsApp Business Account.",
            name.as_str()
        )));
    }
    Ok(())
}

/// A simulated inbound message from `from` to the number (sandbox only): opens their 24-hour
/// customer service window and goes to the number's messaging webhook. Returns when the window
/// closes.
pub async fn simulate_inbound(
    state: &AppState,
    partner: &PartnerId,
    channel: &domain::ChannelId,
    from: &WaId,
    text: &str,
) -> Result<i64, AppError> {
    if !state.whatsapp.simulates() {
        return Err(AppError::NotFound);
    }
    let expires = state.now_ms() + WINDOW_MS;
    let mut tx = state.db.begin_write().await?;
    store::messages::open_window(&mut tx, partner, channel, from.as_str(), expires).await?;
    super::webhook::inbound_in(&mut tx, state, partner, channel, from.as_str(), text).await?;
    tx.commit().await?;
    state.webhooks_wakeup.notify_one();
    Ok(expires)
}

/// A simulated inbound message through the Messaging API (`POST /v1/sandbox/inbound`).
pub async fn inbound(
    state: &AppState,
    sender: &Sender,
    body: &serde_json::Value,
) -> Result<serde_json::Value, MessagingError> {
    if !state.whatsapp.simulates() {
        return Err(MessagingError::NotFound(
            "Inbound messages can be simulated only with the sandbox provider.".into(),
        ));
    }
    let from = match body.get("from") {
        Some(serde_json::Value::String(s)) => WaId::parse(s, "from")?,
        Some(_) => {
            return Err(ParamError {
                field: "from".into(),
                message: "must be a string".into(),
            }
            .into());
        }
        None => {
            return Err(ParamError {
                field: "from".into(),
                message: "is required".into(),
            }
            .into());
        }
    };
    let text = match body.get("text") {
        None => "",
        Some(serde_json::Value::String(t)) => t.as_str(),
        Some(_) => {
            return Err(ParamError {
                field: "text".into(),
                message: "must be a string".into(),
            }
            .into());
        }
    };
    let expires =
        simulate_inbound(state, &sender.partner.id, &sender.channel.id, &from, text).await?;
    Ok(serde_json::json!({
        "from": from.as_str(),
        "window_expires_at": iso_ms(expires),
    }))
}
