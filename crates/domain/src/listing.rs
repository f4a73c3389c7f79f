//! The Partner API list query (`limit`, `offset`, `sort`, `filters`, `cursor`), parsed once at
//! the edge. Every list endpoint and dashboard table shares these rules, and the store only ever
//! sees field names taken from a fixed allow-list, never text from the request.

use std::collections::HashSet;

pub use crate::cursor::{After, KeyValue};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 1000;
/// Deep offsets make databases scan and skip every row before them; past this, a caller should
/// narrow the list with filters instead.
pub const MAX_OFFSET: i64 = 10_000_000;
/// A query string can hold thousands of wrong fields; a person needs only the first few lines.
const MAX_PROBLEMS: usize = 20;
/// Echoed field names are cut so an error never repeats a huge query parameter back.
const MAX_ECHOED_CHARS: usize = 64;

const FILTERS_NOT_OBJECT: &str = "filters: must be a JSON object like {\"status\": \"running\"}";

/// What one list endpoint allows. Field names are dotted paths as in the wire contract.
#[derive(Clone, Copy, Debug)]
pub struct ListSpec {
    pub sortable: &'static [&'static str],
    pub filterable: &'static [&'static str],
    /// Used when the request has no `sort`, in the same syntax, e.g. `"-created_at"`.
    pub default_sort: &'static str,
    /// The sortable fields whose values are integers (times in milliseconds); the others sort
    /// as text. A cursor's values are checked against these, so a forged one cannot bind a
    /// text where the database compares a number.
    pub numeric_sorts: &'static [&'static str],
}

/// The query parameters as they arrived. Empty values count as absent, because HTML forms
/// (the dashboard's filter bar) submit empty fields rather than leaving them out.
#[derive(Clone, Copy, Debug, Default)]
pub struct RawList<'a> {
    pub limit: Option<&'a str>,
    pub offset: Option<&'a str>,
    pub sort: Option<&'a str>,
    pub filters: Option<&'a str>,
    pub cursor: Option<&'a str>,
    /// Whatever else decides which rows the list holds (the partner, free text outside
    /// `filters`, a date range), in any stable spelling: a cursor is only good for the same.
    pub context: &'a str,
}

/// A filter value. Filters match exactly, so only JSON scalars make sense; floats are excluded
/// because no filterable field is fractional and float equality would surprise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterValue {
    Text(String),
    Int(i64),
    Bool(bool),
    Null,
}

impl FilterValue {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(text) => Some(text),
            _ => None,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::Text(text) => serde_json::Value::String(text.clone()),
            Self::Int(n) => serde_json::Value::from(*n),
            Self::Bool(b) => serde_json::Value::Bool(*b),
            Self::Null => serde_json::Value::Null,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SortKey {
    /// Always one of the spec's `sortable` names (or from its `default_sort`).
    pub field: &'static str,
    pub descending: bool,
}

impl SortKey {
    /// The wire spelling, e.g. `-created_at`.
    pub fn to_wire(self) -> String {
        if self.descending {
            format!("-{}", self.field)
        } else {
            self.field.to_owned()
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    pub limit: i64,
    pub offset: i64,
    pub sort: Vec<SortKey>,
    /// Keys are the spec's `filterable` names, in the order the JSON object gave them (or
    /// sorted, depending on `serde_json`'s map features); at most one entry per key.
    pub filters: Vec<(&'static str, FilterValue)>,
    /// From `cursor`: the page starts after this row (and `offset` is 0).
    pub after: Option<After>,
    /// What the cursors of this list are bound to: spec, sort, filters and context.
    pub fingerprint: crate::cursor::Fingerprint,
}

impl Default for ListQuery {
    /// The first page of `DEFAULT_LIMIT` rows, unfiltered, in the store's default order.
    fn default() -> Self {
        ListQuery {
            limit: DEFAULT_LIMIT,
            offset: 0,
            sort: Vec::new(),
            filters: Vec::new(),
            after: None,
            fingerprint: crate::cursor::Fingerprint::default(),
        }
    }
}

impl ListQuery {
    /// Parses all four parameters and reports every problem at once, one line each, as the
    /// error envelope's `details` wants them.
    pub fn parse(spec: &ListSpec, raw: &RawList<'_>) -> Result<ListQuery, Vec<String>> {
        let mut problems = Problems::default();
        let limit = parse_limit(raw.limit, &mut problems);
        let offset = parse_offset(raw.offset, &mut problems);
        let sort = match present(raw.sort) {
            Some(sort) => parse_sort(spec, sort, &mut problems),
            None => default_sort(spec),
        };
        let filters = match present(raw.filters) {
            Some(filters) => parse_filters(spec, filters, &mut problems),
            None => Vec::new(),
        };
        let fingerprint = crate::cursor::Fingerprint::of(spec, &sort, &filters, raw.context);
        // A cursor is judged only against a query that parsed: it is bound to that query.
        let after = match present(raw.cursor) {
            Some(cursor) if problems.lines.is_empty() => {
                if offset > 0 {
                    problems.push("cursor: cannot be combined with offset".to_owned());
                }
                match crate::cursor::decode(cursor, spec, &sort, &fingerprint) {
                    Ok(after) => Some(after),
                    Err(line) => {
                        problems.push(line.to_owned());
                        None
                    }
                }
            }
            _ => None,
        };
        if problems.lines.is_empty() {
            Ok(ListQuery {
                limit,
                offset,
                sort,
                filters,
                after,
                fingerprint,
            })
        } else {
            Err(problems.finish())
        }
    }

    /// The `next_cursor` of a page whose last row is `last`: the next page starts after it.
    pub fn cursor_after(&self, last: &After) -> String {
        crate::cursor::encode(last, &self.fingerprint)
    }

    /// The `filters` echo of the list envelope, e.g. `{"status": "running"}`.
    pub fn filters_json(&self) -> serde_json::Value {
        let map = self
            .filters
            .iter()
            .map(|(key, value)| ((*key).to_owned(), value.to_json()))
            .collect::<serde_json::Map<_, _>>();
        serde_json::Value::Object(map)
    }

    /// The `sort` echo of the list envelope, e.g. `["-created_at"]`.
    pub fn sort_strings(&self) -> Vec<String> {
        self.sort.iter().map(|key| key.to_wire()).collect()
    }

    pub fn filter(&self, key: &str) -> Option<&FilterValue> {
        self.filters
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| value)
    }
}

#[derive(Default)]
struct Problems {
    lines: Vec<String>,
    seen: HashSet<String>,
    dropped: usize,
}

impl Problems {
    fn push(&mut self, line: String) {
        if self.seen.contains(&line) {
            return;
        }
        if self.lines.len() >= MAX_PROBLEMS {
            self.dropped += 1;
            return;
        }
        self.seen.insert(line.clone());
        self.lines.push(line);
    }

    fn finish(mut self) -> Vec<String> {
        if self.dropped > 0 {
            self.lines
                .push(format!("… and {} more problems", self.dropped));
        }
        self.lines
    }
}

fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// Quotes a name from the request for an error line, cut short if it is long.
fn echo(name: &str) -> String {
    let mut chars = name.chars();
    let mut cut: String = chars.by_ref().take(MAX_ECHOED_CHARS).collect();
    if chars.next().is_some() {
        cut.push('…');
    }
    cut.escape_debug().to_string()
}

fn parse_limit(raw: Option<&str>, problems: &mut Problems) -> i64 {
    let Some(raw) = present(raw) else {
        return DEFAULT_LIMIT;
    };
    match raw.parse::<i64>() {
        Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => limit,
        _ => {
            problems.push(format!(
                "limit: must be an integer between 1 and {MAX_LIMIT}"
            ));
            DEFAULT_LIMIT
        }
    }
}

fn parse_offset(raw: Option<&str>, problems: &mut Problems) -> i64 {
    let Some(raw) = present(raw) else {
        return 0;
    };
    let only_digits = raw.bytes().all(|b| b.is_ascii_digit());
    match raw.parse::<i64>() {
        Ok(offset) if (0..=MAX_OFFSET).contains(&offset) => offset,
        // A long run of digits is a huge offset, not a malformed one: say what the bound is.
        Ok(offset) if offset > MAX_OFFSET => {
            problems.push(format!("offset: must be at most {MAX_OFFSET}"));
            0
        }
        Err(_) if only_digits => {
            problems.push(format!("offset: must be at most {MAX_OFFSET}"));
            0
        }
        _ => {
            problems.push("offset: must be an integer of 0 or more".to_owned());
            0
        }
    }
}

fn default_sort(spec: &ListSpec) -> Vec<SortKey> {
    spec.default_sort
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| match part.strip_prefix('-') {
            Some(field) => SortKey {
                field,
                descending: true,
            },
            None => SortKey {
                field: part,
                descending: false,
            },
        })
        .collect()
}

fn parse_sort(spec: &ListSpec, raw: &str, problems: &mut Problems) -> Vec<SortKey> {
    let mut keys: Vec<SortKey> = Vec::new();
    let mut any_part = false;
    // Trailing or doubled commas are harmless typos, not errors.
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        any_part = true;
        let (name, descending) = match part.strip_prefix('-') {
            Some(name) => (name, true),
            // `+` means ascending explicitly; unencoded in a URL it arrives as a space, trimmed.
            None => (part.strip_prefix('+').unwrap_or(part), false),
        };
        let Some(field) = spec.sortable.iter().copied().find(|f| *f == name) else {
            problems.push(format!("sort: unknown field '{}'", echo(name)));
            continue;
        };
        if keys.iter().any(|key| key.field == field) {
            problems.push(format!("sort: field '{field}' is given more than once"));
            continue;
        }
        keys.push(SortKey { field, descending });
    }
    if !any_part {
        return default_sort(spec);
    }
    keys
}

fn parse_filters(
    spec: &ListSpec,
    raw: &str,
    problems: &mut Problems,
) -> Vec<(&'static str, FilterValue)> {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_str::<serde_json::Value>(raw)
    else {
        problems.push(FILTERS_NOT_OBJECT.to_owned());
        return Vec::new();
    };
    let mut filters = Vec::with_capacity(object.len());
    for (key, value) in object {
        let Some(field) = spec.filterable.iter().copied().find(|f| *f == key) else {
            problems.push(format!("filters: unknown key '{}'", echo(&key)));
            continue;
        };
        let value = match value {
            serde_json::Value::String(text) => FilterValue::Text(text),
            serde_json::Value::Bool(b) => FilterValue::Bool(b),
            serde_json::Value::Null => FilterValue::Null,
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(n) => FilterValue::Int(n),
                None => {
                    problems.push(format!(
                        "filters: value of '{field}' must be a whole number"
                    ));
                    continue;
                }
            },
            serde_json::Value::Array(_) | serde_json::Value::Object(_) => {
                problems.push(format!(
                    "filters: value of '{field}' must be a string, number, boolean or null"
                ));
                continue;
            }
        };
        filters.push((field, value));
    }
    filters
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CHANNELS: ListSpec = ListSpec {
        sortable: &[
            "created_at",
            "modified_at",
            "status",
            "setup_info.phone_number",
        ],
        filterable: &[
            "id",
            "status",
            "client_id",
            "is_migrated",
            "setup_info.phone_number",
            "client.contact_info.email",
            "external_id",
            "q",
        ],
        default_sort: "-created_at",
        numeric_sorts: &["created_at", "modified_at"],
    };

    fn raw<'a>(
        limit: Option<&'a str>,
        offset: Option<&'a str>,
        sort: Option<&'a str>,
        filters: Option<&'a str>,
    ) -> RawList<'a> {
        RawList {
            limit,
            offset,
            sort,
            filters,
            ..RawList::default()
        }
    }

    fn parse(raw: RawList<'_>) -> Result<ListQuery, Vec<String>> {
        ListQuery::parse(&CHANNELS, &raw)
    }

    fn problems(raw: RawList<'_>) -> Vec<String> {
        parse(raw).unwrap_err()
    }

    #[test]
    fn nothing_given_means_the_defaults() {
        let query = parse(RawList::default()).unwrap();
        assert_eq!(query.limit, DEFAULT_LIMIT);
        assert_eq!(query.offset, 0);
        assert_eq!(
            query.sort,
            [SortKey {
                field: "created_at",
                descending: true
            }]
        );
        assert!(query.filters.is_empty());
        assert_eq!(query.sort_strings(), ["-created_at"]);
        assert_eq!(query.filters_json(), serde_json::json!({}));
    }

    #[test]
    fn empty_parameters_count_as_absent() {
        let query = parse(raw(Some(""), Some(" "), Some(""), Some("  "))).unwrap();
        assert_eq!(query, parse(RawList::default()).unwrap());
    }

    #[test]
    fn limit_is_between_one_and_a_thousand() {
        for (input, expected) in [("1", 1), ("20", 20), (" 500 ", 500), ("1000", 1000)] {
            assert_eq!(
                parse(raw(Some(input), None, None, None)).unwrap().limit,
                expected
            );
        }
        for bad in [
            "0",
            "-1",
            "1001",
            "99999999999999999999999",
            "ten",
            "1.5",
            "1e3",
            "0x10",
        ] {
            assert_eq!(
                problems(raw(Some(bad), None, None, None)),
                ["limit: must be an integer between 1 and 1000"],
                "{bad}"
            );
        }
    }

    #[test]
    fn offset_is_zero_or_more_and_bounded() {
        for (input, expected) in [("0", 0), ("40", 40), ("10000000", MAX_OFFSET)] {
            assert_eq!(
                parse(raw(None, Some(input), None, None)).unwrap().offset,
                expected
            );
        }
        for bad in ["-1", "-99999999999999999999", "x", "1.0", "- 1"] {
            assert_eq!(
                problems(raw(None, Some(bad), None, None)),
                ["offset: must be an integer of 0 or more"],
                "{bad}"
            );
        }
        for huge in ["10000001", "99999999999999999999999"] {
            assert_eq!(
                problems(raw(None, Some(huge), None, None)),
                ["offset: must be at most 10000000"],
                "{huge}"
            );
        }
    }

    #[test]
    fn sort_takes_several_fields_with_direction() {
        let query = parse(raw(
            None,
            None,
            Some(" status , -modified_at,+created_at"),
            None,
        ))
        .unwrap();
        assert_eq!(
            query.sort,
            [
                SortKey {
                    field: "status",
                    descending: false
                },
                SortKey {
                    field: "modified_at",
                    descending: true
                },
                SortKey {
                    field: "created_at",
                    descending: false
                },
            ]
        );
        assert_eq!(
            query.sort_strings(),
            ["status", "-modified_at", "created_at"]
        );
        let dotted = parse(raw(None, None, Some("-setup_info.phone_number,"), None)).unwrap();
        assert_eq!(dotted.sort_strings(), ["-setup_info.phone_number"]);
    }

    #[test]
    fn sort_fields_are_the_specs_own_strings() {
        let input = String::from("status");
        let query = parse(raw(None, None, Some(&input), None)).unwrap();
        let field = query.sort[0].field;
        drop(input);
        assert!(std::ptr::eq(field, CHANNELS.sortable[2]));
    }

    #[test]
    fn unknown_and_repeated_sort_fields_are_refused() {
        assert_eq!(
            problems(raw(None, None, Some("name"), None)),
            ["sort: unknown field 'name'"]
        );
        assert_eq!(
            problems(raw(None, None, Some("-name,--status,Status"), None)),
            [
                "sort: unknown field 'name'",
                "sort: unknown field '-status'",
                "sort: unknown field 'Status'"
            ]
        );
        assert_eq!(
            problems(raw(None, None, Some("status,-status"), None)),
            ["sort: field 'status' is given more than once"]
        );
    }

    #[test]
    fn a_sort_of_only_commas_is_the_default() {
        assert_eq!(
            parse(raw(None, None, Some(" , ,"), None))
                .unwrap()
                .sort_strings(),
            ["-created_at"]
        );
    }

    #[test]
    fn default_sort_may_name_several_fields() {
        let spec = ListSpec {
            default_sort: "status, -created_at",
            ..CHANNELS
        };
        let query = ListQuery::parse(&spec, &RawList::default()).unwrap();
        assert_eq!(query.sort_strings(), ["status", "-created_at"]);
    }

    #[test]
    fn filters_take_scalar_json_values() {
        let query = parse(raw(
            None,
            None,
            None,
            Some(
                r#"{"status": "running", "is_migrated": false, "external_id": null,
                    "client_id": 42, "client.contact_info.email": "a@b.co"}"#,
            ),
        ))
        .unwrap();
        assert_eq!(
            query.filter("status"),
            Some(&FilterValue::Text("running".into()))
        );
        assert_eq!(query.filter("is_migrated"), Some(&FilterValue::Bool(false)));
        assert_eq!(query.filter("external_id"), Some(&FilterValue::Null));
        assert_eq!(query.filter("client_id"), Some(&FilterValue::Int(42)));
        assert_eq!(
            query
                .filter("client.contact_info.email")
                .and_then(FilterValue::as_text),
            Some("a@b.co")
        );
        assert_eq!(query.filter("id"), None);
        assert_eq!(query.filter("nonsense"), None);
        assert_eq!(query.filters.len(), 5);
        assert_eq!(
            query.filters_json(),
            serde_json::json!({
                "status": "running", "is_migrated": false, "external_id": null,
                "client_id": 42, "client.contact_info.email": "a@b.co"
            })
        );
    }

    #[test]
    fn filter_keys_are_the_specs_own_strings() {
        let query = parse(raw(None, None, None, Some(r#"{"q": "acme"}"#))).unwrap();
        assert!(std::ptr::eq(query.filters[0].0, CHANNELS.filterable[7]));
    }

    #[test]
    fn filter_values_are_kept_exactly() {
        let query = parse(raw(None, None, None, Some(r#"{"q": "  Ac\"me  "}"#))).unwrap();
        assert_eq!(
            query.filter("q"),
            Some(&FilterValue::Text("  Ac\"me  ".into()))
        );
        assert_eq!(query.filters_json(), serde_json::json!({"q": "  Ac\"me  "}));
    }

    #[test]
    fn filters_must_be_a_json_object() {
        for bad in [
            "status=running",
            "[\"status\"]",
            "\"running\"",
            "42",
            "null",
            "{\"status\": \"running\"",
            "{status: running}",
        ] {
            assert_eq!(
                problems(raw(None, None, None, Some(bad))),
                ["filters: must be a JSON object like {\"status\": \"running\"}"],
                "{bad}"
            );
        }
        assert!(
            parse(raw(None, None, None, Some("{}")))
                .unwrap()
                .filters
                .is_empty()
        );
    }

    #[test]
    fn unknown_filter_keys_are_refused() {
        assert_eq!(
            problems(raw(None, None, None, Some(r#"{"foo": 1}"#))),
            ["filters: unknown key 'foo'"]
        );
        let mut lines = problems(raw(
            None,
            None,
            None,
            Some(r#"{"Status": "running", "client": {}, "status": "running"}"#),
        ));
        lines.sort();
        assert_eq!(
            lines,
            [
                "filters: unknown key 'Status'",
                "filters: unknown key 'client'"
            ]
        );
    }

    #[test]
    fn filter_values_must_be_scalars() {
        let mut lines = problems(raw(
            None,
            None,
            None,
            Some(r#"{"status": ["running"], "id": {"eq": 1}, "client_id": 1.5}"#),
        ));
        lines.sort();
        assert_eq!(
            lines,
            [
                "filters: value of 'client_id' must be a whole number",
                "filters: value of 'id' must be a string, number, boolean or null",
                "filters: value of 'status' must be a string, number, boolean or null",
            ]
        );
        assert_eq!(
            problems(raw(
                None,
                None,
                None,
                Some(r#"{"client_id": 18446744073709551615}"#)
            )),
            ["filters: value of 'client_id' must be a whole number"]
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let lines = problems(raw(
            Some("0"),
            Some("-5"),
            Some("name,-status"),
            Some(r#"{"foo": "x", "status": []}"#),
        ));
        assert_eq!(lines.len(), 5, "{lines:?}");
        assert_eq!(lines[0], "limit: must be an integer between 1 and 1000");
        assert_eq!(lines[1], "offset: must be an integer of 0 or more");
        assert_eq!(lines[2], "sort: unknown field 'name'");
        assert!(lines.contains(&"filters: unknown key 'foo'".to_owned()));
        assert!(lines.contains(
            &"filters: value of 'status' must be a string, number, boolean or null".to_owned()
        ));
    }

    #[test]
    fn a_flood_of_problems_is_cut_short() {
        let sort = (0..500)
            .map(|i| format!("f{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let lines = problems(raw(None, None, Some(&sort), None));
        assert_eq!(lines.len(), MAX_PROBLEMS + 1);
        assert_eq!(lines[MAX_PROBLEMS], "… and 480 more problems");
        let repeated = vec!["nope"; 300].join(",");
        assert_eq!(
            problems(raw(None, None, Some(&repeated), None)),
            ["sort: unknown field 'nope'"]
        );
    }

    #[test]
    fn echoed_names_are_short_and_escaped() {
        let long = "x".repeat(500);
        let lines = problems(raw(None, None, Some(&long), None));
        assert_eq!(
            lines,
            [format!("sort: unknown field '{}…'", "x".repeat(64))]
        );
        let lines = problems(raw(None, None, None, Some(r#"{"a\nb'": 1}"#)));
        assert_eq!(lines, ["filters: unknown key 'a\\nb\\''"]);
    }

    /// Limit, offset, (sortable index, descending) pairs, (filterable index, value) pairs.
    type QueryParts = (i64, i64, Vec<(usize, bool)>, Vec<(usize, i64)>);

    fn arbitrary_query() -> impl Strategy<Value = QueryParts> {
        (
            1..=MAX_LIMIT,
            0..=MAX_OFFSET,
            prop::collection::vec((0..CHANNELS.sortable.len(), any::<bool>()), 0..4),
            prop::collection::vec((0..CHANNELS.filterable.len(), any::<i64>()), 0..4),
        )
    }

    proptest! {
        #[test]
        fn parse_never_panics(
            limit in proptest::option::of(".{0,30}"),
            offset in proptest::option::of(".{0,30}"),
            sort in proptest::option::of(".{0,60}"),
            filters in proptest::option::of(".{0,80}"),
            cursor in proptest::option::of("[A-Za-z0-9_-]{0,80}"),
        ) {
            let raw = RawList {
                limit: limit.as_deref(),
                offset: offset.as_deref(),
                sort: sort.as_deref(),
                filters: filters.as_deref(),
                cursor: cursor.as_deref(),
                context: "",
            };
            match ListQuery::parse(&CHANNELS, &raw) {
                Ok(query) => {
                    prop_assert!((1..=MAX_LIMIT).contains(&query.limit));
                    prop_assert!((0..=MAX_OFFSET).contains(&query.offset));
                }
                Err(lines) => {
                    prop_assert!(!lines.is_empty());
                    prop_assert!(lines.len() <= MAX_PROBLEMS + 1);
                }
            }
        }

        #[test]
        fn parse_never_panics_on_json_like_filters(filters in r#"\{("[a-z_.]{0,12}": ?(-?[0-9]{1,22}(\.[0-9])?|"[^"\\]{0,5}"|true|null|\[\]|\{\}),? ?){0,4}\}"#) {
            let raw = RawList { filters: Some(&filters), ..RawList::default() };
            let _ = ListQuery::parse(&CHANNELS, &raw);
        }

        /// What the envelope echoes back parses to the same query: clients can replay it.
        #[test]
        fn echoes_parse_back_to_the_same_query((limit, offset, sort, filters) in arbitrary_query()) {
            let mut seen = HashSet::new();
            let sort = sort
                .into_iter()
                .filter(|(i, _)| seen.insert(*i))
                .map(|(i, desc)| if desc { format!("-{}", CHANNELS.sortable[i]) } else { CHANNELS.sortable[i].to_owned() })
                .collect::<Vec<_>>()
                .join(",");
            let filters = serde_json::Value::Object(
                filters
                    .into_iter()
                    .map(|(i, n)| (CHANNELS.filterable[i].to_owned(), serde_json::Value::from(n)))
                    .collect(),
            )
            .to_string();
            let (limit, offset) = (limit.to_string(), offset.to_string());
            let first = ListQuery::parse(&CHANNELS, &RawList {
                limit: Some(&limit),
                offset: Some(&offset),
                sort: Some(&sort),
                filters: Some(&filters),
                ..RawList::default()
            })
            .unwrap();
            let (sort, filters) = (first.sort_strings().join(","), first.filters_json().to_string());
            let second = ListQuery::parse(&CHANNELS, &RawList {
                limit: Some(&limit),
                offset: Some(&offset),
                sort: Some(&sort),
                filters: Some(&filters),
                ..RawList::default()
            })
            .unwrap();
            prop_assert_eq!(first, second);
        }
    }
}
