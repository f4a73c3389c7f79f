//! Use cases shared by pages, the API, jobs and the command line. Rules live here, not in
//! handlers; SQL lives in `store`, not here.

pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod billing;
pub mod client_hub;
pub mod events;
pub mod mail;
pub mod messaging;
pub mod migration;
pub mod notifications;
pub mod onboarding;
pub mod partner_change;
pub mod partners;
pub mod profile;
pub mod tasks;
pub mod users;
pub mod webhooks;
