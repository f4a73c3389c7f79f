//! Shared helpers for the integration tests: SMTP sink, PostgreSQL databases, headless browser.

pub mod app;
pub mod browser;
pub mod postgres;
pub mod smtp_sink;
