-- Metering and the prepaid balance: billing accounts and their append-only, hash-chained ledger;
-- rate card versions; message templates; sent messages with their price; customer service
-- windows; Messaging API idempotency keys; each number's messaging webhook, whose events share
-- the partner webhook outbox (webhook_events.channel_id names the number; NULL for partner events).

-- Billing is off until staff enable it; a partner without billing is never gated.
ALTER TABLE partners ADD COLUMN billing_enabled_ms BIGINT;
-- 1 when staff found the partner eligible for authentication-international rates.
ALTER TABLE partners ADD COLUMN auth_international BIGINT NOT NULL DEFAULT 0;

-- Who pays: the partner (holder 'partner') or one Direct-Payment client (holder = its id).
CREATE TABLE billing_accounts (
    id                  TEXT PRIMARY KEY,
    partner_id          TEXT NOT NULL REFERENCES partners (id),
    holder              TEXT NOT NULL,
    currency            TEXT NOT NULL,
    balance_micros      BIGINT NOT NULL DEFAULT 0,
    -- The chain's head: the hash of the newest entry, and how many entries there are.
    last_hash           TEXT NOT NULL,
    entries             BIGINT NOT NULL DEFAULT 0,
    -- 'active' or 'paused' (balance <= 0 with billing on): one event per change, not per message.
    messaging_state     TEXT NOT NULL DEFAULT 'active',
    -- Below this the partner is warned once (balance_low) until a credit lifts it above again.
    warning_micros      BIGINT NOT NULL DEFAULT 0,
    low_warned          BIGINT NOT NULL DEFAULT 0,
    created_ms          BIGINT NOT NULL,
    UNIQUE (partner_id, holder)
);

CREATE TABLE ledger_entries (
    id                  TEXT PRIMARY KEY,
    account_id          TEXT NOT NULL REFERENCES billing_accounts (id),
    partner_id          TEXT NOT NULL,
    seq                 BIGINT NOT NULL,
    amount_micros       BIGINT NOT NULL,
    kind                TEXT NOT NULL,
    reference           TEXT NOT NULL,
    description         TEXT NOT NULL,
    idempotency_key     TEXT NOT NULL,
    balance_after_micros BIGINT NOT NULL,
    prev_hash           TEXT NOT NULL,
    hash                TEXT NOT NULL,
    created_ms          BIGINT NOT NULL,
    UNIQUE (account_id, idempotency_key),
    UNIQUE (account_id, seq)
);
CREATE INDEX ledger_entries_partner ON ledger_entries (partner_id, created_ms, id);

CREATE TABLE rate_cards (
    id                  TEXT PRIMARY KEY,
    currency            TEXT NOT NULL,
    version             BIGINT NOT NULL,
    effective_from_ms   BIGINT NOT NULL,
    source              TEXT NOT NULL,
    created_ms          BIGINT NOT NULL,
    UNIQUE (currency, version)
);

CREATE TABLE rate_card_markets (
    card_id             TEXT NOT NULL REFERENCES rate_cards (id),
    market              TEXT NOT NULL,
    marketing_micros    BIGINT NOT NULL,
    utility_micros      BIGINT NOT NULL,
    authentication_micros BIGINT NOT NULL,
    authentication_international_micros BIGINT,
    PRIMARY KEY (card_id, market)
);

-- Templates belong to a WABA, as at Meta.
CREATE TABLE message_templates (
    id                  TEXT PRIMARY KEY,
    partner_id          TEXT NOT NULL REFERENCES partners (id),
    waba_id             TEXT NOT NULL REFERENCES wabas (id),
    name                TEXT NOT NULL,
    language            TEXT NOT NULL,
    category            TEXT NOT NULL,
    components          TEXT NOT NULL,
    status              TEXT NOT NULL,
    rejected_reason     TEXT,
    created_ms          BIGINT NOT NULL,
    modified_ms         BIGINT NOT NULL,
    UNIQUE (waba_id, name, language)
);
CREATE INDEX message_templates_partner ON message_templates (partner_id, waba_id, created_ms, id);

CREATE TABLE messages (
    id                  TEXT PRIMARY KEY,
    partner_id          TEXT NOT NULL REFERENCES partners (id),
    client_id           TEXT NOT NULL,
    channel_id          TEXT NOT NULL REFERENCES channels (id),
    -- The billing account charged; NULL while billing is off for the partner.
    account_id          TEXT,
    recipient           TEXT NOT NULL,
    country             TEXT NOT NULL,
    market              TEXT NOT NULL,
    category            TEXT NOT NULL,
    pricing_type        TEXT NOT NULL,
    price_micros        BIGINT NOT NULL,
    currency            TEXT NOT NULL,
    rate_card_id        TEXT,
    template_name       TEXT,
    status              TEXT NOT NULL,
    error_code          BIGINT,
    error_title         TEXT,
    created_ms          BIGINT NOT NULL,
    modified_ms         BIGINT NOT NULL
);
CREATE INDEX messages_partner_created ON messages (partner_id, created_ms, id);
CREATE INDEX messages_channel_created ON messages (partner_id, channel_id, created_ms);
CREATE INDEX messages_client_created ON messages (partner_id, client_id, created_ms);
CREATE INDEX messages_status ON messages (status, created_ms);

-- An inbound message opens a 24-hour customer service window for its sender on that number.
CREATE TABLE service_windows (
    channel_id          TEXT NOT NULL REFERENCES channels (id),
    wa_id               TEXT NOT NULL,
    partner_id          TEXT NOT NULL,
    expires_ms          BIGINT NOT NULL,
    PRIMARY KEY (channel_id, wa_id)
);

-- Idempotency-Key of the Messaging API: the first answer, kept 24 hours.
CREATE TABLE message_requests (
    channel_id          TEXT NOT NULL,
    idempotency_key     TEXT NOT NULL,
    body_hash           TEXT NOT NULL,
    status_code         BIGINT NOT NULL,
    response            TEXT NOT NULL,
    created_ms          BIGINT NOT NULL,
    PRIMARY KEY (channel_id, idempotency_key)
);
CREATE INDEX message_requests_created ON message_requests (created_ms);

-- A number's messaging webhook: its own URL, extra headers and signing secret.
CREATE TABLE channel_webhooks (
    channel_id          TEXT PRIMARY KEY REFERENCES channels (id),
    partner_id          TEXT NOT NULL,
    url                 TEXT NOT NULL,
    headers             TEXT NOT NULL,
    secret              TEXT NOT NULL,
    created_ms          BIGINT NOT NULL,
    modified_ms         BIGINT NOT NULL
);

ALTER TABLE webhook_events ADD COLUMN channel_id TEXT;
