//! Integration tests for Partner Hub, compiled into a single test binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod staff;
mod support;
mod support_selftest;
mod tenancy;
mod users;
