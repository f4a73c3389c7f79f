//! Persistence of Partner Hub. One SQL text serves SQLite (the embedded default) and PostgreSQL
//! through sqlx's `Any` driver; the few statements that must differ live in `dialect`.
//!
//! Every function on partner-owned data takes the partner id first: there is no way to load
//! another partner's row by its id alone.
#![forbid(unsafe_code)]

pub mod api_keys;
pub mod audit;
pub mod billing;
pub mod channel_webhooks;
pub mod channels;
pub mod client_users;
pub mod clients;
mod db;
pub mod dialect;
mod error;
pub mod invitations;
pub mod jobs;
pub mod logos;
pub mod mail;
pub mod messages;
pub mod notifications;
pub mod partner_changes;
pub mod partners;
pub mod password_resets;
pub mod rate_cards;
mod search_stats;
pub mod select;
pub mod sessions;
pub mod staff;
pub mod templates;
pub mod users;
pub mod wabas;
pub mod webhooks;

pub use db::{Backend, Db, DbConfigError, PageLimit, SchemaBehind, WriteTx};
pub use error::StoreError;
pub use sqlx::AnyPool;

/// Parse a stored enum column; a value the code does not know means the row is corrupt.
pub(crate) fn parse_column<T, E>(
    column: &'static str,
    value: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, StoreError> {
    parse(value).map_err(|_| StoreError::Corrupt(format!("{column}: unexpected value {value:?}")))
}
