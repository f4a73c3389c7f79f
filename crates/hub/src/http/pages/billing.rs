//! The Billing page, first part: the prepaid balance (top left, with the rule that messaging
//! needs it above 0), the paused banner, each Direct-Payment client's balance, and the ledger
//! with a kind filter and paging. Before staff enable billing it explains how to ask for it.
//! Members read it all; top-ups, cards and invoices come with the next issue.

use crate::clock::format_ms;
use crate::error::AppError;
use crate::http::extract::PartnerCtx;
use crate::http::routes::Routes;
use crate::http::session;
use crate::http::views::{Chrome, Shell};
use crate::services::billing;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use domain::ledger::EntryKind;
use domain::{Money, PaymentModel};
use store::billing::{EntryFilter, Holder};
use store::select::Page;

pub fn router() -> Routes {
    Routes::new().get("/partner/{partner_id}/billing", show)
}

const PAGE_SIZE: i64 = 30;

pub struct AccountView {
    pub whose: String,
    pub balance: String,
    pub negative: bool,
    pub paused: bool,
}

pub struct EntryView {
    pub at: String,
    pub whose: String,
    pub kind: &'static str,
    pub description: String,
    pub reference: String,
    pub amount: String,
    pub credit: bool,
    pub balance_after: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "partner/billing.html")]
struct BillingPage {
    chrome: Chrome,
    shell: Shell,
    enabled: bool,
    partner_payment: bool,
    currency: String,
    own: Option<AccountView>,
    clients: Vec<AccountView>,
    entries: Vec<EntryView>,
    kinds: Vec<(&'static str, &'static str, bool)>,
    kind: String,
    total: i64,
    prev_href: Option<String>,
    next_href: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct BillingQuery {
    kind: String,
    page: String,
}

fn kind_label(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::TopUp => "Top-up",
        EntryKind::Usage => "Usage",
        EntryKind::Refund => "Refund",
        EntryKind::Adjustment => "Adjustment",
    }
}

pub async fn show(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    Query(q): Query<BillingQuery>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (jar, flash) = session::take_flash(jar, &state.config);
    let partner = &ctx.partner;
    let settings = store::billing::settings(state.db.pool(), &partner.id).await?;
    let kind = EntryKind::ALL
        .into_iter()
        .find(|k| k.as_str() == q.kind.trim());
    let page_no = q
        .page
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let offset = (page_no - 1).saturating_mul(PAGE_SIZE);
    let accounts = billing::balances(&state, partner).await?;
    let whose = |holder: &Holder, name: &Option<String>| match (holder, name) {
        (Holder::Partner, _) => partner.name.clone(),
        (Holder::Client(_), Some(name)) => name.clone(),
        (Holder::Client(id), None) => id.to_string(),
    };
    let view = |a: &store::billing::Account| AccountView {
        whose: whose(&a.holder, &a.client_name),
        balance: Money::new(a.balance, a.currency).to_string(),
        negative: !a.balance.is_positive(),
        paused: a.paused && settings.enabled_ms.is_some(),
    };
    let own = accounts
        .iter()
        .find(|a| {
            a.holder == Holder::Partner && partner.payment_model == PaymentModel::PartnerPayment
        })
        .map(view);
    let clients = accounts
        .iter()
        .filter(|a| matches!(a.holder, Holder::Client(_)))
        .map(view)
        .collect();
    let filter = EntryFilter {
        kind,
        ..EntryFilter::default()
    };
    let (rows, total, _) = billing::ledger(
        &state,
        &partner.id,
        &filter,
        &Page {
            limit: PAGE_SIZE,
            offset,
            after: None,
            oldest_first: false,
        },
    )
    .await?;
    let shown = i64::try_from(rows.len()).unwrap_or(0);
    let kind_param = kind
        .map(|k| format!("kind={}&", k.as_str()))
        .unwrap_or_default();
    let base = format!("/partner/{}/billing", partner.id);
    let page = BillingPage {
        chrome: Chrome::new(&state, flash),
        shell: Shell::new(&ctx, "billing"),
        enabled: settings.enabled_ms.is_some(),
        partner_payment: partner.payment_model == PaymentModel::PartnerPayment,
        currency: partner.currency.as_str().to_uppercase(),
        own,
        clients,
        entries: rows
            .into_iter()
            .map(|e| EntryView {
                at: format_ms(e.created_ms),
                whose: whose(&e.holder, &e.client_name),
                kind: kind_label(e.kind),
                description: e.description,
                reference: e.reference,
                amount: Money::new(e.amount, partner.currency).to_string(),
                credit: e.amount.is_positive(),
                balance_after: Money::new(e.balance_after, partner.currency).to_string(),
            })
            .collect(),
        kinds: EntryKind::ALL
            .into_iter()
            .map(|k| (k.as_str(), kind_label(k), Some(k) == kind))
            .collect(),
        kind: kind.map(|k| k.as_str().to_owned()).unwrap_or_default(),
        total,
        prev_href: (page_no > 1).then(|| format!("{base}?{kind_param}page={}", page_no - 1)),
        next_href: (offset + shown < total)
            .then(|| format!("{base}?{kind_param}page={}", page_no + 1)),
    };
    Ok((jar, page).into_response())
}
