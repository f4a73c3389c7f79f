//! The accounts list: filters, status chips, search and paging.

use super::*;

pub(super) struct ChannelRow {
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
pub(super) struct Choice {
    pub(super) value: String,
    pub(super) label: String,
    pub(super) selected: bool,
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
pub(super) struct Chip {
    label: &'static str,
    count: i64,
    href: String,
    current: bool,
    class: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "partner/accounts.html")]
pub(super) struct AccountsPage {
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

pub(super) async fn client_choices(
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
pub(super) async fn status_chips(
    state: &AppState,
    partner: &Partner,
    view: &View,
    base: &str,
) -> Result<Vec<Chip>, AppError> {
    let all = view.with_status(None);
    let (_, everything) =
        accounts::channels(state, partner, &all.list_query(1, 0)?, all.text()).await?;
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
            accounts::channels(state, partner, &one.list_query(1, 0)?, one.text()).await?;
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
    let (channels, total) = accounts::channels(&state, partner, &query, view.text()).await?;
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
