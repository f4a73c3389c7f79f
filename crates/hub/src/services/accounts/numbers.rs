//! Numbers (channels): adding one to a client, and reading them one by one, by page or for the export.

use super::*;

pub async fn channels(
    state: &AppState,
    partner: &Partner,
    query: &ListQuery,
    text: Option<&str>,
) -> Result<(Vec<ChannelView>, i64), AppError> {
    Ok(store::channels::list(&state.db, &partner.id, query, text).await?)
}

/// The same page as [`channels`] for the Partner API, in the form its database makes cheapest
/// to write (see `store::channels::page_json`), with the total and where the next page starts.
pub async fn channels_page(
    state: &AppState,
    partner: &Partner,
    query: &ListQuery,
    text: Option<&str>,
) -> Result<
    (
        store::channels::JsonPage,
        i64,
        Option<domain::listing::After>,
    ),
    AppError,
> {
    Ok(store::channels::page_json(&state.db, &partner.id, query, text).await?)
}

/// One batch of an export, from `position` on.
pub async fn export_batch(
    state: &AppState,
    partner: &Partner,
    query: &ListQuery,
    text: Option<&str>,
    position: &store::channels::ExportPosition,
    limit: i64,
) -> Result<Vec<store::channels::ExportRow>, AppError> {
    Ok(store::channels::export_batch(&state.db, &partner.id, query, text, position, limit).await?)
}

pub async fn channel(
    state: &AppState,
    partner: &Partner,
    id: &ChannelId,
) -> Result<ChannelView, AppError> {
    store::channels::get(state.db.pool(), &partner.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The channel, if it belongs to this client of this partner.
pub async fn client_channel(
    state: &AppState,
    partner: &Partner,
    client: &ClientId,
    id: &ChannelId,
) -> Result<ChannelView, AppError> {
    let channel = channel(state, partner, id).await?;
    if &channel.client_id != client {
        return Err(AppError::NotFound);
    }
    Ok(channel)
}

/// A validated "add number" request.
#[derive(Clone, Debug)]
pub struct NumberRequest {
    pub phone: PhoneNumber,
    pub display_name: String,
    pub method: VerificationMethod,
    pub waba: Option<WabaId>,
}

impl NumberRequest {
    pub fn parse(
        phone: &str,
        display_name: &str,
        method: Option<&str>,
        waba: Option<&str>,
    ) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let phone = PhoneNumber::parse(phone).map_err(|e| errors.push(e)).ok();
        let name = display_name.trim();
        if name.is_empty() {
            errors.push(FieldError::new(
                "phone_name",
                "is required (the display name people see)",
            ));
        } else if name.chars().count() > domain::limits::DISPLAY_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            errors.push(FieldError::new(
                "phone_name",
                format!(
                    "must be at most {} printable characters",
                    domain::limits::DISPLAY_NAME_CHARS
                ),
            ));
        }
        let method = match method.map(str::trim).filter(|m| !m.is_empty()) {
            None => Some(VerificationMethod::Sms),
            Some(m) => VerificationMethod::parse(m)
                .map_err(|e| errors.push(FieldError::new("verification_method", e.message)))
                .ok(),
        };
        let waba = match waba.map(str::trim).filter(|w| !w.is_empty()) {
            None => None,
            Some(w) => match WabaId::parse(w) {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.push(FieldError::new(
                        "waba_account_id",
                        "is not a WABA id (8 characters ending in WA)",
                    ));
                    None
                }
            },
        };
        match (phone, method) {
            (Some(phone), Some(method)) if errors.is_empty() => Ok(NumberRequest {
                phone,
                display_name: name.to_owned(),
                method,
                waba,
            }),
            _ => Err(errors),
        }
    }
}

/// Add a number to a client's WABA (a new WABA when the client has none). The provider steps
/// (registration, sending the code) follow asynchronously.
pub async fn add_number(
    state: &AppState,
    partner: &Partner,
    client_id: &ClientId,
    request: &NumberRequest,
    actor: &Actor,
) -> Result<ChannelView, AppError> {
    let pool = state.db.pool();
    let client = client(state, partner, client_id).await?;
    let live = store::channels::count_live_for_client(pool, &partner.id, client_id).await?;
    if live >= client.max_channels {
        return Err(AppError::Unprocessable(format!(
            "Client {} already has {live} of its {} numbers (max_channels). Raise max_channels or cancel a number first.",
            client.id, client.max_channels
        )));
    }
    if store::channels::phone_in_use(pool, request.phone.as_str()).await? {
        return Err(phone_taken(&request.phone));
    }
    let existing_waba = match &request.waba {
        Some(id) => Some(
            store::wabas::get_for_client(pool, &partner.id, client_id, id)
                .await?
                .ok_or_else(|| {
                    AppError::Validation(vec![FieldError::new(
                        "waba_account_id",
                        "is not a WABA of this client",
                    )])
                })?,
        ),
        None => store::wabas::first_of_client(pool, &partner.id, client_id).await?,
    };
    let mut tx = state.db.begin_write().await?;
    let waba_id = match existing_waba {
        Some(waba) => waba.id,
        None => new_waba(&mut tx, partner, &client, state.now_ms()).await?,
    };
    let conflict = || phone_taken(&request.phone);
    let id = insert_channel(
        &mut tx,
        state,
        partner,
        &client,
        &waba_id,
        request,
        Arrival::Added,
        actor,
        conflict,
    )
    .await?;
    tx.commit().await?;
    state.jobs_wakeup.notify_one();
    state.webhooks_wakeup.notify_one();
    channel(state, partner, &id).await
}

pub(crate) async fn channel_by_id(
    state: &AppState,
    partner: &Partner,
    id: &ChannelId,
) -> Result<ChannelView, AppError> {
    channel(state, partner, id).await
}

/// Channels of a client whose API-key permission is shared with the partner.
pub async fn shared_numbers(
    state: &AppState,
    partner: &Partner,
    client_id: &ClientId,
) -> Result<Vec<ChannelView>, AppError> {
    client(state, partner, client_id).await?;
    let query = ListQuery {
        limit: domain::listing::MAX_LIMIT,
        offset: 0,
        sort: vec![domain::listing::SortKey {
            field: "created_at",
            descending: false,
        }],
        filters: vec![
            (
                "client_id",
                domain::listing::FilterValue::Text(client_id.to_string()),
            ),
            (
                "partner_permission",
                domain::listing::FilterValue::Text(PartnerPermission::Shared.as_str().to_owned()),
            ),
        ],
        ..Default::default()
    };
    Ok(store::channels::list(&state.db, &partner.id, &query, None)
        .await?
        .0)
}
