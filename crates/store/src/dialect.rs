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
