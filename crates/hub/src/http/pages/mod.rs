//! The partner dashboard and the public account pages (login, reset, invitations).

pub mod accounts;
pub mod api_keys;
pub mod auth;
pub mod dashboard;
pub mod users;
