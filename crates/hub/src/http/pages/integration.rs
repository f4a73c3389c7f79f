//! The Integration tab: Partner ID, Solution ID, the webhook and redirect URLs with their Test
//! buttons, the webhook signing secret, the default hosting type (with the Switch to Cloud API
//! dialog) and the default data storage region. Owners edit; Members read.

use crate::error::AppError;
use crate::http::extract::{Form, PartnerCtx, RequireOwner};
use crate::http::routes::Routes;
use crate::http::session;
use crate::http::views::{Chrome, FieldErrors, Shell};
use crate::services::webhooks::{self, DefaultsChange, TestResult, UrlKind};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use domain::{DataStorageRegion, FieldError, HostingType};

/// Integration settings: webhook and redirect URLs, signing secret, Solution ID, hosting.
pub fn router() -> Routes {
    Routes::new()
        .get("/partner/{partner_id}/integration", show)
        .post(
            "/partner/{partner_id}/integration/webhook-url",
            save_webhook_url,
        )
        .post(
            "/partner/{partner_id}/integration/webhook-url/test",
            test_webhook_url,
        )
        .post(
            "/partner/{partner_id}/integration/redirect-url",
            save_redirect_url,
        )
        .post(
            "/partner/{partner_id}/integration/redirect-url/test",
            test_redirect_url,
        )
        .post(
            "/partner/{partner_id}/integration/solution-id",
            save_solution_id,
        )
        .post(
            "/partner/{partner_id}/integration/secret/reveal",
            reveal_secret,
        )
        .post(
            "/partner/{partner_id}/integration/secret/rotate",
            rotate_secret,
        )
        .post(
            "/partner/{partner_id}/integration/storage-region",
            save_region,
        )
        .post(
            "/partner/{partner_id}/integration/switch-to-cloud",
            switch_to_cloud,
        )
}

pub struct RegionChoice {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// Which step of the Switch to Cloud API dialog is open.
pub enum SwitchStep {
    Closed,
    /// Keep US storage or pick a local region.
    Storage,
    /// Confirm the choice.
    Confirm {
        region: Option<&'static str>,
        region_label: &'static str,
    },
    /// It is done.
    Done {
        region_label: &'static str,
    },
}

#[derive(Template, WebTemplate)]
#[template(path = "partner/integration.html")]
struct IntegrationPage {
    chrome: Chrome,
    shell: Shell,
    solution_id: String,
    webhook_url: String,
    webhook_disabled: bool,
    redirect_url: String,
    hosting_label: &'static str,
    on_premise: bool,
    region_label: &'static str,
    regions: Vec<RegionChoice>,
    /// Values typed into a form that was refused, so nothing is lost.
    form_webhook_url: Option<String>,
    form_redirect_url: Option<String>,
    form_solution_id: Option<String>,
    errors: FieldErrors,
    webhook_test: Option<TestResult>,
    redirect_test: Option<TestResult>,
    secret: Option<String>,
    switch: SwitchStep,
    dev_sink_href: Option<String>,
}

#[derive(Debug, Default)]
struct Extras {
    flash: Option<String>,
    form_webhook_url: Option<String>,
    form_redirect_url: Option<String>,
    form_solution_id: Option<String>,
    errors: Vec<FieldError>,
    webhook_test: Option<TestResult>,
    redirect_test: Option<TestResult>,
    secret: Option<String>,
}

fn region_choices(selected: Option<&str>) -> Vec<RegionChoice> {
    let mut out = vec![RegionChoice {
        value: "",
        label: DataStorageRegion::optional_label(None),
        selected: selected.is_none(),
    }];
    out.extend(DataStorageRegion::ALL.iter().map(|r| RegionChoice {
        value: r.as_str(),
        label: r.label(),
        selected: selected == Some(r.as_str()),
    }));
    out
}

async fn page(
    state: &AppState,
    ctx: &PartnerCtx,
    extras: Extras,
    switch: SwitchStep,
) -> Result<IntegrationPage, AppError> {
    let settings = store::partners::settings(state.db.pool(), &ctx.partner.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let endpoints = webhooks::endpoints(state, &ctx.partner.id).await?;
    let hosting =
        HostingType::parse(&settings.default_hosting_type).unwrap_or(HostingType::CloudApi);
    let region = settings
        .default_data_storage_region
        .as_deref()
        .and_then(|r| DataStorageRegion::parse(r).ok());
    Ok(IntegrationPage {
        chrome: Chrome::new(state, extras.flash),
        shell: Shell::new(ctx, "integration"),
        solution_id: settings.solution_id.unwrap_or_default(),
        webhook_url: endpoints.webhook_url.clone().unwrap_or_default(),
        webhook_disabled: endpoints.webhook_disabled_ms.is_some(),
        redirect_url: endpoints.redirect_url.unwrap_or_default(),
        hosting_label: hosting.label(),
        on_premise: hosting == HostingType::OnPremise,
        region_label: DataStorageRegion::optional_label(region),
        regions: region_choices(region.map(DataStorageRegion::as_str)),
        form_webhook_url: extras.form_webhook_url,
        form_redirect_url: extras.form_redirect_url,
        form_solution_id: extras.form_solution_id,
        errors: FieldErrors::from(extras.errors),
        webhook_test: extras.webhook_test,
        redirect_test: extras.redirect_test,
        secret: extras.secret,
        switch,
        dev_sink_href: state
            .config
            .dev
            .then(|| format!("/dev/webhook-sink/{}", ctx.partner.id)),
    })
}

fn tab(ctx: &PartnerCtx) -> String {
    format!("/partner/{}/integration", ctx.partner.id)
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ShowQuery {
    /// `storage`, `confirm` or `done`: the Switch to Cloud API dialog's step.
    switch: String,
    /// The dialog's one choice: empty for US storage, else the local region.
    region: String,
}

pub async fn show(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    Query(query): Query<ShowQuery>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (jar, flash) = session::take_flash(jar, &state.config);
    let region = DataStorageRegion::parse_optional(&query.region)
        .ok()
        .flatten();
    let switch = match query.switch.as_str() {
        "storage" if ctx.role.is_owner() => SwitchStep::Storage,
        "confirm" if ctx.role.is_owner() => SwitchStep::Confirm {
            region: region.map(DataStorageRegion::as_str),
            region_label: DataStorageRegion::optional_label(region),
        },
        "done" => SwitchStep::Done {
            region_label: DataStorageRegion::optional_label(region),
        },
        _ => SwitchStep::Closed,
    };
    let page = page(
        &state,
        &ctx,
        Extras {
            flash,
            ..Extras::default()
        },
        switch,
    )
    .await?;
    Ok((jar, page).into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct UrlForm {
    url: String,
}

async fn save(
    ctx: PartnerCtx,
    state: AppState,
    jar: CookieJar,
    kind: UrlKind,
    raw: String,
) -> Result<Response, AppError> {
    match webhooks::parse_url(&state, kind, Some(&raw)) {
        Err(e) => {
            let mut extras = Extras {
                errors: vec![e],
                ..Extras::default()
            };
            match kind {
                UrlKind::Webhook => extras.form_webhook_url = Some(raw),
                UrlKind::Redirect => extras.form_redirect_url = Some(raw),
            }
            let page = page(&state, &ctx, extras, SwitchStep::Closed).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
        Ok(url) => {
            let previous =
                webhooks::save_url(&state, &ctx.partner.id, kind, url.as_ref(), &ctx.actor())
                    .await?;
            let message = match (&url, previous) {
                (None, _) => format!("{} removed.", kind.label()),
                (Some(url), Some(old)) if old != url.as_str() => {
                    format!("{} saved: {url} replaces {old}.", kind.label())
                }
                (Some(url), _) => format!("{} saved: {url}.", kind.label()),
            };
            let jar = session::set_flash(jar, &state.config, &message);
            Ok((jar, Redirect::to(&tab(&ctx))).into_response())
        }
    }
}

pub async fn save_webhook_url(
    RequireOwner(ctx): RequireOwner,
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<UrlForm>,
) -> Result<Response, AppError> {
    save(ctx, state, jar, UrlKind::Webhook, form.url).await
}

pub async fn save_redirect_url(
    RequireOwner(ctx): RequireOwner,
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<UrlForm>,
) -> Result<Response, AppError> {
    save(ctx, state, jar, UrlKind::Redirect, form.url).await
}

/// Test buttons answer with the page itself, the outcome shown beside the URL.
async fn tested(
    state: &AppState,
    ctx: &PartnerCtx,
    kind: UrlKind,
    result: Result<TestResult, AppError>,
) -> Result<Response, AppError> {
    let mut extras = Extras::default();
    match result {
        Ok(r) => match kind {
            UrlKind::Webhook => extras.webhook_test = Some(r),
            UrlKind::Redirect => extras.redirect_test = Some(r),
        },
        Err(AppError::Unprocessable(message)) => extras.flash = Some(message),
        Err(other) => return Err(other),
    }
    // A failed test has just notified this person too: the bell must count it already.
    let mut ctx = ctx.clone();
    ctx.unread =
        store::notifications::unread_count(state.db.pool(), &ctx.partner.id, &ctx.user.id).await?;
    Ok(page(state, &ctx, extras, SwitchStep::Closed)
        .await?
        .into_response())
}

pub async fn test_webhook_url(
    ctx: PartnerCtx,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let result = webhooks::test_webhook(&state, &ctx.partner.id, &ctx.actor()).await;
    tested(&state, &ctx, UrlKind::Webhook, result).await
}

pub async fn test_redirect_url(
    ctx: PartnerCtx,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let result = webhooks::test_redirect(&state, &ctx.partner.id).await;
    tested(&state, &ctx, UrlKind::Redirect, result).await
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct SolutionForm {
    solution_id: String,
}

pub async fn save_solution_id(
    RequireOwner(ctx): RequireOwner,
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<SolutionForm>,
) -> Result<Response, AppError> {
    let solution_id = match domain::SolutionId::parse_optional(&form.solution_id) {
        Ok(solution_id) => solution_id,
        Err(error) => {
            let extras = Extras {
                errors: vec![error],
                form_solution_id: Some(form.solution_id),
                ..Extras::default()
            };
            let page = page(&state, &ctx, extras, SwitchStep::Closed).await?;
            return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    crate::services::partners::set_solution_id(
        &state,
        &ctx.partner.id,
        solution_id.as_ref(),
        &ctx.actor(),
    )
    .await?;
    let message = match &solution_id {
        None => "Solution ID removed.".to_owned(),
        Some(id) => format!("Solution ID saved: {}.", id.as_str()),
    };
    let jar = session::set_flash(jar, &state.config, &message);
    Ok((jar, Redirect::to(&tab(&ctx))).into_response())
}

/// Show the signing secret in this response only (never after a redirect).
pub async fn reveal_secret(
    RequireOwner(ctx): RequireOwner,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let secret = webhooks::reveal_secret(&state, &ctx.partner.id, &ctx.actor()).await?;
    let extras = Extras {
        secret: Some(secret),
        ..Extras::default()
    };
    Ok(page(&state, &ctx, extras, SwitchStep::Closed)
        .await?
        .into_response())
}

pub async fn rotate_secret(
    RequireOwner(ctx): RequireOwner,
    State(state): State<AppState>,
) -> Result<Response, AppError> {
    let secret = webhooks::rotate_secret(&state, &ctx.partner.id, &ctx.actor()).await?;
    let extras = Extras {
        secret: Some(secret),
        flash: Some(
            "New signing secret created. The previous one keeps signing (as a second signature) for 24 hours, so update your receiver within a day.".into(),
        ),
        ..Extras::default()
    };
    Ok(page(&state, &ctx, extras, SwitchStep::Closed)
        .await?
        .into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct RegionForm {
    region: String,
}

pub async fn save_region(
    RequireOwner(ctx): RequireOwner,
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<RegionForm>,
) -> Result<Response, AppError> {
    let region = DataStorageRegion::parse_optional_as(&form.region, "region")
        .map_err(|e| AppError::Validation(vec![e]))?;
    webhooks::set_defaults(
        &state,
        &ctx.partner.id,
        DefaultsChange {
            hosting_type: None,
            region: Some(region),
        },
        &ctx.actor(),
    )
    .await?;
    let message = format!(
        "Default data storage region saved: {}. New Cloud API numbers store their data there; existing numbers keep theirs.",
        DataStorageRegion::optional_label(region)
    );
    let jar = session::set_flash(jar, &state.config, &message);
    Ok((jar, Redirect::to(&tab(&ctx))).into_response())
}

/// The last step of Switch to Cloud API: the default becomes Cloud API with the chosen storage.
pub async fn switch_to_cloud(
    RequireOwner(ctx): RequireOwner,
    State(state): State<AppState>,
    Form(form): Form<RegionForm>,
) -> Result<Response, AppError> {
    let region = DataStorageRegion::parse_optional_as(&form.region, "region")
        .map_err(|e| AppError::Validation(vec![e]))?;
    webhooks::set_defaults(
        &state,
        &ctx.partner.id,
        DefaultsChange {
            hosting_type: Some(HostingType::CloudApi),
            region: Some(region),
        },
        &ctx.actor(),
    )
    .await?;
    Ok(Redirect::to(&format!(
        "{}?switch=done&region={}",
        tab(&ctx),
        region.map_or("", DataStorageRegion::as_str)
    ))
    .into_response())
}
