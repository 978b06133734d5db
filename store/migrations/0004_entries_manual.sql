-- 0004_entries_manual: the open manual steps (GET /v1/manual) are found by
-- their outcome, oldest first, without reading every entry ever recorded.
CREATE INDEX entries_manual ON entries (created_at) WHERE outcome = 'manual_required';
