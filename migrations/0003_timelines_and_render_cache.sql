-- Saved timelines: every save is a new version; the newest is the session's
-- timeline. The document is the body of POST /compose (without "async").
CREATE TABLE timelines (
    session_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    items BIGINT NOT NULL,
    document TEXT NOT NULL,
    PRIMARY KEY (session_id, version)
);

-- Rendered scene segments and soundtracks, kept in the object store and
-- reused by later composes. `cache_key` is a hash of everything that affects
-- the bytes; `sha256` of the bytes themselves detects a damaged object.
CREATE TABLE render_cache (
    session_id TEXT NOT NULL,
    cache_key TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used TEXT NOT NULL,
    PRIMARY KEY (session_id, cache_key)
);

CREATE INDEX render_cache_by_use ON render_cache (last_used);
