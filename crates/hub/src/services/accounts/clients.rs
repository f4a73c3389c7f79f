//! Clients of a partner: creating (also through account sharing), reading and updating them.

use super::*;
use domain::limits;

pub const DEFAULT_MAX_CHANNELS: i64 = 10;

/// A validated "create client" request.
#[derive(Clone, Debug, Default)]
pub struct ClientRequest {
    pub name: String,
    pub organisation: Option<String>,
    pub max_channels: i64,
    pub partner_payload: Option<String>,
    pub contact_info: ContactInfo,
    pub contact_user: ContactUser,
    pub meta_info: MetaInfo,
}

pub(crate) fn optional_text(
    field: &'static str,
    value: Option<String>,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let value = value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())?;
    if value.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
        return None;
    }
    if value.chars().any(char::is_control) {
        errors.push(FieldError::new(
            field,
            "must not contain control characters",
        ));
        return None;
    }
    Some(value)
}

/// Check a `max_channels` value: a positive count no larger than the platform allows.
pub fn parse_max_channels(value: i64) -> Result<i64, FieldError> {
    if (1..=10_000).contains(&value) {
        Ok(value)
    } else {
        Err(FieldError::new(
            "max_channels",
            "must be between 1 and 10000",
        ))
    }
}

impl ClientRequest {
    /// Parse every field at once so all problems are reported together.
    pub fn parse(
        name: &str,
        organisation: Option<String>,
        max_channels: Option<i64>,
        partner_payload: Option<String>,
        contact_info: ContactInfo,
        contact_user: ContactUser,
        meta_info: MetaInfo,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = name.trim();
        if name.is_empty() {
            errors.push(FieldError::new("name", "is required"));
        } else if name.chars().count() > limits::CLIENT_NAME_CHARS {
            errors.push(FieldError::new(
                "name",
                format!("must be at most {} characters", limits::CLIENT_NAME_CHARS),
            ));
        }
        let max_channels = parse_max_channels(max_channels.unwrap_or(DEFAULT_MAX_CHANNELS))
            .map_err(|e| errors.push(e))
            .unwrap_or(0);
        let mut email = None;
        if let Some(raw) = contact_info
            .email
            .as_deref()
            .filter(|e| !e.trim().is_empty())
        {
            match domain::Email::parse(raw) {
                Ok(e) => email = Some(e.to_string()),
                Err(e) => errors.push(FieldError::new("contact_info.email", e.message)),
            }
        }
        let text = |field, value, errors: &mut Vec<FieldError>| {
            optional_text(field, value, limits::CLIENT_TEXT_CHARS, errors)
        };
        let contact_info = ContactInfo {
            email,
            full_name: text(
                "contact_info.full_name",
                contact_info.full_name,
                &mut errors,
            ),
            phone: text("contact_info.phone", contact_info.phone, &mut errors),
            country: text("contact_info.country", contact_info.country, &mut errors),
            city: text("contact_info.city", contact_info.city, &mut errors),
            street_name: text(
                "contact_info.street_name",
                contact_info.street_name,
                &mut errors,
            ),
            zip_code: text("contact_info.zip_code", contact_info.zip_code, &mut errors),
            webpage_url: text(
                "contact_info.webpage_url",
                contact_info.webpage_url,
                &mut errors,
            ),
            language: text("contact_info.language", contact_info.language, &mut errors),
        };
        let contact_user = ContactUser {
            name: text("contact_user.name", contact_user.name, &mut errors),
            email: text("contact_user.email", contact_user.email, &mut errors),
            phone: text("contact_user.phone", contact_user.phone, &mut errors),
        };
        let meta_info = MetaInfo {
            business_vertical: text(
                "meta_info.business_vertical",
                meta_info.business_vertical,
                &mut errors,
            ),
            timezone: text("meta_info.timezone", meta_info.timezone, &mut errors),
            about: text("meta_info.about", meta_info.about, &mut errors),
            business_description: text(
                "meta_info.business_description",
                meta_info.business_description,
                &mut errors,
            ),
            use_case: text("meta_info.use_case", meta_info.use_case, &mut errors),
        };
        let organisation = text("organisation", organisation, &mut errors);
        let partner_payload = optional_text(
            "partner_payload",
            partner_payload,
            limits::PARTNER_PAYLOAD_CHARS,
            &mut errors,
        );
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ClientRequest {
            name: name.to_owned(),
            organisation,
            max_channels,
            partner_payload,
            contact_info,
            contact_user,
            meta_info,
        })
    }
}

pub async fn create_client(
    state: &AppState,
    partner: &Partner,
    request: &ClientRequest,
    actor: &Actor,
) -> Result<Client, AppError> {
    let mut tx = state.db.begin_write().await?;
    let id = create_client_in(&mut tx, state, partner, request, actor).await?;
    tx.commit().await?;
    state.webhooks_wakeup.notify_one();
    store::clients::get(state.db.pool(), &partner.id, &id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Create a client (with its audit entry and `client_created` event) inside the caller's
/// transaction, for flows that create more in the same step (the onboarding sign-up). The
/// caller commits and then wakes the webhook dispatcher.
pub async fn create_client_in(
    tx: &mut store::WriteTx,
    state: &AppState,
    partner: &Partner,
    request: &ClientRequest,
    actor: &Actor,
) -> Result<ClientId, AppError> {
    let mut id = ClientId::generate();
    let mut tries = 0;
    loop {
        let new = NewClient {
            id: &id,
            name: &request.name,
            organisation: request.organisation.as_deref(),
            max_channels: request.max_channels,
            partner_payload: request.partner_payload.as_deref(),
            contact_info: &request.contact_info,
            contact_user: &request.contact_user,
            meta_info: &request.meta_info,
        };
        if store::clients::create(&mut **tx, &partner.id, &new, state.now_ms()).await? {
            break;
        }
        tries = id_taken(tries)?;
        id = ClientId::generate();
    }
    audit::record(
        &mut **tx,
        state,
        actor,
        Some(&partner.id),
        "client.create",
        id.as_str(),
        &request.name,
    )
    .await?;
    let created = store::clients::get(&mut **tx, &partner.id, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let data = serde_json::to_value(crate::wire::client(&created))
        .map_err(|e| AppError::Internal(e.into()))?;
    events::emit(tx, state, &partner.id, EventType::ClientCreated, &data).await?;
    Ok(id)
}

pub async fn client(
    state: &AppState,
    partner: &Partner,
    id: &ClientId,
) -> Result<Client, AppError> {
    store::clients::get(state.db.pool(), &partner.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn update_client(
    state: &AppState,
    partner: &Partner,
    id: &ClientId,
    partner_payload: Option<Option<String>>,
    max_channels: Option<i64>,
    actor: &Actor,
) -> Result<Client, AppError> {
    let mut errors = Vec::new();
    let payload = partner_payload.map(|p| optional_text("partner_payload", p, 4000, &mut errors));
    if let Some(Err(e)) = max_channels.map(parse_max_channels) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let mut tx = state.db.begin_write().await?;
    let found = store::clients::update(
        &mut *tx,
        &partner.id,
        id,
        payload.as_ref().map(|p| p.as_deref()),
        max_channels,
        state.now_ms(),
    )
    .await?;
    if !found {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(&partner.id),
        "client.update",
        id.as_str(),
        "",
    )
    .await?;
    tx.commit().await?;
    client(state, partner, id).await
}

/// A page of clients, the total, and where the next page starts.
pub async fn clients(
    state: &AppState,
    partner: &Partner,
    query: &ListQuery,
) -> Result<(Vec<Client>, i64, Option<domain::listing::After>), AppError> {
    Ok(store::clients::list(&state.db, &partner.id, query).await?)
}

/// `account_sharing/clients`: a client for a partner-hosted signup, from a name, the contact's
/// email and the contact person's name.
pub async fn create_shared_client(
    state: &AppState,
    partner: &Partner,
    name: &str,
    email: &str,
    user_name: &str,
    actor: &Actor,
) -> Result<Client, AppError> {
    let mut errors = Vec::new();
    if email.trim().is_empty() {
        errors.push(FieldError::new("email", "is required"));
    }
    if user_name.trim().is_empty() {
        errors.push(FieldError::new("user_name", "is required"));
    }
    let contact_info = ContactInfo {
        email: Some(email.to_owned()),
        ..ContactInfo::default()
    };
    let contact_user = ContactUser {
        name: Some(user_name.to_owned()),
        email: Some(email.to_owned()),
        phone: None,
    };
    let request = ClientRequest::parse(
        name,
        None,
        None,
        None,
        contact_info,
        contact_user,
        MetaInfo::default(),
    );
    match request {
        Ok(request) if errors.is_empty() => create_client(state, partner, &request, actor).await,
        Ok(_) => Err(AppError::Validation(errors)),
        Err(mut more) => {
            for e in &mut more {
                if e.field == "contact_info.email" {
                    e.field = "email";
                }
            }
            errors.extend(more);
            Err(AppError::Validation(errors))
        }
    }
}
