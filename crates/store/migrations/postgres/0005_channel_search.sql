-- Free text (`q`) over channels without reading every row: a trigram GIN index answers
-- `search_text LIKE '%…%'` (the planner still scans `channels_partner_search` for broad phrases).
-- pg_trgm ships with PostgreSQL (contrib) and is a trusted extension: the database owner may
-- create it.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX channels_search_trgm ON channels USING gin (search_text gin_trgm_ops);
