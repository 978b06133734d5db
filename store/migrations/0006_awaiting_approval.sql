-- 0006_awaiting_approval: a case the blast-radius guard held waits as
-- awaiting_approval. It is open: an event for its subject attaches to it,
-- and one open case per subject still holds, so the partial unique index
-- lists the new state too.
DROP INDEX cases_one_open_per_subject;
CREATE UNIQUE INDEX cases_one_open_per_subject ON cases (subject_key)
    WHERE state IN ('scheduled', 'pending', 'awaiting_approval', 'in_progress');
