//! The HTTP surface: routes and the middleware every request passes through.

pub mod api;
pub mod assets;
pub mod client_hub;
pub mod docs;
pub mod error;
pub mod extract;
pub mod messaging;
mod messaging_doc;
pub use messaging_doc::MessagingDoc;
pub mod migration;
pub mod onboarding;
pub mod ops;
pub mod pages;
pub mod routes;
pub mod server;
pub mod session;
pub mod staff;
pub mod views;

use crate::error::AppError;
use crate::http::error::{ApiError, InternalErrorMarker, error_page};
use crate::http::routes::Routes;
use crate::state::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
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
pub(crate) const BODY_LIMIT: usize = 256 * 1024;

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

/// Every route of the public listener, area by area.
pub fn routes() -> Routes {
    Routes::new()
        .merge(pages::auth::router())
        .merge(pages::account::router())
        .merge(pages::dashboard::router())
        .merge(pages::users::router())
        .merge(pages::accounts::router())
        .merge(pages::api_keys::router())
        .merge(pages::billing::router())
        .merge(pages::integration::router())
        .merge(pages::webhooks::router())
        .merge(pages::profile::router())
        .merge(pages::notifications::router())
        .merge(pages::partner_change::router())
        .merge(pages::dev_sink::router())
        .merge(pages::dev_partner_site::router())
        .merge(onboarding::pages::router())
        .merge(client_hub::router())
        .merge(migration::router())
        .nest("/staff", staff::router())
        .merge(ops::router())
        .get("/assets/{name}", assets::serve)
        .merge(docs::router())
        .merge(api::router())
        .merge(messaging::router())
}

/// The public listener: `routes()` with the fallbacks and the middleware.
pub fn router(state: AppState) -> Router {
    let (routes, _) = routes().into_parts();
    let routes = routes
        .route("/api", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .fallback(page_not_found)
        .with_state(state.clone());
    // The API's envelope goes around the finished router, which is where axum adds a 405's
    // `Allow` header.
    Router::new()
        .fallback_service(with_middleware(routes, &state))
        .layer(middleware::from_fn(api::envelope_errors))
        .layer(middleware::from_fn(messaging::cloud_errors))
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

/// Who the client is, once per request: the TCP peer, or behind a trusted proxy the address it
/// reports (`domain::client_address`).
async fn client_address(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|axum::extract::ConnectInfo(addr)| addr.ip());
    if let Some(peer) = peer {
        let joined = |name: header::HeaderName| {
            let values: Vec<&str> = request
                .headers()
                .get_all(name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            (!values.is_empty()).then(|| values.join(","))
        };
        // Only the header the proxies write: the other is whatever the client sent.
        let (forwarded, x_forwarded_for) = match state.config.trusted_proxy_header {
            crate::config::ForwardedHeader::Forwarded => (joined(header::FORWARDED), None),
            crate::config::ForwardedHeader::XForwardedFor => {
                (None, joined(HeaderName::from_static("x-forwarded-for")))
            }
        };
        let address = domain::client_address::resolve(
            peer,
            forwarded.as_deref(),
            x_forwarded_for.as_deref(),
            &state.config.trusted_proxies,
        );
        request
            .extensions_mut()
            .insert(extract::ClientAddr(address));
    }
    next.run(request).await
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
            uri.path().starts_with("/api/")
                || uri.path().starts_with("/dev/webhook-sink/")
                || messaging::is_messaging_path(uri.path())
        })
        .with_rejection_response(|_| {
            error_page(&AppError::Forbidden(CROSS_SITE_FORM.into()), None)
        });
    let hsts = state
        .config
        .is_https()
        .then(|| HeaderValue::from_static("max-age=63072000; includeSubDomains"));
    routes
        .layer(middleware::from_fn_with_state(
            state.config.public_url.clone(),
            pages_stay_at_their_url,
        ))
        .layer(middleware::from_fn(ops::track))
        .layer(middleware::from_fn_with_state(state.clone(), client_address))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), RandomRequestId))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
                    let id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                }))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
                .layer(middleware::from_fn(refuse_long_uris))
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
                .layer(middleware::from_fn_with_state(state.config.public_url.scheme().to_owned(), origin_scheme))
                .layer(csrf)
                .layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
}

/// A page answered to a form (a POST whose input failed its checks) names the form's own page,
/// where `app.js` moves the address bar with `history.replaceState`: the person stays at the
/// form's URL and reloading shows the page instead of sending the form again. The form's page
/// is the same-origin `Referer` the browser sent with the form, else the POST's own path.
async fn pages_stay_at_their_url(
    axum::extract::State(public): axum::extract::State<url::Url>,
    request: Request,
    next: Next,
) -> Response {
    const HEAD_END: &[u8] = b"</head>";
    if request.method() != axum::http::Method::POST
        || request.uri().path().starts_with("/api/")
        || messaging::is_messaging_path(request.uri().path())
    {
        return next.run(request).await;
    }
    let page = form_page(&request, &public);
    let response = next.run(request).await;
    // Only a form shown again for corrections; error pages (403, 404, 500) stay as they are.
    let corrections = matches!(response.status().as_u16(), 400 | 409 | 413 | 422 | 429);
    if !corrections {
        return response;
    }
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 4 * 1024 * 1024).await else {
        return AppError::Internal(anyhow::anyhow!("page body unreadable")).into_response();
    };
    let Some(at) = bytes.windows(HEAD_END.len()).position(|w| w == HEAD_END) else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    let attribute = page
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let meta = format!("<meta name=\"form-page\" content=\"{attribute}\">\n");
    let mut html = Vec::with_capacity(bytes.len() + meta.len());
    html.extend_from_slice(&bytes[..at]);
    html.extend_from_slice(meta.as_bytes());
    html.extend_from_slice(&bytes[at..]);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(html))
}

/// The page a form was sent from: the `Referer`'s path and query when it is this host's (as
/// the request names it, or as the public URL does behind a proxy that rewrites `Host`).
fn form_page(request: &Request, public: &url::Url) -> String {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    let public_authority = match public.port() {
        Some(port) => format!("{}:{port}", public.host_str().unwrap_or_default()),
        None => public.host_str().unwrap_or_default().to_owned(),
    };
    request
        .headers()
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .filter(|r| {
            let authority = match r.port() {
                Some(port) => format!("{}:{port}", r.host_str().unwrap_or_default()),
                None => r.host_str().unwrap_or_default().to_owned(),
            };
            host == Some(authority.as_str()) || authority == public_authority
        })
        .and_then(|r| session::safe_next(Some(&r[url::Position::BeforePath..])))
        .unwrap_or_else(|| request.uri().path().to_owned())
}

/// Request targets longer than `MAX_URI_BYTES` get a 414 that says so (hyper's own limit, far
/// higher, answers with an empty body).
async fn refuse_long_uris(request: Request, next: Next) -> Response {
    let length = request
        .uri()
        .path_and_query()
        .map_or(0, |pq| pq.as_str().len());
    if length <= crate::error::MAX_URI_BYTES {
        return next.run(request).await;
    }
    let err = AppError::UriTooLong;
    if request.uri().path().starts_with("/api/") {
        ApiError(err).into_response()
    } else {
        error_page(&err, None)
    }
}

/// `tower_http`'s CSRF check compares an `Origin` with `Host` by host and port only (as Go's
/// does), so without `Sec-Fetch-Site` an `https://` page could post to our `http://` site. An
/// origin with another scheme than the public URL's is another origin: refuse it.
async fn origin_scheme(
    axum::extract::State(scheme): axum::extract::State<String>,
    request: Request,
    next: Next,
) -> Response {
    let unsafe_method = !matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    let path = request.uri().path();
    let exempt = path.starts_with("/api/") || path.starts_with("/dev/webhook-sink/");
    let headers = request.headers();
    let other_scheme = headers.get("sec-fetch-site").is_none()
        && headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .filter(|origin| *origin != "null")
            .and_then(|origin| origin.split_once("://"))
            .is_some_and(|(origin_scheme, _)| !origin_scheme.eq_ignore_ascii_case(&scheme));
    if unsafe_method && !exempt && other_scheme {
        return error_page(&AppError::Forbidden(CROSS_SITE_FORM.into()), None);
    }
    next.run(request).await
}

const CROSS_SITE_FORM: &str = "This form was sent from another site, so it was not accepted. Open the page on Partner Hub itself and try again.";

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
