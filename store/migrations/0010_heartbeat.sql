-- 0010_heartbeat: one row that the readiness probe updates, so that /readyz
-- knows whether a write can commit now, not only whether the database
-- answers (a write lock held elsewhere leaves reads and pings working).
CREATE TABLE heartbeat (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    at BIGINT  NOT NULL
);
INSERT INTO heartbeat (id, at) VALUES (1, 0);
