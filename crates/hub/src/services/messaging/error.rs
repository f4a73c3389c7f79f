//! How the Messaging API fails: Meta's Cloud API error codes, so a Cloud API SDK pointed at the
//! Hub raises its own typed errors. The HTTP layer renders these as Meta's error object.

use crate::error::AppError;
use domain::message::ParamError;
use domain::{Currency, Micros};

#[derive(Debug, thiserror::Error)]
pub enum MessagingError {
    #[error("no or unknown D360-API-KEY")]
    Unauthenticated,
    #[error("invalid parameter {0}")]
    InvalidParameter(ParamError),
    #[error("the number cannot send now: {0}")]
    NotRegistered(String),
    #[error("re-engagement message")]
    WindowClosed,
    #[error("template {name} ({language}) does not exist")]
    TemplateMissing { name: String, language: String },
    #[error("template {name} ({language}) is {status}")]
    TemplateNotApproved {
        name: String,
        language: String,
        status: String,
    },
    #[error("insufficient balance")]
    InsufficientBalance {
        balance: Micros,
        currency: Currency,
        topup_url: String,
    },
    #[error("the Idempotency-Key was used with another body")]
    IdempotencyMismatch,
    #[error("{0}")]
    Conflict(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("the provider refused: {0}")]
    Undeliverable(String),
    #[error("no rate card in {}", .0.as_str())]
    NoRateCard(Currency),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<store::StoreError> for MessagingError {
    fn from(err: store::StoreError) -> Self {
        MessagingError::App(err.into())
    }
}

impl From<sqlx::Error> for MessagingError {
    fn from(err: sqlx::Error) -> Self {
        MessagingError::App(err.into())
    }
}

impl From<ParamError> for MessagingError {
    fn from(err: ParamError) -> Self {
        MessagingError::InvalidParameter(err)
    }
}

/// Meta's error object, before it is rendered.
#[derive(Debug)]
pub struct CloudError {
    pub status: u16,
    pub code: i64,
    pub kind: &'static str,
    pub message: String,
    pub details: String,
    /// Extra `error_data` keys (the balance of a 402).
    pub data: Vec<(&'static str, serde_json::Value)>,
}

const OAUTH: &str = "OAuthException";

impl MessagingError {
    pub fn cloud(&self) -> CloudError {
        let plain = |status: u16, code: i64, message: &str, details: String| CloudError {
            status,
            code,
            kind: OAUTH,
            message: message.to_owned(),
            details,
            data: Vec::new(),
        };
        match self {
            MessagingError::Unauthenticated => plain(
                401,
                0,
                "(#0) Authentication failed",
                "Send the number's API key in the D360-API-KEY header. Keys are made with POST /api/v2/partners/{partner_id}/channels/{channel_id}/api_keys; a revoked key no longer works.".into(),
            ),
            MessagingError::InvalidParameter(p) => plain(
                400,
                100,
                "(#100) Invalid parameter",
                format!("Param {} {}", p.field, p.message),
            ),
            MessagingError::NotRegistered(why) => plain(
                400,
                133_010,
                "(#133010) Account not registered",
                why.clone(),
            ),
            MessagingError::WindowClosed => plain(
                400,
                131_047,
                "(#131047) Re-engagement message",
                "Message failed to send because more than 24 hours have passed since the customer last replied to this number. Send an approved template instead.".into(),
            ),
            MessagingError::TemplateMissing { name, language } => plain(
                404,
                132_001,
                "(#132001) Template name does not exist in the translation",
                format!("template name ({name}) does not exist in {language}"),
            ),
            MessagingError::TemplateNotApproved { name, language, status } => plain(
                400,
                132_001,
                "(#132001) Template name does not exist in the translation",
                format!("template {name} ({language}) is {status}; only approved templates can be sent"),
            ),
            MessagingError::InsufficientBalance { balance, currency, topup_url } => CloudError {
                status: 402,
                code: 131_042,
                kind: "insufficient_balance",
                message: "Could not send message due to lack of payment. Top up the prepaid balance to resume messaging.".into(),
                details: format!(
                    "The balance is {} {}: it must be above 0 to send messages. Top up at {topup_url}.",
                    balance,
                    currency.as_str().to_uppercase()
                ),
                data: vec![
                    ("balance", serde_json::to_value(balance).unwrap_or(serde_json::Value::Null)),
                    ("currency", currency.as_str().into()),
                    ("topup_url", topup_url.clone().into()),
                ],
            },
            MessagingError::IdempotencyMismatch => plain(
                409,
                100,
                "(#100) Invalid parameter",
                "This Idempotency-Key was already used with a different request body in the last 24 hours. Use a new key for a new message.".into(),
            ),
            MessagingError::Conflict(why) => plain(409, 100, "(#100) Invalid parameter", why.clone()),
            MessagingError::NotFound(what) => plain(404, 100, "(#100) Invalid parameter", what.clone()),
            MessagingError::Undeliverable(why) => plain(
                400,
                131_026,
                "(#131026) Message undeliverable",
                why.clone(),
            ),
            MessagingError::NoRateCard(currency) => plain(
                503,
                131_000,
                "(#131000) Something went wrong",
                format!(
                    "No {} rate card is in force, so the message cannot be priced. The BSP must import or derive one.",
                    currency.as_str().to_uppercase()
                ),
            ),
            MessagingError::App(err) => app_error(err),
        }
    }
}

/// The Hub's own failures in Meta's shape.
pub fn app_error(err: &AppError) -> CloudError {
    let status = err.status().as_u16();
    let (code, message) = match status {
        400 | 404 | 409 | 413 | 415 | 422 => (100, "(#100) Invalid parameter"),
        401 => (0, "(#0) Authentication failed"),
        403 => (10, "(#10) Permission denied"),
        405 => (100, "(#100) Unsupported request method"),
        429 => (130_429, "(#130429) Rate limit hit"),
        503 => (2, "(#2) Service temporarily unavailable"),
        _ => (1, "(#1) An unknown error occurred"),
    };
    let details = if status >= 500 {
        "Try again later. If this keeps happening, contact support with the fbtrace_id.".to_owned()
    } else {
        err.public_message()
    };
    CloudError {
        status,
        code,
        kind: OAUTH,
        message: message.into(),
        details,
        data: Vec::new(),
    }
}
