-- Foundation: people, partners, memberships, sessions, invitations, password resets, staff,
-- mail outbox, jobs and the audit log. Portable rules (DESIGN.md): TEXT ids made in Rust,
-- BIGINT unix milliseconds, no BOOLEAN columns, no SQL-side clocks.

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    password_hash   TEXT,
    created_ms      BIGINT NOT NULL,
    last_login_ms   BIGINT
);

CREATE TABLE partners (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    currency        TEXT NOT NULL,
    payment_model   TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'active',
    created_ms      BIGINT NOT NULL
);
CREATE INDEX partners_created ON partners (created_ms, id);

CREATE TABLE memberships (
    partner_id      TEXT NOT NULL REFERENCES partners (id),
    user_id         TEXT NOT NULL REFERENCES users (id),
    role            TEXT NOT NULL,
    created_ms      BIGINT NOT NULL,
    PRIMARY KEY (partner_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

-- A session belongs either to a user or to a staff account (kind); only the SHA-256 of the
-- cookie value is stored.
CREATE TABLE sessions (
    token_hash      TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    subject_id      TEXT NOT NULL,
    created_ms      BIGINT NOT NULL,
    expires_ms      BIGINT NOT NULL,
    last_seen_ms    BIGINT NOT NULL,
    ip              TEXT NOT NULL,
    user_agent      TEXT NOT NULL
);
CREATE INDEX sessions_subject ON sessions (kind, subject_id);
CREATE INDEX sessions_expiry ON sessions (expires_ms);

CREATE TABLE invitations (
    id              TEXT PRIMARY KEY,
    token_hash      TEXT NOT NULL UNIQUE,
    partner_id      TEXT NOT NULL REFERENCES partners (id),
    email           TEXT NOT NULL,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL,
    invited_by      TEXT,
    state           TEXT NOT NULL,
    created_ms      BIGINT NOT NULL,
    expires_ms      BIGINT NOT NULL,
    updated_ms      BIGINT NOT NULL
);
CREATE INDEX invitations_partner ON invitations (partner_id, state, created_ms);

CREATE TABLE password_resets (
    token_hash      TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    subject_id      TEXT NOT NULL,
    created_ms      BIGINT NOT NULL,
    expires_ms      BIGINT NOT NULL,
    used_ms         BIGINT
);
CREATE INDEX password_resets_subject ON password_resets (kind, subject_id);

CREATE TABLE staff (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    created_ms      BIGINT NOT NULL,
    last_login_ms   BIGINT
);

CREATE TABLE mail_outbox (
    id              TEXT PRIMARY KEY,
    to_addr         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT,
    created_ms      BIGINT NOT NULL,
    sent_ms         BIGINT
);
CREATE INDEX mail_outbox_created ON mail_outbox (created_ms, id);

CREATE TABLE jobs (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    run_at_ms       BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    lease_until_ms  BIGINT,
    state           TEXT NOT NULL DEFAULT 'queued',
    last_error      TEXT,
    created_ms      BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, run_at_ms);

CREATE TABLE audit_log (
    id              TEXT PRIMARY KEY,
    partner_id      TEXT,
    actor_kind      TEXT NOT NULL,
    actor_id        TEXT NOT NULL,
    action          TEXT NOT NULL,
    target          TEXT NOT NULL,
    detail          TEXT NOT NULL,
    ip              TEXT NOT NULL,
    created_ms      BIGINT NOT NULL
);
CREATE INDEX audit_log_partner ON audit_log (partner_id, created_ms);
