//! The WhatsApp Accounts pages: the channel list (search, filters, sort and page all kept in the
//! URL so a view can be bookmarked), its streamed CSV export, a number's details (verification,
//! channel API keys, cancellation, status timeline) and the forms that create a client and add a
//! number. Members may do all of this; every change goes through `services::whatsapp` or
//! `services::api_keys`, exactly as the Partner API does.

use crate::clock::{format_ms, iso_ms};
use crate::error::AppError;
use crate::http::extract::{ClientMeta, Form, PartnerCtx};
use crate::http::session;
use crate::http::views::{Chrome, FieldErrors, Shell};
use crate::services::api_keys;
use crate::services::audit::Actor;
use crate::services::whatsapp::{self, ClientRequest, NumberRequest};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use domain::listing::{ListQuery, RawList};
use domain::{
    ChannelId, ChannelStatus, ClientId, DataStorageRegion, FbAccountStatus, FieldError,
    HostingType, MessagingLimit, PartnerPermission, PhoneNumber, QualityRating, VerificationMethod,
};
use std::borrow::Cow;
use std::collections::HashSet;
use store::channels::{ChannelView, ExportPosition, ExportRow};
use store::clients::{ContactInfo, ContactUser, MetaInfo};
use store::partners::Partner;

/// Rows per page of the list.
const PAGE_SIZE: i64 = 25;
/// Rows fetched per query while exporting: large enough to keep queries few, small enough that
/// a 100,000-row export never holds more than one batch in memory.
const EXPORT_BATCH: i64 = 1000;
/// How many clients the filter and "add number" selects offer.
const CLIENT_CHOICES: i64 = 1000;
/// Search text longer than this is cut: nothing it could match is longer.
const MAX_SEARCH_CHARS: usize = 100;

/// The page filters and sorts with the Partner API's list spec, so both read the store alike.
use crate::http::api::channels::CHANNEL_LIST as ACCOUNTS_LIST;

/// The sort options of the list, as the URL spells them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum SortChoice {
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
struct View {
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

fn understood<T, E>(parsed: Result<T, E>, ignored: &mut bool) -> Option<T> {
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

fn actor(ctx: &PartnerCtx, meta: &ClientMeta) -> Actor {
    Actor::User {
        id: ctx.user.id.to_string(),
        ip: meta.ip.clone(),
    }
}

fn accounts_path(partner: &Partner) -> String {
    format!("/partner/{}/accounts", partner.id)
}

fn number_path(partner: &Partner, channel: &ChannelId) -> String {
    format!("/partner/{}/accounts/{channel}", partner.id)
}

/// A malformed id names nothing: "not found", like another partner's id.
fn channel_id(raw: &str) -> Result<ChannelId, AppError> {
    ChannelId::parse(raw).map_err(|_| AppError::NotFound)
}

/// `+49 1512 3456789` for pages; the stored E.164 when it does not parse (older rows).
fn display_number(e164: &str) -> String {
    PhoneNumber::parse(e164).map_or_else(|_| e164.to_owned(), |p| p.display())
}

fn status_class(status: ChannelStatus) -> &'static str {
    match status {
        ChannelStatus::Running => "ok",
        ChannelStatus::Error => "bad",
        ChannelStatus::Cancelled => "",
        _ => "wait",
    }
}

fn quality_label(raw: &str) -> String {
    QualityRating::parse(raw).map_or_else(|_| raw.to_owned(), |q| q.label().to_owned())
}

fn limit_label(raw: Option<&str>) -> String {
    match raw {
        None => "—".to_owned(),
        Some(raw) => {
            MessagingLimit::parse(raw).map_or_else(|_| raw.to_owned(), |l| l.label().to_owned())
        }
    }
}

fn hosting_label(raw: &str) -> String {
    HostingType::parse(raw).map_or_else(|_| raw.to_owned(), |h| h.label().to_owned())
}

fn region_label(raw: Option<&str>) -> String {
    match DataStorageRegion::parse_optional(raw.unwrap_or_default()) {
        Ok(region) => DataStorageRegion::optional_label(region).to_owned(),
        Err(_) => raw.unwrap_or_default().to_owned(),
    }
}

fn permission_label(raw: &str) -> String {
    PartnerPermission::parse(raw).map_or_else(|_| raw.to_owned(), |p| p.label().to_owned())
}

fn fb_status_label(raw: &str) -> String {
    FbAccountStatus::parse(raw).map_or_else(|_| raw.to_owned(), |s| s.label().to_owned())
}

/// The next step that waits on the client (not on us or Meta), if any.
fn client_owes(channel: &ChannelView) -> Option<&'static str> {
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

// ---------------------------------------------------------------------------------------------
// The list

struct ChannelRow {
    href: String,
    number: String,
    display_name: String,
    client_name: String,
    status: &'static str,
    status_class: &'static str,
    quality: String,
    limit: String,
    hosting: String,
    region: String,
    permission: String,
    shared: bool,
    created: String,
    created_date: String,
    owes: Option<&'static str>,
}

impl ChannelRow {
    fn of(partner: &Partner, c: &ChannelView) -> Self {
        ChannelRow {
            href: number_path(partner, &c.id),
            number: display_number(&c.phone_number),
            display_name: c.phone_name.clone(),
            client_name: c.client_name.clone(),
            status: c.status.label(),
            status_class: status_class(c.status),
            quality: quality_label(&c.quality_rating),
            limit: limit_label(c.current_limit.as_deref()),
            hosting: hosting_label(&c.hosting_type),
            region: region_label(c.data_storage_region.as_deref()),
            permission: permission_label(&c.partner_permission),
            shared: c.partner_permission == PartnerPermission::Shared.as_str(),
            created: format_ms(c.created_ms),
            created_date: iso_ms(c.created_ms).chars().take(10).collect(),
            owes: client_owes(c),
        }
    }
}

/// One choice of a filter select.
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

impl Choice {
    fn new(value: &str, label: &str, selected: bool) -> Self {
        Choice {
            value: value.to_owned(),
            label: label.to_owned(),
            selected,
        }
    }
}

/// A status chip: how many numbers of the current view have this status, linking to them.
struct Chip {
    label: &'static str,
    count: i64,
    href: String,
    current: bool,
    class: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "partner/accounts.html")]
struct AccountsPage {
    chrome: Chrome,
    shell: Shell,
    /// The partner has no numbers at all: the page explains where numbers come from.
    no_numbers: bool,
    onboarding_link: String,
    q: String,
    statuses: Vec<Choice>,
    clients: Vec<Choice>,
    hostings: Vec<Choice>,
    permissions: Vec<Choice>,
    sorts: Vec<Choice>,
    filtered: bool,
    ignored: bool,
    chips: Vec<Chip>,
    rows: Vec<ChannelRow>,
    total: i64,
    first: i64,
    last: i64,
    prev_href: Option<String>,
    next_href: Option<String>,
    first_page_href: Option<String>,
    clear_href: String,
    export_href: String,
    add_number_href: String,
}

async fn client_choices(
    state: &AppState,
    partner: &Partner,
    selected: Option<&ClientId>,
) -> Result<Vec<Choice>, AppError> {
    let names = store::clients::names(state.db.pool(), &partner.id, CLIENT_CHOICES).await?;
    Ok(names
        .into_iter()
        .map(|(id, name)| Choice {
            selected: selected == Some(&id),
            value: id.to_string(),
            label: name,
        })
        .collect())
}

/// Per-status counts of the view without its status filter, for the chips.
// The service has no grouped count yet, so this asks for each status's total; see the report.
async fn status_chips(
    state: &AppState,
    partner: &Partner,
    view: &View,
    base: &str,
) -> Result<Vec<Chip>, AppError> {
    let all = view.with_status(None);
    let (_, everything) =
        whatsapp::channels(state, partner, &all.list_query(1, 0)?, all.text()).await?;
    let mut chips = vec![Chip {
        label: "All",
        count: everything,
        href: all.href(base),
        current: view.status.is_none(),
        class: "",
    }];
    if everything == 0 {
        return Ok(chips);
    }
    for &status in ChannelStatus::ALL {
        let one = view.with_status(Some(status));
        let (_, count) =
            whatsapp::channels(state, partner, &one.list_query(1, 0)?, one.text()).await?;
        if count > 0 || view.status == Some(status) {
            chips.push(Chip {
                label: status.label(),
                count,
                href: one.href(base),
                current: view.status == Some(status),
                class: status_class(status),
            });
        }
    }
    Ok(chips)
}

pub async fn list(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (jar, flash) = session::take_flash(jar, &state.config);
    let view = View::parse(raw.as_deref());
    let partner = &ctx.partner;
    let base = accounts_path(partner);
    let offset = (view.page - 1) * PAGE_SIZE;
    let query = view.list_query(PAGE_SIZE, offset)?;
    let (channels, total) = whatsapp::channels(&state, partner, &query, view.text()).await?;
    let chips = status_chips(&state, partner, &view, &base).await?;
    let no_numbers = chips.first().is_some_and(|all| all.count == 0) && !view.is_filtered();
    let last_page = (total + PAGE_SIZE - 1) / PAGE_SIZE;
    let shown = i64::try_from(channels.len()).unwrap_or(0);
    let export_view = view.at_page(1);
    let page = AccountsPage {
        chrome: Chrome::new(&state, flash),
        shell: Shell::new(&ctx, "accounts"),
        no_numbers,
        onboarding_link: state.config.link(&format!("/dashboard/app/{}", partner.id)),
        q: view.q.clone(),
        statuses: ChannelStatus::ALL
            .iter()
            .map(|s| Choice::new(s.as_str(), s.label(), view.status == Some(*s)))
            .collect(),
        clients: client_choices(&state, partner, view.client.as_ref()).await?,
        hostings: HostingType::ALL
            .iter()
            .map(|h| Choice::new(h.as_str(), h.label(), view.hosting == Some(*h)))
            .collect(),
        permissions: PartnerPermission::ALL
            .iter()
            .map(|p| Choice::new(p.as_str(), p.label(), view.permission == Some(*p)))
            .collect(),
        sorts: SortChoice::ALL
            .iter()
            .map(|s| Choice::new(s.slug(), s.label(), view.sort == *s))
            .collect(),
        filtered: view.is_filtered(),
        ignored: view.ignored,
        chips,
        rows: channels
            .iter()
            .map(|c| ChannelRow::of(partner, c))
            .collect(),
        total,
        first: if shown > 0 { offset + 1 } else { 0 },
        last: offset + shown,
        prev_href: (view.page > 1).then(|| {
            view.at_page((view.page - 1).min(last_page.max(1)))
                .href(&base)
        }),
        next_href: (view.page < last_page).then(|| view.at_page(view.page + 1).href(&base)),
        first_page_href: (shown == 0 && total > 0).then(|| view.at_page(1).href(&base)),
        clear_href: base.clone(),
        export_href: export_view.href(&format!("{base}/export.csv")),
        add_number_href: format!("{base}/numbers/new"),
    };
    Ok((jar, page).into_response())
}

// ---------------------------------------------------------------------------------------------
// CSV export

const CSV_HEADER: [&str; 9] = [
    "Company legal name",
    "Number",
    "Display name",
    "Contact email",
    "Channel status",
    "Message on behalf status",
    "Business verification status",
    "Number registration status",
    "Created",
];

/// Spreadsheets run cells that start with these as formulas; a leading `'` keeps them text.
fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// One line of the export, every cell neutralised; borrowed where it can be, since an export
/// writes 100,000 of these.
fn csv_record(c: &ExportRow) -> [Cow<'_, str>; 9] {
    let company = c
        .client_organisation
        .as_deref()
        .filter(|o| !o.trim().is_empty())
        .unwrap_or(&c.client_name);
    let registration = if c.status == ChannelStatus::Running {
        "registered"
    } else {
        "pending"
    };
    [
        neutralise(company),
        neutralise(&c.phone_number),
        neutralise(&c.phone_name),
        neutralise(c.client_email.as_deref().unwrap_or_default()),
        Cow::Borrowed(c.status.as_str()),
        neutralise(c.waba_business_status.as_deref().unwrap_or_default()),
        neutralise(&c.waba_fb_account_status),
        Cow::Borrowed(registration),
        Cow::Owned(iso_ms(c.created_ms)),
    ]
}

/// One chunk of the CSV body: the given rows (and the header first, when asked).
fn csv_chunk(header: bool, rows: &[ExportRow]) -> Result<Bytes, AppError> {
    let mut out = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 160));
    let fail = |e: csv::Error| AppError::Internal(anyhow::anyhow!("writing CSV: {e}"));
    if header {
        out.write_record(CSV_HEADER).map_err(fail)?;
    }
    for row in rows {
        out.write_record(csv_record(row).iter().map(|cell| cell.as_bytes()))
            .map_err(fail)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("writing CSV: {e}")))?;
    Ok(Bytes::from(bytes))
}

type Chunk = Result<Bytes, std::io::Error>;

/// Fetch the remaining batches after the first and send them on; stops when the reader goes
/// away. A failure mid-way ends the body with an error, so the download visibly breaks instead
/// of looking complete.
async fn export_rest(
    state: AppState,
    partner: Partner,
    view: View,
    mut position: ExportPosition,
    sender: tokio::sync::mpsc::Sender<Chunk>,
) {
    loop {
        let batch = async {
            let query = view.list_query(EXPORT_BATCH, 0)?;
            let rows = whatsapp::export_batch(
                &state,
                &partner,
                &query,
                view.text(),
                &position,
                EXPORT_BATCH,
            )
            .await?;
            let chunk = csv_chunk(false, &rows)?;
            Ok::<_, AppError>((rows, chunk))
        }
        .await;
        match batch {
            Ok((rows, chunk)) => {
                if !rows.is_empty() && sender.send(Ok(chunk)).await.is_err() {
                    return;
                }
                match advance(position, &rows) {
                    Some(next) => position = next,
                    None => return,
                }
            }
            Err(err) => {
                tracing::error!(error = %err, partner = %partner.id, "CSV export failed");
                let _ = sender
                    .send(Err(std::io::Error::other("the export failed")))
                    .await;
                return;
            }
        }
    }
}

/// Where the next batch starts, or `None` when this batch was the last.
fn advance(position: ExportPosition, rows: &[ExportRow]) -> Option<ExportPosition> {
    let full = i64::try_from(rows.len()).unwrap_or(0) == EXPORT_BATCH;
    let last = rows.last().filter(|_| full)?;
    Some(ExportPosition {
        offset: position.offset + EXPORT_BATCH,
        after: Some(store::channels::Cursor {
            created_ms: last.created_ms,
            id: last.id.clone(),
        }),
    })
}

fn today(state: &AppState) -> String {
    iso_ms(state.now_ms()).chars().take(10).collect()
}

pub async fn export_csv(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let view = View::parse(raw.as_deref()).at_page(1);
    // The first batch is read before answering, so a broken query is a proper error page.
    let query = view.list_query(EXPORT_BATCH, 0)?;
    let first = whatsapp::export_batch(
        &state,
        &ctx.partner,
        &query,
        view.text(),
        &ExportPosition::default(),
        EXPORT_BATCH,
    )
    .await?;
    let head = csv_chunk(true, &first)?;
    let (sender, receiver) = tokio::sync::mpsc::channel::<Chunk>(2);
    // The channel holds two chunks: the header batch is in it before anything can block.
    let _ = sender.send(Ok(head)).await;
    match advance(ExportPosition::default(), &first) {
        Some(next) => {
            tokio::spawn(export_rest(
                state.clone(),
                ctx.partner.clone(),
                view,
                next,
                sender,
            ));
        }
        None => drop(sender),
    }
    let filename = format!("whatsapp-accounts-{}-{}.csv", ctx.partner.id, today(&state));
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .map_err(|e| AppError::Internal(e.into()))?;
    let body = Body::from_stream(tokio_stream::wrappers::ReceiverStream::new(receiver));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------------
// A number's details

struct Fact {
    label: &'static str,
    value: String,
    code: bool,
    href: Option<String>,
}

fn fact(label: &'static str, value: impl Into<String>) -> Fact {
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

fn code_fact(label: &'static str, value: Option<&str>) -> Fact {
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

struct TimelineEntry {
    label: &'static str,
    class: &'static str,
    from: Option<&'static str>,
    reason: String,
    at: String,
}

struct KeyRow {
    prefix: String,
    created: String,
}

/// What a POST on the details page brings back to show: a new key, an inline problem, or what
/// was typed into the verification form.
#[derive(Default)]
struct Outcome {
    new_key: Option<String>,
    code: String,
    verify_error: Option<String>,
    keys_error: Option<String>,
    cancel_error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "partner/number.html")]
struct NumberPage {
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
}

async fn number_page(
    state: &AppState,
    ctx: &PartnerCtx,
    id: &ChannelId,
    flash: Option<String>,
    outcome: Outcome,
) -> Result<NumberPage, AppError> {
    let partner = &ctx.partner;
    let c = whatsapp::channel(state, partner, id).await?;
    let client = whatsapp::client(state, partner, &c.client_id).await?;
    let history = store::channels::history(state.db.pool(), &partner.id, id).await?;
    let keys = api_keys::channel_keys(state, partner, id).await?;
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
        attempts_left: (whatsapp::MAX_WRONG_CODES - c.verification_attempts).max(0),
        locked_until,
        running: c.status == ChannelStatus::Running,
        pending_deletion: c.status == ChannelStatus::PendingDeletion,
        cancels_on: format_ms(whatsapp::next_month_start_ms(now)),
        cancel_error: outcome.cancel_error,
        keys_error: outcome.keys_error,
    })
}

/// Problems a person can act on are shown on the page next to the form they used; anything
/// else (not found, our own failures) stays an error page.
fn inline_message(err: AppError, subject: &str) -> Result<(StatusCode, String), AppError> {
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

async fn render_outcome(
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

fn redirect_with_flash(state: &AppState, jar: CookieJar, to: &str, message: &str) -> Response {
    let jar = session::set_flash(jar, &state.config, message);
    (jar, Redirect::to(to)).into_response()
}

pub async fn details(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let id = channel_id(&id)?;
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
    meta: ClientMeta,
    jar: CookieJar,
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    let id = channel_id(&id)?;
    let channel = whatsapp::channel(&state, &ctx.partner, &id).await?;
    let verified = whatsapp::verify_number(
        &state,
        &ctx.partner,
        &channel.client_id,
        &id,
        &form.code,
        &actor(&ctx, &meta),
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
    meta: ClientMeta,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let id = channel_id(&id)?;
    match api_keys::create_channel_key(&state, &ctx.partner, &id, &actor(&ctx, &meta)).await {
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
    meta: ClientMeta,
    jar: CookieJar,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let id = channel_id(&id)?;
    let revoked =
        api_keys::revoke_channel_keys(&state, &ctx.partner, &id, &actor(&ctx, &meta)).await?;
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

async fn cancellation(
    ctx: PartnerCtx,
    state: AppState,
    meta: ClientMeta,
    jar: CookieJar,
    id: String,
    enabled: bool,
) -> Result<Response, AppError> {
    let id = channel_id(&id)?;
    let channel = whatsapp::channel(&state, &ctx.partner, &id).await?;
    let changed = whatsapp::set_cancellation(
        &state,
        &ctx.partner,
        &channel.client_id,
        &id,
        enabled,
        &actor(&ctx, &meta),
    )
    .await;
    match changed {
        Ok(_) => {
            let number = display_number(&channel.phone_number);
            let message = if enabled {
                format!(
                    "Cancellation requested. {number} keeps working until {}, then it is cancelled and billing stops.",
                    format_ms(whatsapp::next_month_start_ms(state.now_ms()))
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
    meta: ClientMeta,
    jar: CookieJar,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    cancellation(ctx, state, meta, jar, id, true).await
}

pub async fn withdraw_cancellation(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    meta: ClientMeta,
    jar: CookieJar,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    cancellation(ctx, state, meta, jar, id, false).await
}

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
    Path((_, id)): Path<(String, String)>,
    Form(form): Form<SandboxAlertForm>,
) -> Result<Response, AppError> {
    if !state.config.dev || state.whatsapp.name() != "sandbox" {
        return Err(AppError::NotFound);
    }
    let id = domain::ChannelId::parse(&id).map_err(|_| AppError::NotFound)?;
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

// ---------------------------------------------------------------------------------------------
// Create a client

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ClientForm {
    name: String,
    organisation: String,
    email: String,
    country: String,
    partner_payload: String,
    max_channels: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "partner/client_form.html")]
struct ClientFormPage {
    chrome: Chrome,
    shell: Shell,
    accounts_href: String,
    form: ClientForm,
    errors: FieldErrors,
    alert: Option<String>,
    default_max: i64,
}

fn client_form_page(
    state: &AppState,
    ctx: &PartnerCtx,
    form: ClientForm,
    errors: FieldErrors,
    alert: Option<String>,
) -> ClientFormPage {
    ClientFormPage {
        chrome: Chrome::new(state, None),
        shell: Shell::new(ctx, "accounts"),
        accounts_href: accounts_path(&ctx.partner),
        form,
        errors,
        alert,
        default_max: whatsapp::DEFAULT_MAX_CHANNELS,
    }
}

pub async fn new_client(ctx: PartnerCtx, State(state): State<AppState>) -> Response {
    client_form_page(
        &state,
        &ctx,
        ClientForm::default(),
        FieldErrors::default(),
        None,
    )
    .into_response()
}

fn non_empty(value: &str) -> Option<String> {
    Some(value.trim().to_owned()).filter(|v| !v.is_empty())
}

fn parse_client_form(form: &ClientForm) -> Result<ClientRequest, Vec<FieldError>> {
    // A malformed count is reported together with every other problem of the form.
    let (max_channels, max_error) = match form.max_channels.trim() {
        "" => (None, None),
        raw => match raw.parse::<i64>() {
            Ok(n) => (Some(n), None),
            Err(_) => (
                None,
                Some(FieldError::new(
                    "max_channels",
                    "must be a whole number between 1 and 10000",
                )),
            ),
        },
    };
    let parsed = ClientRequest::parse(
        &form.name,
        non_empty(&form.organisation),
        max_channels,
        non_empty(&form.partner_payload),
        ContactInfo {
            email: non_empty(&form.email),
            country: non_empty(&form.country),
            ..ContactInfo::default()
        },
        ContactUser::default(),
        MetaInfo::default(),
    );
    match (parsed, max_error) {
        (Ok(request), None) => Ok(request),
        (Ok(_), Some(error)) => Err(vec![error]),
        (Err(mut errors), Some(error)) => {
            errors.push(error);
            Err(errors)
        }
        (Err(errors), None) => Err(errors),
    }
}

pub async fn create_client(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    meta: ClientMeta,
    jar: CookieJar,
    Form(form): Form<ClientForm>,
) -> Result<Response, AppError> {
    let created = match parse_client_form(&form) {
        Ok(request) => {
            whatsapp::create_client(&state, &ctx.partner, &request, &actor(&ctx, &meta)).await
        }
        Err(errors) => Err(AppError::Validation(errors)),
    };
    match created {
        Ok(client) => Ok(redirect_with_flash(
            &state,
            jar,
            &format!(
                "{}/numbers/new?client={}",
                accounts_path(&ctx.partner),
                client.id
            ),
            &format!("Client {} created. Now add its first number.", client.name),
        )),
        Err(AppError::Validation(errors)) => {
            let page = client_form_page(&state, &ctx, form, FieldErrors::from(errors), None);
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(err) => {
            let (status, message) = inline_message(err, "The client")?;
            let page = client_form_page(&state, &ctx, form, FieldErrors::default(), Some(message));
            Ok((status, page).into_response())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Add a number

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct NumberForm {
    client: String,
    phone_number: String,
    phone_name: String,
    verification_method: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "partner/number_form.html")]
struct NumberFormPage {
    chrome: Chrome,
    shell: Shell,
    accounts_href: String,
    clients: Vec<Choice>,
    form: NumberForm,
    voice: bool,
    errors: FieldErrors,
    alert: Option<String>,
}

async fn number_form_page(
    state: &AppState,
    ctx: &PartnerCtx,
    flash: Option<String>,
    form: NumberForm,
    errors: FieldErrors,
    alert: Option<String>,
) -> Result<NumberFormPage, AppError> {
    let selected = ClientId::parse(form.client.trim()).ok();
    Ok(NumberFormPage {
        chrome: Chrome::new(state, flash),
        shell: Shell::new(ctx, "accounts"),
        accounts_href: accounts_path(&ctx.partner),
        clients: client_choices(state, &ctx.partner, selected.as_ref()).await?,
        voice: form.verification_method == VerificationMethod::Voice.as_str(),
        form,
        errors,
        alert,
    })
}

pub async fn new_number(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (jar, flash) = session::take_flash(jar, &state.config);
    let client = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "client")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let form = NumberForm {
        client,
        ..NumberForm::default()
    };
    let page = number_form_page(&state, &ctx, flash, form, FieldErrors::default(), None).await?;
    Ok((jar, page).into_response())
}

pub async fn add_number(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    meta: ClientMeta,
    jar: CookieJar,
    Form(form): Form<NumberForm>,
) -> Result<Response, AppError> {
    let parsed = NumberRequest::parse(
        &form.phone_number,
        &form.phone_name,
        Some(&form.verification_method),
        None,
    );
    let client = ClientId::parse(form.client.trim());
    let added = match (parsed, client) {
        (Ok(request), Ok(client)) => {
            whatsapp::add_number(&state, &ctx.partner, &client, &request, &actor(&ctx, &meta)).await
        }
        (parsed, client) => {
            let mut errors = parsed.err().unwrap_or_default();
            if client.is_err() {
                errors.insert(0, FieldError::new("client", "is required: choose a client"));
            }
            Err(AppError::Validation(errors))
        }
    };
    let (status, errors, alert) = match added {
        Ok(channel) => {
            return Ok(redirect_with_flash(
                &state,
                jar,
                &number_path(&ctx.partner, &channel.id),
                &format!(
                    "Number added. The verification code is on its way to {} by {}; enter it here when it arrives.",
                    display_number(&channel.phone_number),
                    VerificationMethod::parse(&channel.verification_method)
                        .map_or("SMS", |m| m.label())
                ),
            ));
        }
        Err(AppError::Validation(errors)) => (StatusCode::BAD_REQUEST, errors, None),
        // A client id from another partner (or a deleted client) names nothing here.
        Err(AppError::NotFound) => (
            StatusCode::NOT_FOUND,
            vec![FieldError::new("client", "is not one of your clients")],
            None,
        ),
        Err(AppError::Conflict(_)) => (
            StatusCode::CONFLICT,
            vec![FieldError::new(
                "phone_number",
                "is already registered on the platform; each number can be live only once",
            )],
            None,
        ),
        Err(err) => {
            let (status, message) = inline_message(err, "The number")?;
            (status, Vec::new(), Some(message))
        }
    };
    let page = number_form_page(&state, &ctx, None, form, FieldErrors::from(errors), alert).await?;
    Ok((status, page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_round_trip_through_the_url() {
        let view = View::parse(Some(
            "q=acme+gmbh&status=running&client=AbCdEfCL&hosting=cloud_api&permission=shared&sort=name&page=3",
        ));
        assert!(!view.ignored);
        assert_eq!(view.q, "acme gmbh");
        assert_eq!(view.status, Some(ChannelStatus::Running));
        assert_eq!(view.sort, SortChoice::DisplayName);
        assert_eq!(view.page, 3);
        let again = View::parse(Some(&view.query_string()));
        assert_eq!(again.query_string(), view.query_string());
        assert_eq!(View::parse(None).query_string(), "");
    }

    #[test]
    fn links_with_unknown_values_say_so() {
        for raw in [
            "status=nope",
            "page=0",
            "page=x",
            "sort=price",
            "client=x'--",
        ] {
            let view = View::parse(Some(raw));
            assert!(view.ignored, "{raw}");
            assert_eq!(view.query_string(), "", "{raw}");
        }
        let view = View::parse(Some("utm_source=mail&status=&q=++"));
        assert!(!view.ignored && !view.is_filtered());
    }

    #[test]
    fn every_view_is_a_valid_list_query() {
        for sort in SortChoice::ALL {
            let view = View {
                sort,
                status: Some(ChannelStatus::Error),
                ..View::default()
            };
            assert!(view.list_query(PAGE_SIZE, 0).is_ok(), "{sort:?}");
        }
    }

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(neutralise("=1+1"), "'=1+1");
        assert_eq!(neutralise("+4915123456789"), "'+4915123456789");
        assert_eq!(neutralise("-x"), "'-x");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("Acme"), "Acme");
        assert_eq!(neutralise(""), "");
    }
}
