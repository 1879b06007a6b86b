-- The append-only history of every rep's availability: each time a rep goes
-- away, comes back, is deactivated or reactivated, one row says what, when,
-- by whom and, for an absence, until when. The change to reps and its row
-- are written in the same transaction. The weekly report reads it to list
-- who was away during the week, not just who is away when it is made.
CREATE TABLE rep_events (
    id        bigserial PRIMARY KEY,
    rep_email text NOT NULL REFERENCES reps (email),
    kind      text NOT NULL CHECK (kind IN ('away', 'back', 'deactivated', 'reactivated')),
    -- actor is who made the change: a person's email, or a system's name
    -- ('slack' for the directory sync, an API caller's name); '' when
    -- nobody said.
    actor     text NOT NULL DEFAULT '',
    at        timestamptz NOT NULL,
    -- until is an absence's return date; NULL for one until further notice
    -- and for every other kind.
    until     timestamptz CHECK (until IS NULL OR kind = 'away'),
    note      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rep_events_rep_at ON rep_events (rep_email, at, id);
CREATE INDEX rep_events_at ON rep_events (at);

CREATE FUNCTION rep_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rep_events is append-only: % is not allowed', TG_OP;
END
$$;
CREATE TRIGGER rep_events_append_only BEFORE UPDATE OR DELETE ON rep_events
    FOR EACH ROW EXECUTE FUNCTION rep_events_append_only();
CREATE TRIGGER rep_events_no_truncate BEFORE TRUNCATE ON rep_events
    FOR EACH STATEMENT EXECUTE FUNCTION rep_events_append_only();

-- Carry over the reps who are away or inactive now, so the history starts
-- from the present state. When their status was set is not known; it has
-- not changed since the row was last updated, so that is the time given
-- (the change itself may be older).
INSERT INTO rep_events (rep_email, kind, actor, at, until, note)
SELECT email,
       CASE status WHEN 'away' THEN 'away' ELSE 'deactivated' END,
       '',
       updated_at,
       CASE status WHEN 'away' THEN away_until END,
       'carried over when the history began: the status held at least since this time'
FROM reps
WHERE status IN ('away', 'inactive')
ORDER BY id;
