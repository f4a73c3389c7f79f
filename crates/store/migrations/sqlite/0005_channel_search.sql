-- Free text (`q`) over channels without reading every row: a trigram index (FTS5) of each
-- channel's search text. Triggers keep it in step with `channels`, so no code path can forget it;
-- rows are found by `channel_id`, never by rowid (a VACUUM may renumber the rowids of `channels`).
-- The store matches a phrase here only when the phrase is selective (see `store::channels`);
-- broad phrases still scan the partner's covering index `channels_partner_search`.

CREATE VIRTUAL TABLE channel_search USING fts5 (
    search_text,
    channel_id UNINDEXED,
    tokenize = 'trigram'
);

INSERT INTO channel_search (search_text, channel_id) SELECT search_text, id FROM channels;

CREATE TRIGGER channel_search_insert AFTER INSERT ON channels BEGIN
    INSERT INTO channel_search (search_text, channel_id) VALUES (new.search_text, new.id);
END;

CREATE TRIGGER channel_search_update AFTER UPDATE OF id, search_text ON channels BEGIN
    DELETE FROM channel_search WHERE channel_id = old.id;
    INSERT INTO channel_search (search_text, channel_id) VALUES (new.search_text, new.id);
END;

CREATE TRIGGER channel_search_delete AFTER DELETE ON channels BEGIN
    DELETE FROM channel_search WHERE channel_id = old.id;
END;
