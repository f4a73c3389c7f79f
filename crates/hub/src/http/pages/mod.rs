//! The partner dashboard and the public account pages (login, reset, invitations).

pub mod account;
pub mod accounts;
pub mod api_keys;
pub mod auth;
pub mod billing;
pub mod dashboard;
pub mod dev_partner_site;
pub mod dev_sink;
pub mod integration;
pub mod notifications;
pub mod partner_change;
pub mod profile;
pub mod users;
pub mod webhooks;
