//! Shared helpers for the integration tests: SMTP sink, PostgreSQL databases, headless browser, webhook receiver.

pub mod app;
pub mod browser;
pub mod fixtures;
pub mod harness;
pub mod postgres;
pub mod smtp_sink;
pub mod webhook_receiver;
