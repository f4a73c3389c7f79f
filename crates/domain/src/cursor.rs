//! Keyset paging: the opaque `cursor` of a list page. It carries the sort values and id of the
//! last row a page returned, so the next page is read from there through the sort's index
//! instead of skipping `offset` rows one by one.
//!
//! A cursor is the URL-safe base64 of an 8-byte check and a small JSON payload
//! `[1, "<fingerprint>", [value, …, id]]`. The check (a SHA-256 of the payload) makes a garbled
//! cursor a clean 400 rather than some other page; the fingerprint binds it to the list, sort,
//! filters and context (partner, free text) it was made for. There is no server secret to sign
//! with, so a cursor is tamper-evident, not unforgeable: someone who rebuilds one can only
//! choose where to start in a list they may read anyway, and every value is checked for its
//! type and bound as a parameter.

use crate::listing::{FilterValue, ListSpec, SortKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Longer input is not a cursor of ours: a page's keys are a few short values.
const MAX_CURSOR_CHARS: usize = 4096;
const VERSION: i64 = 1;
const CHECK_BYTES: usize = 8;
const CHECK_CONTEXT: &[u8] = b"partnerhub list cursor check v1\n";
const FINGERPRINT_CONTEXT: &[u8] = b"partnerhub list cursor fingerprint v1\n";

pub const GARBLED: &str = "cursor: is not a cursor this list gave out";
pub const OTHER_QUERY: &str =
    "cursor: was made for another sort, filters or q; start again without cursor";

/// One sort value of a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyValue {
    Int(i64),
    Text(String),
}

impl KeyValue {
    fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Int(n) => serde_json::Value::from(*n),
            Self::Text(text) => serde_json::Value::String(text.clone()),
        }
    }
}

/// Where a page starts: after the row with these values of the query's sort keys (one each, in
/// order) and this id, which breaks ties so that no two rows share a position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct After {
    pub values: Vec<KeyValue>,
    pub id: String,
}

/// What a list's cursors are bound to (see [`Fingerprint::of`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fingerprint([u8; 8]);

impl Fingerprint {
    /// Of the list (its spec), the sort, the filters (in any order) and the context.
    pub fn of(
        spec: &ListSpec,
        sort: &[SortKey],
        filters: &[(&'static str, FilterValue)],
        context: &str,
    ) -> Fingerprint {
        let mut hash = Sha256::new();
        hash.update(FINGERPRINT_CONTEXT);
        // Every part is length-prefixed, so no two different inputs hash the same text.
        let mut part = |bytes: &[u8]| {
            hash.update((bytes.len() as u64).to_be_bytes());
            hash.update(bytes);
        };
        part(spec.sortable.join(",").as_bytes());
        part(spec.filterable.join(",").as_bytes());
        for key in sort {
            part(key.to_wire().as_bytes());
        }
        part(b"filters");
        let mut filters: Vec<_> = filters.iter().collect();
        filters.sort_by_key(|(key, _)| *key);
        for (key, value) in filters {
            part(key.as_bytes());
            part(value.to_json().to_string().as_bytes());
        }
        part(context.as_bytes());
        let digest = hash.finalize();
        let mut out = [0u8; 8];
        out.copy_from_slice(&digest[..8]);
        Fingerprint(out)
    }

    fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

fn check(payload: &[u8]) -> [u8; CHECK_BYTES] {
    let digest = Sha256::new()
        .chain_update(CHECK_CONTEXT)
        .chain_update(payload)
        .finalize();
    let mut out = [0u8; CHECK_BYTES];
    out.copy_from_slice(&digest[..CHECK_BYTES]);
    out
}

pub(crate) fn encode(after: &After, fingerprint: &Fingerprint) -> String {
    let mut values: Vec<serde_json::Value> = after.values.iter().map(KeyValue::to_json).collect();
    values.push(serde_json::Value::String(after.id.clone()));
    let payload = serde_json::json!([VERSION, fingerprint.hex(), values]).to_string();
    let mut bytes = Vec::with_capacity(CHECK_BYTES + payload.len());
    bytes.extend_from_slice(&check(payload.as_bytes()));
    bytes.extend_from_slice(payload.as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The row a cursor points after, when it is one of ours ([`GARBLED`]) made for this very
/// query ([`OTHER_QUERY`]), with a value of the right type for each sort key.
pub(crate) fn decode(
    cursor: &str,
    spec: &ListSpec,
    sort: &[SortKey],
    fingerprint: &Fingerprint,
) -> Result<After, &'static str> {
    if cursor.len() > MAX_CURSOR_CHARS {
        return Err(GARBLED);
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| GARBLED)?;
    if bytes.len() <= CHECK_BYTES {
        return Err(GARBLED);
    }
    let (sum, payload) = bytes.split_at(CHECK_BYTES);
    if sum != check(payload) {
        return Err(GARBLED);
    }
    let serde_json::Value::Array(parts) =
        serde_json::from_slice::<serde_json::Value>(payload).map_err(|_| GARBLED)?
    else {
        return Err(GARBLED);
    };
    let [version, bound, values] = parts.as_slice() else {
        return Err(GARBLED);
    };
    if version.as_i64() != Some(VERSION) {
        return Err(GARBLED);
    }
    if bound.as_str() != Some(fingerprint.hex().as_str()) {
        return Err(OTHER_QUERY);
    }
    let serde_json::Value::Array(values) = values else {
        return Err(GARBLED);
    };
    let Some((id, values)) = values.split_last() else {
        return Err(GARBLED);
    };
    if values.len() != sort.len() {
        return Err(GARBLED);
    }
    let id = id
        .as_str()
        .filter(|id| !id.is_empty())
        .ok_or(GARBLED)?
        .to_owned();
    let values = sort
        .iter()
        .zip(values)
        .map(|(key, value)| {
            if spec.numeric_sorts.contains(&key.field) {
                value.as_i64().map(KeyValue::Int)
            } else {
                value.as_str().map(|text| KeyValue::Text(text.to_owned()))
            }
            .ok_or(GARBLED)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(After { values, id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::{ListQuery, RawList};
    use proptest::prelude::*;

    const SPEC: ListSpec = ListSpec {
        sortable: &["created_at", "name", "id"],
        filterable: &["status", "name"],
        default_sort: "-created_at",
        numeric_sorts: &["created_at"],
    };

    const OTHER_SPEC: ListSpec = ListSpec {
        sortable: &["created_at"],
        filterable: &["status"],
        default_sort: "-created_at",
        numeric_sorts: &["created_at"],
    };

    fn query(spec: &ListSpec, raw: RawList<'_>) -> Result<ListQuery, Vec<String>> {
        ListQuery::parse(spec, &raw)
    }

    fn after(created: i64, id: &str) -> After {
        After {
            values: vec![KeyValue::Int(created)],
            id: id.to_owned(),
        }
    }

    /// The cursor of `raw`'s query of `SPEC`, after `last`.
    fn cursor_of(raw: RawList<'_>, last: &After) -> String {
        query(&SPEC, raw).unwrap().cursor_after(last)
    }

    #[test]
    fn a_cursor_parses_back_to_the_row_it_was_made_after() {
        let last = After {
            values: vec![KeyValue::Text("Acme \"Ltd\" ✓".into()), KeyValue::Int(-5)],
            id: "abcCL".into(),
        };
        let raw = RawList {
            sort: Some("name,-created_at"),
            filters: Some(r#"{"status":"active"}"#),
            context: "partner 1",
            ..RawList::default()
        };
        let cursor = cursor_of(raw, &last);
        assert!(
            cursor
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "URL-safe without escaping: {cursor}"
        );
        let next = query(
            &SPEC,
            RawList {
                cursor: Some(&cursor),
                limit: Some("5"),
                ..raw
            },
        )
        .unwrap();
        assert_eq!(next.after, Some(last));
        assert_eq!(next.offset, 0);
        assert_eq!(next.limit, 5, "a cursor does not fix the page size");
    }

    #[test]
    fn filters_bind_in_any_order() {
        let raw = RawList {
            filters: Some(r#"{"status":"active","name":"x"}"#),
            ..RawList::default()
        };
        let cursor = cursor_of(raw, &after(1, "a"));
        let swapped = RawList {
            filters: Some(r#"{"name":"x","status":"active"}"#),
            cursor: Some(&cursor),
            ..RawList::default()
        };
        assert_eq!(query(&SPEC, swapped).unwrap().after, Some(after(1, "a")));
    }

    #[test]
    fn a_cursor_is_refused_with_another_sort_filters_context_or_list() {
        let made = RawList {
            filters: Some(r#"{"status":"active"}"#),
            context: "partner 1\0q=acme",
            ..RawList::default()
        };
        let cursor = cursor_of(made, &after(1, "a"));
        let used = RawList {
            cursor: Some(&cursor),
            ..made
        };
        assert!(query(&SPEC, used).is_ok());
        for other in [
            RawList {
                sort: Some("created_at"),
                ..used
            },
            RawList {
                sort: Some("-created_at,name"),
                ..used
            },
            RawList {
                filters: Some(r#"{"status":"cancelled"}"#),
                ..used
            },
            RawList {
                filters: None,
                ..used
            },
            RawList {
                context: "partner 2\0q=acme",
                ..used
            },
            RawList {
                context: "partner 1\0q=acm",
                ..used
            },
        ] {
            assert_eq!(query(&SPEC, other).unwrap_err(), [OTHER_QUERY], "{other:?}");
        }
        let elsewhere = RawList {
            filters: Some(r#"{"status":"active"}"#),
            ..used
        };
        assert_eq!(query(&OTHER_SPEC, elsewhere).unwrap_err(), [OTHER_QUERY]);
    }

    #[test]
    fn garbled_and_forged_cursors_are_refused() {
        let cursor = cursor_of(RawList::default(), &after(1_700_000_000_000, "abcCH"));
        let mut flipped = cursor.clone().into_bytes();
        let mid = flipped.len() / 2;
        flipped[mid] = if flipped[mid] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        // A payload with a valid check but a text where a number belongs, and one with a
        // missing value: rebuilt by someone who knows the format.
        let forge = |payload: serde_json::Value| {
            let payload = payload.to_string();
            let mut bytes = check(payload.as_bytes()).to_vec();
            bytes.extend_from_slice(payload.as_bytes());
            URL_SAFE_NO_PAD.encode(bytes)
        };
        let fp = query(&SPEC, RawList::default()).unwrap().fingerprint.hex();
        let wrong_type = forge(serde_json::json!([1, fp, ["1700000000000", "abcCH"]]));
        let too_few = forge(serde_json::json!([1, fp, ["abcCH"]]));
        let empty_id = forge(serde_json::json!([1, fp, [1, ""]]));
        let version = forge(serde_json::json!([2, fp, [1, "abcCH"]]));
        let not_array = forge(serde_json::json!({"v": 1}));
        let long = "A".repeat(MAX_CURSOR_CHARS + 1);
        for bad in [
            "x",
            "!!!",
            "AAAAAAAAAAAAAAAAAAAA",
            &cursor[..cursor.len() - 2],
            &format!("{cursor}A"),
            &format!("{cursor}="),
            &flipped,
            &wrong_type,
            &too_few,
            &empty_id,
            &version,
            &not_array,
            &long,
        ] {
            let raw = RawList {
                cursor: Some(bad),
                ..RawList::default()
            };
            assert_eq!(query(&SPEC, raw).unwrap_err(), [GARBLED], "{bad}");
        }
        let forged = forge(serde_json::json!([1, fp, [5, "abcCH"]]));
        let raw = RawList {
            cursor: Some(&forged),
            ..RawList::default()
        };
        assert_eq!(query(&SPEC, raw).unwrap().after, Some(after(5, "abcCH")));
    }

    #[test]
    fn a_cursor_with_an_offset_is_refused_and_other_problems_come_first() {
        let cursor = cursor_of(RawList::default(), &after(1, "a"));
        let raw = RawList {
            cursor: Some(&cursor),
            offset: Some("20"),
            ..RawList::default()
        };
        assert_eq!(
            query(&SPEC, raw).unwrap_err(),
            ["cursor: cannot be combined with offset"]
        );
        let raw = RawList {
            cursor: Some(&cursor),
            offset: Some("0"),
            ..RawList::default()
        };
        assert!(query(&SPEC, raw).is_ok());
        // With a broken sort the cursor cannot be judged; only the sort is reported.
        let raw = RawList {
            cursor: Some("garbage"),
            sort: Some("nonsense"),
            ..RawList::default()
        };
        assert_eq!(
            query(&SPEC, raw).unwrap_err(),
            ["sort: unknown field 'nonsense'"]
        );
        let raw = RawList {
            cursor: Some("  "),
            ..RawList::default()
        };
        assert_eq!(query(&SPEC, raw).unwrap().after, None, "empty is absent");
    }

    proptest! {
        #[test]
        fn any_row_survives_the_round_trip(created in any::<i64>(), name in ".{0,40}", id in ".{1,40}") {
            let raw = RawList { sort: Some("-created_at,name"), ..RawList::default() };
            let last = After {
                values: vec![KeyValue::Int(created), KeyValue::Text(name)],
                id,
            };
            let cursor = cursor_of(raw, &last);
            let next = query(&SPEC, RawList { cursor: Some(&cursor), ..raw }).unwrap();
            prop_assert_eq!(next.after, Some(last));
        }

        #[test]
        fn decoding_never_panics(cursor in "[A-Za-z0-9_=+/-]{0,200}") {
            let raw = RawList { cursor: Some(&cursor), ..RawList::default() };
            let _ = query(&SPEC, raw);
        }
    }
}
