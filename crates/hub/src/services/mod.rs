//! Use cases shared by pages, the API, jobs and the command line. Rules live here, not in
//! handlers; SQL lives in `store`, not here.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod client_hub;
pub mod demo;
pub mod demo_accounts;
pub mod dev_sink;
pub mod events;
pub mod mail;
pub mod migration;
pub mod onboarding;
pub mod partner_change;
pub mod partners;
pub mod profile;
pub mod users;
pub mod webhook_client;
pub mod webhooks;
pub mod whatsapp;
