-- 0012_case_security: a security case (its reason is security, or a security
-- event attached to it before it was fanned out) runs its tasks on the
-- security queue. Set only before fan-out, never cleared: a case's tasks stay
-- on the queue they were first given. Cases already fanned out keep 0, so
-- that their revoke tasks in flight are found where they are.
ALTER TABLE cases ADD COLUMN security INTEGER NOT NULL DEFAULT 0;
UPDATE cases SET security = 1
    WHERE reason = 'security' AND state IN ('scheduled', 'pending', 'awaiting_approval');
