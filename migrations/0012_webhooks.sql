-- Webhooks. A job may carry a callback (its own, or its asker's default
-- when it was queued); once the job has ended, its deliveries are queued
-- (one per callback) and `notified` is set in the same transaction.
ALTER TABLE jobs ADD COLUMN callback TEXT;
ALTER TABLE jobs ADD COLUMN notified BIGINT;
CREATE INDEX jobs_to_notify ON jobs (status) WHERE callback IS NOT NULL AND notified IS NULL;

-- An asker's default callback and signing secret.
CREATE TABLE webhooks (
    owner TEXT PRIMARY KEY,
    url TEXT,
    events TEXT,
    secret TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- One delivery of one event to one URL, retried until delivered or given up.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    job_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    owner TEXT,
    event TEXT NOT NULL,
    url TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_until BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_job ON webhook_deliveries (job_id);

-- Each attempt, for the deliveries log.
CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    at TEXT NOT NULL,
    status_code BIGINT,
    latency_ms BIGINT NOT NULL,
    error TEXT,
    PRIMARY KEY (delivery_id, attempt)
);
