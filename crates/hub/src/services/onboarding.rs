//! Integrated Onboarding: a partner's client signs up (or logs in), adds and verifies numbers
//! or picks existing ones, shares them with the partner, and is sent back to the partner. The
//! pages in `http::onboarding` call these functions; the rules (which redirect, who may add
//! numbers, what sharing means) live here and in `domain::onboarding`, never in handlers.
//!
//! Who the visitor is comes only from the session and `client_users` rows of *this* partner:
//! a person who is a client of partner A sees nothing of A on partner B's pages.

use crate::error::AppError;
use crate::services::audit::ClientMeta;
use crate::services::audit::{self, Actor};
use crate::services::auth::{self, Login};
use crate::services::{accounts, profile};
use crate::state::AppState;
use domain::listing::{FilterValue, ListQuery, SortKey};
use domain::onboarding::{client_may_add_numbers, redirect_base, redirect_with_result};
use domain::{
    ChannelId, ChannelStatus, ClientId, Email, FieldError, NewPassword, PartnerId,
    PartnerPermission, PaymentModel, PersonName, PhoneNumber, TokenHash, partner_permission,
};
use store::channels::ChannelView;
use store::clients::{Client, ContactInfo, ContactUser, MetaInfo};
use store::partners::{Partner, PartnerSettings};
use store::users::User;

/// A client created this long before its log-in session began still counts as created in that
/// session (the sign-up creates the client a moment before it opens the session).
const NEW_CLIENT_SLACK_MS: i64 = 60_000;

/// The partner behind `/dashboard/app/{partner_id}`, as its clients may see it.
#[derive(Clone, Debug)]
pub struct PublicPartner {
    pub partner: Partner,
    pub settings: PartnerSettings,
    pub brand_name: String,
    pub logo_src: Option<String>,
}

impl PublicPartner {
    pub fn is_suspended(&self) -> bool {
        self.partner.status != "active"
    }

    /// Whether the partner pays for its clients' numbers (then they are shared by default).
    pub fn is_partner_payment(&self) -> bool {
        self.partner.payment_model == PaymentModel::PartnerPayment
    }
}

/// The partner named in a public URL; a malformed or unknown id is "not found".
pub async fn public_partner(state: &AppState, raw_id: &str) -> Result<PublicPartner, AppError> {
    let id = PartnerId::parse(raw_id).map_err(|_| AppError::NotFound)?;
    let pool = state.db.pool();
    let partner = store::partners::get(pool, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    let settings = store::partners::settings(pool, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(PublicPartner {
        brand_name: settings
            .brand_name
            .clone()
            .unwrap_or_else(|| partner.name.clone()),
        logo_src: settings
            .logo_hash
            .as_deref()
            .map(|hash| profile::logo_path(&id, hash)),
        partner,
        settings,
    })
}

/// What a new client typed into the sign-up form.
#[derive(Clone, Debug, Default)]
pub struct SignupInput {
    pub name: String,
    pub email: String,
    pub password: String,
    pub company: String,
}

#[derive(Debug)]
pub enum SignupOutcome {
    /// The person, their client and the link exist, and a session is open.
    Created { login: Login, client: ClientId },
    /// Someone already uses this email. The page must not say so outright (it asks to log in).
    EmailTaken,
}

/// Sign a new client up: a user (argon2id password), a client of this partner named after the
/// company (contact email, the partner's payload), the link between them, and a session — the
/// first three in one transaction, which also queues `client_created`.
pub async fn sign_up(
    state: &AppState,
    public: &PublicPartner,
    input: &SignupInput,
    partner_payload: Option<&str>,
    meta: &ClientMeta,
) -> Result<SignupOutcome, AppError> {
    let mut errors = Vec::new();
    let name = PersonName::parse(&input.name)
        .map_err(|e| errors.push(e))
        .ok();
    let email = Email::parse(&input.email)
        .map_err(|e| errors.push(FieldError::new("email", e.message)))
        .ok();
    let password = NewPassword::parse(&input.password, &input.password)
        .map_err(|e| errors.push(e))
        .ok();
    let request = accounts::ClientRequest::parse(
        &input.company,
        Some(input.company.clone()),
        None,
        partner_payload.map(str::to_owned),
        ContactInfo {
            email: email.as_ref().map(ToString::to_string),
            full_name: name.as_ref().map(|n| n.as_str().to_owned()),
            ..ContactInfo::default()
        },
        ContactUser {
            name: name.as_ref().map(|n| n.as_str().to_owned()),
            email: email.as_ref().map(ToString::to_string),
            phone: None,
        },
        MetaInfo::default(),
    )
    .map_err(|more| {
        errors.extend(more.into_iter().map(|mut e| {
            if matches!(e.field, "name" | "organisation") {
                e.field = "company";
            }
            e
        }));
    })
    .ok();
    let (Some(name), Some(email), Some(password), Some(request), true) =
        (name, email, password, request, errors.is_empty())
    else {
        return Err(AppError::Validation(errors));
    };
    let now = state.now_ms();
    let ip_key = format!("signup:{}", meta.ip);
    if let Ok(throttle) = state.login_throttle.signups_per_ip.lock()
        && let Err(wait) = throttle.check(&ip_key, now)
    {
        return Err(AppError::RateLimited {
            retry_after_secs: wait.seconds,
        });
    }
    // Hashed before we know whether the email is taken, so both answers take the same time.
    let hash = crate::passwords::hash(password.expose()).await?;
    let mut tx = state.db.begin_write().await?;
    let Some(user) =
        store::users::create_with_password(&mut tx, &email, name.as_str(), &hash, now).await?
    else {
        tx.rollback().await?;
        return Ok(SignupOutcome::EmailTaken);
    };
    let actor = Actor::User {
        id: user.id.to_string(),
        ip: meta.ip.clone(),
    };
    let client =
        accounts::create_client_in(&mut tx, state, &public.partner, &request, &actor).await?;
    store::client_users::add(&mut *tx, &public.partner.id, &client, &user.id, now).await?;
    audit::record(
        &mut *tx,
        state,
        &actor,
        Some(&public.partner.id),
        "onboarding.sign_up",
        client.as_str(),
        email.as_str(),
    )
    .await?;
    tx.commit().await?;
    if let Ok(mut throttle) = state.login_throttle.signups_per_ip.lock() {
        throttle.record_failure(&ip_key, now);
    }
    state.webhooks_wakeup.notify_one();
    let login = auth::open_user_session(state, &user.id, meta).await?;
    {
        let mut tx = state.db.begin_write().await?;
        store::users::record_login(&mut *tx, &user.id, state.now_ms()).await?;
        tx.commit().await?;
    }
    Ok(SignupOutcome::Created { login, client })
}

/// A person who is logged in but holds no client of this partner opens one (named after their
/// company), e.g. a client of another partner connecting to this one.
pub async fn add_client_for_user(
    state: &AppState,
    public: &PublicPartner,
    user: &User,
    company: &str,
    partner_payload: Option<&str>,
    meta: &ClientMeta,
) -> Result<ClientId, AppError> {
    let request = accounts::ClientRequest::parse(
        company,
        Some(company.to_owned()),
        None,
        partner_payload.map(str::to_owned),
        ContactInfo {
            email: Some(user.email.to_string()),
            full_name: Some(user.name.clone()),
            ..ContactInfo::default()
        },
        ContactUser {
            name: Some(user.name.clone()),
            email: Some(user.email.to_string()),
            phone: None,
        },
        MetaInfo::default(),
    )
    .map_err(|errors| {
        AppError::Validation(
            errors
                .into_iter()
                .map(|mut e| {
                    if matches!(e.field, "name" | "organisation") {
                        e.field = "company";
                    }
                    e
                })
                .collect(),
        )
    })?;
    let actor = Actor::User {
        id: user.id.to_string(),
        ip: meta.ip.clone(),
    };
    let mut tx = state.db.begin_write().await?;
    let client =
        accounts::create_client_in(&mut tx, state, &public.partner, &request, &actor).await?;
    store::client_users::add(
        &mut *tx,
        &public.partner.id,
        &client,
        &user.id,
        state.now_ms(),
    )
    .await?;
    tx.commit().await?;
    state.webhooks_wakeup.notify_one();
    Ok(client)
}

/// Log in with the same check and throttles as `/login`.
pub async fn log_in(
    state: &AppState,
    email: &str,
    password: &str,
    meta: &ClientMeta,
) -> Result<Login, auth::LoginError> {
    auth::login_user(state, email, password, meta).await
}

/// A logged-in client user on this partner's onboarding pages.
#[derive(Clone, Debug)]
pub struct ClientVisit {
    pub public: PublicPartner,
    pub user: User,
    pub client: Client,
    /// The client was created during this log-in session (a sign-up happening now).
    pub new_signup: bool,
    /// How many clients of this partner the person acts for.
    pub client_count: usize,
}

impl ClientVisit {
    /// Item 8 of the spec: see `domain::onboarding::client_may_add_numbers`.
    pub fn may_add_numbers(&self) -> bool {
        client_may_add_numbers(
            self.public.partner.payment_model,
            self.public.settings.allows_clients_to_add_numbers(),
            self.new_signup,
        )
    }

    pub fn actor(&self, meta: &ClientMeta) -> Actor {
        Actor::User {
            id: self.user.id.to_string(),
            ip: meta.ip.clone(),
        }
    }
}

/// Who is looking at the onboarding pages of `public`.
#[derive(Clone, Debug)]
pub enum Visitor {
    /// Nobody is logged in.
    Anonymous,
    /// Logged in, but the person acts for no client of this partner.
    NoClientHere(User),
    /// Acting for a client of this partner.
    Client(Box<ClientVisit>),
}

/// The visitor, from the session. `wanted` picks one of the person's clients of this partner
/// (the carried `client_id`); anything else falls back to their first client here.
pub async fn visitor(
    state: &AppState,
    public: &PublicPartner,
    user: Option<(User, TokenHash)>,
    wanted: Option<&str>,
) -> Result<Visitor, AppError> {
    let Some((user, session)) = user else {
        return Ok(Visitor::Anonymous);
    };
    let pool = state.db.pool();
    let clients =
        store::client_users::of_user_for_partner(pool, &public.partner.id, &user.id).await?;
    let wanted = wanted.and_then(|w| ClientId::parse(w).ok());
    let Some(chosen) = wanted
        .filter(|w| clients.contains(w))
        .or_else(|| clients.first().cloned())
    else {
        return Ok(Visitor::NoClientHere(user));
    };
    let client = accounts::client(state, &public.partner, &chosen).await?;
    let session_started = store::sessions::created_ms(pool, &session).await?;
    let new_signup =
        session_started.is_some_and(|started| client.created_ms + NEW_CLIENT_SLACK_MS >= started);
    Ok(Visitor::Client(Box::new(ClientVisit {
        public: public.clone(),
        user,
        client,
        new_signup,
        client_count: clients.len(),
    })))
}

/// Every number of the visit's client that is not cancelled, oldest first.
pub async fn numbers(state: &AppState, visit: &ClientVisit) -> Result<Vec<ChannelView>, AppError> {
    let query = ListQuery {
        limit: domain::listing::MAX_LIMIT,
        offset: 0,
        sort: vec![SortKey {
            field: "created_at",
            descending: false,
        }],
        filters: vec![("client_id", FilterValue::Text(visit.client.id.to_string()))],
        ..Default::default()
    };
    Ok(
        store::channels::list(&state.db, &visit.public.partner.id, &query, None)
            .await?
            .0
            .into_iter()
            .filter(|c| c.status != ChannelStatus::Cancelled)
            .collect(),
    )
}

/// The neutral answer when a requested number is not the visitor's: it never says whose it is.
pub const NOT_YOUR_NUMBER: &str = "This number is not one of the numbers you can manage here. Check the number, or log in with the account that holds it.";

/// For `?number=…`: the visitor's own number with that phone (looking through each of their
/// clients of this partner), and the visit switched to the client that holds it.
pub async fn requested_number(
    state: &AppState,
    visit: &ClientVisit,
    raw: &str,
) -> Result<(ClientVisit, ChannelView), AppError> {
    let phone = PhoneNumber::parse(raw).map_err(|_| AppError::Forbidden(NOT_YOUR_NUMBER.into()))?;
    let clients = store::client_users::of_user_for_partner(
        state.db.pool(),
        &visit.public.partner.id,
        &visit.user.id,
    )
    .await?;
    for id in clients {
        let mut candidate = visit.clone();
        candidate.client = accounts::client(state, &visit.public.partner, &id).await?;
        if let Some(found) = numbers(state, &candidate)
            .await?
            .into_iter()
            .find(|c| c.phone_number == phone.as_str())
        {
            return Ok((candidate, found));
        }
    }
    Err(AppError::Forbidden(NOT_YOUR_NUMBER.into()))
}

/// Why an existing client cannot add numbers here (shown with the list of their numbers).
pub fn add_refused_message(public: &PublicPartner) -> String {
    format!(
        "{} does not let existing clients add new numbers here. Pick one of your numbers below, or ask {} to add the number for you.",
        public.brand_name, public.brand_name
    )
}

/// Add a number (and the client's first WABA when it has none). Refused for existing clients
/// when the partner turned "Allow clients to add phone number" off.
pub async fn add_number(
    state: &AppState,
    visit: &ClientVisit,
    request: &accounts::NumberRequest,
    meta: &ClientMeta,
) -> Result<ChannelView, AppError> {
    if !visit.may_add_numbers() {
        return Err(AppError::Forbidden(add_refused_message(&visit.public)));
    }
    accounts::add_number(
        state,
        &visit.public.partner,
        &visit.client.id,
        request,
        &visit.actor(meta),
    )
    .await
}

/// Check a number's verification code (wrong codes count, as everywhere).
pub async fn verify_number(
    state: &AppState,
    visit: &ClientVisit,
    channel: &ChannelId,
    code: &str,
    meta: &ClientMeta,
) -> Result<ChannelView, AppError> {
    accounts::verify_number(
        state,
        &visit.public.partner,
        &visit.client.id,
        channel,
        code,
        &visit.actor(meta),
    )
    .await
}

/// What sharing changed: the numbers the partner may use now, and those just taken back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShareOutcome {
    pub channels: Vec<ChannelId>,
    pub revoked: Vec<ChannelId>,
}

/// Share the `chosen` numbers with the partner and un-share the others among `offered` (all the
/// client's numbers, or the one number a permission request is about). Partner-Payment numbers
/// stay shared whatever is chosen (the partner pays for them); Direct-Payment clients must
/// choose at least one. Takes effect at once, in one transaction.
pub async fn share(
    state: &AppState,
    visit: &ClientVisit,
    offered: &[ChannelView],
    chosen: &[String],
    meta: &ClientMeta,
) -> Result<ShareOutcome, AppError> {
    let mut granted = Vec::new();
    for raw in chosen {
        let found = offered.iter().find(|c| c.id.as_str() == raw.as_str());
        let Some(channel) = found else {
            return Err(AppError::Validation(vec![FieldError::new(
                "channels",
                "lists a number that is not offered here; reload the page and choose again",
            )]));
        };
        granted.push(channel.id.clone());
    }
    let model = visit.public.partner.payment_model;
    if model == PaymentModel::DirectPayment && granted.is_empty() {
        return Err(AppError::Validation(vec![FieldError::new(
            "channels",
            format!(
                "choose at least one number to share with {}",
                visit.public.brand_name
            ),
        )]));
    }
    let partner = &visit.public.partner.id;
    let now = state.now_ms();
    let actor = visit.actor(meta);
    let mut outcome = ShareOutcome::default();
    let mut tx = state.db.begin_write().await?;
    for channel in offered {
        let permission = partner_permission(model, granted.contains(&channel.id));
        let was_shared = channel.partner_permission == PartnerPermission::Shared.as_str();
        if permission.as_str() != channel.partner_permission {
            store::channels::set_permission(
                &mut *tx,
                partner,
                &visit.client.id,
                &channel.id,
                permission,
                now,
            )
            .await?;
            // As in the Client Hub: a number no longer shared keeps no key the partner made.
            if permission == PartnerPermission::Missing {
                store::api_keys::revoke_channel_keys(&mut *tx, partner, &channel.id, now).await?;
            }
            audit::record(
                &mut *tx,
                state,
                &actor,
                Some(partner),
                "channel.permission",
                channel.id.as_str(),
                permission.as_str(),
            )
            .await?;
        }
        match permission {
            PartnerPermission::Shared => outcome.channels.push(channel.id.clone()),
            PartnerPermission::Missing if was_shared => outcome.revoked.push(channel.id.clone()),
            PartnerPermission::Missing => {}
        }
    }
    tx.commit().await?;
    for channel in offered {
        state.messaging_keys.forget_channel(&channel.id);
    }
    Ok(outcome)
}

/// Where the client goes at the end: the requested URL when it is safe (same origin as the
/// partner's Redirect URL; loopback too in development mode), else the partner's Redirect URL,
/// else nowhere (`None`: the page explains instead).
pub fn redirect_target(
    state: &AppState,
    public: &PublicPartner,
    requested: Option<&str>,
) -> Option<url::Url> {
    redirect_base(
        requested,
        public.settings.redirect_url.as_deref(),
        state.config.dev,
        Some(&state.config.public_url),
    )
}

/// The final URL with the result, in partner-api.md's shape.
pub fn finish_url(
    base: &url::Url,
    client: &ClientId,
    outcome: &ShareOutcome,
    state_param: Option<&str>,
) -> String {
    redirect_with_result(
        base,
        client,
        &outcome.channels,
        &outcome.revoked,
        state_param,
    )
}
