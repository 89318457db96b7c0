-- Which process runs a job (`host:pid`): a new process fails only the jobs
-- of processes that are gone, not those of a server still running.
ALTER TABLE jobs ADD COLUMN worker TEXT;
