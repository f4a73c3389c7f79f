//! The HTTP surface: routes and the middleware every request passes through.

pub mod api;
pub mod assets;
pub mod client_hub;
pub mod docs;
pub mod error;
pub mod extract;
pub mod migration;
pub mod onboarding;
pub mod onboarding_flow;
pub mod ops;
pub mod pages;
pub mod session;
pub mod staff;
pub mod views;

use crate::error::AppError;
use crate::http::error::{ApiError, InternalErrorMarker, error_page};
use crate::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::csrf::CsrfLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Largest request body accepted anywhere (forms are far smaller; uploads get their own limit).
const BODY_LIMIT: usize = 256 * 1024;

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

#[derive(Clone, Copy, Default)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&domain::ids::row_id("req"))
            .ok()
            .map(RequestId::new)
    }
}

/// Every route of the public listener.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/", get(pages::auth::home))
        .route(
            "/login",
            get(pages::auth::login_form).post(pages::auth::login_submit),
        )
        .route("/logout", post(pages::auth::logout))
        .route(
            "/forgot-password",
            get(pages::auth::forgot_form).post(pages::auth::forgot_submit),
        )
        .route(
            "/reset-password/{token}",
            get(pages::auth::reset_form).post(pages::auth::reset_submit),
        )
        .route(
            "/invite/{token}",
            get(pages::auth::invite_form).post(pages::auth::invite_submit),
        )
        .route("/partner/{partner_id}", get(pages::dashboard::partner_home))
        .route(
            "/partner/{partner_id}/users",
            get(pages::users::list).post(pages::users::invite),
        )
        .route(
            "/partner/{partner_id}/users/invitations/{invitation_id}/resend",
            post(pages::users::resend),
        )
        .route(
            "/partner/{partner_id}/users/invitations/{invitation_id}/cancel",
            post(pages::users::cancel),
        )
        .route("/partner/{partner_id}/accounts", get(pages::accounts::list))
        .route(
            "/partner/{partner_id}/accounts/export.csv",
            get(pages::accounts::export_csv),
        )
        .route(
            "/partner/{partner_id}/accounts/clients/new",
            get(pages::accounts::new_client).post(pages::accounts::create_client),
        )
        .route(
            "/partner/{partner_id}/accounts/numbers/new",
            get(pages::accounts::new_number).post(pages::accounts::add_number),
        )
        .route(
            "/partner/{partner_id}/accounts/{channel_id}",
            get(pages::accounts::details),
        )
        .route(
            "/partner/{partner_id}/accounts/{channel_id}/verify",
            post(pages::accounts::verify),
        )
        .route(
            "/partner/{partner_id}/accounts/{channel_id}/api-keys",
            post(pages::accounts::create_key),
        )
        .route(
            "/partner/{partner_id}/accounts/{channel_id}/api-keys/revoke",
            post(pages::accounts::revoke_keys),
        )
        .route(
            "/partner/{partner_id}/accounts/{channel_id}/cancel",
            post(pages::accounts::cancel),
        )
        .route(
            "/partner/{partner_id}/accounts/{channel_id}/withdraw-cancellation",
            post(pages::accounts::withdraw_cancellation),
        )
        .route(
            "/partner/{partner_id}/api-keys",
            get(pages::api_keys::list).post(pages::api_keys::create),
        )
        .route(
            "/partner/{partner_id}/api-keys/{key_id}/revoke",
            post(pages::api_keys::revoke),
        )
        .route(
            "/partner/{partner_id}/integration",
            get(pages::integration::show),
        )
        .route(
            "/partner/{partner_id}/integration/webhook-url",
            post(pages::integration::save_webhook_url),
        )
        .route(
            "/partner/{partner_id}/integration/webhook-url/test",
            post(pages::integration::test_webhook_url),
        )
        .route(
            "/partner/{partner_id}/integration/redirect-url",
            post(pages::integration::save_redirect_url),
        )
        .route(
            "/partner/{partner_id}/integration/redirect-url/test",
            post(pages::integration::test_redirect_url),
        )
        .route(
            "/partner/{partner_id}/integration/solution-id",
            post(pages::integration::save_solution_id),
        )
        .route(
            "/partner/{partner_id}/integration/secret/reveal",
            post(pages::integration::reveal_secret),
        )
        .route(
            "/partner/{partner_id}/integration/secret/rotate",
            post(pages::integration::rotate_secret),
        )
        .route(
            "/partner/{partner_id}/integration/storage-region",
            post(pages::integration::save_region),
        )
        .route(
            "/partner/{partner_id}/integration/switch-to-cloud",
            post(pages::integration::switch_to_cloud),
        )
        .route(
            "/partner/{partner_id}/integration/webhooks",
            get(pages::webhooks::list),
        )
        .route(
            "/partner/{partner_id}/integration/webhooks/{event_id}",
            get(pages::webhooks::show),
        )
        .route(
            "/partner/{partner_id}/integration/webhooks/{event_id}/resend",
            post(pages::webhooks::resend),
        )
        .route(
            "/partner/{partner_id}/profile",
            get(pages::profile::show)
                .post(pages::profile::save)
                .layer(DefaultBodyLimit::max(pages::profile::FORM_BODY_LIMIT)),
        )
        .route(
            "/partner/{partner_id}/profile/preview",
            get(pages::profile::preview)
                .post(pages::profile::preview_unsaved)
                .layer(DefaultBodyLimit::max(pages::profile::FORM_BODY_LIMIT)),
        )
        .route(
            "/partner/{partner_id}/profile/logo/remove",
            post(pages::profile::remove_logo),
        )
        .route(
            "/logos/{partner_id}/{file}",
            get(pages::profile::serve_logo),
        )
        .route(
            "/partner/{partner_id}/notifications",
            get(pages::notifications::list),
        )
        .route(
            "/partner/{partner_id}/notifications/read-all",
            post(pages::notifications::mark_all_read),
        )
        .route(
            "/partner/{partner_id}/notifications/{notification_id}/read",
            post(pages::notifications::mark_read),
        )
        .route(
            "/partner/{partner_id}/accounts/{channel_id}/sandbox-alert",
            post(pages::accounts::sandbox_alert),
        )
        .route("/dashboard/app/{partner_id}", get(onboarding_flow::start))
        .route(
            "/dashboard/app/{partner_id}/permissions",
            get(onboarding_flow::start),
        )
        .route(
            "/dashboard/app/{partner_id}/signup",
            post(onboarding_flow::sign_up),
        )
        .route(
            "/dashboard/app/{partner_id}/login",
            post(onboarding_flow::log_in),
        )
        .route(
            "/dashboard/app/{partner_id}/logout",
            post(onboarding_flow::log_out),
        )
        .route(
            "/dashboard/app/{partner_id}/company",
            post(onboarding_flow::open_company),
        )
        .route(
            "/dashboard/app/{partner_id}/numbers",
            get(onboarding_flow::numbers).post(onboarding_flow::add_number),
        )
        .route(
            "/dashboard/app/{partner_id}/numbers/{channel_id}/verify",
            post(onboarding_flow::verify),
        )
        .route(
            "/dashboard/app/{partner_id}/share",
            get(onboarding_flow::share_form).post(onboarding_flow::share),
        )
        .route(
            "/dev/webhook-sink/{partner_id}",
            get(pages::dev_sink::show).post(pages::dev_sink::receive),
        )
        .route(
            "/dev/partner-site/{partner_id}",
            get(pages::dev_partner_site::show),
        )
        .route(
            "/dev/partner-site/{partner_id}/callback",
            get(pages::dev_partner_site::callback),
        )
        .route(
            "/dev/webhook-sink/{partner_id}/clear",
            post(pages::dev_sink::clear),
        )
        .route(
            "/partner/{partner_id}/partner-change",
            get(pages::partner_change::show),
        )
        .route(
            "/partner/{partner_id}/partner-change/auto-approve",
            post(pages::partner_change::set_auto_approve),
        )
        .route(
            "/partner/{partner_id}/partner-change/{request_id}/accept",
            post(pages::partner_change::accept),
        )
        .route(
            "/partner/{partner_id}/partner-change/{request_id}/decline",
            post(pages::partner_change::decline),
        )
        .route(
            "/partner/{partner_id}/{section}",
            get(pages::dashboard::section),
        )
        .merge(client_hub::router())
        .merge(migration::router())
        .nest("/staff", staff::router())
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics_for_staff))
        .route("/assets/{name}", get(assets::serve))
        .merge(docs::router())
        .nest("/api/v2", api::router())
        .route("/api", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .fallback(page_not_found)
        .with_state(state.clone());
    with_middleware(routes, &state)
}

/// The admin listener: health and metrics without login, for operators' networks only.
pub fn admin_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics_open))
        .fallback(page_not_found)
        .with_state(state)
}

async fn page_not_found() -> AppError {
    AppError::NotFound
}

async fn api_not_found() -> ApiError {
    ApiError(AppError::NotFound)
}

fn with_middleware(routes: Router, state: &AppState) -> Router {
    let csrf = CsrfLayer::new()
        // The Partner API authenticates with headers, never cookies, so a forged cross-site
        // request carries no credentials there.
        // The development webhook sink is a receiver for server-to-server POSTs (and exists only
        // in development mode).
        .with_insecure_bypass(|_, uri| {
            uri.path().starts_with("/api/") || uri.path().starts_with("/dev/webhook-sink/")
        })
        .with_rejection_response(|_| {
            let err = AppError::Forbidden(
                "This form was sent from another site, so it was not accepted. Open the page on Partner Hub itself and try again.".into(),
            );
            error_page(&err, None)
        });
    let hsts = state
        .config
        .is_https()
        .then(|| HeaderValue::from_static("max-age=63072000; includeSubDomains"));
    routes
        .layer(middleware::from_fn(ops::track))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), RandomRequestId))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                    let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                }))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
                .layer(CatchPanicLayer::custom(|_| {
                    tracing::error!("handler panicked");
                    error_page(&AppError::Internal(anyhow::anyhow!("panic")), None)
                }))
                .layer(middleware::from_fn(reference_internal_errors))
                .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
                .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
                .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
                .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin")))
                .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
                .layer(SetResponseHeaderLayer::if_not_present(header::STRICT_TRANSPORT_SECURITY, hsts))
                .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
                .layer(csrf)
                .layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
}

/// Opaque 500 pages name the request id, so a person can quote it and we can find the log line.
async fn reference_internal_errors(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let response = next.run(request).await;
    if response.extensions().get::<InternalErrorMarker>().is_some() {
        let err = AppError::Internal(anyhow::anyhow!("already logged"));
        let mut page = error_page(&err, id);
        page.extensions_mut().remove::<InternalErrorMarker>();
        return page.into_response();
    }
    response
}
