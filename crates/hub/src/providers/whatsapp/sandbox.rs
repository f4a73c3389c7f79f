//! The sandbox provider: accepts the code `000000` and nothing else, hands out Meta-like ids,
//! and reports a green quality rating with the 1K messaging tier once a number runs. The state
//! that matters (statuses, attempts, timing) lives in our own tables and jobs, exactly as it does
//! with the real provider.

use super::{
    CodeCheck, MessageAccepted, NumberAdded, NumberFacts, ProviderFuture, Report, TemplateDecision,
    WabaCreated, WhatsAppProvider,
};
use domain::{MessagingLimit, PhoneNumber, QualityRating, VerificationMethod};
use rand::Rng;

pub const SANDBOX_CODE: &str = "000000";
/// Meta's error code for a message that cannot be delivered.
pub const UNDELIVERABLE: i64 = 131_026;

#[derive(Debug, Default)]
pub struct Sandbox {
    /// In development mode the Hub may show the code so people can try the flow.
    pub show_codes: bool,
}

fn meta_like_id() -> String {
    let mut rng = rand::rng();
    format!("1{:014}", rng.random_range(0..100_000_000_000_000_u64))
}

impl WhatsAppProvider for Sandbox {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    fn shows_codes(&self) -> bool {
        self.show_codes
    }

    fn create_waba<'a>(&'a self, _business_name: &'a str) -> ProviderFuture<'a, WabaCreated> {
        Box::pin(async move {
            Ok(WabaCreated {
                external_id: meta_like_id(),
                namespace: format!("sandbox_{}", &meta_like_id()[..8]),
            })
        })
    }

    fn add_number<'a>(
        &'a self,
        _waba: &'a str,
        _phone: &'a PhoneNumber,
        _name: &'a str,
    ) -> ProviderFuture<'a, NumberAdded> {
        Box::pin(async move {
            Ok(NumberAdded {
                external_id: meta_like_id(),
            })
        })
    }

    fn request_code<'a>(
        &'a self,
        _number_id: &'a str,
        _method: VerificationMethod,
    ) -> ProviderFuture<'a, ()> {
        Box::pin(async move { Ok(()) })
    }

    fn verify_code<'a>(
        &'a self,
        _number_id: &'a str,
        code: &'a str,
    ) -> ProviderFuture<'a, CodeCheck> {
        let check = if code.trim() == SANDBOX_CODE {
            CodeCheck::Verified
        } else {
            CodeCheck::Wrong
        };
        Box::pin(async move { Ok(check) })
    }

    fn register<'a>(&'a self, _number_id: &'a str) -> ProviderFuture<'a, ()> {
        Box::pin(async move { Ok(()) })
    }

    fn number_facts<'a>(&'a self, _number_id: &'a str) -> ProviderFuture<'a, NumberFacts> {
        Box::pin(async move {
            Ok(NumberFacts {
                quality_rating: QualityRating::Green,
                messaging_limit: MessagingLimit::Tier1K,
            })
        })
    }

    fn send_message<'a>(
        &'a self,
        _number_id: &'a str,
        _body: &'a serde_json::Value,
    ) -> ProviderFuture<'a, MessageAccepted> {
        Box::pin(async move {
            Ok(MessageAccepted {
                provider_id: format!("wamid.sandbox.{}", meta_like_id()),
            })
        })
    }

    /// Numbers ending in 0000 cannot be reached (Meta's 131026); the rest are delivered.
    fn simulated_report(&self, to: &str) -> Option<Report> {
        Some(if to.ends_with("0000") {
            Report::Failed {
                code: UNDELIVERABLE,
                title: "Message undeliverable".into(),
            }
        } else {
            Report::Delivered
        })
    }

    /// Names containing `reject` are rejected, so the rejected path can be tried.
    fn simulated_template_decision(&self, name: &str) -> Option<TemplateDecision> {
        Some(if name.contains("reject") {
            TemplateDecision::Rejected {
                reason:
                    "INVALID_FORMAT: the sandbox rejects templates whose name contains \"reject\""
                        .into(),
            }
        } else {
            TemplateDecision::Approved
        })
    }

    fn simulates(&self) -> bool {
        true
    }
}
