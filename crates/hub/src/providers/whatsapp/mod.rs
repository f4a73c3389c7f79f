//! The WhatsApp provider: Meta's side of WABAs and phone numbers. `sandbox` (the default) behaves
//! like the real platform without leaving this machine; `cloud_api` talks to the Graph API.
//! Both sit behind `WhatsAppProvider`, chosen by configuration.

pub mod cloud_api;
pub mod sandbox;

use domain::{MessagingLimit, PhoneNumber, QualityRating, VerificationMethod};
use std::future::Future;
use std::pin::Pin;

pub type ProviderFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, ProviderError>> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider refused the request (bad number, policy, …): retrying will not help.
    #[error("{0}")]
    Rejected(String),
    /// Network trouble, timeouts, 5xx: worth retrying later.
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
}

/// A WABA as the provider created it.
#[derive(Clone, Debug)]
pub struct WabaCreated {
    pub external_id: String,
    pub namespace: String,
}

/// A number registered on a WABA at the provider.
#[derive(Clone, Debug)]
pub struct NumberAdded {
    pub external_id: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeCheck {
    Verified,
    Wrong,
}

/// What the provider reports about a live number.
#[derive(Clone, Copy, Debug)]
pub struct NumberFacts {
    pub quality_rating: QualityRating,
    pub messaging_limit: MessagingLimit,
}

/// A message the provider took for delivery.
#[derive(Clone, Debug)]
pub struct MessageAccepted {
    /// The provider's id for it (Meta's `wamid.…`).
    pub provider_id: String,
}

/// What became of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Report {
    Delivered,
    Failed { code: i64, title: String },
}

/// The provider's decision on a submitted template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateDecision {
    Approved,
    Rejected { reason: String },
}

pub trait WhatsAppProvider: Send + Sync + std::fmt::Debug {
    fn name(&self) -> &'static str;

    /// Whether verification codes may be shown in the Hub (development mode sandbox only).
    fn shows_codes(&self) -> bool {
        false
    }

    fn create_waba<'a>(&'a self, business_name: &'a str) -> ProviderFuture<'a, WabaCreated>;

    fn add_number<'a>(
        &'a self,
        waba_external_id: &'a str,
        phone: &'a PhoneNumber,
        display_name: &'a str,
    ) -> ProviderFuture<'a, NumberAdded>;

    fn request_code<'a>(
        &'a self,
        number_id: &'a str,
        method: VerificationMethod,
    ) -> ProviderFuture<'a, ()>;

    fn verify_code<'a>(
        &'a self,
        number_id: &'a str,
        code: &'a str,
    ) -> ProviderFuture<'a, CodeCheck>;

    /// Register a verified number for messaging.
    fn register<'a>(&'a self, number_id: &'a str) -> ProviderFuture<'a, ()>;

    fn number_facts<'a>(&'a self, number_id: &'a str) -> ProviderFuture<'a, NumberFacts>;

    /// Send a Cloud API message body from the number.
    fn send_message<'a>(
        &'a self,
        number_id: &'a str,
        body: &'a serde_json::Value,
    ) -> ProviderFuture<'a, MessageAccepted>;

    /// The sandbox's report on a message to `to` (E.164 digits); `None` for a real provider,
    /// which reports through its own webhooks.
    fn simulated_report(&self, _to: &str) -> Option<Report> {
        None
    }

    /// The sandbox's decision on a submitted template; `None` for a real provider.
    fn simulated_template_decision(&self, _name: &str) -> Option<TemplateDecision> {
        None
    }

    /// Whether this provider simulates Meta's side of messaging: it reports on messages and
    /// decides templates itself (`simulated_report`, `simulated_template_decision`), and inbound
    /// messages can be simulated (`POST /v1/sandbox/inbound`).
    fn simulates(&self) -> bool {
        false
    }
}
