//! Identifiers. Public ids follow the wire contract: six random base-62 characters and a type
//! suffix (`…PA` for partners). Internal ids (users, staff, invitations) are longer random strings
//! that never appear in the Partner API.

use rand::Rng;
use std::fmt;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

pub(crate) fn random_base62(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(BASE62[rng.random_range(0..BASE62.len())]))
        .collect()
}

/// Parse error for ids; carries no detail on purpose: a malformed id is simply "not found".
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed id")]
pub struct MalformedId;

/// `Deserialize` for an id type that reads back only what its `parse` accepts (stored job
/// payloads, typed path parameters), so a malformed id never gets past deserialization.
macro_rules! deserialize_by_parse {
    ($name:ident) => {
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                Self::parse(&raw).map_err(|_| {
                    serde::de::Error::custom(format!(
                        concat!("malformed ", stringify!($name), " {:?}"),
                        raw
                    ))
                })
            }
        }
    };
}
pub(crate) use deserialize_by_parse;

macro_rules! public_id {
    ($(#[$doc:meta])* $name:ident, $suffix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const SUFFIX: &'static str = $suffix;

            pub fn generate() -> Self {
                Self(format!("{}{}", random_base62(6), $suffix))
            }

            pub fn parse(input: &str) -> Result<Self, MalformedId> {
                let valid = input.len() == 8
                    && input.ends_with($suffix)
                    && input.as_bytes()[..6].iter().all(u8::is_ascii_alphanumeric);
                if valid { Ok(Self(input.to_owned())) } else { Err(MalformedId) }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        deserialize_by_parse!($name);
    };
}

macro_rules! internal_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn generate() -> Self {
                Self(format!("{}_{}", $prefix, random_base62(16)))
            }

            pub fn parse(input: &str) -> Result<Self, MalformedId> {
                let valid = input
                    .strip_prefix(concat!($prefix, "_"))
                    .is_some_and(|rest| rest.len() == 16 && rest.bytes().all(|b| b.is_ascii_alphanumeric()));
                if valid { Ok(Self(input.to_owned())) } else { Err(MalformedId) }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        deserialize_by_parse!($name);
    };
}

public_id!(
    /// A partner's public id, e.g. `a1B2c3PA`.
    PartnerId,
    "PA"
);
public_id!(
    /// A client's public id, e.g. `a1B2c3CL`: an end business under a partner.
    ClientId,
    "CL"
);
public_id!(
    /// A WABA's public id, e.g. `a1B2c3WA`; Meta's own WABA id is a separate `external_id`.
    WabaId,
    "WA"
);
public_id!(
    /// A channel's (one phone number's) public id, e.g. `a1B2c3CH`.
    ChannelId,
    "CH"
);

/// A channel API key's id. The wire contract makes these decimal strings (`"201126"`), not
/// suffixed base-62 ids, because existing Partner API clients already store them that way.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ApiKeyId(String);

impl ApiKeyId {
    /// Longest accepted id: 20 digits still fits any unsigned 64-bit number a client may send.
    pub const MAX_DIGITS: usize = 20;

    /// Nine digits without a leading zero, so generated ids never change when a client parses
    /// them as numbers and prints them back.
    pub fn generate() -> Self {
        let n: u32 = rand::rng().random_range(100_000_000..1_000_000_000);
        Self(n.to_string())
    }

    pub fn parse(input: &str) -> Result<Self, MalformedId> {
        let valid = (1..=Self::MAX_DIGITS).contains(&input.len())
            && input.bytes().all(|b| b.is_ascii_digit());
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

impl fmt::Display for ApiKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

deserialize_by_parse!(ApiKeyId);

internal_id!(
    /// A person who logs in to partner screens (and, later, the Client Hub).
    UserId,
    "usr"
);
internal_id!(
    /// A BSP staff account, separate from users on purpose.
    StaffId,
    "stf"
);
internal_id!(
    /// An invitation to join a partner.
    InvitationId,
    "inv"
);

/// A random id for rows that are never addressed from outside (outbox, jobs, audit, …).
pub fn row_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_base62(20))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_partner_ids_round_trip() {
        for _ in 0..100 {
            let id = PartnerId::generate();
            assert_eq!(PartnerId::parse(id.as_str()), Ok(id.clone()));
            assert!(id.as_str().ends_with("PA"));
            assert_eq!(id.as_str().len(), 8);
        }
    }

    #[test]
    fn malformed_partner_ids_are_refused() {
        for bad in [
            "",
            "abcdefPA1",
            "abcdeCL",
            "abc'efPA",
            "ab--efPA",
            "abcdefCL",
            "ÄbcdefPA",
        ] {
            assert_eq!(PartnerId::parse(bad), Err(MalformedId), "{bad}");
        }
    }

    #[test]
    fn internal_ids_round_trip_and_refuse_other_kinds() {
        let user = UserId::generate();
        assert!(UserId::parse(user.as_str()).is_ok());
        assert!(StaffId::parse(user.as_str()).is_err());
        assert!(UserId::parse("usr_short").is_err());
    }

    #[test]
    fn public_ids_carry_their_own_suffix_and_refuse_the_others() {
        let client = ClientId::generate();
        let waba = WabaId::generate();
        let channel = ChannelId::generate();
        assert!(client.as_str().ends_with("CL"));
        assert!(waba.as_str().ends_with("WA"));
        assert!(channel.as_str().ends_with("CH"));
        assert_eq!(ClientId::parse(client.as_str()), Ok(client.clone()));
        assert_eq!(WabaId::parse(waba.as_str()), Ok(waba.clone()));
        assert_eq!(ChannelId::parse(channel.as_str()), Ok(channel.clone()));
        assert!(ChannelId::parse(client.as_str()).is_err());
        assert!(ClientId::parse(waba.as_str()).is_err());
        assert!(WabaId::parse(channel.as_str()).is_err());
        assert!(PartnerId::parse(channel.as_str()).is_err());
        assert_eq!(ClientId::SUFFIX, "CL");
        assert_eq!(WabaId::SUFFIX, "WA");
        assert_eq!(ChannelId::SUFFIX, "CH");
    }

    #[test]
    fn ids_serialize_as_plain_strings() {
        let channel = ChannelId::parse("a1B2c3CH").unwrap();
        assert_eq!(serde_json::to_string(&channel).unwrap(), "\"a1B2c3CH\"");
        let back: ChannelId = serde_json::from_str("\"a1B2c3CH\"").unwrap();
        assert_eq!(back, channel);
        assert!(serde_json::from_str::<ChannelId>("\"a1B2c3PA\"").is_err());
        let key = ApiKeyId::parse("201126").unwrap();
        assert_eq!(serde_json::to_string(&key).unwrap(), "\"201126\"");
        assert_eq!(key.to_string(), "201126");
    }

    #[test]
    fn generated_api_key_ids_are_nine_digits_without_leading_zero() {
        for _ in 0..1000 {
            let id = ApiKeyId::generate();
            assert_eq!(id.as_str().len(), 9, "{id}");
            assert!(!id.as_str().starts_with('0'), "{id}");
            assert_eq!(ApiKeyId::parse(id.as_str()), Ok(id.clone()));
        }
    }

    #[test]
    fn api_key_ids_accept_one_to_twenty_digits_only() {
        for good in ["0", "7", "201126", "01", &"9".repeat(20)] {
            assert_eq!(ApiKeyId::parse(good).map(|id| id.0), Ok(good.to_owned()));
        }
        for bad in [
            "",
            &"1".repeat(21),
            "-1",
            "+1",
            " 201126",
            "201126 ",
            "20 1126",
            "2011a6",
            "1e5",
            "١٢٣",
            "a1B2c3CH",
        ] {
            assert_eq!(ApiKeyId::parse(bad), Err(MalformedId), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn partner_id_parse_never_panics(s in ".{0,20}") {
            let _ = PartnerId::parse(&s);
        }

        #[test]
        fn channel_id_parse_never_panics(s in ".{0,20}") {
            let _ = ChannelId::parse(&s);
        }

        #[test]
        fn api_key_id_parse_accepts_exactly_short_digit_strings(s in ".{0,25}") {
            let expected = !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
            prop_assert_eq!(ApiKeyId::parse(&s).is_ok(), expected);
        }

        #[test]
        fn api_key_id_digit_strings_round_trip(s in "[0-9]{1,20}") {
            let id = ApiKeyId::parse(&s).unwrap();
            prop_assert_eq!(id.as_str(), s.as_str());
        }
    }
}
