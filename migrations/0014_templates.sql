-- Templates: a compose body with {{field}} placeholders, owned by a key
-- (empty on a server without keys).
CREATE TABLE templates (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    body TEXT NOT NULL,
    fields TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX templates_owner ON templates (owner, created_at);
