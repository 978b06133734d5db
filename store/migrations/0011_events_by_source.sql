-- 0011_events_by_source: a reconciliation asks whether a source already
-- recorded an event about a subject since a time (SubjectEventSince): the
-- events of one source by when they were received.
CREATE INDEX events_source_received ON events (source, received_at);
