-- Each running job worker (one per slabot process) says here, every few
-- seconds, that it is alive. A worker not heard from for a while died (a
-- kill -9, a lost node): the other replicas, or the process that replaces
-- it, run again the jobs it held at once, rather than after River's stuck
-- job rescuer (minutes). A table rather than a session advisory lock, so
-- that it works behind PgBouncer in transaction mode.
CREATE TABLE slabot_workers (
    id          text PRIMARY KEY,         -- River's client id of the process
    incarnation text NOT NULL,            -- random per start: a restart under the same id is a new worker
    started_at  timestamptz NOT NULL DEFAULT now(),
    seen_at     timestamptz NOT NULL DEFAULT now()
);
