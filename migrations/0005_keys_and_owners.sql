-- API keys: only a SHA-256 hash of each key is kept; the key itself is shown
-- once, when it is made. `admin` is 0 or 1; a revoked key keeps its row.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    admin BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- Which key a session belongs to. A session without a row here was made
-- without a key (the open, local default) and is seen only without one.
CREATE TABLE session_owners (
    session_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL
);

CREATE INDEX session_owners_by_owner ON session_owners (owner, session_id);

-- Who asked for a job (a key id, or a client address without a key): the
-- limit on queued and running jobs is per asker.
ALTER TABLE jobs ADD COLUMN owner TEXT;

CREATE INDEX jobs_by_owner_status ON jobs (owner, status);
