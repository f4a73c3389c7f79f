//! The prepaid balance: billing accounts, postings to the ledger with the events they cause
//! (`balance_low` once below the warning level, `messaging_paused` at zero, `messaging_resumed`
//! when a credit lifts it), staff's switches and adjustments, and the ledger check.

use crate::clock::iso_ms;
use crate::error::AppError;
use crate::services::audit::{self, Actor};
use crate::services::events;
use crate::state::AppState;
use crate::state::rate_cache::RateCards;
use domain::ledger::EntryKind;
use domain::webhook_event::EventType;
use domain::{Currency, Micros, Money, PartnerId, PaymentModel};
use sqlx::AnyConnection;
use std::sync::Arc;
use store::StoreError;
use store::billing::{Account, Gate, Holder, NewEntry, Posted, Posting};
use store::notifications::{Audience, NewNotification};
use store::partners::Partner;

/// Which account pays for a number of this client.
pub fn payer(partner: &Partner, client: &domain::ClientId) -> Holder {
    match partner.payment_model {
        PaymentModel::PartnerPayment => Holder::Partner,
        PaymentModel::DirectPayment => Holder::Client(client.clone()),
    }
}

/// The Hub page where the balance is topped up.
pub fn topup_url(state: &AppState, partner: &PartnerId) -> String {
    let base = state.config.public_url.as_str().trim_end_matches('/');
    format!("{base}/partner/{partner}/billing")
}

fn holder_words(holder: &Holder) -> String {
    match holder {
        Holder::Partner => "Your prepaid balance".into(),
        Holder::Client(id) => format!("The prepaid balance of client {id}"),
    }
}

fn event_data(state: &AppState, account: &Account, balance: Micros) -> serde_json::Value {
    serde_json::json!({
        "partner_id": account.partner_id.as_str(),
        "account": match &account.holder {
            Holder::Partner => "partner".to_owned(),
            Holder::Client(id) => id.as_str().to_owned(),
        },
        "balance": balance,
        "currency": account.currency.as_str(),
        "topup_url": topup_url(state, &account.partner_id),
    })
}

/// Post an entry to a held account and raise what it crosses, in the caller's transaction (the
/// caller saves the account before committing). Credits re-arm the warning at 10 % of their
/// amount (until auto-renew sets a threshold).
pub async fn post_in(
    conn: &mut AnyConnection,
    state: &AppState,
    held: &mut Posting,
    entry: &NewEntry<'_>,
    gate: Gate,
) -> Result<Posted, StoreError> {
    let now = state.now_ms();
    let posted = held.post(conn, entry, gate, now).await?;
    let Posted::Applied {
        balance_before,
        balance_after,
        warning,
        ..
    } = posted
    else {
        return Ok(posted);
    };
    let credit = matches!(entry.kind, EntryKind::TopUp | EntryKind::Adjustment)
        && entry.amount.is_positive();
    if credit {
        let warning = entry.amount.scale_ppm(100_000).unwrap_or(Micros::ZERO);
        held.rearm_warning(conn, warning).await?;
    }
    if !held.account.billing_on {
        return Ok(posted);
    }
    let account = held.account.clone();
    let money = Money::new(balance_after, account.currency);
    let whose = holder_words(&account.holder);
    if balance_after.get() <= 0 && held.set_paused(conn, true).await? {
        let body = format!(
            "{whose} is {money}. Messages are refused until it is above 0; top up to resume."
        );
        announce(
            conn,
            state,
            &account,
            balance_after,
            EventType::MessagingPaused,
            "Messaging paused",
            &body,
        )
        .await?;
    } else if balance_after.is_positive() && held.set_paused(conn, false).await? {
        let body = format!("{whose} is {money} again. Messaging has resumed.");
        announce(
            conn,
            state,
            &account,
            balance_after,
            EventType::MessagingResumed,
            "Messaging resumed",
            &body,
        )
        .await?;
    }
    if !credit
        && balance_after < warning
        && balance_before >= warning
        && held.mark_low_warned(conn).await?
    {
        let body = format!(
            "{whose} is down to {money}. Top up before it reaches 0, when messaging stops."
        );
        announce(
            conn,
            state,
            &account,
            balance_after,
            EventType::BalanceLow,
            "Balance low",
            &body,
        )
        .await?;
    }
    Ok(posted)
}

/// A balance crossing as the partner learns of it: a webhook event and a notification for
/// everyone at the partner, linking to the Billing page.
async fn announce(
    conn: &mut AnyConnection,
    state: &AppState,
    account: &Account,
    balance: Micros,
    event: EventType,
    title: &str,
    body: &str,
) -> Result<(), StoreError> {
    let partner = &account.partner_id;
    events::emit(
        conn,
        state,
        partner,
        event,
        &event_data(state, account, balance),
    )
    .await?;
    let link = format!("/partner/{partner}/billing");
    store::notifications::notify(
        &mut *conn,
        partner,
        Audience::Everyone,
        &NewNotification {
            kind: event.as_str(),
            title,
            body,
            link: Some(&link),
        },
        None,
        state.now_ms(),
    )
    .await?;
    Ok(())
}

/// Staff turn billing on for a partner: from now on its numbers stop at a zero balance.
pub async fn enable(state: &AppState, partner: &PartnerId, actor: &Actor) -> Result<(), AppError> {
    let found = store::partners::get(state.db.pool(), partner)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = state.db.begin_write().await?;
    store::billing::enable(&mut *tx, partner, state.now_ms()).await?;
    let mut held = store::billing::hold(
        &mut tx,
        partner,
        &Holder::Partner,
        found.currency,
        state.now_ms(),
    )
    .await?;
    if !held.account.balance.is_positive() {
        held.set_paused(&mut tx, true).await?;
    }
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(partner),
        "billing.enable",
        partner.as_str(),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Staff mark a partner eligible (or not) for authentication-international rates.
pub async fn set_auth_international(
    state: &AppState,
    partner: &PartnerId,
    eligible: bool,
    actor: &Actor,
) -> Result<(), AppError> {
    let mut tx = state.db.begin_write().await?;
    if !store::billing::set_auth_international(&mut *tx, partner, eligible).await? {
        return Err(AppError::NotFound);
    }
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(partner),
        "billing.auth_international",
        partner.as_str(),
        if eligible { "eligible" } else { "not eligible" },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A staff adjustment with its reason, audited; positive credits, negative debits.
pub async fn adjust(
    state: &AppState,
    partner: &PartnerId,
    holder: &Holder,
    amount: Micros,
    reason: &str,
    actor: &Actor,
) -> Result<Micros, AppError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(
            domain::FieldError::new("reason", "is required: say why the balance changes").into(),
        );
    }
    if amount == Micros::ZERO {
        return Err(domain::FieldError::new("amount", "must not be zero").into());
    }
    let found = store::partners::get(state.db.pool(), partner)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Holder::Client(client) = holder {
        store::clients::get(state.db.pool(), partner, client)
            .await?
            .ok_or(AppError::NotFound)?;
    }
    let mut tx = state.db.begin_write().await?;
    let mut held =
        store::billing::hold(&mut tx, partner, holder, found.currency, state.now_ms()).await?;
    let key = domain::ids::row_id("adj");
    let posted = post_in(
        &mut tx,
        state,
        &mut held,
        &NewEntry {
            amount,
            kind: EntryKind::Adjustment,
            reference: &key,
            description: reason,
            idempotency_key: &key,
        },
        Gate::Always,
    )
    .await?;
    held.save(&mut tx).await?;
    let Posted::Applied { balance_after, .. } = posted else {
        return Err(AppError::Internal(anyhow::anyhow!(
            "adjustment {key} was not applied"
        )));
    };
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(partner),
        "billing.adjust",
        &held.account.id,
        &format!("{} {}: {reason}", amount, held.account.currency.as_str()),
    )
    .await?;
    tx.commit().await?;
    state.webhooks_wakeup.notify_one();
    Ok(balance_after)
}

/// Every account whose ledger does not add up or whose chain is broken.
pub async fn check_ledger(state: &AppState) -> Result<Vec<store::billing::Discrepancy>, AppError> {
    Ok(store::billing::check(state.db.pool()).await?)
}

/// The partner's balances: its own account, and each Direct-Payment client's.
pub async fn balances(state: &AppState, partner: &Partner) -> Result<Vec<Account>, AppError> {
    let mut accounts = store::billing::accounts_of(state.db.pool(), &partner.id).await?;
    if !accounts.iter().any(|a| a.holder == Holder::Partner) {
        accounts.insert(
            0,
            Account {
                id: String::new(),
                partner_id: partner.id.clone(),
                holder: Holder::Partner,
                currency: partner.currency,
                balance: Micros::ZERO,
                paused: false,
                warning: Micros::ZERO,
                low_warned: false,
                entries: 0,
                billing_on: false,
                client_name: None,
            },
        );
    }
    Ok(accounts)
}

/// The rate cards, from the cache or freshly read.
pub async fn rate_cards(state: &AppState) -> Result<Arc<RateCards>, AppError> {
    let now = state.now_ms();
    if let Some(cards) = state.rate_cards.fresh(now) {
        return Ok(cards);
    }
    let mut cards = Vec::new();
    for version in store::rate_cards::versions(state.db.pool()).await? {
        let card = store::rate_cards::card(state.db.pool(), &version).await?;
        cards.push((version, Arc::new(card)));
    }
    let cards = Arc::new(RateCards { cards });
    state.rate_cards.put(now, Arc::clone(&cards));
    Ok(cards)
}

/// Load the shipped USD card if no USD card exists yet (at every start; a no-op after the first).
pub async fn ensure_shipped_card(state: &AppState) -> Result<(), AppError> {
    let versions = store::rate_cards::versions(state.db.pool()).await?;
    if versions.iter().any(|v| v.currency == Currency::Usd) {
        return Ok(());
    }
    let card = domain::pricing::RateCard::shipped()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("the shipped rate card: {e}")))?;
    let effective =
        domain::calendar::day_start_ms(domain::pricing::SHIPPED_USD_CARD_EFFECTIVE_FROM)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the shipped card's date")))?;
    let mut tx = state.db.begin_write().await?;
    store::rate_cards::insert(
        &mut tx,
        &card,
        effective,
        "Meta list rates, July 2025 (shipped)",
        state.now_ms(),
    )
    .await?;
    tx.commit().await?;
    state.rate_cards.clear();
    Ok(())
}

/// A new card version from a CSV file's text (staff, `partnerhub rate-card import`).
pub async fn import_card(
    state: &AppState,
    text: &str,
    currency: Currency,
    effective_from_ms: i64,
    source: &str,
) -> Result<store::rate_cards::Version, AppError> {
    let card = domain::pricing::RateCard::parse_csv(text, currency)
        .map_err(|e| AppError::BadRequest(format!("The rate card was not imported: {e}.")))?;
    let mut tx = state.db.begin_write().await?;
    let version =
        store::rate_cards::insert(&mut tx, &card, effective_from_ms, source, state.now_ms())
            .await?;
    tx.commit().await?;
    state.rate_cards.clear();
    Ok(version)
}

/// A card in `currency` from the USD card in force, at `fx_ppm` (staff's conversion rate).
pub async fn derive_card(
    state: &AppState,
    currency: Currency,
    fx_ppm: i64,
    effective_from_ms: i64,
) -> Result<store::rate_cards::Version, AppError> {
    if fx_ppm <= 0 {
        return Err(
            domain::FieldError::new("fx", "must be a positive conversion rate like 0.92").into(),
        );
    }
    let cards = rate_cards(state).await?;
    let Some((from, usd)) = cards.in_force(Currency::Usd, effective_from_ms) else {
        return Err(AppError::Unprocessable(format!(
            "No USD rate card is in force on {}; import one first.",
            iso_ms(effective_from_ms)
        )));
    };
    let derived = usd
        .derive(currency, fx_ppm)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let source = format!(
        "derived from USD version {} at {}",
        from.version,
        Micros::new(fx_ppm)
    );
    let mut tx = state.db.begin_write().await?;
    let version = store::rate_cards::insert(
        &mut tx,
        &derived,
        effective_from_ms,
        &source,
        state.now_ms(),
    )
    .await?;
    tx.commit().await?;
    state.rate_cards.clear();
    Ok(version)
}

/// A page of the partner's ledger (every account of it), and where the next page starts.
pub async fn ledger(
    state: &AppState,
    partner: &PartnerId,
    filter: &store::billing::EntryFilter,
    page: &store::select::Page<'_>,
) -> Result<
    (
        Vec<store::billing::Entry>,
        i64,
        Option<domain::listing::After>,
    ),
    AppError,
> {
    let mut conn = state.db.pool().acquire().await?;
    Ok(store::billing::entries(&mut conn, partner, filter, page).await?)
}

/// The rate card in force now in the partner's currency.
pub async fn card_in_force(
    state: &AppState,
    partner: &Partner,
) -> Result<(store::rate_cards::Version, Arc<domain::pricing::RateCard>), AppError> {
    let cards = rate_cards(state).await?;
    cards
        .in_force(partner.currency, state.now_ms())
        .cloned()
        .ok_or_else(|| {
            AppError::Unprocessable(format!(
                "No {} rate card is in force yet; the BSP has to import or derive one.",
                partner.currency.as_str().to_uppercase()
            ))
        })
}

/// How usage is summed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granularity {
    Day,
    Month,
}

/// One period's usage by category.
#[derive(Clone, Debug, Default)]
pub struct PeriodUsage {
    pub period_ms: i64,
    /// Per category (marketing, utility, authentication, service): quantity, paid quantity, price.
    pub categories: std::collections::BTreeMap<&'static str, (i64, i64, Micros)>,
}

impl PeriodUsage {
    pub fn quantity(&self) -> i64 {
        self.categories.values().map(|c| c.0).sum()
    }
    pub fn paid_quantity(&self) -> i64 {
        self.categories.values().map(|c| c.1).sum()
    }
    pub fn total(&self) -> Micros {
        self.categories
            .values()
            .fold(Micros::ZERO, |sum, c| sum.checked_add(c.2).unwrap_or(sum))
    }
}

/// What `…/clients/{cid}/info/balance` answers.
#[derive(Clone, Debug)]
pub struct ClientUsage {
    pub balance: Micros,
    pub currency: Currency,
    pub last_renewal: Option<(i64, Micros)>,
    pub estimated_template_cost: Micros,
    pub usage: Vec<PeriodUsage>,
}

/// The paying account's balance for a client and the client's usage per UTC day or month
/// between two instants.
pub async fn client_usage(
    state: &AppState,
    partner: &Partner,
    client: &domain::ClientId,
    from_ms: i64,
    until_ms: i64,
    granularity: Granularity,
) -> Result<ClientUsage, AppError> {
    let pool = state.db.pool();
    let found = store::clients::get(pool, &partner.id, client)
        .await?
        .ok_or(AppError::NotFound)?;
    let holder = payer(partner, client);
    let account = store::billing::account(pool, &partner.id, &holder).await?;
    let last_renewal = match &account {
        Some(a) => store::billing::last_top_up(pool, &a.id).await?,
        None => None,
    };
    let market = found
        .contact_info
        .country
        .as_deref()
        .and_then(domain::pricing::market_of_country)
        .unwrap_or(domain::pricing::OTHER);
    let estimated_template_cost = rate_cards(state)
        .await?
        .in_force(partner.currency, state.now_ms())
        .and_then(|(_, card)| card.market(market).map(|m| m.marketing))
        .unwrap_or(Micros::ZERO);
    let rows = store::messages::daily_usage(pool, &partner.id, client, from_ms, until_ms).await?;
    let mut periods: Vec<PeriodUsage> = Vec::new();
    for row in rows {
        let day_ms = row.day * 86_400_000;
        let period_ms = match granularity {
            Granularity::Day => day_ms,
            Granularity::Month => domain::calendar::month_floor_ms(day_ms),
        };
        if periods.last().is_none_or(|p| p.period_ms != period_ms) {
            periods.push(PeriodUsage {
                period_ms,
                ..PeriodUsage::default()
            });
        }
        let Some(period) = periods.last_mut() else {
            continue;
        };
        let Some(category) = domain::pricing::Category::parse_stored(&row.category) else {
            continue;
        };
        let slot = period
            .categories
            .entry(category.as_str())
            .or_insert((0, 0, Micros::ZERO));
        slot.0 += row.quantity;
        if row.pricing_type == domain::pricing::PricingType::Regular.as_str() {
            slot.1 += row.quantity;
        }
        slot.2 = slot
            .2
            .checked_add(Micros::new(row.price_micros))
            .unwrap_or(slot.2);
    }
    Ok(ClientUsage {
        balance: account.as_ref().map_or(Micros::ZERO, |a| a.balance),
        currency: account.as_ref().map_or(partner.currency, |a| a.currency),
        last_renewal,
        estimated_template_cost,
        usage: periods,
    })
}
