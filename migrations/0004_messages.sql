-- The conversation with the coordinator, per session, so that a reload or
-- another device brings it back.
CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    role TEXT NOT NULL,
    body TEXT NOT NULL
);

CREATE INDEX messages_by_session ON messages (session_id, created_at);
