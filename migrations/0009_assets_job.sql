-- The job whose attempt made an asset (NULL for everything made outside a
-- job): when a job's worker dies and the job runs again, what the dead
-- attempt had made is removed first, so a run's outputs are listed once.
ALTER TABLE assets ADD COLUMN job_id TEXT;
CREATE INDEX assets_by_job ON assets (job_id);
