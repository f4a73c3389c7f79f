//! The statements that cannot be written once for both backends. Keep this file short.

use crate::Backend;

/// How a write transaction starts. SQLite must take the write lock up front (`IMMEDIATE`), or two
/// readers that both decide to write deadlock into SQLITE_BUSY; PostgreSQL needs nothing special.
pub fn begin_write(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "BEGIN IMMEDIATE",
        Backend::Postgres => "BEGIN",
    }
}

/// Pragmas every SQLite connection runs at connect time.
pub const SQLITE_PRAGMAS: &[&str] = &[
    "PRAGMA journal_mode = WAL",
    "PRAGMA busy_timeout = 5000",
    "PRAGMA foreign_keys = ON",
    "PRAGMA synchronous = NORMAL",
];

/// Claim up to `$3` due jobs for a lease ending at `$2`; `$1` is now. PostgreSQL skips rows other
/// workers hold; SQLite has one writer at a time, so the plain update inside the immediate
/// transaction is already exclusive.
pub fn claim_jobs(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => {
            "UPDATE jobs SET lease_until_ms = $2, attempts = attempts + 1
              WHERE id IN (SELECT id FROM jobs
                            WHERE state = 'queued' AND run_at_ms <= $1 AND (lease_until_ms IS NULL OR lease_until_ms < $1)
                            ORDER BY run_at_ms LIMIT $3 FOR UPDATE SKIP LOCKED)
          RETURNING id, kind, payload, attempts"
        }
        Backend::Sqlite => {
            "UPDATE jobs SET lease_until_ms = $2, attempts = attempts + 1
              WHERE id IN (SELECT id FROM jobs
                            WHERE state = 'queued' AND run_at_ms <= $1 AND (lease_until_ms IS NULL OR lease_until_ms < $1)
                            ORDER BY run_at_ms LIMIT $3)
          RETURNING id, kind, payload, attempts"
        }
    }
}

/// Lease up to `$3` due webhook events until `$2`; `$1` is now. Returns their ids.
pub fn claim_webhook_events(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => {
            "UPDATE webhook_events SET lease_until_ms = $2
              WHERE id IN (SELECT id FROM webhook_events
                            WHERE state = 'pending' AND next_attempt_ms <= $1 AND (lease_until_ms IS NULL OR lease_until_ms < $1)
                            ORDER BY next_attempt_ms LIMIT $3 FOR UPDATE SKIP LOCKED)
          RETURNING id"
        }
        Backend::Sqlite => {
            "UPDATE webhook_events SET lease_until_ms = $2
              WHERE id IN (SELECT id FROM webhook_events
                            WHERE state = 'pending' AND next_attempt_ms <= $1 AND (lease_until_ms IS NULL OR lease_until_ms < $1)
                            ORDER BY next_attempt_ms LIMIT $3)
          RETURNING id"
        }
    }
}

/// SQLite's free-text index of channels (`channel_search`, FTS5 with the trigram tokenizer, kept
/// in step by triggers). A list that matches a phrase through it reads the index first and looks
/// up only the matching channels; `CROSS JOIN` fixes that order, which SQLite's planner would
/// otherwise not choose without statistics. PostgreSQL needs none of this: its trigram GIN index
/// serves `search_text LIKE '%…%'` directly.
pub const SQLITE_CHANNEL_SEARCH_FROM: &str =
    " FROM channel_search s CROSS JOIN channels c ON c.id = s.channel_id";

/// The condition that goes with [`SQLITE_CHANNEL_SEARCH_FROM`]; binds an [`fts5_phrase`].
pub const SQLITE_CHANNEL_SEARCH_MATCH: &str = " AND s.channel_search MATCH ";

/// With [`SQLITE_CHANNEL_SEARCH_FROM`]: the partner as the index holds it, tested before the
/// channel row is looked up; binds the partner id.
pub const SQLITE_CHANNEL_SEARCH_PARTNER: &str = " AND s.partner_id = ";

/// Up to this many indexed matches (over all partners) the trigram index drives a list: every
/// match costs a lookup of its channel. A broader phrase is cheaper to find by scanning the
/// partner's covering index, which also yields the rows already in list order.
pub const SQLITE_CHANNEL_SEARCH_INDEXED_MAX: i64 = 10_000;

/// The rest of a condition on `channel_search s` that holds when the row's text contains `$n`
/// (lower-cased, as `search_text` is). `instr`, not `LIKE`: FTS5 would take a `LIKE` on its
/// column as one more index lookup of every trigram, which is what the caller avoids.
pub const SQLITE_CHANNEL_SEARCH_CONTAINS: &str = " AND instr(s.search_text, ";

/// After `SELECT CAST($i`, one row of a `UNION ALL`: how many channels (of every partner) hold
/// a trigram; the caller ends it with a `LIMIT` one past [`trigram_count_max`] and `) AS t`.
/// Returns the SQL up to the trigram's placeholder and what to bind there: an [`fts5_phrase`] on
/// SQLite, a `LIKE` pattern that `pg_trgm` answers on PostgreSQL (in the text without spaces
/// when the trigram is `joined`: see [`POSTGRES_JOINED_SEARCH_TEXT_LIKE`]).
pub fn trigram_count(backend: Backend, trigram: &str, joined: bool) -> (&'static str, String) {
    match (backend, joined) {
        (Backend::Sqlite, _) => (
            " AS BIGINT) AS i, CAST(COUNT(*) AS BIGINT) AS n FROM (SELECT 1 FROM channel_search WHERE channel_search MATCH ",
            fts5_phrase(trigram),
        ),
        (Backend::Postgres, false) => (
            " AS BIGINT) AS i, CAST(COUNT(*) AS BIGINT) AS n FROM (SELECT 1 FROM channels WHERE search_text LIKE ",
            format!("%{trigram}%"),
        ),
        (Backend::Postgres, true) => (
            " AS BIGINT) AS i, CAST(COUNT(*) AS BIGINT) AS n FROM (SELECT 1 FROM channels WHERE replace(search_text, ' ', '') LIKE ",
            format!("%{trigram}%"),
        ),
    }
}

/// Ends a `LIKE` condition whose pattern escapes with a backslash. PostgreSQL's `LIKE` does so
/// by default, and an explicit `ESCAPE` would turn the pattern into a function call that the
/// trigram index plans worse; SQLite's has no escape character unless one is named.
pub fn like_escape(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => " ESCAPE '\\'",
        Backend::Postgres => "",
    }
}

/// PostgreSQL: a condition that `search_text` without its spaces matches a `LIKE` pattern,
/// which the trigram index `channels_search_joined_trgm` (migration 0009) answers. `pg_trgm`
/// takes trigrams within words only, so in `search_text`'s own index "client 0" is "client"
/// (in every channel) and a word starting with "0" (in one of twenty); joined, it holds "nt0",
/// which only the channels of a client 0 do. The expression must stay the index's.
pub const POSTGRES_JOINED_SEARCH_TEXT_LIKE: &str = " AND replace(c.search_text, ' ', '') LIKE ";

/// A trigram held by at most this many channels is rare enough to find candidates by (with a
/// second one to narrow them: see `channels::rarest`). Counts are kept a minute, so counting a
/// common trigram is paid once a minute, not per search. A candidate costs SQLite a read of the
/// index's own row (about a microsecond), PostgreSQL a heap fetch and a recheck of the pattern
/// (0.6 µs from shared buffers), and counting to the bar costs PostgreSQL those fetches too
/// (4 ms for 5,001 rows), hence the lower bar there. Below it, the two rarest trigrams' few
/// common candidates beat both other plans: the pattern's every trigram through the index
/// ("client 3007": 5.5 ms against 0.6 ms) and a scan of the partner's channels (25 ms for
/// 100,000). At 2,000, the bench's phrases "client 1000" to "client 4999" (each trigram in
/// 2,220 channels or more) took those plans.
pub fn trigram_count_max(backend: Backend) -> i64 {
    match backend {
        Backend::Sqlite => 20_000,
        Backend::Postgres => 5_000,
    }
}

/// The rest of a condition on `channels c` that holds when its `search_text` contains `$n`
/// (both lower-cased); PostgreSQL spells SQLite's `instr` as `strpos`.
pub const POSTGRES_SEARCH_TEXT_CONTAINS: &str = " AND strpos(c.search_text, ";

/// How many channels (of every partner) match phrase `$1`, counting no further than one past
/// [`SQLITE_CHANNEL_SEARCH_INDEXED_MAX`] (a literal: a bound LIMIT makes SQLite re-prepare).
pub const SQLITE_CHANNEL_SEARCH_PROBE: &str = "SELECT CAST(COUNT(*) AS BIGINT) FROM
    (SELECT 1 FROM channel_search WHERE channel_search MATCH $1 LIMIT 10001) AS matches";

/// Closes the subquery `p` that picked a page's ids and joins their channels. SQLite's
/// `CROSS JOIN` keeps the page first (it would otherwise plan without statistics); PostgreSQL
/// has no `CROSS JOIN … ON` and plans this order itself.
pub fn page_rows_join(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => ") p CROSS JOIN channels c ON c.id = p.page_id",
        Backend::Postgres => ") p JOIN channels c ON c.id = p.page_id",
    }
}

/// `text` as one FTS5 phrase: with the trigram tokenizer a phrase matches exactly the rows that
/// contain it as a substring (case-insensitively), as `LIKE '%text%'` does.
pub fn fts5_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// SQLite: a channel as the Partner API's JSON object, built by the database: `SELECT` and one
/// text column `j`, keys in the order of the API's `Channel` (nulls, booleans and `…Z`
/// timestamps at whole seconds as `iso_ms` writes them). Goes with `FROM channels c` joined to
/// `clients cl` and `wabas w`. PostgreSQL pages read the columns instead (`channels::JsonPage`).
pub const SQLITE_CHANNEL_JSON: &str = "SELECT json_object('id', c.id, 'client_id', c.client_id, 'waba_account_id', c.waba_id,
        'status', c.status, 'account_mode', c.account_mode, 'hosting_type', c.hosting_type,
        'data_storage_region', c.data_storage_region, 'partner_permission', c.partner_permission,
        'created_at', strftime('%Y-%m-%dT%H:%M:%SZ', c.created_ms / 1000, 'unixepoch'),
        'modified_at', strftime('%Y-%m-%dT%H:%M:%SZ', c.modified_ms / 1000, 'unixepoch'),
        'billing_started_at', strftime('%Y-%m-%dT%H:%M:%SZ', c.billing_started_ms / 1000, 'unixepoch'),
        'terminated_at', strftime('%Y-%m-%dT%H:%M:%SZ', c.terminated_ms / 1000, 'unixepoch'),
        'cancelled_at', strftime('%Y-%m-%dT%H:%M:%SZ', c.cancelled_ms / 1000, 'unixepoch'),
        'current_limit', c.current_limit, 'current_quality_rating', c.quality_rating,
        'external_id', c.external_id,
        'is_migrated', json(CASE WHEN c.is_migrated <> 0 THEN 'true' ELSE 'false' END),
        'client', json_object('id', c.client_id, 'name', cl.name,
            'partner_payload', cl.partner_payload,
            'contact_info', json_object('email', cl.contact_email)),
        'setup_info', json_object('phone_number', c.phone_number, 'phone_name', c.phone_name,
            'verification_method', c.verification_method,
            'default_language', c.default_language),
        'waba_account', json_object('id', c.waba_id, 'external_id', w.external_id,
            'name', w.name, 'namespace', w.namespace,
            'fb_account_status', w.fb_account_status,
            'on_behalf_of_business_info', json_object('id', w.business_id,
                'name', w.business_name, 'status', w.business_status,
                'type', w.business_type))) AS j";

/// A channel list's partner condition when a phrase's rare trigrams find the candidates
/// (`channels::Scanned`): an expression, so it filters the few candidates the trigram index
/// yields instead of being an index condition. As one, PostgreSQL ANDed the trigram index's
/// bitmap with the partner's whole btree range (100,000 entries for a big partner), which cost
/// more than the rest of the search.
pub const POSTGRES_PARTNER_FILTER: &str = " WHERE (c.partner_id || '') = ";

/// Whether a list page's binds are written as `(SELECT $n)` (`Select::opaque_binds`), so one
/// plan serves every partner. PostgreSQL only: SQLite plans a statement once when it is
/// prepared, whatever its values.
pub fn hides_page_binds(backend: Backend) -> bool {
    backend == Backend::Postgres
}

/// What ends a read of a billing account (alias `b`) that will be posted to: PostgreSQL locks
/// the row until the transaction ends; SQLite's write transaction holds the whole database.
/// `backend` is the connection's `backend_name()`.
pub fn lock_account_row(backend: &str) -> &'static str {
    if backend == "PostgreSQL" {
        " FOR UPDATE OF b"
    } else {
        ""
    }
}
