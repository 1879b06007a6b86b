-- Durable work moved to River (its tables come from River's own
-- migrations, applied just before this one under the same lock). The
-- previous queue's waiting jobs were carried over into river_job in this
-- transaction; the table itself goes.
DROP TABLE jobs;

-- A lead's waiting jobs are cancelled together when it is reassigned or
-- closed: find them without reading the whole queue.
CREATE INDEX river_job_waiting_by_lead ON river_job ((args->'lead_id'))
    WHERE state IN ('available', 'scheduled', 'retryable', 'pending');
