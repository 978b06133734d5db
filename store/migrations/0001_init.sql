-- 0001_init: the record. One schema for SQLite and PostgreSQL: TEXT and BIGINT
-- columns only, times as BIGINT unix microseconds (UTC), booleans as INTEGER 0/1,
-- maps and lists as TEXT JSON. No autoincrement: audit seq comes from audit_head.

-- cases: one offboarding of one subject. state is one of scheduled, pending,
-- in_progress (the open states) or completed, needs_attention (closed).
-- systems is a JSON array of connector names, NULL meaning every connector.
CREATE TABLE cases (
    id           TEXT    NOT NULL PRIMARY KEY,
    email        TEXT    NOT NULL,
    subject_ids  TEXT    NOT NULL DEFAULT '{}',
    reason       TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    dry_run      INTEGER NOT NULL DEFAULT 0,
    systems      TEXT,
    effective_at BIGINT  NOT NULL,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    closed_at    BIGINT
);

-- At most one open case per subject: concurrent events for one email race on
-- this index, and the loser retries and attaches to the winner's case.
CREATE UNIQUE INDEX cases_one_open_per_email ON cases (email)
    WHERE state IN ('scheduled', 'pending', 'in_progress');
CREATE INDEX cases_email ON cases (email);
CREATE INDEX cases_created ON cases (created_at);
CREATE INDEX cases_state_effective ON cases (state, effective_at);

-- events: every verified delivery, once per (source, event_id).
CREATE TABLE events (
    source       TEXT    NOT NULL,
    event_id     TEXT    NOT NULL,
    case_id      TEXT    NOT NULL REFERENCES cases (id),
    type         TEXT    NOT NULL,
    email        TEXT    NOT NULL,
    subject_ids  TEXT    NOT NULL DEFAULT '{}',
    reason       TEXT    NOT NULL,
    systems      TEXT,
    dry_run      INTEGER NOT NULL DEFAULT 0,
    effective_at BIGINT  NOT NULL,
    received_at  BIGINT  NOT NULL,
    request_id   TEXT    NOT NULL DEFAULT '',
    actor        TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (source, event_id)
);
CREATE INDEX events_case ON events (case_id);

-- entries: one connector's work on one case. outcome 'pending' until final.
CREATE TABLE entries (
    case_id     TEXT   NOT NULL REFERENCES cases (id),
    connector   TEXT   NOT NULL,
    outcome     TEXT   NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    last_error  TEXT   NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT,
    PRIMARY KEY (case_id, connector)
);
CREATE INDEX entries_pending ON entries (created_at) WHERE outcome = 'pending';

-- audit_head: the one row that serialises appends to the audit log. Each append
-- bumps seq and stores the new row's hash in the same transaction (a row lock
-- on PostgreSQL; SQLite has a single writer).
CREATE TABLE audit_head (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq  BIGINT  NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
    VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- audit: the append-only, hash-chained log. seq runs 1, 2, 3 … without gaps;
-- hash covers prev_hash and every other column (see audit.go). The code only
-- ever inserts here: audit rows are never updated or deleted by offboarder.
CREATE TABLE audit (
    seq       BIGINT NOT NULL PRIMARY KEY,
    at        BIGINT NOT NULL,
    case_id   TEXT   NOT NULL DEFAULT '',
    connector TEXT   NOT NULL DEFAULT '',
    action    TEXT   NOT NULL,
    actor     TEXT   NOT NULL DEFAULT '',
    detail    TEXT   NOT NULL DEFAULT '',
    prev_hash TEXT   NOT NULL,
    hash      TEXT   NOT NULL
);
CREATE INDEX audit_case ON audit (case_id, seq);
