-- Brand kits: a session's own (scope `session:<id>`) and a key's default
-- for the sessions that have none (scope `owner:<key id>`, or `owner:` on a
-- server without keys). The body is the kit as the API took it.
CREATE TABLE brands (
    scope TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
