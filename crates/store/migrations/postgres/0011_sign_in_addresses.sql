-- Addresses a person has signed in from. While strangers' failed guesses slow an account down,
-- the right password from one of these still gets in at once (OWASP: never let an attacker lock
-- the owner out). One row per person and address; `last_ms` lets old ones be swept.
CREATE TABLE sign_in_addresses (
    subject_kind    TEXT NOT NULL,
    subject_id      TEXT NOT NULL,
    ip              TEXT NOT NULL,
    last_ms         BIGINT NOT NULL,
    PRIMARY KEY (subject_kind, subject_id, ip)
);
