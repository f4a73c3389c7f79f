-- Free text across words: `pg_trgm` takes a text's trigrams within its words, so a phrase such
-- as "client 0" has no trigram that narrows `channels_search_trgm` to its few rows (every
-- channel holds "client", one in twenty a word starting with "0"), and a big partner's search
-- read all its channels. The same text without spaces holds "nt0" only where "client 0" (or
-- "client0") is; `store::channels` asks this index for a phrase's trigrams that span a space
-- when they are its rarest. Its expression must stay `dialect::POSTGRES_JOINED_SEARCH_TEXT_LIKE`'s.
CREATE INDEX channels_search_joined_trgm ON channels
    USING gin (replace(search_text, ' ', '') gin_trgm_ops);
