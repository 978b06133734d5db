-- 0007_attempts: every attempt of a revoke, for the evidence an auditor asks
-- for: when it started, how long it took, what the vendor answered (its HTTP
-- status; 200 for an outcome, 0 when no answer came) and what it led to.
-- n is the entry's attempts count when the attempt began (BeginAttempt), so
-- an attempt recorded twice (a re-run) is one row.
CREATE TABLE attempts (
    case_id     TEXT   NOT NULL REFERENCES cases (id),
    connector   TEXT   NOT NULL,
    n           BIGINT NOT NULL,
    started_at  BIGINT NOT NULL,
    duration_us BIGINT NOT NULL,
    status_code BIGINT NOT NULL,
    result      TEXT   NOT NULL,
    error       TEXT   NOT NULL DEFAULT '',
    PRIMARY KEY (case_id, connector, n)
);
