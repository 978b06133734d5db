-- 0008_next_attempt: when a pending entry's next attempt is due (a retry
-- the worker scheduled after a retryable error), so that operators see it;
-- NULL while an attempt runs and once the entry is final.
ALTER TABLE entries ADD COLUMN next_attempt_at BIGINT;
