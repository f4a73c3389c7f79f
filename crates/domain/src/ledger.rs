//! The ledger's rules that need no database: entry kinds, billing-account ids, and the hash chain
//! that makes any edit or deletion of history detectable. Each entry's hash covers the previous
//! entry's hash and every field that says what happened, so changing an amount, dropping an entry
//! or reordering two breaks the chain from that point on.

use crate::money::Micros;
use sha2::{Digest, Sha256};

/// Why a balance changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    TopUp,
    Usage,
    Refund,
    Adjustment,
}

impl EntryKind {
    pub const ALL: [EntryKind; 4] = [Self::TopUp, Self::Usage, Self::Refund, Self::Adjustment];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::TopUp => "top_up",
            Self::Usage => "usage",
            Self::Refund => "refund",
            Self::Adjustment => "adjustment",
        }
    }

    pub fn parse(input: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == input)
    }
}

/// The hash a first entry points back to.
pub const GENESIS: &str = "genesis";

/// The fields an entry's hash covers.
#[derive(Clone, Copy, Debug)]
pub struct Chained<'a> {
    pub account: &'a str,
    pub amount: Micros,
    pub kind: EntryKind,
    pub reference: &'a str,
    pub idempotency_key: &'a str,
    pub balance_after: Micros,
    pub created_ms: i64,
}

/// SHA-256 over the previous hash and the entry's fields, each length-prefixed so that no two
/// different entries can produce the same input.
pub fn entry_hash(previous: &str, entry: &Chained<'_>) -> String {
    let mut hasher = Sha256::new();
    let mut put = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    put(previous.as_bytes());
    put(entry.account.as_bytes());
    put(&entry.amount.get().to_be_bytes());
    put(entry.kind.as_str().as_bytes());
    put(entry.reference.as_bytes());
    put(entry.idempotency_key.as_bytes());
    put(&entry.balance_after.get().to_be_bytes());
    put(&entry.created_ms.to_be_bytes());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(amount: i64) -> Chained<'static> {
        Chained {
            account: "bac_1",
            amount: Micros::new(amount),
            kind: EntryKind::Usage,
            reference: "wamid.1",
            idempotency_key: "usage:wamid.1",
            balance_after: Micros::new(10),
            created_ms: 1,
        }
    }

    #[test]
    fn the_hash_covers_the_amount_and_the_previous_entry() {
        let a = entry_hash(GENESIS, &entry(-5));
        assert_eq!(a.len(), 64);
        assert_ne!(a, entry_hash(GENESIS, &entry(-6)));
        assert_ne!(a, entry_hash("other", &entry(-5)));
        assert_eq!(a, entry_hash(GENESIS, &entry(-5)));
    }

    #[test]
    fn kinds_round_trip() {
        for k in EntryKind::ALL {
            assert_eq!(EntryKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EntryKind::parse("gift"), None);
    }
}
