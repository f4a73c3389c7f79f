//! What partner webhooks are about: the closed list of event types of the Partner API, the
//! delivery state of each event, and event ids. The event id is the payload's `id` and the
//! Standard Webhooks `webhook-id`, identical on every retry so partners can deduplicate.

use crate::FieldError;
use crate::channel::wire_enum;
use crate::ids::{MalformedId, random_base62};
use std::fmt;

wire_enum!(
    /// A partner webhook event, spelled as in the payload's `event` field.
    EventType, field = "event_type", {
        ClientCreated => "client_created", "Client created";
        ChannelCreated => "channel_created", "Channel created";
        ChannelSubmitted => "channel_submitted", "Channel submitted";
        ChannelReady => "channel_ready", "Channel ready";
        ChannelRunning => "channel_running", "Channel running";
        ChannelLive => "channel_live", "Channel live";
        ChannelStatusChanged => "channel_status_changed", "Channel status changed";
        CancellationRequest => "cancellation_request", "Cancellation requested";
        CancellationRevoke => "cancellation_revoke", "Cancellation revoked";
        CancellationProcessed => "cancellation_processed", "Cancellation processed";
        AccountViolation => "account_violation", "Account violation";
        AccountRestriction => "account_restriction", "Account restriction";
        PartnerChangeRequested => "partner_change_requested", "Partner change requested";
        PartnerChangeCompleted => "partner_change_completed", "Partner change completed";
        BalanceLow => "balance_low", "Balance low";
        MessagingPaused => "messaging_paused", "Messaging paused";
        MessagingResumed => "messaging_resumed", "Messaging resumed";
        InvoiceIssued => "invoice_issued", "Invoice issued";
        /// A message template was approved or rejected.
        TemplateStatusChanged => "template_status_changed", "Template status changed";
        /// Sent by the **Test** button on the Integration tab.
        Test => "test", "Test";
    }
);

wire_enum!(
    /// Where an event's delivery stands.
    DeliveryState, field = "state", {
        /// Waiting for its first attempt or for a retry.
        Pending => "pending", "Pending";
        /// A 2xx answer was received.
        Delivered => "delivered", "Delivered";
        /// The retry schedule ran out, or the receiver answered 410 Gone.
        Failed => "failed", "Failed";
        /// No webhook URL was configured when the event happened; recorded so the deliveries
        /// page shows it and **Resend** can deliver it once a URL is set.
        NoUrl => "no_url", "No webhook URL";
    }
);

impl DeliveryState {
    /// Whether the delivery worker is done with the event (only a manual Resend revives it).
    pub fn is_final(self) -> bool {
        self != Self::Pending
    }
}

/// An event's id: `evt_` and 24 random base-62 characters (about 143 bits).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct EventId(String);

impl EventId {
    pub const PREFIX: &'static str = "evt_";
    const RANDOM_LEN: usize = 24;

    pub fn generate() -> Self {
        Self(format!(
            "{}{}",
            Self::PREFIX,
            random_base62(Self::RANDOM_LEN)
        ))
    }

    pub fn parse(input: &str) -> Result<Self, MalformedId> {
        let valid = input.strip_prefix(Self::PREFIX).is_some_and(|rest| {
            rest.len() == Self::RANDOM_LEN && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if valid {
            Ok(Self(input.to_owned()))
        } else {
            Err(MalformedId)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

crate::ids::deserialize_by_parse!(EventId);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    #[test]
    fn every_event_of_the_spec_is_there_in_order() {
        let wire: Vec<&str> = EventType::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(
            wire,
            [
                "client_created",
                "channel_created",
                "channel_submitted",
                "channel_ready",
                "channel_running",
                "channel_live",
                "channel_status_changed",
                "cancellation_request",
                "cancellation_revoke",
                "cancellation_processed",
                "account_violation",
                "account_restriction",
                "partner_change_requested",
                "partner_change_completed",
                "balance_low",
                "messaging_paused",
                "messaging_resumed",
                "invoice_issued",
                "template_status_changed",
                "test",
            ]
        );
    }

    #[test]
    fn event_types_round_trip_and_serialize_as_their_wire_value() {
        let mut labels = HashSet::new();
        for &event in EventType::ALL {
            assert_eq!(EventType::parse(event.as_str()), Ok(event));
            assert_eq!(EventType::parse(&event.as_str().to_uppercase()), Ok(event));
            assert_eq!(EventType::parse(&format!(" {event} ")), Ok(event));
            assert_eq!(
                serde_json::to_value(event).unwrap(),
                serde_json::json!(event.as_str())
            );
            assert!(
                labels.insert(event.label()),
                "duplicate label {}",
                event.label()
            );
        }
    }

    #[test]
    fn unknown_event_types_name_the_field_and_every_allowed_value() {
        let err = EventType::parse("channel_deleted").unwrap_err();
        assert_eq!(err.field, "event_type");
        assert!(err.message.starts_with("must be one of client_created, "));
        for &event in EventType::ALL {
            assert!(err.message.contains(event.as_str()), "{}", err.message);
        }
        assert_eq!(
            EventType::parse_as("x", "events").unwrap_err().field,
            "events"
        );
    }

    #[test]
    fn delivery_states_round_trip() {
        let wire: Vec<&str> = DeliveryState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(wire, ["pending", "delivered", "failed", "no_url"]);
        for &state in DeliveryState::ALL {
            assert_eq!(DeliveryState::parse(state.as_str()), Ok(state));
            assert_eq!(state.to_string(), state.as_str());
            assert!(!state.label().is_empty());
        }
        let err = DeliveryState::parse("sent").unwrap_err();
        assert_eq!(err.field, "state");
        assert_eq!(
            err.message,
            "must be one of pending, delivered, failed, no_url"
        );
        assert!(!DeliveryState::Pending.is_final());
        assert!(DeliveryState::Delivered.is_final());
        assert!(DeliveryState::Failed.is_final());
        assert!(DeliveryState::NoUrl.is_final());
    }

    #[test]
    fn generated_event_ids_have_the_documented_shape() {
        let mut seen = HashSet::new();
        for _ in 0..1000 {
            let id = EventId::generate();
            assert!(id.as_str().starts_with("evt_"));
            assert_eq!(id.as_str().len(), 28);
            assert_eq!(EventId::parse(id.as_str()), Ok(id.clone()));
            assert!(seen.insert(id));
        }
    }

    #[test]
    fn malformed_event_ids_are_refused() {
        let good = "evt_0123456789abcdefghijKLMN";
        assert!(EventId::parse(good).is_ok());
        for bad in [
            "",
            "evt_",
            "evt_0123456789abcdefghijKLM",
            "evt_0123456789abcdefghijKLMNO",
            "EVT_0123456789abcdefghijKLMN",
            "msg_0123456789abcdefghijKLMN",
            "evt-0123456789abcdefghijKLMN",
            "evt_0123456789abcdefghij-LMN",
            "evt_0123456789abcdefghij_LMN",
            " evt_0123456789abcdefghijKLMN",
            "evt_0123456789abcdefghijKLMN ",
            "evt_0123456789abcdefghijKLMÄ",
        ] {
            assert_eq!(EventId::parse(bad), Err(MalformedId), "{bad:?}");
        }
    }

    #[test]
    fn event_ids_serialize_as_plain_strings() {
        let id = EventId::parse("evt_0123456789abcdefghijKLMN").unwrap();
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"evt_0123456789abcdefghijKLMN\""
        );
        assert_eq!(id.to_string(), "evt_0123456789abcdefghijKLMN");
    }

    proptest! {
        #[test]
        fn event_id_parse_accepts_exactly_the_shape(s in "(evt_)?[A-Za-z0-9_ -]{20,28}") {
            let expected = s.len() == 28
                && s.starts_with("evt_")
                && s[4..].bytes().all(|b| b.is_ascii_alphanumeric());
            prop_assert_eq!(EventId::parse(&s).is_ok(), expected);
        }

        #[test]
        fn event_id_parse_never_panics(s in ".{0,40}") {
            let _ = EventId::parse(&s);
        }

        #[test]
        fn event_type_parse_never_panics(s in ".{0,40}") {
            let _ = EventType::parse(&s);
            let _ = DeliveryState::parse(&s);
        }
    }
}
