-- Channels per partner and status, kept in the same transactions that create channels or move
-- them between statuses, so list totals of large partners need no COUNT over every row.

CREATE TABLE channel_counts (
    partner_id  TEXT NOT NULL,
    status      TEXT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (partner_id, status)
);

INSERT INTO channel_counts (partner_id, status, n)
SELECT partner_id, status, COUNT(*) FROM channels GROUP BY partner_id, status;

-- Free-text search (`q`) scans this index instead of the table: the matched rows come out in
-- list order and only they are joined to their client and WABA.
CREATE INDEX channels_partner_search ON channels (partner_id, created_ms, id, search_text);
-- It starts with the same columns as this one, which it therefore replaces.
DROP INDEX channels_partner_created;
