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

/// Up to this many indexed matches (over all partners) the trigram index drives a list: every
/// match costs a lookup of its channel. A broader phrase is cheaper to find by scanning the
/// partner's covering index, which also yields the rows already in list order.
pub const SQLITE_CHANNEL_SEARCH_INDEXED_MAX: i64 = 10_000;

/// How many channels (of every partner) match phrase `$1`, counting no further than one past
/// [`SQLITE_CHANNEL_SEARCH_INDEXED_MAX`] (a literal: a bound LIMIT makes SQLite re-prepare).
pub const SQLITE_CHANNEL_SEARCH_PROBE: &str = "SELECT CAST(COUNT(*) AS BIGINT) FROM
    (SELECT 1 FROM channel_search WHERE channel_search MATCH $1 LIMIT 10001) AS matches";

/// `text` as one FTS5 phrase: with the trigram tokenizer a phrase matches exactly the rows that
/// contain it as a substring (case-insensitively), as `LIKE '%text%'` does.
pub fn fts5_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}
