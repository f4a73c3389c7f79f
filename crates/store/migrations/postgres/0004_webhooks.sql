-- Integration settings and partner webhooks: the partner's webhook and redirect URLs, its signing
-- secrets (the previous one keeps signing for a day after a rotation), the durable outbox of
-- events with every delivery attempt, and per-user notifications.

ALTER TABLE partners ADD COLUMN webhook_url TEXT;
ALTER TABLE partners ADD COLUMN redirect_url TEXT;
-- Set when the receiver answered 410 Gone: no deliveries until the URL is saved again.
ALTER TABLE partners ADD COLUMN webhook_disabled_ms BIGINT;

-- The secret itself is kept (not a hash): every delivery is signed with it and Owners can reveal it.
CREATE TABLE webhook_secrets (
    id              TEXT PRIMARY KEY,
    partner_id      TEXT NOT NULL REFERENCES partners (id),
    secret          TEXT NOT NULL,
    created_ms      BIGINT NOT NULL,
    -- NULL for the current secret; a rotated-out secret signs until then.
    retires_ms      BIGINT
);
CREATE INDEX webhook_secrets_partner ON webhook_secrets (partner_id, created_ms);

-- The outbox: written in the transaction of the change that caused the event.
CREATE TABLE webhook_events (
    id              TEXT PRIMARY KEY,
    partner_id      TEXT NOT NULL REFERENCES partners (id),
    event_type      TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_ms BIGINT,
    lease_until_ms  BIGINT,
    last_status     BIGINT,
    last_error      TEXT,
    created_ms      BIGINT NOT NULL,
    delivered_ms    BIGINT,
    updated_ms      BIGINT NOT NULL
);
CREATE INDEX webhook_events_due ON webhook_events (next_attempt_ms) WHERE state = 'pending';
CREATE INDEX webhook_events_partner ON webhook_events (partner_id, created_ms, id);
CREATE INDEX webhook_events_partner_type ON webhook_events (partner_id, event_type, created_ms, id);

CREATE TABLE webhook_attempts (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES webhook_events (id),
    partner_id      TEXT NOT NULL,
    attempt         BIGINT NOT NULL,
    url             TEXT NOT NULL,
    status_code     BIGINT,
    latency_ms      BIGINT NOT NULL,
    response_excerpt TEXT,
    error           TEXT,
    created_ms      BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_event ON webhook_attempts (event_id, created_ms);

-- One row per person who should see it; read_ms marks it read.
CREATE TABLE notifications (
    id              TEXT PRIMARY KEY,
    partner_id      TEXT NOT NULL REFERENCES partners (id),
    user_id         TEXT NOT NULL REFERENCES users (id),
    kind            TEXT NOT NULL,
    title           TEXT NOT NULL,
    body            TEXT NOT NULL,
    link            TEXT,
    created_ms      BIGINT NOT NULL,
    read_ms         BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, partner_id, created_ms, id);
CREATE INDEX notifications_unread ON notifications (user_id, partner_id) WHERE read_ms IS NULL;
