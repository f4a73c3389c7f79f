//! The closed vocabularies of clients, WABAs and channels (status, hosting, region, quality, …)
//! as enums with one wire value each, plus the channel status machine: the Partner API, the pages
//! and the store then agree on spelling, and impossible status changes cannot be written.

use crate::FieldError;
use std::fmt;

/// Defines a closed set of values with their wire spelling (what the Partner API and the store
/// use) and a human label (what pages show). Parsing ignores case and surrounding spaces,
/// because people and older API clients send `Running` or `green` as often as the exact value.
macro_rules! wire_enum {
    (
        $(#[$doc:meta])*
        $name:ident, field = $field:literal,
        { $( $(#[$vdoc:meta])* $variant:ident => $wire:literal, $label:literal; )+ }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )+
        }

        impl $name {
            /// Every value, in the order pages list them.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The input field this value is usually read from; named in parse errors.
            pub const FIELD: &'static str = $field;

            pub fn parse(input: &str) -> Result<Self, FieldError> {
                Self::parse_as(input, Self::FIELD)
            }

            /// Like `parse`, for inputs whose field has another name (e.g. a partner's
            /// `default_hosting_type`), so the error points at what the person filled in.
            pub fn parse_as(input: &str, field: &'static str) -> Result<Self, FieldError> {
                let wanted = input.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str().eq_ignore_ascii_case(wanted))
                    .ok_or_else(|| {
                        FieldError::new(
                            field,
                            format!("must be one of {}", [$($wire),+].join(", ")),
                        )
                    })
            }

            /// The wire value, e.g. for JSON, SQL and filters.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $wire, )+
                }
            }

            /// What a person reads on a page.
            pub fn label(self) -> &'static str {
                match self {
                    $( Self::$variant => $label, )+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

// Other vocabularies (webhook events, delivery states) share the same shape and parsing rules.
pub(crate) use wire_enum;

wire_enum!(
    /// Where a channel is in its life. Changes only along `can_become`.
    ChannelStatus, field = "status", {
        Created => "created", "Created";
        PendingVerification => "pending_verification", "Pending verification";
        Verified => "verified", "Verified";
        Ready => "ready", "Ready";
        Running => "running", "Running";
        Error => "error", "Error";
        /// A number live at another provider that the client asked to bring here.
        MigrationRequested => "migration_requested", "Migration requested";
        WaitingForCode => "waiting_for_code", "Waiting for code";
        /// Cancellation requested: keeps messaging until the end of the month.
        PendingDeletion => "pending_deletion", "Pending deletion";
        Cancelled => "cancelled", "Cancelled";
    }
);

wire_enum!(
    /// Where the WhatsApp Business API runs for a number. On-Premise is legacy: no new numbers.
    HostingType, field = "hosting_type", {
        CloudApi => "cloud_api", "Cloud API";
        OnPremise => "on_premise", "On-Premise";
    }
);

wire_enum!(
    AccountMode, field = "account_mode", {
        Sandbox => "sandbox", "Sandbox";
        Live => "live", "Live";
    }
);

wire_enum!(
    /// Meta's quality rating of a number; its wire values are upper case like Meta's.
    QualityRating, field = "current_quality_rating", {
        Green => "GREEN", "Green";
        Yellow => "YELLOW", "Yellow";
        Red => "RED", "Red";
        Unknown => "UNKNOWN", "Unknown";
    }
);

wire_enum!(
    /// How many business-initiated conversations a number may open per 24 hours.
    MessagingLimit, field = "current_limit", {
        Tier250 => "TIER_250", "250 per day";
        Tier1K => "TIER_1K", "1,000 per day";
        Tier10K => "TIER_10K", "10,000 per day";
        Tier100K => "TIER_100K", "100,000 per day";
        TierUnlimited => "TIER_UNLIMITED", "Unlimited";
    }
);

wire_enum!(
    /// Meta's business verification status of the business behind a WABA.
    FbAccountStatus, field = "fb_account_status", {
        Verified => "verified", "Verified";
        NotVerified => "not_verified", "Not verified";
        Pending => "pending", "Pending";
        PendingSubmission => "pending_submission", "Pending submission";
        PendingNeedMoreInfo => "pending_need_more_info", "More information needed";
        Rejected => "rejected", "Rejected";
        Failed => "failed", "Failed";
    }
);

wire_enum!(
    /// Whether the partner may create messaging API keys for a channel.
    PartnerPermission, field = "partner_permission", {
        Shared => "shared", "Shared";
        Missing => "missing", "Missing";
    }
);

wire_enum!(
    /// How a number receives its registration code.
    VerificationMethod, field = "verification_method", {
        Sms => "sms", "SMS";
        Voice => "voice", "Voice call";
    }
);

wire_enum!(
    ClientStatus, field = "status", {
        Active => "active", "Active";
        Suspended => "suspended", "Suspended";
    }
);

wire_enum!(
    /// Cloud API local storage regions, as ISO country codes. The default, US storage without
    /// localisation, is deliberately not a variant: it is `Option<DataStorageRegion>::None`,
    /// which the wire contract spells `null`. Use `parse_optional` and `optional_label` for it.
    DataStorageRegion, field = "data_storage_region", {
        In => "IN", "India";
        Sg => "SG", "Singapore";
        Id => "ID", "Indonesia";
        Kr => "KR", "South Korea";
        Jp => "JP", "Japan";
        Au => "AU", "Australia";
        Br => "BR", "Brazil";
        Za => "ZA", "South Africa";
        Bh => "BH", "Bahrain";
        De => "DE", "EU (Germany)";
        Gb => "GB", "United Kingdom";
        Ch => "CH", "Switzerland";
        Ca => "CA", "Canada";
    }
);

impl DataStorageRegion {
    /// Label of the US default, shown wherever a region may be absent.
    pub const DEFAULT_LABEL: &'static str = "United States (default)";

    /// Reads a region that may be the US default: empty input (an unselected form option) and
    /// `US` mean the default; anything else must be one of the local storage regions.
    pub fn parse_optional(input: &str) -> Result<Option<Self>, FieldError> {
        Self::parse_optional_as(input, Self::FIELD)
    }

    pub fn parse_optional_as(input: &str, field: &'static str) -> Result<Option<Self>, FieldError> {
        let trimmed = input.trim();
        if trimmed.is_empty() || trimmed.eq_ignore_ascii_case("US") {
            return Ok(None);
        }
        Self::parse_as(trimmed, field).map(Some).map_err(|e| {
            FieldError::new(
                field,
                format!("{} (or empty for the US default)", e.message),
            )
        })
    }

    pub fn optional_label(region: Option<Self>) -> &'static str {
        region.map_or(Self::DEFAULT_LABEL, Self::label)
    }
}

/// A status change the channel status machine does not allow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a channel cannot go from {from} to {to}")]
pub struct TransitionError {
    pub from: ChannelStatus,
    pub to: ChannelStatus,
}

impl ChannelStatus {
    /// The allowed status changes. Everything else, including staying put, is refused so that
    /// every recorded transition (and the webhook event it emits) is a real change.
    pub fn can_become(self, next: ChannelStatus) -> bool {
        use ChannelStatus::*;
        matches!(
            (self, next),
            (Created, PendingVerification)
                | (PendingVerification, Verified)
                | (Verified, Ready)
                | (Ready, Running)
                | (Running, PendingDeletion)
                // Cancellation withdrawn, or the number reactivated before month end.
                | (PendingDeletion, Running)
                | (PendingDeletion, Cancelled)
                | (MigrationRequested, WaitingForCode)
                | (WaitingForCode, Running)
                | (
                    Created
                        | PendingVerification
                        | Verified
                        | Ready
                        | MigrationRequested
                        | WaitingForCode,
                    Error
                )
                // Retry from the start after the provider reported an error.
                | (Error, Created)
        )
    }

    /// The statuses this one may change to, in `ALL` order.
    pub fn successors(self) -> impl Iterator<Item = ChannelStatus> {
        Self::ALL
            .iter()
            .copied()
            .filter(move |next| self.can_become(*next))
    }

    /// Nothing leaves a terminal status.
    pub fn is_terminal(self) -> bool {
        self == Self::Cancelled
    }

    pub fn transition(self, next: ChannelStatus) -> Result<ChannelStatus, TransitionError> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(TransitionError {
                from: self,
                to: next,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    /// The same checks for every vocabulary: wire values round-trip in any case, serialize as
    /// themselves, are unique, have labels, and a wrong value names the field and lists them all.
    macro_rules! check_vocabulary {
        ($name:ty, $field:literal, $count:literal) => {{
            assert_eq!(<$name>::ALL.len(), $count);
            assert_eq!(<$name>::FIELD, $field);
            let mut seen = HashSet::new();
            for &value in <$name>::ALL {
                let wire = value.as_str();
                assert!(seen.insert(wire), "duplicate {wire}");
                assert!(!value.label().is_empty());
                assert_eq!(<$name>::parse(wire), Ok(value));
                assert_eq!(<$name>::parse(&wire.to_ascii_uppercase()), Ok(value));
                assert_eq!(<$name>::parse(&wire.to_ascii_lowercase()), Ok(value));
                assert_eq!(<$name>::parse(&format!("  {wire}\t")), Ok(value));
                assert_eq!(value.to_string(), wire);
                assert_eq!(
                    serde_json::to_value(value).unwrap(),
                    serde_json::Value::String(wire.to_owned())
                );
            }
            for bad in ["", "nonsense", "créé", "running running"] {
                let err = <$name>::parse(bad).unwrap_err();
                assert_eq!(err.field, $field);
                assert!(
                    err.message.starts_with("must be one of "),
                    "{}",
                    err.message
                );
                for &value in <$name>::ALL {
                    assert!(err.message.contains(value.as_str()), "{}", err.message);
                }
            }
            assert_eq!(
                <$name>::parse_as("nonsense", "other").unwrap_err().field,
                "other"
            );
        }};
    }

    #[test]
    fn every_vocabulary_round_trips_and_explains_bad_values() {
        check_vocabulary!(ChannelStatus, "status", 10);
        check_vocabulary!(HostingType, "hosting_type", 2);
        check_vocabulary!(AccountMode, "account_mode", 2);
        check_vocabulary!(QualityRating, "current_quality_rating", 4);
        check_vocabulary!(MessagingLimit, "current_limit", 5);
        check_vocabulary!(FbAccountStatus, "fb_account_status", 7);
        check_vocabulary!(PartnerPermission, "partner_permission", 2);
        check_vocabulary!(VerificationMethod, "verification_method", 2);
        check_vocabulary!(ClientStatus, "status", 2);
        check_vocabulary!(DataStorageRegion, "data_storage_region", 13);
    }

    #[test]
    fn wire_values_follow_the_contract() {
        let statuses: Vec<_> = ChannelStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            statuses,
            [
                "created",
                "pending_verification",
                "verified",
                "ready",
                "running",
                "error",
                "migration_requested",
                "waiting_for_code",
                "pending_deletion",
                "cancelled"
            ]
        );
        assert_eq!(HostingType::CloudApi.as_str(), "cloud_api");
        assert_eq!(HostingType::OnPremise.as_str(), "on_premise");
        assert_eq!(QualityRating::Green.as_str(), "GREEN");
        assert_eq!(QualityRating::parse("yellow"), Ok(QualityRating::Yellow));
        assert_eq!(MessagingLimit::Tier1K.as_str(), "TIER_1K");
        assert_eq!(
            MessagingLimit::parse("tier_unlimited"),
            Ok(MessagingLimit::TierUnlimited)
        );
        assert_eq!(
            FbAccountStatus::PendingNeedMoreInfo.as_str(),
            "pending_need_more_info"
        );
        assert_eq!(PartnerPermission::Shared.label(), "Shared");
        assert_eq!(
            VerificationMethod::parse("SMS"),
            Ok(VerificationMethod::Sms)
        );
        assert_eq!(ClientStatus::Suspended.as_str(), "suspended");
        assert_eq!(AccountMode::Live.as_str(), "live");
    }

    #[test]
    fn storage_regions_are_iso_codes_with_country_labels() {
        let expected = [
            ("IN", "India"),
            ("SG", "Singapore"),
            ("ID", "Indonesia"),
            ("KR", "South Korea"),
            ("JP", "Japan"),
            ("AU", "Australia"),
            ("BR", "Brazil"),
            ("ZA", "South Africa"),
            ("BH", "Bahrain"),
            ("DE", "EU (Germany)"),
            ("GB", "United Kingdom"),
            ("CH", "Switzerland"),
            ("CA", "Canada"),
        ];
        let actual: Vec<_> = DataStorageRegion::ALL
            .iter()
            .map(|r| (r.as_str(), r.label()))
            .collect();
        assert_eq!(actual, expected);
        assert_eq!(DataStorageRegion::parse("de"), Ok(DataStorageRegion::De));
        assert!(DataStorageRegion::parse("US").is_err());
        assert!(DataStorageRegion::parse("Germany").is_err());
    }

    #[test]
    fn the_us_default_is_the_absence_of_a_region() {
        assert_eq!(DataStorageRegion::parse_optional(""), Ok(None));
        assert_eq!(DataStorageRegion::parse_optional("  "), Ok(None));
        assert_eq!(DataStorageRegion::parse_optional("us"), Ok(None));
        assert_eq!(
            DataStorageRegion::parse_optional(" gb "),
            Ok(Some(DataStorageRegion::Gb))
        );
        let err =
            DataStorageRegion::parse_optional_as("FR", "default_data_storage_region").unwrap_err();
        assert_eq!(err.field, "default_data_storage_region");
        assert!(err.message.contains("US default"), "{}", err.message);
        assert_eq!(
            DataStorageRegion::optional_label(None),
            "United States (default)"
        );
        assert_eq!(
            DataStorageRegion::optional_label(Some(DataStorageRegion::Ch)),
            "Switzerland"
        );
        assert_eq!(
            serde_json::to_value(None::<DataStorageRegion>).unwrap(),
            serde_json::Value::Null
        );
    }

    #[test]
    fn exactly_the_documented_transitions_are_allowed() {
        use ChannelStatus::*;
        let allowed: HashSet<(ChannelStatus, ChannelStatus)> = [
            (Created, PendingVerification),
            (PendingVerification, Verified),
            (Verified, Ready),
            (Ready, Running),
            (Running, PendingDeletion),
            (PendingDeletion, Running),
            (PendingDeletion, Cancelled),
            (MigrationRequested, WaitingForCode),
            (WaitingForCode, Running),
            (Created, Error),
            (PendingVerification, Error),
            (Verified, Error),
            (Ready, Error),
            (MigrationRequested, Error),
            (WaitingForCode, Error),
            (Error, Created),
        ]
        .into_iter()
        .collect();
        for &from in ChannelStatus::ALL {
            for &to in ChannelStatus::ALL {
                let expected = allowed.contains(&(from, to));
                assert_eq!(from.can_become(to), expected, "{from} -> {to}");
                assert_eq!(from.transition(to).is_ok(), expected, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn refused_transitions_say_what_was_attempted() {
        let err = ChannelStatus::Cancelled
            .transition(ChannelStatus::Running)
            .unwrap_err();
        assert_eq!(
            err,
            TransitionError {
                from: ChannelStatus::Cancelled,
                to: ChannelStatus::Running
            }
        );
        assert_eq!(
            err.to_string(),
            "a channel cannot go from cancelled to running"
        );
        assert_eq!(
            ChannelStatus::Running.transition(ChannelStatus::PendingDeletion),
            Ok(ChannelStatus::PendingDeletion)
        );
    }

    #[test]
    fn only_cancelled_is_terminal_and_it_has_no_way_out() {
        for &status in ChannelStatus::ALL {
            assert_eq!(status.is_terminal(), status == ChannelStatus::Cancelled);
            assert_eq!(
                status.successors().next().is_none(),
                status.is_terminal(),
                "{status}"
            );
        }
    }

    #[test]
    fn signup_and_migration_both_reach_every_status() {
        let mut reached: HashSet<ChannelStatus> = HashSet::new();
        let mut frontier = vec![ChannelStatus::Created, ChannelStatus::MigrationRequested];
        while let Some(status) = frontier.pop() {
            if reached.insert(status) {
                frontier.extend(status.successors());
            }
        }
        assert_eq!(reached.len(), ChannelStatus::ALL.len());
    }

    proptest! {
        /// Walks random paths of allowed transitions from `created`: once a channel is
        /// cancelled, no allowed step and no attempted step gets it out again.
        #[test]
        fn no_path_from_created_leaves_cancelled(choices in prop::collection::vec(0usize..16, 0..64)) {
            let mut status = ChannelStatus::Created;
            let mut cancelled = false;
            for choice in choices {
                let next: Vec<_> = status.successors().collect();
                if cancelled {
                    prop_assert!(next.is_empty());
                    let attempt = ChannelStatus::ALL[choice % ChannelStatus::ALL.len()];
                    prop_assert!(status.transition(attempt).is_err());
                    continue;
                }
                if next.is_empty() {
                    break;
                }
                status = status.transition(next[choice % next.len()]).unwrap();
                cancelled = status == ChannelStatus::Cancelled;
            }
            if cancelled {
                prop_assert_eq!(status, ChannelStatus::Cancelled);
            }
        }

        /// Arbitrary attempted changes, allowed or not: refused ones keep the old status, and
        /// nothing ever leaves `cancelled`.
        #[test]
        fn attempted_changes_never_leave_cancelled(attempts in prop::collection::vec(0usize..10, 0..64)) {
            let mut status = ChannelStatus::Created;
            let mut was_cancelled = false;
            for index in attempts {
                status = status.transition(ChannelStatus::ALL[index]).unwrap_or(status);
                if was_cancelled {
                    prop_assert_eq!(status, ChannelStatus::Cancelled);
                }
                was_cancelled = status == ChannelStatus::Cancelled;
            }
        }

        #[test]
        fn parsing_never_panics(s in ".{0,40}") {
            let _ = ChannelStatus::parse(&s);
            let _ = DataStorageRegion::parse_optional(&s);
            let _ = QualityRating::parse(&s);
        }
    }
}
