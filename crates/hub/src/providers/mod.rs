//! The edges of the world: outside systems behind traits, each with a default that works here.

pub mod mail;
pub mod webhook_client;
pub mod whatsapp;
