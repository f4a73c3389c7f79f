-- Partner profile: the Allow clients to add phone number toggle (Partner-Payment partners; on
-- unless turned off) and the company logo, stored in the database as re-encoded PNG bytes with
-- the hash that names it in its public URL. Portable rules (DESIGN.md): 0/1 BIGINT instead of
-- BOOLEAN, BIGINT unix milliseconds from Rust. The bytes column is the one dialect difference
-- (BYTEA here, BLOB on SQLite); sqlx Any binds and reads both as Vec<u8>.

ALTER TABLE partners ADD COLUMN allow_client_to_add_phone_no BIGINT NOT NULL DEFAULT 1;

CREATE TABLE partner_logos (
    partner_id      TEXT PRIMARY KEY REFERENCES partners (id),
    content_type    TEXT NOT NULL,
    content_hash    TEXT NOT NULL,
    width           BIGINT NOT NULL,
    height          BIGINT NOT NULL,
    bytes           BYTEA NOT NULL,
    updated_ms      BIGINT NOT NULL
);
