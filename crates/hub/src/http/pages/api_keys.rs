//! The API Keys tab: partner API keys for the Partner API (`X-API-Key`). Owners create named
//! keys (each shown once) and revoke them one by one; Members see the list read-only.

use crate::clock::format_ms;
use crate::error::AppError;
use crate::http::extract::{Form, Ids, PartnerCtx, RequireOwner};
use crate::http::routes::Routes;
use crate::http::session;
use crate::http::views::{Chrome, FieldErrors, Shell};
use crate::services::api_keys;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use domain::{ApiKeyId, PartnerId};

/// Partner API keys.
pub fn router() -> Routes {
    Routes::new()
        .get("/partner/{partner_id}/api-keys", list)
        .post("/partner/{partner_id}/api-keys", create)
        .post("/partner/{partner_id}/api-keys/{key_id}/revoke", revoke)
}

struct KeyRow {
    id: String,
    name: String,
    prefix: String,
    created: String,
    last_used: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "partner/api_keys.html")]
struct ApiKeysPage {
    chrome: Chrome,
    shell: Shell,
    keys: Vec<KeyRow>,
    /// A key just created: its secret, shown in this response only.
    new_key: Option<(String, String)>,
    channels_url: String,
    errors: FieldErrors,
    form_name: String,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct NewKeyForm {
    name: String,
}

async fn page(
    state: &AppState,
    ctx: &PartnerCtx,
    flash: Option<String>,
    new_key: Option<(String, String)>,
    form_name: String,
    errors: FieldErrors,
) -> Result<ApiKeysPage, AppError> {
    let keys = api_keys::partner_keys(state, &ctx.partner.id).await?;
    Ok(ApiKeysPage {
        chrome: Chrome::new(state, flash),
        shell: Shell::new(ctx, "api-keys"),
        keys: keys
            .into_iter()
            .map(|k| KeyRow {
                id: k.id.to_string(),
                name: k.name,
                prefix: k.prefix,
                created: format_ms(k.created_ms),
                last_used: k.last_used_ms.map_or_else(|| "Never".into(), format_ms),
            })
            .collect(),
        new_key,
        channels_url: state
            .config
            .link(&format!("/api/v2/partners/{}/channels", ctx.partner.id)),
        errors,
        form_name,
    })
}

fn tab(ctx: &PartnerCtx) -> String {
    format!("/partner/{}/api-keys", ctx.partner.id)
}

pub async fn list(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (jar, flash) = session::take_flash(jar, &state.config);
    let page = page(
        &state,
        &ctx,
        flash,
        None,
        String::new(),
        FieldErrors::default(),
    )
    .await?;
    Ok((jar, page).into_response())
}

/// Create a key and show it in this very response: after a redirect it would have to be kept
/// somewhere in plain text. `Cache-Control: no-store` (set globally) keeps it out of caches.
pub async fn create(
    RequireOwner(ctx): RequireOwner,
    State(state): State<AppState>,
    Form(form): Form<NewKeyForm>,
) -> Result<Response, AppError> {
    match api_keys::create_partner_key(&state, &ctx.partner.id, &form.name, &ctx.actor()).await {
        Ok(created) => {
            let new_key = Some((created.key.name, created.secret));
            let page = page(
                &state,
                &ctx,
                None,
                new_key,
                String::new(),
                FieldErrors::default(),
            )
            .await?;
            Ok(page.into_response())
        }
        Err(AppError::Validation(errors)) => {
            let page = page(
                &state,
                &ctx,
                None,
                None,
                form.name.trim().to_owned(),
                FieldErrors::from(errors),
            )
            .await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(other) => Err(other),
    }
}

pub async fn revoke(
    RequireOwner(ctx): RequireOwner,
    State(state): State<AppState>,
    jar: CookieJar,
    Ids((_, id)): Ids<(PartnerId, ApiKeyId)>,
) -> Result<Response, AppError> {
    let name = api_keys::partner_keys(&state, &ctx.partner.id)
        .await?
        .into_iter()
        .find(|k| k.id == id)
        .map(|k| k.name)
        .ok_or(AppError::NotFound)?;
    api_keys::revoke_partner_key(&state, &ctx.partner.id, &id, &ctx.actor()).await?;
    let jar = session::set_flash(
        jar,
        &state.config,
        &format!(
            "The API key \u{201c}{name}\u{201d} was revoked. Requests with it are refused from now on."
        ),
    );
    Ok((jar, Redirect::to(&tab(&ctx))).into_response())
}
