//! The Profile tab (company logo, brand name, Allow clients to add phone number), its preview of
//! the onboarding screens with the saved values or with values still being edited, and the
//! public logo images. Owners edit; Members read.

use crate::error::AppError;
use crate::http::extract::{PartnerCtx, RequireOwner};
use crate::http::onboarding::{self, Brand, Mode, PreviewBar, Screen};
use crate::http::routes::Routes;
use crate::http::session;
use crate::http::views::{Chrome, FieldErrors, Shell};
use crate::services::profile::{self, CheckedLogo, ProfileChange};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::DefaultBodyLimit;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::CookieJar;
use domain::logo::{self, LogoError};
use domain::{BrandName, FieldError, PartnerId};

/// The partner profile (brand, logo) with its preview, and the logos themselves.
pub fn router() -> Routes {
    Routes::new()
        .service(
            &[Method::GET, Method::POST],
            "/partner/{partner_id}/profile",
            get(show)
                .post(save)
                .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)),
        )
        .service(
            &[Method::GET, Method::POST],
            "/partner/{partner_id}/profile/preview",
            get(preview)
                .post(preview_unsaved)
                .layer(DefaultBodyLimit::max(FORM_BODY_LIMIT)),
        )
        .post("/partner/{partner_id}/profile/logo/remove", remove_logo)
        .get("/logos/{partner_id}/{file}", serve_logo)
}

/// Body limit of the profile form's routes: the logo's 1 MB plus room for the other fields and
/// the multipart framing. Larger bodies are cut off and explained inline.
pub const FORM_BODY_LIMIT: usize = logo::MAX_UPLOAD_BYTES + 64 * 1024;
/// What is kept of a text field: far more than any valid value, so a too long one comes back
/// to its field with its own message and the person's text, yet memory stays bounded.
const TEXT_FIELD_KEPT: usize = 16 * 1024;

#[derive(Template, WebTemplate)]
#[template(path = "partner/profile.html")]
struct ProfilePage {
    chrome: Chrome,
    shell: Shell,
    brand_name: String,
    logo_src: Option<String>,
    logo_facts: Option<String>,
    shows_toggle: bool,
    allow_numbers: bool,
    /// The brand name typed into a refused form, so nothing is lost.
    form_brand_name: Option<String>,
    form_allow_numbers: Option<bool>,
    errors: FieldErrors,
}

#[derive(Debug, Default)]
struct Extras {
    flash: Option<String>,
    form_brand_name: Option<String>,
    form_allow_numbers: Option<bool>,
    errors: Vec<FieldError>,
}

fn tab(partner: &PartnerId) -> String {
    format!("/partner/{partner}/profile")
}

async fn page(state: &AppState, ctx: &PartnerCtx, extras: Extras) -> Result<ProfilePage, AppError> {
    let stored = profile::profile(state, &ctx.partner.id).await?;
    Ok(ProfilePage {
        chrome: Chrome::new(state, extras.flash),
        shell: Shell::new(ctx, "profile"),
        brand_name: stored.brand_name.unwrap_or_default(),
        logo_src: stored
            .logo
            .as_ref()
            .map(|l| profile::logo_path(&ctx.partner.id, &l.content_hash)),
        logo_facts: stored.logo.as_ref().map(|l| {
            format!(
                "{} × {} px PNG, {} KB",
                l.width,
                l.height,
                (l.byte_len + 1023) / 1024
            )
        }),
        shows_toggle: profile::has_number_toggle(&ctx.partner),
        allow_numbers: stored.allow_client_to_add_phone_no,
        form_brand_name: extras.form_brand_name,
        form_allow_numbers: extras.form_allow_numbers,
        errors: FieldErrors::from(extras.errors),
    })
}

pub async fn show(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (jar, flash) = session::take_flash(jar, &state.config);
    let page = page(
        &state,
        &ctx,
        Extras {
            flash,
            ..Extras::default()
        },
    )
    .await?;
    Ok((jar, page).into_response())
}

/// The profile form as sent (multipart, because of the logo file).
#[derive(Debug, Default)]
struct ProfileForm {
    brand_name: String,
    /// The chosen file's bytes; `None` when no file was chosen.
    logo: Option<Vec<u8>>,
    /// The form carried the toggle (a hidden marker next to the checkbox, which browsers omit
    /// when unticked).
    toggle_sent: bool,
    allow_numbers: bool,
    screen: String,
}

/// Why the form could not be read at all (as opposed to values that fail their rules).
enum Unreadable {
    /// The logo is over 1 MB.
    LogoTooLarge,
    /// The whole body passed the route's limit while reading another field.
    FormTooLarge,
    Malformed,
}

async fn read_form(
    multipart: Result<Multipart, MultipartRejection>,
    form: &mut ProfileForm,
) -> Result<(), Unreadable> {
    let mut multipart = multipart.map_err(|_| Unreadable::Malformed)?;
    let failed = |field: &str| {
        let is_logo = field == "logo";
        move |e: axum::extract::multipart::MultipartError| match (
            e.status() == StatusCode::PAYLOAD_TOO_LARGE,
            is_logo,
        ) {
            (true, true) => Unreadable::LogoTooLarge,
            (true, false) => Unreadable::FormTooLarge,
            (false, _) => Unreadable::Malformed,
        }
    };
    while let Some(mut field) = multipart.next_field().await.map_err(failed(""))? {
        let name = field.name().unwrap_or_default().to_owned();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(failed(&name))? {
            if name == "logo" {
                if bytes.len() + chunk.len() > logo::MAX_UPLOAD_BYTES {
                    return Err(Unreadable::LogoTooLarge);
                }
                bytes.extend_from_slice(&chunk);
            } else {
                let room = TEXT_FIELD_KEPT.saturating_sub(bytes.len());
                bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
        }
        let text = || String::from_utf8_lossy(&bytes).into_owned();
        match name.as_str() {
            "brand_name" => form.brand_name = text(),
            // A file input with nothing chosen still sends an empty part.
            "logo" if !bytes.is_empty() => form.logo = Some(bytes),
            "toggle_shown" => form.toggle_sent = true,
            "allow_client_to_add_phone_no" => {
                form.toggle_sent = true;
                form.allow_numbers = matches!(text().as_str(), "on" | "1" | "true");
            }
            "screen" => form.screen = text(),
            _ => {}
        }
    }
    Ok(())
}

/// Everything the form asks for, checked; or the page again with inline messages.
struct Checked {
    brand_name: BrandName,
    logo: Option<CheckedLogo>,
    allow_numbers: Option<bool>,
}

/// Check the form without storing anything. The refusal's status and messages are returned
/// for the caller to render.
async fn check_form(
    ctx: &PartnerCtx,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(Checked, ProfileForm), (StatusCode, Extras)> {
    let mut form = ProfileForm::default();
    let read = read_form(multipart, &mut form).await;
    let mut extras = Extras {
        form_brand_name: Some(form.brand_name.clone()),
        form_allow_numbers: form.toggle_sent.then_some(form.allow_numbers),
        ..Extras::default()
    };
    match read {
        Err(Unreadable::LogoTooLarge) => {
            extras
                .errors
                .push(FieldError::new("logo", LogoError::TooLarge.to_string()));
            return Err((StatusCode::PAYLOAD_TOO_LARGE, extras));
        }
        Err(Unreadable::FormTooLarge) => {
            extras.errors.push(FieldError::new(
                "form",
                format!(
                    "The form is larger than the {} KB it may be in all, so nothing was saved. The brand name may be at most {} characters and the logo at most 1 MB.",
                    FORM_BODY_LIMIT / 1024,
                    domain::limits::BRAND_NAME_CHARS
                ),
            ));
            return Err((StatusCode::PAYLOAD_TOO_LARGE, extras));
        }
        Err(Unreadable::Malformed) => {
            extras.errors.push(FieldError::new(
                "form",
                "The form could not be read. Reload the page and try again.",
            ));
            return Err((StatusCode::BAD_REQUEST, extras));
        }
        Ok(()) => {}
    }
    if form.toggle_sent && !profile::has_number_toggle(&ctx.partner) {
        extras.errors.push(FieldError::new(
            "allow_client_to_add_phone_no",
            profile::TOGGLE_NOT_FOR_DIRECT_PAYMENT,
        ));
        extras.form_allow_numbers = None;
        return Err((StatusCode::UNPROCESSABLE_ENTITY, extras));
    }
    let brand = BrandName::parse(&form.brand_name);
    let logo = match form.logo.take() {
        Some(bytes) => Some(profile::check_logo(bytes).await),
        None => None,
    };
    match (brand, logo.transpose()) {
        (Ok(brand_name), Ok(logo)) => Ok((
            Checked {
                brand_name,
                logo,
                allow_numbers: form.toggle_sent.then_some(form.allow_numbers),
            },
            form,
        )),
        (brand, logo) => {
            if let Err(e) = brand {
                extras.errors.push(e);
            }
            if let Err(e) = logo {
                extras.errors.push(FieldError::new("logo", e.to_string()));
            }
            Err((StatusCode::UNPROCESSABLE_ENTITY, extras))
        }
    }
}

async fn refused(
    state: &AppState,
    ctx: &PartnerCtx,
    status: StatusCode,
    extras: Extras,
) -> Result<Response, AppError> {
    Ok((status, page(state, ctx, extras).await?).into_response())
}

/// Save the profile form: brand name, a new logo if one was chosen, and the toggle.
pub async fn save(
    RequireOwner(ctx): RequireOwner,
    State(state): State<AppState>,
    jar: CookieJar,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let (checked, _) = match check_form(&ctx, multipart).await {
        Ok(ok) => ok,
        Err((status, extras)) => return refused(&state, &ctx, status, extras).await,
    };
    let change = ProfileChange {
        brand_name: Some(Some(checked.brand_name.clone())),
        logo: checked.logo.clone(),
        allow_client_to_add_phone_no: checked.allow_numbers,
    };
    profile::save(&state, &ctx.partner, &change, &ctx.actor()).await?;
    let message = match &checked.logo {
        Some(logo) => format!(
            "Profile saved: brand name “{}” and a new logo ({} × {} px).",
            checked.brand_name.as_str(),
            logo.width,
            logo.height
        ),
        None => format!(
            "Profile saved: brand name “{}”.",
            checked.brand_name.as_str()
        ),
    };
    let jar = session::set_flash(jar, &state.config, &message);
    Ok((jar, Redirect::to(&tab(&ctx.partner.id))).into_response())
}

pub async fn remove_logo(
    RequireOwner(ctx): RequireOwner,
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let removed = profile::remove_logo(&state, &ctx.partner.id, &ctx.actor()).await?;
    let message = if removed {
        "Logo removed. Your clients now see only your brand name."
    } else {
        "There was no logo to remove."
    };
    let jar = session::set_flash(jar, &state.config, message);
    Ok((jar, Redirect::to(&tab(&ctx.partner.id))).into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct PreviewQuery {
    screen: String,
}

fn preview_href(partner: &PartnerId, screen: Screen) -> String {
    format!("{}/preview?screen={}", tab(partner), screen.as_str())
}

/// The onboarding screens with the saved logo and brand name (Members may look too).
pub async fn preview(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    Query(query): Query<PreviewQuery>,
) -> Result<Response, AppError> {
    let stored = profile::profile(&state, &ctx.partner.id).await?;
    let id = &ctx.partner.id;
    let brand = Brand {
        partner_id: id.to_string(),
        brand_name: stored
            .brand_name
            .unwrap_or_else(|| ctx.partner.name.clone()),
        logo_src: stored.logo.map(|l| profile::logo_path(id, &l.content_hash)),
    };
    let mode = Mode::Preview(PreviewBar {
        back_href: tab(id),
        onboarding_href: Some(preview_href(id, Screen::Signup)),
        migration_href: Some(preview_href(id, Screen::Migration)),
        unsaved: false,
    });
    Ok(onboarding::render(
        Chrome::new(&state, None),
        brand,
        mode,
        Screen::parse(&query.screen),
    ))
}

/// The onboarding screens with the values in the profile form, before they are saved. The logo
/// is checked exactly as when saving, then inlined as a `data:` URL; nothing is stored.
pub async fn preview_unsaved(
    RequireOwner(ctx): RequireOwner,
    State(state): State<AppState>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let (checked, form) = match check_form(&ctx, multipart).await {
        Ok(ok) => ok,
        Err((status, extras)) => return refused(&state, &ctx, status, extras).await,
    };
    let id = &ctx.partner.id;
    // Without a new file the preview shows the logo that is saved now.
    let logo_src = match &checked.logo {
        Some(logo) => Some(logo.data_url()),
        None => store::logos::meta(state.db.pool(), id)
            .await?
            .map(|l| profile::logo_path(id, &l.content_hash)),
    };
    let brand = Brand {
        partner_id: id.to_string(),
        brand_name: checked.brand_name.as_str().to_owned(),
        logo_src,
    };
    let mode = Mode::Preview(PreviewBar {
        back_href: tab(id),
        onboarding_href: None,
        migration_href: None,
        unsaved: true,
    });
    Ok(onboarding::render(
        Chrome::new(&state, None),
        brand,
        mode,
        Screen::parse(&form.screen),
    ))
}

/// A stored logo, public (clients' onboarding pages show it before anyone logs in). The hash in
/// the name makes every URL immutable, so browsers and proxies may keep it for a year; an old
/// hash names nothing.
pub async fn serve_logo(
    State(state): State<AppState>,
    Path((partner_id, file)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let partner = PartnerId::parse(&partner_id).map_err(|_| AppError::NotFound)?;
    let hash = file
        .strip_suffix(&format!(".{}", logo::STORED_EXTENSION))
        .filter(|h| h.len() == 32 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .ok_or(AppError::NotFound)?;
    let found = store::logos::by_hash(state.db.pool(), &partner, hash)
        .await?
        .ok_or(AppError::NotFound)?;
    let content_type =
        HeaderValue::from_str(&found.content_type).map_err(|e| AppError::Internal(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        found.bytes,
    )
        .into_response())
}
