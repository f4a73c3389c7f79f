//! WhatsApp accounts: clients, their WABAs and numbers. Creating and verifying numbers, the
//! asynchronous steps the provider takes (through `channel_progress` jobs), cancellation, and
//! the rules around them (max_channels, one live number per phone on the platform, locks after
//! wrong codes). Pages and the Partner API both call these functions.

use crate::error::AppError;
use crate::providers::whatsapp::CodeCheck;
use crate::services::audit::{self, Actor};
use crate::services::events;
use crate::services::tasks;
use crate::state::AppState;
use domain::listing::ListQuery;
use domain::webhook_event::EventType;
use domain::{
    ChannelId, ChannelStatus, ClientId, FieldError, PartnerPermission, PhoneNumber, QualityRating,
    VerificationMethod, WabaId, partner_permission,
};
use store::channels::{ChannelView, NewChannel};
use store::clients::{Client, ContactInfo, ContactUser, MetaInfo, NewClient};
use store::jobs::Schedule;
use store::partners::Partner;

pub const DEFAULT_MAX_CHANNELS: i64 = 10;
pub const MAX_WRONG_CODES: i64 = 5;
pub const CODE_LOCK_MS: i64 = 60 * 60 * 1000;

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

fn optional_text(
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
        } else if name.chars().count() > 200 {
            errors.push(FieldError::new("name", "must be at most 200 characters"));
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
        let text =
            |field, value, errors: &mut Vec<FieldError>| optional_text(field, value, 500, errors);
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
        let partner_payload = optional_text("partner_payload", partner_payload, 4000, &mut errors);
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

pub async fn clients(
    state: &AppState,
    partner: &Partner,
    query: &ListQuery,
) -> Result<(Vec<Client>, i64), AppError> {
    Ok(store::clients::list(&state.db, &partner.id, query).await?)
}

pub async fn channels(
    state: &AppState,
    partner: &Partner,
    query: &ListQuery,
    text: Option<&str>,
) -> Result<(Vec<ChannelView>, i64), AppError> {
    Ok(store::channels::list(&state.db, &partner.id, query, text).await?)
}

/// The same page as [`channels`] for the Partner API, in the form its database makes cheapest
/// to write (see `store::channels::page_json`), with the total.
pub async fn channels_page(
    state: &AppState,
    partner: &Partner,
    query: &ListQuery,
    text: Option<&str>,
) -> Result<(store::channels::JsonPage, i64), AppError> {
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
        } else if name.chars().count() > 100 || name.chars().any(char::is_control) {
            errors.push(FieldError::new(
                "phone_name",
                "must be at most 100 printable characters",
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

pub(crate) fn search_text(phone: &PhoneNumber, display_name: &str, client: &Client) -> String {
    format!(
        "{} {} {} {} {}",
        phone.as_str(),
        phone.digits(),
        display_name,
        client.name,
        client.contact_info.email.as_deref().unwrap_or("")
    )
    .to_lowercase()
}

pub(crate) async fn enqueue_progress(
    conn: &mut sqlx::AnyConnection,
    state: &AppState,
    partner: &Partner,
    channel: &ChannelId,
) -> Result<(), store::StoreError> {
    let job = tasks::ChannelProgress {
        partner_id: partner.id.clone(),
        channel_id: channel.clone(),
    };
    let now = state.now_ms();
    let when = Schedule::at(now + state.config.whatsapp.sandbox_delay_ms);
    tasks::enqueue(conn, &job, &when, now).await?;
    Ok(())
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
    let settings = store::partners::settings(pool, &partner.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut id = ChannelId::generate();
    let now = state.now_ms();
    let mut tx = state.db.begin_write().await?;
    let waba_id = match existing_waba {
        Some(waba) => waba.id,
        None => new_waba(&mut tx, partner, &client, now).await?,
    };
    let permission = partner_permission(partner.payment_model, false);
    let search = search_text(&request.phone, &request.display_name, &client);
    let mut tries = 0;
    loop {
        let new = NewChannel {
            id: &id,
            client_id,
            waba_id: &waba_id,
            phone_number: request.phone.as_str(),
            phone_name: &request.display_name,
            verification_method: request.method.as_str(),
            status: ChannelStatus::Created,
            account_mode: "live",
            hosting_type: &settings.default_hosting_type,
            data_storage_region: settings.default_data_storage_region.as_deref(),
            partner_permission: permission.as_str(),
            quality_rating: QualityRating::Unknown.as_str(),
            is_migrated: false,
            search_text: &search,
        };
        match store::channels::create(&mut tx, &partner.id, &new, "number added", now).await {
            Ok(true) => break,
            Ok(false) => {
                tries = id_taken(tries)?;
                id = ChannelId::generate();
            }
            Err(e) if e.is_conflict() => return Err(phone_taken(&request.phone)),
            Err(e) => return Err(e.into()),
        }
    }
    enqueue_progress(&mut tx, state, partner, &id).await?;
    events::channel_event(&mut tx, state, &partner.id, &id, EventType::ChannelCreated).await?;
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(&partner.id),
        "channel.create",
        id.as_str(),
        request.phone.as_str(),
    )
    .await?;
    tx.commit().await?;
    state.jobs_wakeup.notify_one();
    state.webhooks_wakeup.notify_one();
    channel(state, partner, &id).await
}

/// A new (pending) WABA for a client's first number.
pub(crate) async fn new_waba(
    conn: &mut sqlx::AnyConnection,
    partner: &Partner,
    client: &Client,
    now: i64,
) -> Result<WabaId, AppError> {
    let mut waba_id = WabaId::generate();
    let mut tries = 0;
    loop {
        let new = store::wabas::NewWaba {
            id: &waba_id,
            client_id: &client.id,
            name: &client.name,
            external_id: None,
            namespace: None,
            fb_account_status: "pending",
            business_name: client.organisation.as_deref().or(Some(&client.name)),
        };
        if store::wabas::create(&mut *conn, &partner.id, &new, now).await? {
            return Ok(waba_id);
        }
        tries = id_taken(tries)?;
        waba_id = WabaId::generate();
    }
}

/// Six random characters do collide once there are many rows: draw again, a few times.
pub(crate) fn id_taken(tries: u32) -> Result<u32, AppError> {
    if tries >= 4 {
        return Err(AppError::Internal(anyhow::anyhow!(
            "no free id after 5 draws"
        )));
    }
    Ok(tries + 1)
}

pub(crate) fn phone_taken(phone: &PhoneNumber) -> AppError {
    AppError::Conflict(format!(
        "phone_number {} is already registered on the platform",
        phone.as_str()
    ))
}

/// Check a verification code. Wrong codes count; five lock the number for an hour.
pub async fn verify_number(
    state: &AppState,
    partner: &Partner,
    client_id: &ClientId,
    id: &ChannelId,
    code: &str,
    actor: &Actor,
) -> Result<ChannelView, AppError> {
    let channel = client_channel(state, partner, client_id, id).await?;
    check_code(
        state,
        partner,
        &channel,
        ChannelStatus::PendingVerification,
        code,
    )
    .await?;
    let now = state.now_ms();
    let mut tx = state.db.begin_write().await?;
    let moved = events::transition(
        &mut tx,
        state,
        &partner.id,
        id,
        ChannelStatus::PendingVerification,
        ChannelStatus::Verified,
        "verification code accepted",
        now,
    )
    .await?;
    if !moved {
        return Err(AppError::Conflict(
            "the number changed status meanwhile; reload and try again".into(),
        ));
    }
    enqueue_progress(&mut tx, state, partner, id).await?;
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(&partner.id),
        "channel.verify",
        id.as_str(),
        "",
    )
    .await?;
    tx.commit().await?;
    state.jobs_wakeup.notify_one();
    state.webhooks_wakeup.notify_one();
    channel_by_id(state, partner, id).await
}

/// Check a code the provider sent to a number that waits for one in `expected` (verification
/// or migration): the number must not be locked, the code must be six digits and right. Wrong
/// codes count; `MAX_WRONG_CODES` of them lock the number for `CODE_LOCK_MS`.
pub(crate) async fn check_code(
    state: &AppState,
    partner: &Partner,
    channel: &ChannelView,
    expected: ChannelStatus,
    code: &str,
) -> Result<(), AppError> {
    let id = &channel.id;
    let now = state.now_ms();
    if let Some(until) = channel.locked_until_ms {
        if until > now {
            let secs = u64::try_from((until - now + 999) / 1000).unwrap_or(1);
            return Err(AppError::RateLimited {
                retry_after_secs: secs,
            });
        }
        {
            let mut tx = state.db.begin_write().await?;
            store::channels::reset_attempts(&mut *tx, &partner.id, id).await?;
            tx.commit().await?;
        }
    }
    if channel.status != expected {
        return Err(AppError::Unprocessable(format!(
            "The number is {}; a code is accepted only while it is {}.",
            channel.status.as_str(),
            expected.as_str()
        )));
    }
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::Validation(vec![FieldError::new(
            "code",
            "must be the 6-digit code sent to the number",
        )]));
    }
    let number_id = channel.external_id.clone().unwrap_or_default();
    let check = state
        .whatsapp
        .verify_code(&number_id, code)
        .await
        .map_err(provider_error)?;
    if check == CodeCheck::Verified {
        return Ok(());
    }
    let mut tx = state.db.begin_write().await?;
    let attempts = store::channels::record_wrong_code(
        &mut tx,
        &partner.id,
        id,
        MAX_WRONG_CODES,
        now + CODE_LOCK_MS,
        now,
    )
    .await?;
    tx.commit().await?;
    if attempts >= MAX_WRONG_CODES {
        return Err(AppError::RateLimited {
            retry_after_secs: u64::try_from(CODE_LOCK_MS / 1000).unwrap_or(3600),
        });
    }
    Err(AppError::Validation(vec![FieldError::new(
        "code",
        format!(
            "is not the code sent to the number ({} of {MAX_WRONG_CODES} attempts left)",
            MAX_WRONG_CODES - attempts
        ),
    )]))
}

async fn channel_by_id(
    state: &AppState,
    partner: &Partner,
    id: &ChannelId,
) -> Result<ChannelView, AppError> {
    channel(state, partner, id).await
}

pub(crate) fn provider_error(err: crate::providers::whatsapp::ProviderError) -> AppError {
    match err {
        crate::providers::whatsapp::ProviderError::Rejected(why) => {
            AppError::Unprocessable(format!("The WhatsApp provider refused: {why}"))
        }
        crate::providers::whatsapp::ProviderError::Unavailable(why) => {
            tracing::warn!(error = %why, "WhatsApp provider unavailable");
            AppError::Unavailable
        }
    }
}

/// The first millisecond of the next calendar month (UTC): when requested cancellations happen.
pub fn next_month_start_ms(now_ms: i64) -> i64 {
    let Ok(now) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_ms) * 1_000_000)
    else {
        return now_ms;
    };
    let (year, month) = if now.month() == time::Month::December {
        (now.year() + 1, time::Month::January)
    } else {
        (now.year(), now.month().next())
    };
    time::Date::from_calendar_date(year, month, 1)
        .map(|d| d.midnight().assume_utc().unix_timestamp() * 1000)
        .unwrap_or(now_ms)
}

/// Ask to cancel a running number at the end of the month (`enabled`), or withdraw the request.
pub async fn set_cancellation(
    state: &AppState,
    partner: &Partner,
    client_id: &ClientId,
    id: &ChannelId,
    enabled: bool,
    actor: &Actor,
) -> Result<ChannelView, AppError> {
    let channel = client_channel(state, partner, client_id, id).await?;
    let (from, to, reason) = if enabled {
        (
            ChannelStatus::Running,
            ChannelStatus::PendingDeletion,
            "cancellation requested",
        )
    } else {
        (
            ChannelStatus::PendingDeletion,
            ChannelStatus::Running,
            "cancellation withdrawn",
        )
    };
    if channel.status != from {
        return Err(AppError::Unprocessable(if enabled {
            format!(
                "Only running numbers can be cancelled; this one is {}.",
                channel.status.as_str()
            )
        } else {
            format!(
                "There is no pending cancellation to withdraw; the number is {}.",
                channel.status.as_str()
            )
        }));
    }
    let now = state.now_ms();
    let mut tx = state.db.begin_write().await?;
    if !events::transition(&mut tx, state, &partner.id, id, from, to, reason, now).await? {
        return Err(AppError::Conflict(
            "the number changed status meanwhile; reload and try again".into(),
        ));
    }
    if enabled {
        let job = tasks::ProcessCancellation {
            partner_id: partner.id.clone(),
            channel_id: id.clone(),
        };
        tasks::enqueue(&mut tx, &job, &Schedule::at(next_month_start_ms(now)), now).await?;
    }
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(&partner.id),
        if enabled {
            "channel.cancel"
        } else {
            "channel.cancel_withdraw"
        },
        id.as_str(),
        "",
    )
    .await?;
    tx.commit().await?;
    state.webhooks_wakeup.notify_one();
    channel_by_id(state, partner, id).await
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
    };
    Ok(store::channels::list(&state.db, &partner.id, &query, None)
        .await?
        .0)
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
