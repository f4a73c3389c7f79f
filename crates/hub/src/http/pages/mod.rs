//! The partner dashboard and the public account pages (login, reset, invitations).

pub mod auth;
pub mod dashboard;
pub mod users;
