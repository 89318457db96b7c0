-- Jobs run on any worker process (see src/jobs): the job keeps its own input,
-- its live step, a cancel request any API process can set, how many times a
-- worker took it up, and the claim of the attempt that may finish it (a
-- stale attempt of a worker thought dead cannot record an outcome).
ALTER TABLE jobs ADD COLUMN input TEXT;
ALTER TABLE jobs ADD COLUMN step TEXT;
ALTER TABLE jobs ADD COLUMN cancel_requested BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN claim TEXT;
CREATE INDEX jobs_by_status ON jobs (status);
-- Jobs an earlier version left unfinished have no input and cannot run
-- again: they end here, as that version's restart would have ended them.
UPDATE jobs SET status = 'failed',
    error = '{"code":"interrupted","message":"the server restarted while this job was queued or running; run it again"}'
    WHERE status IN ('queued', 'running');
