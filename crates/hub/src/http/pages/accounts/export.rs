//! The CSV export of the accounts list, streamed in batches.

use super::*;

pub(super) const CSV_HEADER: [&str; 9] = [
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
pub(super) fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// One line of the export, every cell neutralised; borrowed where it can be, since an export
/// writes 100,000 of these.
pub(super) fn csv_record(c: &ExportRow) -> [Cow<'_, str>; 9] {
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
pub(super) fn csv_chunk(header: bool, rows: &[ExportRow]) -> Result<Bytes, AppError> {
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

pub(super) type Chunk = Result<Bytes, std::io::Error>;

/// Fetch the remaining batches after the first and send them on; stops when the reader goes
/// away. A failure mid-way ends the body with an error, so the download visibly breaks instead
/// of looking complete.
pub(super) async fn export_rest(
    state: AppState,
    partner: Partner,
    view: View,
    mut position: ExportPosition,
    sender: tokio::sync::mpsc::Sender<Chunk>,
) {
    loop {
        let batch = async {
            let query = view.list_query(EXPORT_BATCH, 0)?;
            let rows = accounts::export_batch(
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
pub(super) fn advance(position: ExportPosition, rows: &[ExportRow]) -> Option<ExportPosition> {
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

pub(super) fn today(state: &AppState) -> String {
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
    let first = accounts::export_batch(
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
