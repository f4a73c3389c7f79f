//! A number's page and its actions: verify, keys, cancellation, sandbox alerts.

use super::*;

pub(super) struct Fact {
    label: &'static str,
    value: String,
    code: bool,
    href: Option<String>,
}

pub(super) fn fact(label: &'static str, value: impl Into<String>) -> Fact {
    let value = value.into();
    Fact {
        label,
        value: if value.trim().is_empty() {
            "—".to_owned()
        } else {
            value
        },
        code: false,
        href: None,
    }
}

pub(super) fn code_fact(label: &'static str, value: Option<&str>) -> Fact {
    match value.filter(|v| !v.is_empty()) {
        Some(v) => Fact {
            label,
            value: v.to_owned(),
            code: true,
            href: None,
        },
        None => fact(label, ""),
    }
}

pub(super) struct TimelineEntry {
    label: &'static str,
    class: &'static str,
    from: Option<&'static str>,
    reason: String,
    at: String,
}

pub(super) struct KeyRow {
    prefix: String,
    created: String,
}

/// What a POST on the details page brings back to show: a new key, an inline problem, or what
/// was typed into the verification form.
#[derive(Default)]
pub(super) struct Outcome {
    new_key: Option<String>,
    code: String,
    verify_error: Option<String>,
    keys_error: Option<String>,
    cancel_error: Option<String>,
    inbound_error: Option<String>,
    inbound_from: String,
}

/// A template of the number's WABA, as the number's page lists it.
pub(super) struct TemplateRow {
    name: String,
    language: String,
    category: &'static str,
    status: String,
    reason: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "partner/number.html")]
pub(super) struct NumberPage {
    chrome: Chrome,
    shell: Shell,
    base: String,
    accounts_href: String,
    number: String,
    display_name: String,
    status: &'static str,
    status_class: &'static str,
    owes: Option<&'static str>,
    number_facts: Vec<Fact>,
    client_facts: Vec<Fact>,
    waba_facts: Vec<Fact>,
    timeline: Vec<TimelineEntry>,
    keys: Vec<KeyRow>,
    new_key: Option<String>,
    /// Why no key can be generated now, when that is so.
    key_blocker: Option<String>,
    messaging_url: String,
    pending_verification: bool,
    /// The provider is moving the number on by itself; the page reloads to show the next step.
    in_progress: bool,
    code: String,
    verify_error: Option<String>,
    sandbox_hint: bool,
    attempts_left: i64,
    locked_until: Option<String>,
    running: bool,
    pending_deletion: bool,
    cancels_on: String,
    cancel_error: Option<String>,
    keys_error: Option<String>,
    templates: Vec<TemplateRow>,
    templates_total: i64,
    /// Development mode with the sandbox: customer messages can be simulated.
    simulates_inbound: bool,
    inbound_error: Option<String>,
    inbound_from: String,
}

pub(super) async fn number_page(
    state: &AppState,
    ctx: &PartnerCtx,
    id: &ChannelId,
    flash: Option<String>,
    outcome: Outcome,
) -> Result<NumberPage, AppError> {
    let partner = &ctx.partner;
    let c = accounts::channel(state, partner, id).await?;
    let client = accounts::client(state, partner, &c.client_id).await?;
    let history = store::channels::history(state.db.pool(), &partner.id, id).await?;
    let keys = api_keys::channel_keys(state, partner, id).await?;
    let (templates, templates_total, _) = crate::services::messaging::templates::list(
        state,
        &partner.id,
        &c.waba_id,
        &store::templates::TemplateFilter::default(),
        &store::select::Page {
            limit: TEMPLATES_SHOWN,
            offset: 0,
            after: None,
            oldest_first: false,
        },
    )
    .await?;
    let now = state.now_ms();
    let shared = c.partner_permission == PartnerPermission::Shared.as_str();
    let key_blocker = if !shared {
        Some("The client has not shared this number with you yet, so you cannot create its API key. The client grants permission in the onboarding flow or the Client Hub.".to_owned())
    } else if c.status != ChannelStatus::Running {
        Some(format!(
            "API keys can be created once the number is running; it is {} now.",
            c.status.label().to_lowercase()
        ))
    } else {
        None
    };
    let method = VerificationMethod::parse(&c.verification_method)
        .map_or_else(|_| c.verification_method.clone(), |m| m.label().to_owned());
    let mut number_facts = vec![
        fact("Phone number", display_number(&c.phone_number)),
        fact("Display name", c.phone_name.clone()),
        fact("Status", c.status.label()),
        fact("Quality rating", quality_label(&c.quality_rating)),
        fact("Messaging limit", limit_label(c.current_limit.as_deref())),
        fact("Hosting type", hosting_label(&c.hosting_type)),
        fact(
            "Storage region",
            region_label(c.data_storage_region.as_deref()),
        ),
        fact(
            "API-key permission",
            permission_label(&c.partner_permission),
        ),
        fact("Verification by", method),
        code_fact("Channel ID", Some(c.id.as_str())),
        code_fact("Phone number ID (Meta)", c.external_id.as_deref()),
        fact("Account mode", c.account_mode.clone()),
        fact("Created", format_ms(c.created_ms)),
        fact("Modified", format_ms(c.modified_ms)),
    ];
    if let Some(ms) = c.billing_started_ms {
        number_facts.push(fact("Billing started", format_ms(ms)));
    }
    if let Some(ms) = c.cancellation_requested_ms {
        number_facts.push(fact("Cancellation requested", format_ms(ms)));
    }
    if let Some(ms) = c.cancelled_ms {
        number_facts.push(fact("Cancelled", format_ms(ms)));
    }
    let info = &client.contact_info;
    let email = match info.email.as_deref() {
        Some(email) => Fact {
            href: Some(format!("mailto:{email}")),
            ..fact("Contact email", email)
        },
        None => fact("Contact email", ""),
    };
    let client_facts = vec![
        fact("Name", client.name.clone()),
        fact(
            "Organisation",
            client.organisation.clone().unwrap_or_default(),
        ),
        email,
        fact("Contact name", info.full_name.clone().unwrap_or_default()),
        fact("Contact phone", info.phone.clone().unwrap_or_default()),
        fact("Country", info.country.clone().unwrap_or_default()),
        fact(
            "Timezone",
            client.meta_info.timezone.clone().unwrap_or_default(),
        ),
        code_fact("Client ID", Some(client.id.as_str())),
        fact("Max numbers", client.max_channels.to_string()),
        code_fact("Partner payload", client.partner_payload.as_deref()),
    ];
    let waba_facts = vec![
        code_fact("WABA ID", Some(c.waba_id.as_str())),
        code_fact("External ID (Meta)", c.waba_external_id.as_deref()),
        fact("Name", c.waba_name.clone()),
        code_fact("Namespace", c.waba_namespace.as_deref()),
        fact(
            "Business verification",
            fb_status_label(&c.waba_fb_account_status),
        ),
        fact("Business", c.waba_business_name.clone().unwrap_or_default()),
        fact(
            "Message on behalf status",
            c.waba_business_status.clone().unwrap_or_default(),
        ),
    ];
    let timeline = history
        .iter()
        .rev()
        .map(|h| {
            let to = ChannelStatus::parse(&h.to_status).ok();
            TimelineEntry {
                label: to.map_or("Unknown", ChannelStatus::label),
                class: to.map_or("", status_class),
                from: h
                    .from_status
                    .as_deref()
                    .and_then(|f| ChannelStatus::parse(f).ok())
                    .map(ChannelStatus::label),
                reason: h.reason.clone(),
                at: format_ms(h.created_ms),
            }
        })
        .collect();
    let locked_until = c
        .locked_until_ms
        .filter(|until| *until > now)
        .map(format_ms);
    Ok(NumberPage {
        chrome: Chrome::new(state, flash),
        shell: Shell::new(ctx, "accounts"),
        base: number_path(partner, id),
        accounts_href: accounts_path(partner),
        number: display_number(&c.phone_number),
        display_name: c.phone_name.clone(),
        status: c.status.label(),
        status_class: status_class(c.status),
        owes: client_owes(&c),
        number_facts,
        client_facts,
        waba_facts,
        timeline,
        keys: keys
            .iter()
            .map(|k| KeyRow {
                prefix: k.prefix.clone(),
                created: format_ms(k.created_ms),
            })
            .collect(),
        new_key: outcome.new_key,
        key_blocker,
        messaging_url: state.config.link(""),
        pending_verification: c.status == ChannelStatus::PendingVerification,
        in_progress: matches!(
            c.status,
            ChannelStatus::Created | ChannelStatus::Verified | ChannelStatus::Ready
        ),
        code: outcome.code,
        verify_error: outcome.verify_error,
        sandbox_hint: state.config.dev && state.whatsapp.shows_codes(),
        attempts_left: (accounts::MAX_WRONG_CODES - c.verification_attempts).max(0),
        locked_until,
        running: c.status == ChannelStatus::Running,
        pending_deletion: c.status == ChannelStatus::PendingDeletion,
        cancels_on: format_ms(domain::calendar::next_month_start_ms(now)),
        cancel_error: outcome.cancel_error,
        keys_error: outcome.keys_error,
        templates: templates
            .into_iter()
            .map(|t| TemplateRow {
                name: t.name,
                language: t.language,
                category: t.category.meta_name(),
                status: t.status,
                reason: t.rejected_reason,
            })
            .collect(),
        templates_total,
        simulates_inbound: state.config.dev && state.whatsapp.simulates(),
        inbound_error: outcome.inbound_error,
        inbound_from: outcome.inbound_from,
    })
}

/// Problems a person can act on are shown on the page next to the form they used; anything
/// else (not found, our own failures) stays an error page.
pub(super) fn inline_message(
    err: AppError,
    subject: &str,
) -> Result<(StatusCode, String), AppError> {
    let status = err.status();
    let message = match err {
        AppError::Validation(errors) => errors
            .iter()
            .map(|e| format!("{subject} {}.", e.message))
            .collect::<Vec<_>>()
            .join(" "),
        AppError::RateLimited { retry_after_secs } if retry_after_secs > 120 => format!(
            "Too many attempts. Try again in about {} minutes.",
            retry_after_secs.div_ceil(60)
        ),
        err @ (AppError::Unprocessable(_)
        | AppError::Forbidden(_)
        | AppError::RateLimited { .. }
        | AppError::Conflict(_)
        | AppError::Unavailable
        | AppError::StorageFull) => err.public_message(),
        other => return Err(other),
    };
    Ok((status, message))
}

pub(super) async fn render_outcome(
    state: &AppState,
    ctx: &PartnerCtx,
    id: &ChannelId,
    status: StatusCode,
    outcome: Outcome,
) -> Result<Response, AppError> {
    let mut response = number_page(state, ctx, id, None, outcome)
        .await?
        .into_response();
    *response.status_mut() = status;
    Ok(response)
}

pub(super) fn redirect_with_flash(
    state: &AppState,
    jar: CookieJar,
    to: &str,
    message: &str,
) -> Response {
    let jar = session::set_flash(jar, &state.config, message);
    (jar, Redirect::to(to)).into_response()
}

pub async fn details(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    Ids((_, id)): Ids<(PartnerId, ChannelId)>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (jar, flash) = session::take_flash(jar, &state.config);
    let page = number_page(&state, &ctx, &id, flash, Outcome::default()).await?;
    Ok((jar, page).into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

pub async fn verify(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    jar: CookieJar,
    Ids((_, id)): Ids<(PartnerId, ChannelId)>,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    let channel = accounts::channel(&state, &ctx.partner, &id).await?;
    let verified = accounts::verify_number(
        &state,
        &ctx.partner,
        &channel.client_id,
        &id,
        &form.code,
        &ctx.actor(),
    )
    .await;
    match verified {
        Ok(_) => Ok(redirect_with_flash(
            &state,
            jar,
            &number_path(&ctx.partner, &id),
            "Code accepted. The number is being registered with WhatsApp and will be running shortly.",
        )),
        Err(err) => {
            let (status, message) = inline_message(err, "This code")?;
            let outcome = Outcome {
                code: form.code.trim().chars().take(12).collect(),
                verify_error: Some(message),
                ..Outcome::default()
            };
            render_outcome(&state, &ctx, &id, status, outcome).await
        }
    }
}

/// Generate a channel API key. The key is shown in this response (not after a redirect): it
/// exists in plain text only here, and `Cache-Control: no-store` keeps it out of caches.
pub async fn create_key(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    Ids((_, id)): Ids<(PartnerId, ChannelId)>,
) -> Result<Response, AppError> {
    match api_keys::create_channel_key(&state, &ctx.partner, &id, &ctx.actor()).await {
        Ok(created) => {
            let outcome = Outcome {
                new_key: Some(created.secret),
                ..Outcome::default()
            };
            render_outcome(&state, &ctx, &id, StatusCode::OK, outcome).await
        }
        Err(err) => {
            let (status, message) = inline_message(err, "The key")?;
            let outcome = Outcome {
                keys_error: Some(message),
                ..Outcome::default()
            };
            render_outcome(&state, &ctx, &id, status, outcome).await
        }
    }
}

pub async fn revoke_keys(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    jar: CookieJar,
    Ids((_, id)): Ids<(PartnerId, ChannelId)>,
) -> Result<Response, AppError> {
    let revoked = api_keys::revoke_channel_keys(&state, &ctx.partner, &id, &ctx.actor()).await?;
    let message = match revoked {
        0 => "There was no active API key to revoke.".to_owned(),
        1 => "The API key was revoked. Messaging API calls with it now fail.".to_owned(),
        n => format!("{n} API keys were revoked. Messaging API calls with them now fail."),
    };
    Ok(redirect_with_flash(
        &state,
        jar,
        &number_path(&ctx.partner, &id),
        &message,
    ))
}

pub(super) async fn cancellation(
    ctx: PartnerCtx,
    state: AppState,
    jar: CookieJar,
    id: ChannelId,
    enabled: bool,
) -> Result<Response, AppError> {
    let channel = accounts::channel(&state, &ctx.partner, &id).await?;
    let changed = accounts::set_cancellation(
        &state,
        &ctx.partner,
        &channel.client_id,
        &id,
        enabled,
        &ctx.actor(),
    )
    .await;
    match changed {
        Ok(_) => {
            let number = display_number(&channel.phone_number);
            let message = if enabled {
                format!(
                    "Cancellation requested. {number} keeps working until {}, then it is cancelled and billing stops.",
                    format_ms(domain::calendar::next_month_start_ms(state.now_ms()))
                )
            } else {
                format!("Cancellation withdrawn. {number} keeps running.")
            };
            Ok(redirect_with_flash(
                &state,
                jar,
                &number_path(&ctx.partner, &id),
                &message,
            ))
        }
        Err(err) => {
            let (status, message) = inline_message(err, "The request")?;
            let outcome = Outcome {
                cancel_error: Some(message),
                ..Outcome::default()
            };
            render_outcome(&state, &ctx, &id, status, outcome).await
        }
    }
}

pub async fn cancel(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    jar: CookieJar,
    Ids((_, id)): Ids<(PartnerId, ChannelId)>,
) -> Result<Response, AppError> {
    cancellation(ctx, state, jar, id, true).await
}

pub async fn withdraw_cancellation(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    jar: CookieJar,
    Ids((_, id)): Ids<(PartnerId, ChannelId)>,
) -> Result<Response, AppError> {
    cancellation(ctx, state, jar, id, false).await
}

#[derive(Debug, serde::Deserialize)]
pub struct SandboxInboundForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    text: String,
}

/// Development mode: a customer writes to this number (the sandbox's inbound message), which
/// opens a 24-hour customer service window for them.
pub async fn sandbox_inbound(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    jar: CookieJar,
    Ids((_, id)): Ids<(PartnerId, ChannelId)>,
    Form(form): Form<SandboxInboundForm>,
) -> Result<Response, AppError> {
    if !state.config.dev || !state.whatsapp.simulates() {
        return Err(AppError::NotFound);
    }
    accounts::channel(&state, &ctx.partner, &id).await?;
    let from = match domain::message::WaId::parse(&form.from, "from") {
        Ok(from) => from,
        Err(e) => {
            let outcome = Outcome {
                inbound_error: Some(format!("The customer's number {}.", e.message)),
                inbound_from: form.from,
                ..Outcome::default()
            };
            return render_outcome(&state, &ctx, &id, StatusCode::UNPROCESSABLE_ENTITY, outcome)
                .await;
        }
    };
    let text = if form.text.trim().is_empty() {
        "Hello"
    } else {
        form.text.trim()
    };
    let expires = crate::services::messaging::templates::simulate_inbound(
        &state,
        &ctx.partner.id,
        &id,
        &from,
        text,
    )
    .await?;
    Ok(redirect_with_flash(
        &state,
        jar,
        &number_path(&ctx.partner, &id),
        &format!(
            "+{} wrote to this number: replies to them are free until {}.",
            from.as_str(),
            format_ms(expires)
        ),
    ))
}

/// Templates listed on a number's page; the Partner API lists them all.
const TEMPLATES_SHOWN: i64 = 50;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct SandboxAlertForm {
    kind: String,
}

/// Development mode: make the sandbox raise `account_violation` or `account_restriction` for
/// this number's account, as Meta would.
pub async fn sandbox_alert(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    jar: CookieJar,
    Ids((_, id)): Ids<(PartnerId, ChannelId)>,
    Form(form): Form<SandboxAlertForm>,
) -> Result<Response, AppError> {
    if !state.config.dev || state.whatsapp.name() != "sandbox" {
        return Err(AppError::NotFound);
    }
    let alert = match form.kind.as_str() {
        "violation" => crate::services::events::AccountAlert::Violation,
        "restriction" => crate::services::events::AccountAlert::Restriction,
        _ => {
            return Err(AppError::BadRequest(
                "Choose a violation or a restriction.".into(),
            ));
        }
    };
    if !crate::services::events::raise_account_alert(&state, &ctx.partner.id, &id, alert).await? {
        return Err(AppError::NotFound);
    }
    let jar = session::set_flash(
        jar,
        &state.config,
        match alert {
            crate::services::events::AccountAlert::Violation => {
                "The sandbox raised an account violation (event account_violation)."
            }
            crate::services::events::AccountAlert::Restriction => {
                "The sandbox raised an account restriction (event account_restriction)."
            }
        },
    );
    Ok((
        jar,
        Redirect::to(&format!("/partner/{}/accounts/{id}", ctx.partner.id)),
    )
        .into_response())
}
