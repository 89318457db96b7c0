-- Bumped with every asset written to or deleted from a session: a process
-- may keep a session's encoded asset listing while this (and the session's
-- created_at) are unchanged, whichever process wrote.
ALTER TABLE sessions ADD COLUMN assets_version BIGINT NOT NULL DEFAULT 0;
