//! Rendering `AppError`: as an HTML error page for the dashboard, and as the Partner API's `meta`
//! envelope (`ApiError`).

use crate::error::AppError;
use crate::http::views::{Chrome, ErrorPage};
use askama::Template;
use axum::response::{Html, IntoResponse, Response};

/// Marks a response as an internal error so the request-id middleware can fill in the reference.
#[derive(Clone, Copy, Debug)]
pub struct InternalErrorMarker;

/// Tell the client when to try again (429 responses).
pub fn set_retry_after(response: &mut Response, seconds: u64) {
    response.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from(seconds),
    );
}

/// Render an error as a full HTML page (also used by the router's fallbacks).
pub fn error_page(err: &AppError, reference: Option<String>) -> Response {
    let page = ErrorPage {
        chrome: Chrome::plain(),
        title: err.title(),
        message: err.public_message(),
        details: err.details(),
        reference,
    };
    let body = page
        .render()
        .unwrap_or_else(|_| format!("<h1>{}</h1>", err.title()));
    let mut response = (err.status(), Html(body)).into_response();
    if let AppError::RateLimited { retry_after_secs } = err {
        set_retry_after(&mut response, *retry_after_secs);
    }
    if matches!(err, AppError::Internal(_)) {
        response.extensions_mut().insert(InternalErrorMarker);
    }
    response
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        error_page(&self, None)
    }
}

/// The same errors rendered as the Partner API's envelope.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(err: E) -> Self {
        ApiError(err.into())
    }
}

/// How to authenticate, for every 401 of the API (a page's "log in" makes no sense there).
pub const API_AUTHENTICATE: &str = "Authenticate with a partner API key in the X-API-Key header, or with a bearer token from POST /api/v2/token in the Authorization header.";

/// The Partner API's error envelope (`partner-api.md`), for `ApiError` and for the answers the
/// router gives by itself (405, 413, 415…; see `api::envelope_errors`).
pub fn api_envelope(
    status: axum::http::StatusCode,
    message: &str,
    details: Vec<String>,
) -> Response {
    let body = serde_json::json!({
        "meta": {
            "success": false,
            "http_code": status.as_u16(),
            "developer_message": message,
            "details": details,
        }
    });
    (status, axum::Json(body)).into_response()
}

/// The sentence a developer reads for `err`: a page's wording, except where the API's own
/// terms say more (how to authenticate, which content type, the body limit). Also used for the
/// router's own answers (`api::envelope_errors`).
pub fn api_message(err: &AppError) -> String {
    match err {
        AppError::Unauthenticated => API_AUTHENTICATE.to_owned(),
        AppError::UnsupportedMediaType => {
            "Send the body as JSON, with Content-Type: application/json.".to_owned()
        }
        AppError::PayloadTooLarge => format!(
            "The request body is larger than the {} KB the API accepts.",
            crate::http::BODY_LIMIT / 1024
        ),
        other => other.public_message(),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let err = self.0;
        err.log();
        let mut response = api_envelope(err.status(), &api_message(&err), err.details());
        if let AppError::RateLimited { retry_after_secs } = err {
            set_retry_after(&mut response, retry_after_secs);
        }
        response
    }
}
