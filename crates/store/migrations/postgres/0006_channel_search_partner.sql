-- SQLite's trigram index gained the partner of each channel (see the SQLite migration).
-- PostgreSQL's GIN trigram index on `channels.search_text` is filtered by partner through the
-- planner already, so there is nothing to change here; the version exists to keep both
-- folders in step.
SELECT 1;
