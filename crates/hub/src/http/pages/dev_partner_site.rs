//! Development mode only: a stand-in for a partner's website at `/dev/partner-site/{id}` with a
//! plain "Connect" button that runs Integrated Onboarding in a popup (as the vendor's connect
//! button does) and shows the ids that come back, plus the redirect page that hands them to the
//! opener. Outside development mode both are "not found", like the webhook sink.

use crate::error::AppError;
use crate::http::routes::Routes;
use crate::http::views::Chrome;
use crate::services::onboarding;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};

/// Development mode: a stand-in partner website with the connect button.
pub fn router() -> Routes {
    Routes::new()
        .get("/dev/partner-site/{partner_id}", show)
        .get("/dev/partner-site/{partner_id}/callback", callback)
}

#[derive(Template, WebTemplate)]
#[template(path = "dev/partner_site.html")]
struct PartnerSitePage {
    chrome: Chrome,
    /// `site` (the button) or `callback` (the redirect page).
    role: &'static str,
    partner_name: String,
    onboarding: String,
    callback: String,
}

async fn page(
    state: &AppState,
    partner_id: &str,
    role: &'static str,
) -> Result<Response, AppError> {
    if !state.config.dev {
        return Err(AppError::NotFound);
    }
    let public = onboarding::public_partner(state, partner_id).await?;
    let id = &public.partner.id;
    Ok(PartnerSitePage {
        chrome: Chrome::new(state, None),
        role,
        partner_name: public.brand_name.clone(),
        onboarding: format!("/dashboard/app/{id}"),
        callback: format!("/dev/partner-site/{id}/callback"),
    }
    .into_response())
}

pub async fn show(
    State(state): State<AppState>,
    Path(partner_id): Path<String>,
) -> Result<Response, AppError> {
    page(&state, &partner_id, "site").await
}

pub async fn callback(
    State(state): State<AppState>,
    Path(partner_id): Path<String>,
) -> Result<Response, AppError> {
    page(&state, &partner_id, "callback").await
}
