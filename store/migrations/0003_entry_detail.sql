-- 0003_entry_detail: what a connector said about an entry's outcome, for a
-- person: what was ended and what was not, why a step was skipped, the
-- instructions of a manual step.
ALTER TABLE entries ADD COLUMN detail TEXT NOT NULL DEFAULT '';
