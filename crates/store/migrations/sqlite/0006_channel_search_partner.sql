-- The trigram index also holds each channel's partner, so a phrase common among other partners'
-- channels is narrowed to this partner's before any channel row is read. FTS5 tables cannot
-- gain a column, so the index is built again (same triggers, plus the partner).

DROP TRIGGER channel_search_insert;
DROP TRIGGER channel_search_update;
DROP TRIGGER channel_search_delete;
DROP TABLE channel_search;

CREATE VIRTUAL TABLE channel_search USING fts5 (
    search_text,
    channel_id UNINDEXED,
    partner_id UNINDEXED,
    tokenize = 'trigram'
);

INSERT INTO channel_search (search_text, channel_id, partner_id)
    SELECT search_text, id, partner_id FROM channels;

CREATE TRIGGER channel_search_insert AFTER INSERT ON channels BEGIN
    INSERT INTO channel_search (search_text, channel_id, partner_id)
        VALUES (new.search_text, new.id, new.partner_id);
END;

CREATE TRIGGER channel_search_update AFTER UPDATE OF id, search_text, partner_id ON channels BEGIN
    DELETE FROM channel_search WHERE channel_id = old.id;
    INSERT INTO channel_search (search_text, channel_id, partner_id)
        VALUES (new.search_text, new.id, new.partner_id);
END;

CREATE TRIGGER channel_search_delete AFTER DELETE ON channels BEGIN
    DELETE FROM channel_search WHERE channel_id = old.id;
END;
