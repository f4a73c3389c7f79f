//! Partners: creating them (staff console and command line: the partner row, then an invitation
//! for its first Owner, which staff can resend if mailing it fails), the Solution ID, and the
//! Partner API's all-or-nothing update of several settings at once.

use crate::error::AppError;
use crate::services::audit::{self, Actor};
use crate::services::profile::{self, ProfileChange};
use crate::services::users::{self, NewUser};
use crate::services::webhooks::{self, DefaultsChange, UrlKind};
use crate::state::AppState;
use domain::{
    Currency, Email, FieldError, PartnerId, PartnerName, PaymentModel, PersonName, Role,
    SolutionId, WebhookUrl,
};
use store::partners::{NewPartner, Partner};

#[derive(Debug)]
pub struct PartnerRequest {
    pub name: PartnerName,
    pub owner_email: Email,
    pub currency: Currency,
    pub payment_model: PaymentModel,
}

impl PartnerRequest {
    pub fn parse(
        name: &str,
        owner_email: &str,
        currency: &str,
        payment_model: &str,
    ) -> Result<Self, Vec<FieldError>> {
        let name = PartnerName::parse(name);
        let owner_email =
            Email::parse(owner_email).map_err(|e| FieldError::new("owner_email", e.message));
        let currency = Currency::parse(currency);
        let payment_model = PaymentModel::parse(payment_model);
        match (name, owner_email, currency, payment_model) {
            (Ok(name), Ok(owner_email), Ok(currency), Ok(payment_model)) => Ok(Self {
                name,
                owner_email,
                currency,
                payment_model,
            }),
            (a, b, c, d) => Err([a.err(), b.err(), c.err(), d.err()]
                .into_iter()
                .flatten()
                .collect()),
        }
    }
}

/// The partner created and the link its first Owner uses to join.
#[derive(Debug)]
pub struct CreatedPartner {
    pub id: PartnerId,
    pub invitation_link: String,
}

pub async fn create(
    state: &AppState,
    request: &PartnerRequest,
    actor: &Actor,
) -> Result<CreatedPartner, AppError> {
    let id = PartnerId::generate();
    let now = state.now_ms();
    {
        let mut tx = state.db.begin_write().await?;
        store::partners::create(
            &mut *tx,
            &NewPartner {
                id: &id,
                name: request.name.as_str(),
                currency: request.currency,
                payment_model: request.payment_model,
            },
            now,
        )
        .await?;
        tx.commit().await?;
    }
    audit::record(
        state.db.pool(),
        state,
        actor,
        Some(&id),
        "partner.create",
        id.as_str(),
        request.name.as_str(),
    )
    .await?;
    let owner_name = request
        .owner_email
        .as_str()
        .split('@')
        .next()
        .unwrap_or("Owner")
        .to_owned();
    let owner = NewUser {
        name: PersonName::parse(&owner_name).or_else(|_| PersonName::parse("Owner"))?,
        email: request.owner_email.clone(),
        role: Role::Owner,
    };
    let invitation_link = users::invite(state, &id, request.name.as_str(), &owner, actor).await?;
    Ok(CreatedPartner {
        id,
        invitation_link,
    })
}

/// Set or clear the partner's Solution ID (Integration page and Partner API).
pub async fn set_solution_id(
    state: &AppState,
    partner: &PartnerId,
    solution_id: Option<&SolutionId>,
    actor: &Actor,
) -> Result<(), AppError> {
    let mut tx = state.db.begin_write().await?;
    set_solution_id_in(&mut tx, state, partner, solution_id, actor).await?;
    tx.commit().await?;
    Ok(())
}

async fn set_solution_id_in(
    tx: &mut sqlx::AnyConnection,
    state: &AppState,
    partner: &PartnerId,
    solution_id: Option<&SolutionId>,
    actor: &Actor,
) -> Result<(), AppError> {
    let value = solution_id.map(SolutionId::as_str);
    store::partners::update_settings(&mut *tx, partner, None, Some(value)).await?;
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(partner),
        "partner.solution_id",
        partner.as_str(),
        value.unwrap_or("(cleared)"),
    )
    .await?;
    Ok(())
}

/// Several settings of a partner changed at once (`PATCH /partners/{id}`); `None` keeps a field.
#[derive(Debug, Default)]
pub struct PartnerUpdate {
    pub defaults: DefaultsChange,
    pub webhook_url: Option<Option<WebhookUrl>>,
    pub redirect_url: Option<Option<WebhookUrl>>,
    pub profile: ProfileChange,
    pub solution_id: Option<Option<SolutionId>>,
}

/// Apply every change of `update` with its audit entries in one transaction: either all of it
/// is stored or, on any refusal or fault, none of it.
pub async fn update(
    state: &AppState,
    partner: &Partner,
    update: &PartnerUpdate,
    actor: &Actor,
) -> Result<(), AppError> {
    // Refused before anything is written, so a 422 needs no rollback to change nothing.
    profile::check_change(partner, &update.profile)?;
    let id = &partner.id;
    let mut tx = state.db.begin_write().await?;
    let defaults = &update.defaults;
    if defaults.hosting_type.is_some() || defaults.region.is_some() {
        webhooks::set_defaults_in(&mut tx, state, id, *defaults, actor).await?;
    }
    if let Some(url) = &update.webhook_url {
        webhooks::save_url_in(&mut tx, state, id, UrlKind::Webhook, url.as_ref(), actor).await?;
    }
    if let Some(url) = &update.redirect_url {
        webhooks::save_url_in(&mut tx, state, id, UrlKind::Redirect, url.as_ref(), actor).await?;
    }
    let change = &update.profile;
    if change.brand_name.is_some() || change.allow_client_to_add_phone_no.is_some() {
        profile::save_in(&mut tx, state, partner, change, actor).await?;
    }
    if let Some(solution_id) = &update.solution_id {
        set_solution_id_in(&mut tx, state, id, solution_id.as_ref(), actor).await?;
    }
    tx.commit().await?;
    Ok(())
}
