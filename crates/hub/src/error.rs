//! `AppError`: every way a use case can fail, with its HTTP status and the sentence a person
//! reads. Rendering it (an HTML page or the Partner API's `meta` envelope) is the HTTP layer's
//! job (`http::error`).

use axum::http::StatusCode;
use domain::FieldError;
use store::StoreError;

/// Longest request target (path and query) served; longer ones are a 414 with a message.
pub const MAX_URI_BYTES: usize = 8 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("authentication required")]
    Unauthenticated,
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("URI too long")]
    UriTooLong,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("{0}")]
    Unprocessable(String),
    #[error("rate limited for {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("service unavailable")]
    Unavailable,
    /// The database's disk is full: nothing was saved, and writes resume once space is freed.
    #[error("storage full")]
    StorageFull,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict { constraint } => AppError::Conflict(constraint),
            StoreError::Unavailable(e) => {
                tracing::error!(error = %e, "database unavailable");
                AppError::Unavailable
            }
            StoreError::StorageFull(e) => {
                tracing::error!(error = %e, "database storage full: writes fail until space is freed");
                AppError::StorageFull
            }
            other => AppError::Internal(other.into()),
        }
    }
}

/// Database errors raised directly (commits, connection checkout) classify like the store's.
impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::from(err).into()
    }
}

impl From<FieldError> for AppError {
    fn from(err: FieldError) -> Self {
        AppError::Validation(vec![err])
    }
}

impl From<crate::passwords::HashError> for AppError {
    fn from(err: crate::passwords::HashError) -> Self {
        AppError::Internal(err.into())
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Validation(_) | AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UriTooLong => StatusCode::URI_TOO_LONG,
            AppError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable | AppError::StorageFull => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The sentence a person or a developer reads; never internal detail.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Unauthenticated => "You need to log in to see this page.".into(),
            AppError::Forbidden(why) => why.clone(),
            AppError::NotFound => {
                "There is nothing here. The link may be mistyped, or the item belongs to an account you cannot see.".into()
            }
            AppError::Conflict(what) => format!("This conflicts with existing data ({what})."),
            AppError::Validation(_) => "Some fields need your attention.".into(),
            AppError::BadRequest(why) => why.clone(),
            AppError::PayloadTooLarge => "What you sent is too large.".into(),
            AppError::UriTooLong => format!(
                "The address is too long (at most {} characters). Use fewer or shorter query parameters.",
                MAX_URI_BYTES
            ),
            AppError::UnsupportedMediaType => "This kind of content is not accepted here.".into(),
            AppError::Unprocessable(why) => why.clone(),
            AppError::RateLimited { retry_after_secs } => {
                format!("Too many attempts. Try again in {retry_after_secs} s.")
            }
            AppError::Unavailable => {
                "The service is briefly unavailable. Please try again in a moment.".into()
            }
            AppError::StorageFull => {
                "Partner Hub's storage is full, so nothing could be saved: your change was not stored. Please try again later; the operators have been alerted.".into()
            }
            AppError::Internal(_) => "Something went wrong on our side. We have logged it.".into(),
        }
    }

    pub fn details(&self) -> Vec<String> {
        match self {
            AppError::Validation(errors) => errors.iter().map(ToString::to_string).collect(),
            _ => Vec::new(),
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "Please log in",
            AppError::Forbidden(_) => "Not allowed",
            AppError::NotFound => "Page not found",
            AppError::Conflict(_) => "Already exists",
            AppError::Validation(_) | AppError::BadRequest(_) => "Please check your input",
            AppError::PayloadTooLarge => "Too large",
            AppError::UriTooLong => "Address too long",
            AppError::UnsupportedMediaType => "Not accepted",
            AppError::Unprocessable(_) => "Not possible right now",
            AppError::RateLimited { .. } => "Slow down",
            AppError::Unavailable => "Temporarily unavailable",
            AppError::StorageFull => "Storage full",
            AppError::Internal(_) => "Something went wrong",
        }
    }

    /// Internal errors are logged with their whole chain where they are rendered.
    pub fn log(&self) {
        if let AppError::Internal(err) = self {
            tracing::error!(error = ?err, "request failed");
        }
    }
}
