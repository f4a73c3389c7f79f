//! Creating partners (staff console and command line): the partner row, then an invitation for
//! its first Owner (if mailing the invitation fails, staff can resend it from the partner's page).

use crate::error::AppError;
use crate::services::audit::{self, Actor};
use crate::services::users::{self, NewUser};
use crate::state::AppState;
use domain::{Currency, Email, FieldError, PartnerId, PartnerName, PaymentModel, PersonName, Role};
use store::partners::NewPartner;

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
    store::partners::create(
        state.db.pool(),
        &NewPartner {
            id: &id,
            name: request.name.as_str(),
            currency: request.currency,
            payment_model: request.payment_model,
        },
        now,
    )
    .await?;
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
