//! The partner's money on the Partner API: the balance (`/balance`), the ledger (ext), the rate
//! card in force (ext), a client's balance and usage (`/clients/{cid}/info/balance`) and a WABA's
//! message templates (`/waba_accounts/{waba_id}/waba_templates`). Members read all of it.

use super::extract::{ApiCtx, ApiPath};
use super::integration::seconds;
use super::json::{self, ListMeta};
use super::{ListParams, list_query};
use crate::error::AppError;
use crate::http::error::ApiError;
use crate::services::billing::{self, Granularity};
use crate::services::messaging::templates;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use domain::listing::{FilterValue, ListSpec};
use domain::{ClientId, FieldError, Micros, PartnerId, WabaId};
use std::collections::HashMap;
use store::billing::{EntryFilter, Holder};
use store::select::Page;

/// The partner's prepaid balance.
#[utoipa::path(
    get,
    path = "/api/v2/partners/{partner_id}/balance",
    tag = "billing",
    operation_id = "get_balance",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)")),
    responses(
        (status = 200, description = "One entry: the partner's balance in its currency, e.g. `[{\"total\": 512.37, \"currency\": \"eur\"}]`", body = Vec<json::BalanceOut>),
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn balance(ctx: ApiCtx, State(state): State<AppState>) -> Result<Response, ApiError> {
    let account = store::billing::account(state.db.pool(), &ctx.partner.id, &Holder::Partner)
        .await
        .map_err(AppError::from)?;
    let out = json::BalanceOut {
        total: account.as_ref().map_or(Micros::ZERO, |a| a.balance),
        currency: ctx.partner.currency.as_str(),
    };
    Ok(Json(vec![out]).into_response())
}

pub const LEDGER_LIST: ListSpec = ListSpec {
    sortable: &["created_at"],
    filterable: &["kind", "account"],
    default_sort: "-created_at",
    numeric_sorts: &["created_at"],
};

fn text_filter<'a>(
    key: &str,
    value: &'a FilterValue,
    errors: &mut Vec<FieldError>,
) -> Option<&'a str> {
    match value {
        FilterValue::Text(t) => Some(t.as_str()),
        _ => {
            errors.push(FieldError::new(
                "filters",
                format!("{key} must be a string"),
            ));
            None
        }
    }
}

/// (ext) The ledger of the partner's accounts, newest first: every top-up, usage, refund and
/// adjustment with the balance after it.
#[utoipa::path(
    get,
    path = "/api/v2/partners/{partner_id}/ledger",
    tag = "billing",
    operation_id = "list_ledger_entries",
    params(
        ("partner_id" = String, Path, description = "Partner id (`…PA`)"),
        ListParams,
        super::integration::EventParams,
    ),
    responses(
        (status = 200, description = "A page of entries; filter keys `kind` (`top_up`, `usage`, `refund`, `adjustment`) and `account` (`partner` or a Direct-Payment client's id)", body = json::LedgerList),
        (status = 400, description = "Bad list parameters or filter values (one line each in `details`)", body = json::ErrorEnvelope),
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn ledger(
    ctx: ApiCtx,
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let context = format!(
        "{}\nstart_date={}\nend_date={}",
        ctx.partner.id,
        params
            .get("start_date")
            .map(|v| v.trim())
            .unwrap_or_default(),
        params.get("end_date").map(|v| v.trim()).unwrap_or_default()
    );
    let query = list_query(&LEDGER_LIST, &params, &context)?;
    let mut errors = Vec::new();
    let mut filter = EntryFilter::default();
    for (key, value) in &query.filters {
        let Some(text) = text_filter(key, value, &mut errors) else {
            continue;
        };
        match *key {
            "kind" => match domain::ledger::EntryKind::parse(text) {
                Some(kind) => filter.kind = Some(kind),
                None => errors.push(FieldError::new(
                    "filters",
                    "kind must be top_up, usage, refund or adjustment",
                )),
            },
            "account" if text == "partner" => filter.holder = Some(Holder::Partner),
            "account" => match ClientId::parse(text) {
                Ok(client) => filter.holder = Some(Holder::Client(client)),
                Err(_) => errors.push(FieldError::new(
                    "filters",
                    "account must be partner or a client id (…CL)",
                )),
            },
            _ => {}
        }
    }
    filter.from_ms = seconds(&params, "start_date").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    filter.until_ms = seconds(&params, "end_date").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    if !errors.is_empty() {
        return Err(ApiError(AppError::Validation(errors)));
    }
    let page = Page {
        limit: query.limit,
        offset: query.offset,
        after: query.after.as_ref(),
        oldest_first: query.sort.first().is_some_and(|k| !k.descending),
    };
    let (rows, total, next) = billing::ledger(&state, &ctx.partner.id, &filter, &page).await?;
    let meta = ListMeta::new(rows.len(), total, &query, next.as_ref());
    Ok(Json(json::ledger_list(&rows, meta, ctx.partner.currency)).into_response())
}

/// (ext) The rate card in force for the partner's currency: what each delivered template
/// message costs, per market.
#[utoipa::path(
    get,
    path = "/api/v2/partners/{partner_id}/rate_card",
    tag = "billing",
    operation_id = "get_rate_card",
    params(("partner_id" = String, Path, description = "Partner id (`…PA`)")),
    responses(
        (status = 200, description = "The card in force", body = json::RateCardOut),
        (status = 422, description = "No card in the partner's currency is in force yet", body = json::ErrorEnvelope),
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn rate_card(ctx: ApiCtx, State(state): State<AppState>) -> Result<Response, ApiError> {
    let (version, card) = billing::card_in_force(&state, &ctx.partner).await?;
    Ok(Json(json::rate_card(&version, &card)).into_response())
}

/// Query of a client's balance and usage.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageParams {
    /// Start of the period (UNIX seconds, UTC); default: the start of this month.
    pub start_date: Option<i64>,
    /// End of the period, exclusive (UNIX seconds, UTC); default: now.
    pub end_date: Option<i64>,
    /// `day` or `month` (default).
    pub granularity: Option<String>,
}

/// A client's paying balance and its usage per day or month (UTC).
#[utoipa::path(
    get,
    path = "/api/v2/partners/{partner_id}/clients/{client_id}/info/balance",
    tag = "billing",
    operation_id = "get_client_balance",
    params(
        ("partner_id" = String, Path, description = "Partner id (`…PA`)"),
        ("client_id" = String, Path, description = "Client id (`…CL`)"),
        UsageParams,
    ),
    responses(
        (status = 200, description = "Balance and usage; every key is always present (the `bi_`/`ui_`/`business_initiated_*`/`user_initiated_*` keys are kept, as 0, for clients of older pricing)", body = serde_json::Value),
        (status = 400, description = "Bad dates or granularity", body = json::ErrorEnvelope),
        (status = 404, description = "No such client of this partner", body = json::ErrorEnvelope),
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn client_balance(
    ctx: ApiCtx,
    State(state): State<AppState>,
    ApiPath(ids): ApiPath<(PartnerId, ClientId)>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let client = ids.1;
    let mut errors = Vec::new();
    let now = state.now_ms();
    let from = seconds(&params, "start_date")
        .unwrap_or_else(|e| {
            errors.push(e);
            None
        })
        .unwrap_or_else(|| domain::calendar::month_floor_ms(now));
    let until = seconds(&params, "end_date")
        .unwrap_or_else(|e| {
            errors.push(e);
            None
        })
        .unwrap_or(now + 1);
    let granularity = match params
        .get("granularity")
        .map(|g| g.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("month") => Granularity::Month,
        Some("day") => Granularity::Day,
        Some(_) => {
            errors.push(FieldError::new("granularity", "must be day or month"));
            Granularity::Month
        }
    };
    if errors.is_empty() && until <= from {
        errors.push(FieldError::new("end_date", "must be after start_date"));
    }
    if !errors.is_empty() {
        return Err(ApiError(AppError::Validation(errors)));
    }
    let usage =
        billing::client_usage(&state, &ctx.partner, &client, from, until, granularity).await?;
    Ok(Json(json::client_usage(&usage, granularity)).into_response())
}

pub const TEMPLATE_LIST: ListSpec = ListSpec {
    sortable: &["created_at"],
    filterable: &["name", "status", "category"],
    default_sort: "-created_at",
    numeric_sorts: &["created_at"],
};

/// The message templates of one of the partner's WABAs.
#[utoipa::path(
    get,
    path = "/api/v2/partners/{partner_id}/waba_accounts/{waba_id}/waba_templates",
    tag = "billing",
    operation_id = "list_waba_templates",
    params(
        ("partner_id" = String, Path, description = "Partner id (`…PA`)"),
        ("waba_id" = String, Path, description = "The Hub's WABA id (`…WA`)"),
        ListParams,
    ),
    responses(
        (status = 200, description = "A page of templates; filter keys `name`, `status` (`submitted`, `approved`, `rejected`) and `category` (`MARKETING`, `UTILITY`, `AUTHENTICATION`)", body = serde_json::Value),
        (status = 400, description = "Bad list parameters or filter values", body = json::ErrorEnvelope),
        (status = 404, description = "No such WABA of this partner", body = json::ErrorEnvelope),
        json::PartnerErrors,
    ),
    security(("api_key" = []), ("bearer" = [])),
)]
pub async fn waba_templates(
    ctx: ApiCtx,
    State(state): State<AppState>,
    ApiPath(ids): ApiPath<(PartnerId, WabaId)>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let waba = ids.1;
    let context = format!("{}\n{waba}", ctx.partner.id);
    let query = list_query(&TEMPLATE_LIST, &params, &context)?;
    let mut errors = Vec::new();
    let (mut name, mut status, mut category) = (None, None, None);
    for (key, value) in &query.filters {
        let Some(text) = text_filter(key, value, &mut errors) else {
            continue;
        };
        match *key {
            "name" => name = Some(text.to_owned()),
            "status" => status = Some(text.to_owned()),
            "category" => category = Some(text.to_owned()),
            _ => {}
        }
    }
    let filter = match crate::http::messaging::template_filter(name, status, category) {
        Ok(f) => Some(f),
        Err(e) => {
            errors.push(FieldError::new(
                "filters",
                format!("{} {}", e.field, e.message),
            ));
            None
        }
    };
    let Some(filter) = filter.filter(|_| errors.is_empty()) else {
        return Err(ApiError(AppError::Validation(errors)));
    };
    let page = Page {
        limit: query.limit,
        offset: query.offset,
        after: query.after.as_ref(),
        oldest_first: query.sort.first().is_some_and(|k| !k.descending),
    };
    let (rows, total, next) =
        templates::list(&state, &ctx.partner.id, &waba, &filter, &page).await?;
    let meta = ListMeta::new(rows.len(), total, &query, next.as_ref());
    Ok(Json(serde_json::json!({
        "count": meta.count,
        "total": meta.total,
        "limit": meta.limit,
        "offset": meta.offset,
        "filters": meta.filters,
        "sort": meta.sort,
        "next_cursor": meta.next_cursor,
        "waba_templates": rows.iter().map(templates::template_json).collect::<Vec<_>>(),
    }))
    .into_response())
}
