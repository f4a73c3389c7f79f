//! Integration tests for Partner Hub, compiled into a single test binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod accounts_browser;
mod accounts_pages;
mod api;
mod api_tenancy;
mod auth;
mod bad_input;
mod browser_flows;
mod cli;
mod integration_browser;
mod mail_smtp;
mod onboarding;
mod openapi;
mod ops;
mod profile;
mod profile_browser;
mod staff;
mod support;
mod support_selftest;
mod tenancy;
mod users;
mod webhook_crash;
mod webhooks;
mod webhooks_pages;
mod webhooks_tenancy;
