-- Runs of calendar-scheduled jobs (the weekly report), one row per job and
-- slot. A replica claims a slot by inserting its row; the primary key lets
-- exactly one of several replicas win, however their clocks and timers
-- drift. progress records what the run has done so far (the report's
-- message and chart), so a retry after a crash neither repeats nor skips a
-- step.
CREATE TABLE scheduled_runs (
    job        text        NOT NULL,
    slot       timestamptz NOT NULL,
    claimed_by text        NOT NULL DEFAULT '',
    claimed_at timestamptz NOT NULL DEFAULT now(),
    progress   jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (job, slot)
);
