//! Notifications: the list behind the header bell, mark one or all read.

use crate::clock::format_ms;
use crate::error::AppError;
use crate::http::extract::PartnerCtx;
use crate::http::routes::Routes;
use crate::http::session;
use crate::http::views::{Chrome, Shell};
use crate::services::notifications;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;

/// The bell's notifications.
pub fn router() -> Routes {
    Routes::new()
        .get("/partner/{partner_id}/notifications", list)
        .post(
            "/partner/{partner_id}/notifications/read-all",
            mark_all_read,
        )
        .post(
            "/partner/{partner_id}/notifications/{notification_id}/read",
            mark_read,
        )
}

const PAGE_SIZE: i64 = 30;

pub struct NotificationView {
    pub id: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub at: String,
    pub unread: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "partner/notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    shell: Shell,
    items: Vec<NotificationView>,
    unread: i64,
    prev_href: Option<String>,
    next_href: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct PageQuery {
    page: String,
}

pub async fn list(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    Query(q): Query<PageQuery>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (jar, flash) = session::take_flash(jar, &state.config);
    let page_no = q
        .page
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let offset = (page_no - 1).saturating_mul(PAGE_SIZE);
    let (rows, total) =
        store::notifications::list(&state.db, &ctx.partner.id, &ctx.user.id, PAGE_SIZE, offset)
            .await?;
    let unread =
        store::notifications::unread_count(state.db.pool(), &ctx.partner.id, &ctx.user.id).await?;
    let base = format!("/partner/{}/notifications", ctx.partner.id);
    let shown = i64::try_from(rows.len()).unwrap_or(0);
    let page = NotificationsPage {
        chrome: Chrome::new(&state, flash),
        shell: Shell::new(&ctx, "notifications"),
        items: rows
            .into_iter()
            .map(|n| NotificationView {
                id: n.id,
                title: n.title,
                body: n.body,
                // Only paths inside the Hub are ever stored; keep it that way when rendering.
                link: n
                    .link
                    .filter(|l| l.starts_with('/') && !l.starts_with("//")),
                at: format_ms(n.created_ms),
                unread: n.read_ms.is_none(),
            })
            .collect(),
        unread,
        prev_href: (page_no > 1).then(|| format!("{base}?page={}", page_no - 1)),
        next_href: (offset + shown < total).then(|| format!("{base}?page={}", page_no + 1)),
    };
    Ok((jar, page).into_response())
}

/// Mark one read, then go to `next` (the notification's own link, a path of this partner in the
/// Hub) when the form names one. The body is read by hand so an empty POST also works.
pub async fn mark_read(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let next = url::form_urlencoded::parse(&body)
        .find(|(k, _)| k == "next")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if !notifications::mark_read(&state, &ctx.partner.id, &ctx.user.id, &id).await? {
        return Err(AppError::NotFound);
    }
    let next = if next.starts_with(&format!("/partner/{}/", ctx.partner.id)) {
        next
    } else {
        format!("/partner/{}/notifications", ctx.partner.id)
    };
    Ok(Redirect::to(&next).into_response())
}

pub async fn mark_all_read(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let n = notifications::mark_all_read(&state, &ctx.partner.id, &ctx.user.id).await?;
    let message = match n {
        0 => "Nothing was unread.".to_owned(),
        1 => "1 notification marked as read.".to_owned(),
        n => format!("{n} notifications marked as read."),
    };
    let jar = session::set_flash(jar, &state.config, &message);
    Ok((
        jar,
        Redirect::to(&format!("/partner/{}/notifications", ctx.partner.id)),
    )
        .into_response())
}
