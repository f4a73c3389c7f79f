-- PostgreSQL gained a trigram index of channels' search text without spaces (see the
-- PostgreSQL migration). SQLite's FTS5 trigram index already holds trigrams that span a space,
-- so there is nothing to change here; the version keeps both folders in step.
SELECT 1;
