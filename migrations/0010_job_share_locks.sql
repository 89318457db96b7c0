-- One row per asker that has submitted a job: submitting locks it (an
-- upsert) so that counting the asker's jobs and inserting the new one are
-- one step even when many requests of one asker arrive at once.
CREATE TABLE job_share_locks (owner TEXT PRIMARY KEY);
