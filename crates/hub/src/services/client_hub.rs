//! What a client does for itself in the Client Hub: see its numbers, grant or revoke its
//! partner's API-key permission per number. (Own API keys live in `api_keys`, cancellation in
//! `whatsapp`, partner changes in `partner_change`, bringing numbers in `migration`.)
//!
//! Permission follows `domain::partner_permission`: Partner-Payment numbers are paid by the
//! partner, which therefore always holds their keys; only Direct-Payment numbers can be granted
//! or revoked. Revoking also revokes the number's live messaging keys: a number has one live key
//! at a time (a new key revokes the old), and while the partner had permission that key may be
//! the partner's, so keeping it would leave the partner able to send. The client then creates
//! its own key in the Client Hub.

use crate::error::AppError;
use crate::services::accounts;
use crate::services::audit::{self, Actor};
use crate::state::AppState;
use domain::listing::{FilterValue, ListQuery, MAX_LIMIT, SortKey};
use domain::{ChannelId, ClientId, PaymentModel, partner_permission};
use store::channels::ChannelView;
use store::notifications::{Audience, NewNotification};
use store::partners::Partner;

/// Every number of the client, oldest first.
pub async fn numbers(
    state: &AppState,
    partner: &Partner,
    client: &ClientId,
) -> Result<Vec<ChannelView>, AppError> {
    let query = ListQuery {
        limit: MAX_LIMIT,
        offset: 0,
        sort: vec![SortKey {
            field: "created_at",
            descending: false,
        }],
        filters: vec![("client_id", FilterValue::Text(client.to_string()))],
        ..Default::default()
    };
    Ok(store::channels::list(&state.db, &partner.id, &query, None)
        .await?
        .0)
}

/// Grant (`true`) or revoke the partner's permission to create API keys for a number of the
/// client. Granting what is granted (or revoking what is missing) changes nothing.
pub async fn set_permission(
    state: &AppState,
    partner: &Partner,
    client: &ClientId,
    id: &ChannelId,
    grant: bool,
    actor: &Actor,
) -> Result<ChannelView, AppError> {
    let channel = accounts::client_channel(state, partner, client, id).await?;
    if partner.payment_model == PaymentModel::PartnerPayment {
        return Err(AppError::Unprocessable(format!(
            "{} pays for this number (Partner-Payment), so it always has permission to manage its API keys.",
            partner.name
        )));
    }
    let wanted = partner_permission(partner.payment_model, grant);
    if channel.partner_permission == wanted.as_str() {
        return Ok(channel);
    }
    let now = state.now_ms();
    let mut tx = state.db.begin_write().await?;
    if !store::channels::set_permission(&mut *tx, &partner.id, client, id, wanted, now).await? {
        return Err(AppError::NotFound);
    }
    let revoked = if grant {
        0
    } else {
        store::api_keys::revoke_channel_keys(&mut *tx, &partner.id, id, now).await?
    };
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(&partner.id),
        if grant {
            "channel.permission_grant"
        } else {
            "channel.permission_revoke"
        },
        id.as_str(),
        &format!("keys revoked: {revoked}"),
    )
    .await?;
    let (title, body) = if grant {
        (
            format!("{}: permission granted", channel.phone_number),
            format!(
                "{} granted you permission to create API keys for this number.",
                channel.client_name
            ),
        )
    } else {
        (
            format!("{}: permission revoked", channel.phone_number),
            format!(
                "{} revoked your permission to create API keys for this number; its API keys were revoked.",
                channel.client_name
            ),
        )
    };
    let link = format!("/partner/{}/accounts/{}", partner.id, id);
    store::notifications::notify(
        &mut *tx,
        &partner.id,
        Audience::Everyone,
        &NewNotification {
            kind: "channel_permission",
            title: &title,
            body: &body,
            link: Some(&link),
        },
        None,
        now,
    )
    .await?;
    tx.commit().await?;
    state.messaging_keys.forget_channel(id);
    accounts::client_channel(state, partner, client, id).await
}
