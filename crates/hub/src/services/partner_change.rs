//! Partner change: a client moves one WABA, with all its numbers, from its partner to another.
//! The client asks in the Client Hub; the receiving partner accepts or declines on its Partner
//! Change page, or has every request accepted at once (`auto_approve`).
//!
//! Acceptance is one transaction: the WABA and its channels (with their history and keys)
//! change partner, `channel_counts` follows for both partners, and the client either moves too
//! (when this was its only WABA: it keeps its id, so its Client Hub users keep access) or stays
//! with its old partner while a copy with the same details and the same Client Hub users is
//! created under the receiving partner for the WABA. Keys the old partner may hold are revoked;
//! permission starts afresh with the new partner (`domain::partner_permission`).
//!
//! Webhooks: `partner_change_requested` when asked and `partner_change_completed` when the WABA
//! moved go to both partners, with `data` = `{"id", "waba_account_id", "client_id",
//! "to_client_id", "from_partner_id", "to_partner_id", "status"}` (`to_client_id` is the client
//! the WABA belongs to with the new partner, `null` until then). Declining sends no event.

use crate::error::AppError;
use crate::services::audit::{self, Actor};
use crate::services::{events, mail, tasks};
use crate::state::AppState;
use domain::webhook_event::EventType;
use domain::{ChannelStatus, ClientId, FieldError, PartnerId, UserId, WabaId, partner_permission};
use serde_json::json;
use sqlx::AnyConnection;
use store::StoreError;
use store::clients::{Client, NewClient};
use store::jobs::Schedule;
use store::notifications::{Audience, NewNotification};
use store::partner_changes::{self, ACCEPTED, DECLINED, NewRequest, PartnerChange, REQUESTED};
use store::partners::Partner;

const LIST_LIMIT: i64 = 200;

/// The small object both partners' webhooks receive.
fn event_data(
    id: &str,
    waba: &WabaId,
    client: &ClientId,
    to_client: Option<&ClientId>,
    from: &PartnerId,
    to: &PartnerId,
    status: &str,
) -> serde_json::Value {
    json!({
        "id": id,
        "waba_account_id": waba,
        "client_id": client,
        "to_client_id": to_client,
        "from_partner_id": from,
        "to_partner_id": to,
        "status": status,
    })
}

async fn emit_both(
    conn: &mut AnyConnection,
    state: &AppState,
    from: &PartnerId,
    to: &PartnerId,
    event: EventType,
    data: &serde_json::Value,
) -> Result<(), StoreError> {
    events::emit(&mut *conn, state, from, event, data).await?;
    events::emit(&mut *conn, state, to, event, data).await?;
    Ok(())
}

async fn notify(
    conn: &mut AnyConnection,
    partner: &PartnerId,
    kind: &str,
    title: &str,
    body: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    let link = format!("/partner/{partner}/partner-change");
    store::notifications::notify(
        &mut *conn,
        partner,
        Audience::Everyone,
        &NewNotification {
            kind,
            title,
            body,
            link: Some(&link),
        },
        None,
        now_ms,
    )
    .await?;
    Ok(())
}

/// Tell the people of a client (by mail: the Client Hub has no bell) how their request ended.
async fn mail_client(
    conn: &mut AnyConnection,
    state: &AppState,
    partner: &PartnerId,
    client: &ClientId,
    subject: &str,
    body: &str,
) -> Result<(), StoreError> {
    for email in store::client_users::emails_of(&mut *conn, partner, client).await? {
        mail::queue(&mut *conn, state, &email, subject, body).await?;
    }
    Ok(())
}

/// The receiving partner named in a request, checked: it exists, is not the current partner,
/// and takes clients.
async fn receiving_partner(
    state: &AppState,
    current: &Partner,
    raw: &str,
) -> Result<Partner, FieldError> {
    let raw = raw.trim();
    const FIELD: &str = "partner_id";
    if raw.is_empty() {
        return Err(FieldError::new(
            FIELD,
            "is required: ask the partner you want to move to for its Partner ID",
        ));
    }
    let Ok(id) = PartnerId::parse(raw) else {
        return Err(FieldError::new(
            FIELD,
            "is not a Partner ID (8 characters ending in PA, shown in the partner's dashboard)",
        ));
    };
    if id == current.id {
        return Err(FieldError::new(
            FIELD,
            format!("{id} is {}, your partner already", current.name),
        ));
    }
    let found = store::partners::get(state.db.pool(), &id)
        .await
        .map_err(|_| FieldError::new(FIELD, "could not be checked; try again"))?;
    let Some(partner) = found else {
        return Err(FieldError::new(
            FIELD,
            format!("{id}: no partner has this Partner ID"),
        ));
    };
    if partner.status != "active" {
        return Err(FieldError::new(
            FIELD,
            format!(
                "{} ({id}) is suspended and cannot take over accounts now",
                partner.name
            ),
        ));
    }
    Ok(partner)
}

/// A client asks to move `waba` to the partner with Partner ID `target`. Auto-approved at once
/// when the receiving partner said so.
pub async fn request(
    state: &AppState,
    partner: &Partner,
    client: &Client,
    waba: &str,
    target: &str,
    user: &UserId,
    actor: &Actor,
) -> Result<PartnerChange, AppError> {
    let mut errors = Vec::new();
    let waba = match WabaId::parse(waba.trim()) {
        Ok(id) => store::wabas::get_for_client(state.db.pool(), &partner.id, &client.id, &id)
            .await?
            .map(|w| w.id),
        Err(_) => None,
    };
    if waba.is_none() {
        errors.push(FieldError::new(
            "waba",
            "choose one of your WhatsApp Business Accounts",
        ));
    }
    let to = receiving_partner(state, partner, target)
        .await
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(waba), Some(to)) = (waba, to) else {
        return Err(AppError::Validation(errors));
    };
    let id = domain::ids::row_id("pcr");
    let now = state.now_ms();
    let mut tx = state.db.begin_write().await?;
    let created = partner_changes::create(
        &mut *tx,
        &NewRequest {
            id: &id,
            waba: &waba,
            client: &client.id,
            from: &partner.id,
            to: &to.id,
            requested_by: user,
        },
        now,
    )
    .await?;
    if !created {
        return Err(AppError::Validation(vec![FieldError::new(
            "waba",
            "already has an open partner change request; wait for the answer",
        )]));
    }
    let data = event_data(&id, &waba, &client.id, None, &partner.id, &to.id, REQUESTED);
    emit_both(
        &mut tx,
        state,
        &partner.id,
        &to.id,
        EventType::PartnerChangeRequested,
        &data,
    )
    .await?;
    notify(
        &mut tx,
        &to.id,
        "partner_change_requested",
        &format!("{} wants to move to you", client.name),
        &format!(
            "{} asks to move a WhatsApp Business Account from {} to you. Accept or decline it on the Partner Change page.",
            client.name, partner.name
        ),
        now,
    )
    .await?;
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(&partner.id),
        "partner_change.request",
        &id,
        &format!("{waba} to {}", to.id),
    )
    .await?;
    tx.commit().await?;
    state.webhooks_wakeup.notify_one();
    let auto = store::partners::settings(state.db.pool(), &to.id)
        .await?
        .is_some_and(|s| s.auto_approves_partner_changes());
    if auto {
        return accept(state, &to, &id, &Actor::System).await;
    }
    store::partner_changes::get(state.db.pool(), &partner.id, &id)
        .await?
        .ok_or(AppError::NotFound)
}

/// A copy of `client` (of `from`) under `to`, with the same details and Client Hub users.
async fn copy_client(
    conn: &mut AnyConnection,
    from: &PartnerId,
    to: &PartnerId,
    client: &ClientId,
    now_ms: i64,
) -> Result<ClientId, AppError> {
    let original = store::clients::get(&mut *conn, from, client)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tries = 0;
    loop {
        let id = ClientId::generate();
        let new = NewClient {
            id: &id,
            name: &original.name,
            organisation: original.organisation.as_deref(),
            max_channels: original.max_channels,
            // The payload is the old partner's own reference (e.g. its CRM id): not the new one's.
            partner_payload: None,
            contact_info: &original.contact_info,
            contact_user: &original.contact_user,
            meta_info: &original.meta_info,
        };
        if store::clients::create(&mut *conn, to, &new, now_ms).await? {
            store::client_users::copy(&mut *conn, from, client, to, &id, now_ms).await?;
            return Ok(id);
        }
        tries += 1;
        if tries >= 5 {
            return Err(AppError::Internal(anyhow::anyhow!(
                "no free client id after 5 draws"
            )));
        }
    }
}

/// The background steps a moved channel was waiting for carry the old partner in their
/// payload (and then find nothing); queue them again for the new partner.
async fn requeue(
    conn: &mut AnyConnection,
    state: &AppState,
    to: &PartnerId,
    moved: &[partner_changes::MovedChannel],
    now_ms: i64,
) -> Result<(), StoreError> {
    for channel in moved {
        let partner_id = to.clone();
        let channel_id = channel.id.clone();
        match channel.status {
            ChannelStatus::Created
            | ChannelStatus::Verified
            | ChannelStatus::Ready
            | ChannelStatus::MigrationRequested => {
                let job = tasks::ChannelProgress {
                    partner_id,
                    channel_id,
                };
                let at = now_ms + state.config.whatsapp.sandbox_delay_ms;
                tasks::enqueue(conn, &job, &Schedule::at(at), now_ms).await?;
            }
            ChannelStatus::PendingDeletion => {
                let job = tasks::ProcessCancellation {
                    partner_id,
                    channel_id,
                };
                let requested = channel.cancellation_requested_ms.unwrap_or(now_ms);
                let at = domain::calendar::next_month_start_ms(requested);
                tasks::enqueue(conn, &job, &Schedule::at(at), now_ms).await?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The receiving partner accepts: the WABA moves (see the module comment), both partners and
/// the client's people hear of it.
pub async fn accept(
    state: &AppState,
    to: &Partner,
    id: &str,
    actor: &Actor,
) -> Result<PartnerChange, AppError> {
    let now = state.now_ms();
    let decided_by = actor.id().unwrap_or("auto_approve").to_owned();
    let mut tx = state.db.begin_write().await?;
    let request = partner_changes::get(&mut *tx, &to.id, id)
        .await?
        .filter(|r| r.to_partner_id == to.id)
        .ok_or(AppError::NotFound)?;
    if !request.is_open() {
        return Err(AppError::Unprocessable(format!(
            "This request was already {}.",
            status_words(&request.status)
        )));
    }
    let from = request.from_partner_id.clone();
    let from_partner = store::partners::get(&mut *tx, &from)
        .await?
        .ok_or(AppError::NotFound)?;
    if store::wabas::get_for_client(&mut *tx, &from, &request.client_id, &request.waba_id)
        .await?
        .is_none()
    {
        return Err(AppError::Conflict(
            "the WhatsApp Business Account is no longer with the partner it was asked from".into(),
        ));
    }
    if !partner_changes::decide(&mut *tx, &to.id, id, ACCEPTED, &decided_by, now).await? {
        return Err(AppError::Conflict(
            "the request was decided meanwhile; reload the page".into(),
        ));
    }
    let only_waba = partner_changes::waba_count(&mut *tx, &from, &request.client_id).await? <= 1;
    let to_client = if only_waba {
        partner_changes::move_client(&mut *tx, &from, &to.id, &request.client_id, now).await?;
        request.client_id.clone()
    } else {
        copy_client(&mut tx, &from, &to.id, &request.client_id, now).await?
    };
    let permission = partner_permission(to.payment_model, false);
    let moved = partner_changes::move_waba(
        &mut tx,
        &from,
        &to.id,
        &request.waba_id,
        &to_client,
        permission,
        now,
    )
    .await?;
    requeue(&mut tx, state, &to.id, &moved, now).await?;
    let detail = format!(
        "{} ({} numbers) from {} to {}, client {}",
        request.waba_id,
        moved.len(),
        from,
        to.id,
        to_client
    );
    for partner in [&from, &to.id] {
        audit::record(
            &mut *tx,
            state,
            actor,
            Some(partner),
            "partner_change.accept",
            id,
            &detail,
        )
        .await?;
    }
    let data = event_data(
        id,
        &request.waba_id,
        &request.client_id,
        Some(&to_client),
        &from,
        &to.id,
        ACCEPTED,
    );
    emit_both(
        &mut tx,
        state,
        &from,
        &to.id,
        EventType::PartnerChangeCompleted,
        &data,
    )
    .await?;
    notify(
        &mut tx,
        &to.id,
        "partner_change_completed",
        &format!("{} moved to you", request.client_name),
        &format!(
            "{} and its {} numbers moved from {} to you.",
            request.waba_name,
            moved.len(),
            from_partner.name
        ),
        now,
    )
    .await?;
    notify(
        &mut tx,
        &from,
        "partner_change_completed",
        &format!("{} moved to {}", request.client_name, to.name),
        &format!(
            "{} and its {} numbers moved from you to {} at the client's request.",
            request.waba_name,
            moved.len(),
            to.name
        ),
        now,
    )
    .await?;
    mail_client(
        &mut tx,
        state,
        &to.id,
        &to_client,
        &format!("Your WhatsApp account moved to {}", to.name),
        &format!(
            "{} accepted your request: {} and its numbers are now with {}.\n\nSee them in the Client Hub: {}",
            to.name,
            request.waba_name,
            to.name,
            state.config.link(&format!("/client/{to_client}"))
        ),
    )
    .await?;
    tx.commit().await?;
    state.jobs_wakeup.notify_one();
    state.webhooks_wakeup.notify_one();
    partner_changes::get(state.db.pool(), &to.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The receiving partner declines: nothing moves; the client sees it in the Client Hub.
pub async fn decline(
    state: &AppState,
    to: &Partner,
    id: &str,
    actor: &Actor,
) -> Result<PartnerChange, AppError> {
    let now = state.now_ms();
    let decided_by = actor.id().unwrap_or("system").to_owned();
    let mut tx = state.db.begin_write().await?;
    let request = partner_changes::get(&mut *tx, &to.id, id)
        .await?
        .filter(|r| r.to_partner_id == to.id)
        .ok_or(AppError::NotFound)?;
    if !partner_changes::decide(&mut *tx, &to.id, id, DECLINED, &decided_by, now).await? {
        return Err(AppError::Unprocessable(format!(
            "This request was already {}.",
            status_words(&request.status)
        )));
    }
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(&to.id),
        "partner_change.decline",
        id,
        request.waba_id.as_str(),
    )
    .await?;
    mail_client(
        &mut tx,
        state,
        &request.from_partner_id,
        &request.client_id,
        &format!("{} declined your partner change", to.name),
        &format!(
            "{} declined taking over {}. Nothing changed: it stays with {}.",
            to.name, request.waba_name, request.from_partner_name
        ),
    )
    .await?;
    tx.commit().await?;
    partner_changes::get(state.db.pool(), &to.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The client takes back its open request before the receiving partner decides: nothing moves,
/// and the receiving partner is told (the request stays on its page as withdrawn).
pub async fn withdraw(
    state: &AppState,
    partner: &Partner,
    client: &Client,
    id: &str,
    user: &UserId,
    actor: &Actor,
) -> Result<PartnerChange, AppError> {
    let now = state.now_ms();
    let mut tx = state.db.begin_write().await?;
    let request = partner_changes::get(&mut *tx, &partner.id, id)
        .await?
        .filter(|r| r.from_partner_id == partner.id && r.client_id == client.id)
        .ok_or(AppError::NotFound)?;
    if !partner_changes::withdraw(&mut *tx, &partner.id, &client.id, id, user.as_str(), now).await?
    {
        return Err(AppError::Unprocessable(format!(
            "This request was already {}.",
            status_words(&request.status)
        )));
    }
    notify(
        &mut tx,
        &request.to_partner_id,
        "partner_change_withdrawn",
        &format!("{} withdrew its partner change request", client.name),
        &format!(
            "{} no longer asks to move {} to you; nothing changes.",
            client.name, request.waba_name
        ),
        now,
    )
    .await?;
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(&partner.id),
        "partner_change.withdraw",
        id,
        request.waba_id.as_str(),
    )
    .await?;
    tx.commit().await?;
    partner_changes::get(state.db.pool(), &partner.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// A closed request's status as a sentence ends it ("This request was already …").
fn status_words(status: &str) -> &str {
    match status {
        partner_changes::WITHDRAWN => "withdrawn",
        other => other,
    }
}

/// Requests towards the partner (open first) and of its clients away from it.
pub async fn lists(
    state: &AppState,
    partner: &PartnerId,
) -> Result<(Vec<PartnerChange>, Vec<PartnerChange>), AppError> {
    let pool = state.db.pool();
    Ok((
        partner_changes::incoming(pool, partner, LIST_LIMIT).await?,
        partner_changes::outgoing(pool, partner, LIST_LIMIT).await?,
    ))
}

/// The requests a client made (as the Client Hub shows them).
pub async fn of_client(
    state: &AppState,
    partner: &PartnerId,
    client: &ClientId,
) -> Result<Vec<PartnerChange>, AppError> {
    Ok(partner_changes::of_client(state.db.pool(), partner, client).await?)
}

/// Owners turn automatic approval of incoming requests on or off.
pub async fn set_auto_approve(
    state: &AppState,
    partner: &PartnerId,
    auto_approve: bool,
    actor: &Actor,
) -> Result<(), AppError> {
    let mut tx = state.db.begin_write().await?;
    store::partners::set_partner_change_auto_approve(&mut *tx, partner, auto_approve).await?;
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(partner),
        "partner.partner_change_auto_approve",
        partner.as_str(),
        if auto_approve { "on" } else { "off" },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
