-- WhatsApp accounts: clients, their WABAs and numbers (channels) with status history, channel and
-- partner API keys, bearer tokens, and the partner settings the Partner API exposes so far.
-- Dotted API filter keys (contact_info.email, …) map to plain columns so filters stay portable.

ALTER TABLE partners ADD COLUMN brand_name TEXT;
ALTER TABLE partners ADD COLUMN solution_id TEXT;
ALTER TABLE partners ADD COLUMN country TEXT;
ALTER TABLE partners ADD COLUMN default_hosting_type TEXT NOT NULL DEFAULT 'cloud_api';
ALTER TABLE partners ADD COLUMN default_data_storage_region TEXT;

CREATE TABLE clients (
    id                          TEXT PRIMARY KEY,
    partner_id                  TEXT NOT NULL REFERENCES partners (id),
    name                        TEXT NOT NULL,
    status                      TEXT NOT NULL,
    organisation                TEXT,
    max_channels                BIGINT NOT NULL,
    partner_payload             TEXT,
    contact_email               TEXT,
    contact_full_name           TEXT,
    contact_phone               TEXT,
    contact_country             TEXT,
    contact_city                TEXT,
    contact_street_name         TEXT,
    contact_zip_code            TEXT,
    contact_webpage_url         TEXT,
    contact_language            TEXT,
    contact_user_name           TEXT,
    contact_user_email          TEXT,
    contact_user_phone          TEXT,
    meta_business_vertical      TEXT,
    meta_timezone               TEXT,
    meta_about                  TEXT,
    meta_business_description   TEXT,
    meta_use_case               TEXT,
    created_ms                  BIGINT NOT NULL,
    modified_ms                 BIGINT NOT NULL
);
CREATE INDEX clients_partner_created ON clients (partner_id, created_ms, id);
CREATE INDEX clients_partner_name ON clients (partner_id, name);

CREATE TABLE wabas (
    id                  TEXT PRIMARY KEY,
    partner_id          TEXT NOT NULL REFERENCES partners (id),
    client_id           TEXT NOT NULL REFERENCES clients (id),
    external_id         TEXT,
    name                TEXT NOT NULL,
    namespace           TEXT,
    fb_account_status   TEXT NOT NULL,
    business_id         TEXT,
    business_name       TEXT,
    business_status     TEXT,
    business_type       TEXT,
    timezone            TEXT,
    created_ms          BIGINT NOT NULL,
    modified_ms         BIGINT NOT NULL
);
CREATE INDEX wabas_partner_client ON wabas (partner_id, client_id);

CREATE TABLE channels (
    id                      TEXT PRIMARY KEY,
    partner_id              TEXT NOT NULL REFERENCES partners (id),
    client_id               TEXT NOT NULL REFERENCES clients (id),
    waba_id                 TEXT NOT NULL REFERENCES wabas (id),
    phone_number            TEXT NOT NULL,
    phone_name              TEXT NOT NULL,
    verification_method     TEXT NOT NULL,
    default_language        TEXT,
    status                  TEXT NOT NULL,
    account_mode            TEXT NOT NULL,
    hosting_type            TEXT NOT NULL,
    data_storage_region     TEXT,
    partner_permission      TEXT NOT NULL,
    current_limit           TEXT,
    quality_rating          TEXT NOT NULL,
    external_id             TEXT,
    is_migrated             BIGINT NOT NULL DEFAULT 0,
    verification_attempts   BIGINT NOT NULL DEFAULT 0,
    locked_until_ms         BIGINT,
    billing_started_ms      BIGINT,
    terminated_ms           BIGINT,
    cancelled_ms            BIGINT,
    cancellation_requested_ms BIGINT,
    search_text             TEXT NOT NULL,
    created_ms              BIGINT NOT NULL,
    modified_ms             BIGINT NOT NULL
);
CREATE INDEX channels_partner_created ON channels (partner_id, created_ms, id);
CREATE INDEX channels_partner_status ON channels (partner_id, status, created_ms, id);
CREATE INDEX channels_partner_client ON channels (partner_id, client_id, created_ms, id);
-- One live channel per phone number on the whole platform; a cancelled number may come back.
CREATE UNIQUE INDEX channels_live_phone ON channels (phone_number) WHERE status <> 'cancelled';

CREATE TABLE channel_status_history (
    id              TEXT PRIMARY KEY,
    partner_id      TEXT NOT NULL,
    channel_id      TEXT NOT NULL REFERENCES channels (id),
    from_status     TEXT,
    to_status       TEXT NOT NULL,
    reason          TEXT NOT NULL,
    created_ms      BIGINT NOT NULL
);
CREATE INDEX channel_status_history_channel ON channel_status_history (channel_id, created_ms);

CREATE TABLE channel_api_keys (
    id              TEXT PRIMARY KEY,
    partner_id      TEXT NOT NULL,
    channel_id      TEXT NOT NULL REFERENCES channels (id),
    key_hash        TEXT NOT NULL UNIQUE,
    prefix          TEXT NOT NULL,
    app_id          TEXT NOT NULL,
    created_ms      BIGINT NOT NULL,
    revoked_ms      BIGINT
);
CREATE INDEX channel_api_keys_channel ON channel_api_keys (partner_id, channel_id, created_ms);

CREATE TABLE partner_api_keys (
    id              TEXT PRIMARY KEY,
    partner_id      TEXT NOT NULL REFERENCES partners (id),
    name            TEXT NOT NULL,
    key_hash        TEXT NOT NULL UNIQUE,
    prefix          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_ms      BIGINT NOT NULL,
    last_used_ms    BIGINT,
    revoked_ms      BIGINT
);
CREATE INDEX partner_api_keys_partner ON partner_api_keys (partner_id, created_ms);

-- Bearer tokens from POST /api/v2/token: opaque, hashed, tied to a user (not a partner).
CREATE TABLE api_tokens (
    token_hash      TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id),
    created_ms      BIGINT NOT NULL,
    expires_ms      BIGINT NOT NULL
);
CREATE INDEX api_tokens_expiry ON api_tokens (expires_ms);
