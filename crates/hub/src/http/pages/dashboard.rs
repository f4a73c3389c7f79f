//! The dashboard sections that are still empty states, and the partner landing redirect.

use crate::error::AppError;
use crate::http::extract::PartnerCtx;
use crate::http::routes::Routes;
use crate::http::session;
use crate::http::views::{Chrome, MENU, Shell};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;

/// A partner's home and the sections not built yet.
pub fn router() -> Routes {
    Routes::new()
        .get("/partner/{partner_id}", partner_home)
        .get("/partner/{partner_id}/{section}", section)
}

#[derive(Template, WebTemplate)]
#[template(path = "partner/section.html")]
struct SectionPage {
    chrome: Chrome,
    shell: Shell,
    title: &'static str,
    payment_model: &'static str,
    currency: String,
}

pub async fn partner_home(ctx: PartnerCtx) -> Redirect {
    Redirect::to(&format!("/partner/{}/accounts", ctx.partner.id))
}

pub async fn section(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    Path((_, section)): Path<(String, String)>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    // Sections with pages of their own have their own routes; only the rest render here.
    let own_pages = [
        "users",
        "accounts",
        "api-keys",
        "integration",
        "profile",
        "partner-change",
        "billing",
    ];
    let Some(item) = MENU
        .iter()
        .find(|m| m.slug == section && !own_pages.contains(&m.slug))
    else {
        return Err(AppError::NotFound);
    };
    let (jar, flash) = session::take_flash(jar, &state.config);
    let page = SectionPage {
        chrome: Chrome::new(&state, flash),
        shell: Shell::new(&ctx, item.slug),
        title: item.label,
        payment_model: ctx.partner.payment_model.label(),
        currency: ctx.partner.currency.as_str().to_uppercase(),
    };
    Ok((jar, page).into_response())
}
