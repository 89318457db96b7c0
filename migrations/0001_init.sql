-- Portable SQL: runs unchanged on SQLite and Postgres.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);

-- The last sequence number handed out per session and asset type; names such
-- as image_3.png are never reused, even after a delete.
CREATE TABLE name_counters (
    session_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    last_seq BIGINT NOT NULL,
    PRIMARY KEY (session_id, kind)
);

CREATE TABLE assets (
    session_id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    seq BIGINT NOT NULL,
    mime_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    source TEXT NOT NULL,
    metadata TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    PRIMARY KEY (session_id, name),
    UNIQUE (session_id, kind, seq)
);

CREATE INDEX assets_by_session_time ON assets (session_id, created_at);
