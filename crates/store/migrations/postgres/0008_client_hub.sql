-- Client Hub and the flows around it (Integrated Onboarding, permissions, partner change).
-- A client user is a person (`users`, one row per email, the same login as partner users) who
-- acts for a client; one person may hold partner memberships and client accounts at once.

CREATE TABLE client_users (
    client_id       TEXT NOT NULL REFERENCES clients (id),
    user_id         TEXT NOT NULL REFERENCES users (id),
    created_ms      BIGINT NOT NULL,
    PRIMARY KEY (client_id, user_id)
);
CREATE INDEX client_users_user ON client_users (user_id);

-- Whether partner change requests towards this partner are accepted without a person
-- deciding (0/1, the API's `settings.partner_change_request.auto_approve`).
ALTER TABLE partners ADD COLUMN partner_change_auto_approve BIGINT NOT NULL DEFAULT 0;

-- A client's request to move one WABA, with all its numbers, to another partner.
-- status: requested → accepted | declined | cancelled; `completed_ms` once the WABA moved.
CREATE TABLE partner_change_requests (
    id                  TEXT PRIMARY KEY,
    waba_id             TEXT NOT NULL REFERENCES wabas (id),
    client_id           TEXT NOT NULL REFERENCES clients (id),
    from_partner_id     TEXT NOT NULL REFERENCES partners (id),
    to_partner_id       TEXT NOT NULL REFERENCES partners (id),
    status              TEXT NOT NULL,
    requested_by        TEXT NOT NULL REFERENCES users (id),
    decided_by          TEXT,
    created_ms          BIGINT NOT NULL,
    decided_ms          BIGINT,
    completed_ms        BIGINT
);
CREATE INDEX partner_change_requests_to ON partner_change_requests (to_partner_id, status, created_ms);
CREATE INDEX partner_change_requests_from ON partner_change_requests (from_partner_id, created_ms);
CREATE INDEX partner_change_requests_waba ON partner_change_requests (waba_id, status);
