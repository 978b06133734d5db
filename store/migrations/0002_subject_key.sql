-- 0002_subject_key: a case's subject is keyed by its email, or — for senders
-- whose events carry only an id (Entra, BambooHR, HiBob) — by that id
-- ("<type>:<id>") until the worker resolves the email. One open case per key.
ALTER TABLE cases ADD COLUMN subject_key TEXT NOT NULL DEFAULT '';
UPDATE cases SET subject_key = email;
DROP INDEX cases_one_open_per_email;
CREATE UNIQUE INDEX cases_one_open_per_subject ON cases (subject_key)
    WHERE state IN ('scheduled', 'pending', 'in_progress');

-- source_state: small durable values a source keeps between runs of its
-- maintenance (a Graph subscription, a Google channel, a polling cursor).
CREATE TABLE source_state (
    source     TEXT   NOT NULL,
    key        TEXT   NOT NULL,
    value      TEXT   NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (source, key)
);
