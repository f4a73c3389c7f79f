-- Jobs asked for by a key ("close 2027-03 for partner X", "purge sessions of hour H"): a second
-- enqueue with the same key is a no-op, also after the first has run, because finished keyed
-- jobs stay behind as state 'done' (swept after 30 days). NULL keys never conflict.
ALTER TABLE jobs ADD COLUMN unique_key TEXT;
ALTER TABLE jobs ADD COLUMN finished_ms BIGINT;
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key);

-- /readyz writes (and at once deletes) a row here, so readiness means "can write", and a full
-- disk shows as not ready.
CREATE TABLE storage_probe (
    id      TEXT PRIMARY KEY,
    filler  TEXT NOT NULL
);
