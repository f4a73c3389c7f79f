//! The WhatsApp Accounts pages: the channel list (search, filters, sort and page all kept in the
//! URL so a view can be bookmarked), its streamed CSV export, a number's details (verification,
//! channel API keys, cancellation, status timeline) and the forms that create a client and add a
//! number. Members may do all of this; every change goes through `services::whatsapp` or
//! `services::api_keys`, exactly as the Partner API does.

mod export;
mod list;
mod new_client;
mod new_number;
mod number;

use export::*;
use list::*;
use new_client::*;
use new_number::*;
use number::*;

use crate::clock::{format_ms, iso_ms};
use crate::error::AppError;
use crate::http::extract::{Form, Ids, PartnerCtx};
use crate::http::routes::Routes;
use crate::http::session;
use crate::http::views::{Chrome, FieldErrors, Shell};
use crate::services::accounts::{self, ClientRequest, NumberRequest};
use crate::services::api_keys;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use domain::listing::{ListQuery, RawList};
use domain::{
    ChannelId, ChannelStatus, ClientId, DataStorageRegion, FbAccountStatus, FieldError,
    HostingType, MessagingLimit, PartnerId, PartnerPermission, PhoneNumber, QualityRating,
    VerificationMethod,
};
use std::borrow::Cow;
use std::collections::HashSet;
use store::channels::{ChannelView, ExportPosition, ExportRow};
use store::clients::{ContactInfo, ContactUser, MetaInfo};
use store::partners::Partner;

/// Rows per page of the list.
pub(super) const PAGE_SIZE: i64 = 25;
/// Rows fetched per query while exporting: large enough to keep queries few, small enough that
/// a 100,000-row export never holds more than one batch in memory.
pub(super) const EXPORT_BATCH: i64 = 1000;
/// How many clients the filter and "add number" selects offer.
pub(super) const CLIENT_CHOICES: i64 = 1000;
/// Search text longer than this is cut: nothing it could match is longer.
pub(super) const MAX_SEARCH_CHARS: usize = domain::limits::SEARCH_CHARS;

/// The page filters and sorts with the Partner API's list spec, so both read the store alike.
use crate::http::api::channels::CHANNEL_LIST as ACCOUNTS_LIST;

/// WhatsApp accounts: the list, its export, a number's page, new clients and numbers.
pub fn router() -> Routes {
    Routes::new()
        .get("/partner/{partner_id}/accounts", list)
        .get("/partner/{partner_id}/accounts/export.csv", export_csv)
        .get("/partner/{partner_id}/accounts/clients/new", new_client)
        .post("/partner/{partner_id}/accounts/clients/new", create_client)
        .get("/partner/{partner_id}/accounts/numbers/new", new_number)
        .post("/partner/{partner_id}/accounts/numbers/new", add_number)
        .get("/partner/{partner_id}/accounts/{channel_id}", details)
        .post("/partner/{partner_id}/accounts/{channel_id}/verify", verify)
        .post(
            "/partner/{partner_id}/accounts/{channel_id}/api-keys",
            create_key,
        )
        .post(
            "/partner/{partner_id}/accounts/{channel_id}/api-keys/revoke",
            revoke_keys,
        )
        .post("/partner/{partner_id}/accounts/{channel_id}/cancel", cancel)
        .post(
            "/partner/{partner_id}/accounts/{channel_id}/withdraw-cancellation",
            withdraw_cancellation,
        )
        .post(
            "/partner/{partner_id}/accounts/{channel_id}/sandbox-alert",
            sandbox_alert,
        )
        .post(
            "/partner/{partner_id}/accounts/{channel_id}/sandbox-inbound",
            number::sandbox_inbound,
        )
}

/// The sort options of the list, as the URL spells them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum SortChoice {
    #[default]
    Newest,
    Oldest,
    Number,
    DisplayName,
    Status,
}

impl SortChoice {
    const ALL: [SortChoice; 5] = [
        SortChoice::Newest,
        SortChoice::Oldest,
        SortChoice::Number,
        SortChoice::DisplayName,
        SortChoice::Status,
    ];

    fn slug(self) -> &'static str {
        match self {
            SortChoice::Newest => "newest",
            SortChoice::Oldest => "oldest",
            SortChoice::Number => "number",
            SortChoice::DisplayName => "name",
            SortChoice::Status => "status",
        }
    }

    fn label(self) -> &'static str {
        match self {
            SortChoice::Newest => "Newest first",
            SortChoice::Oldest => "Oldest first",
            SortChoice::Number => "Phone number",
            SortChoice::DisplayName => "Display name",
            SortChoice::Status => "Status",
        }
    }

    /// The Partner API `sort` parameter for this choice; ties fall back to newest first.
    fn wire(self) -> &'static str {
        match self {
            SortChoice::Newest => "-created_at",
            SortChoice::Oldest => "created_at",
            SortChoice::Number => "setup_info.phone_number",
            SortChoice::DisplayName => "setup_info.phone_name,-created_at",
            SortChoice::Status => "status,-created_at",
        }
    }

    fn parse(input: &str) -> Option<SortChoice> {
        Self::ALL.into_iter().find(|s| s.slug() == input)
    }
}

/// What the list shows, read from (and written back to) the URL's query string.
#[derive(Clone, Debug, Default)]
pub(super) struct View {
    q: String,
    status: Option<ChannelStatus>,
    client: Option<ClientId>,
    hosting: Option<HostingType>,
    permission: Option<PartnerPermission>,
    sort: SortChoice,
    page: i64,
    /// Some value in the link was not understood and was left out, so the page says so rather
    /// than silently showing something else than what was bookmarked.
    ignored: bool,
}

pub(super) fn understood<T, E>(parsed: Result<T, E>, ignored: &mut bool) -> Option<T> {
    match parsed {
        Ok(value) => Some(value),
        Err(_) => {
            *ignored = true;
            None
        }
    }
}

impl View {
    fn parse(raw: Option<&str>) -> View {
        let mut view = View {
            page: 1,
            ..View::default()
        };
        let mut seen = HashSet::new();
        for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            // A repeated parameter keeps its first value, as the form never sends two.
            if !seen.insert(key.clone()) {
                continue;
            }
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let ignored = &mut view.ignored;
            match key.as_ref() {
                "q" => view.q = value.chars().take(MAX_SEARCH_CHARS).collect(),
                "status" => view.status = understood(ChannelStatus::parse(value), ignored),
                "client" => view.client = understood(ClientId::parse(value), ignored),
                "hosting" => view.hosting = understood(HostingType::parse(value), ignored),
                "permission" => {
                    view.permission = understood(PartnerPermission::parse(value), ignored);
                }
                "sort" => {
                    view.sort =
                        understood(SortChoice::parse(value).ok_or(()), ignored).unwrap_or_default()
                }
                "page" => {
                    let max = domain::listing::MAX_OFFSET / PAGE_SIZE;
                    view.page = match value.parse::<i64>() {
                        Ok(n) if (1..=max).contains(&n) => n,
                        _ => {
                            *ignored = true;
                            1
                        }
                    };
                }
                // Anything else (tracking parameters, old bookmarks) does not change the view.
                _ => {}
            }
        }
        view
    }

    fn is_filtered(&self) -> bool {
        !self.q.is_empty()
            || self.status.is_some()
            || self.client.is_some()
            || self.hosting.is_some()
            || self.permission.is_some()
    }

    fn text(&self) -> Option<&str> {
        Some(self.q.as_str()).filter(|q| !q.is_empty())
    }

    /// The list query for `limit` rows from `offset`, through the same parser as the API's.
    fn list_query(&self, limit: i64, offset: i64) -> Result<ListQuery, AppError> {
        let mut filters = serde_json::Map::new();
        if let Some(status) = self.status {
            filters.insert("status".into(), status.as_str().into());
        }
        if let Some(client) = &self.client {
            filters.insert("client_id".into(), client.as_str().into());
        }
        if let Some(hosting) = self.hosting {
            filters.insert("hosting_type".into(), hosting.as_str().into());
        }
        if let Some(permission) = self.permission {
            filters.insert("partner_permission".into(), permission.as_str().into());
        }
        let filters = serde_json::Value::Object(filters).to_string();
        let (limit, offset) = (limit.to_string(), offset.to_string());
        ListQuery::parse(
            &ACCOUNTS_LIST,
            &RawList {
                limit: Some(&limit),
                offset: Some(&offset),
                sort: Some(self.sort.wire()),
                filters: Some(&filters),
                ..RawList::default()
            },
        )
        .map_err(|lines| AppError::BadRequest(lines.join("; ")))
    }

    /// The query string of this view (without `?`), leaving out defaults so links stay short.
    fn query_string(&self) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        if !self.q.is_empty() {
            out.append_pair("q", &self.q);
        }
        if let Some(status) = self.status {
            out.append_pair("status", status.as_str());
        }
        if let Some(client) = &self.client {
            out.append_pair("client", client.as_str());
        }
        if let Some(hosting) = self.hosting {
            out.append_pair("hosting", hosting.as_str());
        }
        if let Some(permission) = self.permission {
            out.append_pair("permission", permission.as_str());
        }
        if self.sort != SortChoice::Newest {
            out.append_pair("sort", self.sort.slug());
        }
        if self.page > 1 {
            out.append_pair("page", &self.page.to_string());
        }
        out.finish()
    }

    fn href(&self, base: &str) -> String {
        let query = self.query_string();
        if query.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{query}")
        }
    }

    fn at_page(&self, page: i64) -> View {
        View {
            page,
            ..self.clone()
        }
    }

    fn with_status(&self, status: Option<ChannelStatus>) -> View {
        View {
            status,
            page: 1,
            ..self.clone()
        }
    }
}

pub(super) fn accounts_path(partner: &Partner) -> String {
    format!("/partner/{}/accounts", partner.id)
}

pub(super) fn number_path(partner: &Partner, channel: &ChannelId) -> String {
    format!("/partner/{}/accounts/{channel}", partner.id)
}

/// `+49 1512 3456789` for pages; the stored E.164 when it does not parse (older rows).
pub(super) fn display_number(e164: &str) -> String {
    PhoneNumber::parse(e164).map_or_else(|_| e164.to_owned(), |p| p.display())
}

pub(super) fn status_class(status: ChannelStatus) -> &'static str {
    match status {
        ChannelStatus::Running => "ok",
        ChannelStatus::Error => "bad",
        ChannelStatus::Cancelled => "",
        _ => "wait",
    }
}

pub(super) fn quality_label(raw: &str) -> String {
    QualityRating::parse(raw).map_or_else(|_| raw.to_owned(), |q| q.label().to_owned())
}

pub(super) fn limit_label(raw: Option<&str>) -> String {
    match raw {
        None => "—".to_owned(),
        Some(raw) => {
            MessagingLimit::parse(raw).map_or_else(|_| raw.to_owned(), |l| l.label().to_owned())
        }
    }
}

pub(super) fn hosting_label(raw: &str) -> String {
    HostingType::parse(raw).map_or_else(|_| raw.to_owned(), |h| h.label().to_owned())
}

pub(super) fn region_label(raw: Option<&str>) -> String {
    match DataStorageRegion::parse_optional(raw.unwrap_or_default()) {
        Ok(region) => DataStorageRegion::optional_label(region).to_owned(),
        Err(_) => raw.unwrap_or_default().to_owned(),
    }
}

pub(super) fn permission_label(raw: &str) -> String {
    PartnerPermission::parse(raw).map_or_else(|_| raw.to_owned(), |p| p.label().to_owned())
}

pub(super) fn fb_status_label(raw: &str) -> String {
    FbAccountStatus::parse(raw).map_or_else(|_| raw.to_owned(), |s| s.label().to_owned())
}

/// The next step that waits on the client (not on us or Meta), if any.
pub(super) fn client_owes(channel: &ChannelView) -> Option<&'static str> {
    match channel.status {
        ChannelStatus::PendingVerification => return Some("Enter verification code"),
        ChannelStatus::WaitingForCode => return Some("Enter migration code"),
        ChannelStatus::MigrationRequested => {
            return Some("Turn off two-step verification at the old provider");
        }
        ChannelStatus::Error => return Some("Check the number, then contact support"),
        ChannelStatus::Cancelled => return None,
        _ => {}
    }
    match FbAccountStatus::parse(&channel.waba_fb_account_status) {
        Ok(FbAccountStatus::NotVerified | FbAccountStatus::PendingSubmission) => {
            return Some("Submit business verification");
        }
        Ok(FbAccountStatus::PendingNeedMoreInfo) => {
            return Some("Send more business information to Meta");
        }
        Ok(FbAccountStatus::Rejected | FbAccountStatus::Failed) => {
            return Some("Resubmit business verification");
        }
        _ => {}
    }
    let shared = channel.partner_permission == PartnerPermission::Shared.as_str();
    if channel.status == ChannelStatus::Running && !shared {
        return Some("Grant API-key permission");
    }
    None
}
