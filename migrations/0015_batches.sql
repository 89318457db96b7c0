-- Batches: many renders of one template, one job per row. A batch's jobs
-- are written at once but *released* to the queue a few at a time (see
-- src/jobs/batches.rs), so a batch of hundreds neither fills the queue nor
-- takes its key's whole share of jobs. Jobs outside batches are released
-- when made.
CREATE TABLE batches (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    template_id TEXT NOT NULL,
    total BIGINT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX batches_owner ON batches (owner, created_at);
ALTER TABLE jobs ADD COLUMN batch_id TEXT;
ALTER TABLE jobs ADD COLUMN batch_row BIGINT;
ALTER TABLE jobs ADD COLUMN released BIGINT NOT NULL DEFAULT 1;
CREATE INDEX jobs_by_batch ON jobs (batch_id, batch_row);
CREATE INDEX jobs_unreleased ON jobs (released, status);
