//! Identifiers. Public ids follow the wire contract: six random base-62 characters and a type
//! suffix (`…PA` for partners). Internal ids (users, staff, invitations) are longer random strings
//! that never appear in the Partner API.

use rand::Rng;
use std::fmt;

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn random_base62(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(BASE62[rng.random_range(0..BASE62.len())]))
        .collect()
}

/// Parse error for ids; carries no detail on purpose: a malformed id is simply "not found".
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed id")]
pub struct MalformedId;

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
    };
}

public_id!(
    /// A partner's public id, e.g. `a1B2c3PA`.
    PartnerId,
    "PA"
);
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

    proptest! {
        #[test]
        fn partner_id_parse_never_panics(s in ".{0,20}") {
            let _ = PartnerId::parse(&s);
        }
    }
}
