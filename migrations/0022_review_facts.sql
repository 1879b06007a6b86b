-- The review pack's per-lead figures (issue 24), kept as the leads change
-- so that /sla review sums rows of the span instead of working each lead
-- out again from every lead its rep held and from the lead's history.
--
-- 1. Each breach's "open leads its rep held when the lead arrived" (the
--    capacity cause) and its lead's routing delay, on lead_breach_facts.
--    A rep holds a lead at instant t when the lead is theirs (lead_facts'
--    owner_key, has_owner), was assigned before t and is not closed by t
--    (closed strictly after t, or never closed and still open): the open
--    interval (assigned_at, closed_at), or (assigned_at, infinity) for an
--    open lead. A breach row's count is worked out when it is written;
--    a lead_facts row written, changed or removed moves the count of its
--    rep's breaches whose leads arrived inside its interval, old and new
--    (a reassignment, a closing, a backdated import).
--
-- 2. Each lead's acceptance (lead_review_facts): what lead quality reads
--    of it (source, rule, state, acknowledged or touched, return reason)
--    and of its history (its rejections and their contests, the rejection
--    that stands, the card's first feedback answer), rewritten by triggers
--    on leads and lead_events whenever one of them changes.
--
-- Writers run in READ COMMITTED (every write path of storage does): the
-- trigger functions are volatile, so each of their statements reads what
-- is committed when it starts, after the locks they take.

ALTER TABLE lead_breach_facts
    ADD COLUMN held_at_arrival    integer NOT NULL DEFAULT 0,
    ADD COLUMN lead_routing_delay bigint;
CREATE INDEX lead_breach_facts_rep_arrival ON lead_breach_facts (rep_key, lead_received_at);

-- The leads a rep holds at an instant, in two index ranges bounded by what
-- the rep held then: those closed after it, and those still open.
CREATE INDEX lead_facts_held_closed ON lead_facts (owner_key, closed_at) INCLUDE (assigned_at)
    WHERE has_owner AND closed_at IS NOT NULL;
CREATE INDEX lead_facts_held_open ON lead_facts (owner_key, assigned_at)
    WHERE has_owner AND closed_at IS NULL AND is_open;

-- review_held_at counts the leads rep held at instant at.
CREATE FUNCTION review_held_at(held_rep text, instant timestamptz) RETURNS integer LANGUAGE sql VOLATILE AS $$
    SELECT ((SELECT count(*) FROM lead_facts
             WHERE owner_key = held_rep AND has_owner AND closed_at IS NOT NULL AND closed_at > instant AND assigned_at < instant)
          + (SELECT count(*) FROM lead_facts
             WHERE owner_key = held_rep AND has_owner AND closed_at IS NULL AND is_open AND assigned_at < instant))::integer
$$;

-- One writer of the figures at a time: a breach's count read while
-- another transaction moves the counts of the breaches it can see would
-- miss that change. Taken before any row of lead_facts or
-- lead_breach_facts is locked (a BEFORE statement trigger), so it cannot
-- deadlock with their row locks.
CREATE FUNCTION review_facts_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(current_schema() || '.slabot.review_held'));
    RETURN NULL;
END
$$;
CREATE TRIGGER review_facts_lock_leads BEFORE INSERT OR UPDATE OR DELETE ON lead_facts
    FOR EACH STATEMENT EXECUTE FUNCTION review_facts_lock();
CREATE TRIGGER review_facts_lock_breaches BEFORE INSERT OR UPDATE OR DELETE ON lead_breach_facts
    FOR EACH STATEMENT EXECUTE FUNCTION review_facts_lock();

-- A breach row written (or moved to another rep or arrival) gets its count
-- and its lead's routing delay from lead_facts as they are.
CREATE FUNCTION review_breach_held() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.held_at_arrival := CASE WHEN NEW.rep_key = '' THEN 0 ELSE review_held_at(NEW.rep_key, NEW.lead_received_at) END;
    NEW.lead_routing_delay := (SELECT routing_delay FROM lead_facts WHERE lead_id = NEW.lead_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER review_breach_held_insert BEFORE INSERT ON lead_breach_facts
    FOR EACH ROW EXECUTE FUNCTION review_breach_held();
CREATE TRIGGER review_breach_held_update BEFORE UPDATE OF lead_id, rep_key, lead_received_at ON lead_breach_facts
    FOR EACH ROW EXECUTE FUNCTION review_breach_held();

-- review_held_move moves by delta the count of rep's breaches whose leads
-- arrived inside the held interval (lo, hi), hi NULL for a lead still open.
-- (Its arguments are named apart from lead_breach_facts' columns, which
-- would win over them: the table has a column rep.)
CREATE FUNCTION review_held_move(moved_rep text, moved_from timestamptz, moved_to timestamptz, delta integer)
RETURNS void LANGUAGE sql AS $$
    UPDATE lead_breach_facts SET held_at_arrival = held_at_arrival + delta
    WHERE rep_key = moved_rep AND lead_received_at > moved_from AND (moved_to IS NULL OR lead_received_at < moved_to)
$$;

-- A lead_facts row counts as held while it has an owner and an interval:
-- assigned, and still open or closed after it was assigned. The triggers
-- below take the intervals of the rows leaving (old_rows) and arriving
-- (new_rows): -1 for an interval that ends, +1 for one that begins; a lead
-- whose rep and interval did not change moves nothing.
CREATE FUNCTION review_held_new_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM review_held_move(owner_key, assigned_at, closed_at, 1) FROM new_rows
    WHERE has_owner AND owner_key <> '' AND assigned_at IS NOT NULL AND ((closed_at IS NULL AND is_open) OR closed_at > assigned_at);
    RETURN NULL;
END
$$;
CREATE TRIGGER review_held_insert AFTER INSERT ON lead_facts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION review_held_new_facts();

CREATE FUNCTION review_held_removed_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM review_held_move(owner_key, assigned_at, closed_at, -1) FROM old_rows
    WHERE has_owner AND owner_key <> '' AND assigned_at IS NOT NULL AND ((closed_at IS NULL AND is_open) OR closed_at > assigned_at);
    RETURN NULL;
END
$$;
CREATE TRIGGER review_held_delete AFTER DELETE ON lead_facts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION review_held_removed_facts();

-- A changed row moves its old interval's counts back and its new one's on,
-- and copies a changed routing delay to the lead's breaches.
CREATE FUNCTION review_held_changed_facts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM review_held_move(m.rep, m.lo, m.hi, m.delta) FROM (
        WITH leaving AS (
            SELECT lead_id, owner_key AS rep, assigned_at AS lo, closed_at AS hi FROM old_rows
            WHERE has_owner AND owner_key <> '' AND assigned_at IS NOT NULL
                AND ((closed_at IS NULL AND is_open) OR closed_at > assigned_at)
        ), arriving AS (
            SELECT lead_id, owner_key AS rep, assigned_at AS lo, closed_at AS hi FROM new_rows
            WHERE has_owner AND owner_key <> '' AND assigned_at IS NOT NULL
                AND ((closed_at IS NULL AND is_open) OR closed_at > assigned_at)
        )
        SELECT l.rep, l.lo, l.hi, -1 AS delta FROM leaving l
        WHERE NOT EXISTS (SELECT FROM arriving a WHERE a.lead_id = l.lead_id AND a.rep = l.rep
                          AND a.lo = l.lo AND a.hi IS NOT DISTINCT FROM l.hi)
        UNION ALL
        SELECT a.rep, a.lo, a.hi, 1 FROM arriving a
        WHERE NOT EXISTS (SELECT FROM leaving l WHERE a.lead_id = l.lead_id AND a.rep = l.rep
                          AND a.lo = l.lo AND a.hi IS NOT DISTINCT FROM l.hi)
        ORDER BY 1, 2
    ) m;
    UPDATE lead_breach_facts b SET lead_routing_delay = n.routing_delay
    FROM new_rows n
    WHERE b.lead_id = n.lead_id AND b.lead_routing_delay IS DISTINCT FROM n.routing_delay;
    RETURN NULL;
END
$$;
CREATE TRIGGER review_held_update AFTER UPDATE ON lead_facts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION review_held_changed_facts();

-- review_held_fill works every breach's count and routing delay out again
-- at once (this migration, and a generated history written with the
-- triggers off): each rep's assignments (+1 just after), closings (-1 from
-- then on) and breaches' arrivals in time order, the count a running sum.
CREATE FUNCTION review_held_fill() RETURNS void LANGUAGE sql VOLATILE SET work_mem = '128MB' AS $$
    WITH held AS (
        SELECT owner_key AS rep, assigned_at, closed_at FROM lead_facts
        WHERE has_owner AND owner_key <> '' AND assigned_at IS NOT NULL
            AND ((closed_at IS NULL AND is_open) OR closed_at > assigned_at)
    ), steps AS (
        SELECT rep, assigned_at AS at, 2 AS ord, 1 AS delta, NULL::tid AS breach_row, NULL::bigint AS lead_id FROM held
        UNION ALL
        SELECT rep, closed_at, 0, -1, NULL, NULL FROM held WHERE closed_at IS NOT NULL
        UNION ALL
        SELECT rep_key, lead_received_at, 1, 0, ctid, lead_id FROM lead_breach_facts
    ), counted AS (
        SELECT breach_row, lead_id, held FROM (
            SELECT breach_row, lead_id, sum(delta) OVER (PARTITION BY rep ORDER BY at, ord ROWS UNBOUNDED PRECEDING) AS held
            FROM steps
        ) s WHERE breach_row IS NOT NULL
    )
    UPDATE lead_breach_facts b SET held_at_arrival = c.held, lead_routing_delay = f.routing_delay
    FROM counted c JOIN lead_facts f ON f.lead_id = c.lead_id
    WHERE b.ctid = c.breach_row
        AND (b.held_at_arrival, b.lead_routing_delay) IS DISTINCT FROM (c.held::integer, f.routing_delay);
$$;

-- Each lead's acceptance, as lead quality reads it (storage's
-- QualityFacts, engine.ComputeQuality): its rejections in the order they
-- happened (at, id); a contest on a rejection stands as the last
-- contested (pending) or contest_decided event after it that names it;
-- the rejection that stands is the last one neither of the wrong owner nor
-- overturned (standing_category NULL when none does); the card's feedback
-- is its first answer.
CREATE TABLE lead_review_facts (
    lead_id           bigint PRIMARY KEY REFERENCES leads (id) ON DELETE CASCADE,
    received_at       timestamptz NOT NULL,
    source            text NOT NULL,
    rule              text NOT NULL,
    state             text NOT NULL,
    -- accepted: acknowledged or touched.
    accepted          boolean NOT NULL,
    return_reason     text NOT NULL,
    standing_category text,
    standing_detail   text NOT NULL,
    feedback          text NOT NULL,
    misroutes         integer NOT NULL,
    contest_pending   integer NOT NULL,
    upheld            integer NOT NULL,
    overturned        integer NOT NULL
);
CREATE INDEX lead_review_facts_received ON lead_review_facts (received_at);
-- A lead's history as acceptance reads it: rare events among many.
CREATE INDEX lead_events_acceptance ON lead_events (lead_id)
    WHERE kind IN ('rejected', 'contested', 'contest_decided', 'card_feedback');

-- review_acceptance_write writes the acceptance of the leads ids from
-- leads and lead_events as they are. With lock_leads it first locks
-- them, so that two transactions changing one lead write one after the
-- other, the second reading what the first committed.
CREATE FUNCTION review_acceptance_write(ids bigint[], lock_leads boolean) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF lock_leads THEN
        PERFORM 1 FROM leads WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;
    END IF;
    INSERT INTO lead_review_facts (lead_id, received_at, source, rule, state, accepted, return_reason,
        standing_category, standing_detail, feedback, misroutes, contest_pending, upheld, overturned)
    WITH chosen AS MATERIALIZED (
        SELECT id, received_at, source, rule, state, acknowledged_at IS NOT NULL OR first_touch_at IS NOT NULL AS accepted,
            return_reason
        FROM leads WHERE id = ANY(ids)
    ), events AS MATERIALIZED (
        SELECT e.id, e.lead_id, e.at, e.kind, coalesce(e.data->>'category', '') AS category,
            coalesce(e.data->>'detail', '') AS detail, coalesce(e.data->>'rejection', '') AS rejection,
            coalesce(e.data->>'decision', '') AS decision, coalesce(e.data->>'answer', '') AS answer
        FROM lead_events e
        WHERE e.lead_id = ANY(ids) AND e.kind IN ('rejected', 'contested', 'contest_decided', 'card_feedback')
    ), rejections AS (
        SELECT DISTINCT ON (r.id) r.id, r.lead_id, r.at, r.category, r.detail,
            CASE c.kind WHEN 'contested' THEN 'pending' ELSE coalesce(c.decision, '') END AS contest
        FROM events r LEFT JOIN events c ON c.kind IN ('contested', 'contest_decided') AND c.lead_id = r.lead_id
            AND c.rejection = r.id::text AND (c.at, c.id) > (r.at, r.id)
        WHERE r.kind = 'rejected'
        ORDER BY r.id, c.at DESC NULLS LAST, c.id DESC
    ), per_lead AS (
        SELECT lead_id,
            count(*) FILTER (WHERE category = 'wrong_owner') AS misroutes,
            count(*) FILTER (WHERE category <> 'wrong_owner' AND contest = 'pending') AS pending,
            count(*) FILTER (WHERE category <> 'wrong_owner' AND contest = 'upheld') AS upheld,
            count(*) FILTER (WHERE category <> 'wrong_owner' AND contest = 'overturned') AS overturned
        FROM rejections GROUP BY lead_id
    ), standing AS (
        SELECT DISTINCT ON (lead_id) lead_id, category, detail FROM rejections
        WHERE category <> 'wrong_owner' AND contest <> 'overturned'
        ORDER BY lead_id, at DESC, id DESC
    ), feedback AS (
        SELECT DISTINCT ON (lead_id) lead_id, answer FROM events
        WHERE kind = 'card_feedback' AND answer <> ''
        ORDER BY lead_id, at, id
    )
    SELECT s.id, s.received_at, s.source, s.rule, s.state, s.accepted, s.return_reason,
        st.category, coalesce(st.detail, ''), coalesce(fb.answer, ''),
        coalesce(pl.misroutes, 0), coalesce(pl.pending, 0), coalesce(pl.upheld, 0), coalesce(pl.overturned, 0)
    FROM chosen s
        LEFT JOIN per_lead pl ON pl.lead_id = s.id
        LEFT JOIN standing st ON st.lead_id = s.id
        LEFT JOIN feedback fb ON fb.lead_id = s.id
    ON CONFLICT (lead_id) DO UPDATE SET
        received_at = EXCLUDED.received_at, source = EXCLUDED.source, rule = EXCLUDED.rule, state = EXCLUDED.state,
        accepted = EXCLUDED.accepted, return_reason = EXCLUDED.return_reason,
        standing_category = EXCLUDED.standing_category, standing_detail = EXCLUDED.standing_detail,
        feedback = EXCLUDED.feedback, misroutes = EXCLUDED.misroutes, contest_pending = EXCLUDED.contest_pending,
        upheld = EXCLUDED.upheld, overturned = EXCLUDED.overturned
    WHERE lead_review_facts IS DISTINCT FROM EXCLUDED;
END
$$;

CREATE FUNCTION review_acceptance_new_leads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM review_acceptance_write(ARRAY(SELECT id FROM new_rows), false);
    RETURN NULL;
END
$$;
CREATE TRIGGER review_acceptance_new_leads AFTER INSERT ON leads
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION review_acceptance_new_leads();

CREATE FUNCTION review_acceptance_changed_lead() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM review_acceptance_write(ARRAY[NEW.id], true);
    RETURN NULL;
END
$$;
-- Only the columns acceptance reads.
CREATE TRIGGER review_acceptance_changed_lead AFTER UPDATE ON leads FOR EACH ROW
    WHEN ((OLD.id, OLD.received_at, OLD.source, OLD.rule, OLD.state, OLD.acknowledged_at, OLD.first_touch_at, OLD.return_reason)
          IS DISTINCT FROM
          (NEW.id, NEW.received_at, NEW.source, NEW.rule, NEW.state, NEW.acknowledged_at, NEW.first_touch_at, NEW.return_reason))
    EXECUTE FUNCTION review_acceptance_changed_lead();

-- lead_events is append-only (0001): a new rejection, contest, decision
-- or feedback answer is the only change of a lead's history acceptance reads.
CREATE FUNCTION review_acceptance_new_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[] := ARRAY(SELECT DISTINCT lead_id FROM new_rows
                          WHERE kind IN ('rejected', 'contested', 'contest_decided', 'card_feedback') ORDER BY 1);
BEGIN
    IF cardinality(ids) > 0 THEN
        PERFORM review_acceptance_write(ids, true);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER review_acceptance_new_events AFTER INSERT ON lead_events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION review_acceptance_new_events();

-- Acceptance summed by the UTC day the leads were received and by what
-- the review groups them by, so that half a year sums a few thousand rows
-- instead of grouping half a million leads (storage's review sums whole
-- days here and the leads of the partial days at the span's edges from
-- lead_review_facts). return_reason is kept for returned leads only.
-- Kept by statement-level triggers on lead_review_facts, as mql_hours
-- (0021) is on mqls: what a statement adds and takes away, grouped, in
-- key order.
CREATE TABLE lead_review_days (
    day             timestamptz NOT NULL,
    source          text NOT NULL,
    rule            text NOT NULL,
    state           text NOT NULL,
    accepted        boolean NOT NULL,
    return_reason   text NOT NULL,
    rejected        boolean NOT NULL,
    category        text NOT NULL,
    detail          text NOT NULL,
    feedback        text NOT NULL,
    leads           bigint NOT NULL,
    misroutes       bigint NOT NULL,
    contest_pending bigint NOT NULL,
    upheld          bigint NOT NULL,
    overturned      bigint NOT NULL,
    PRIMARY KEY (day, source, rule, state, accepted, return_reason, rejected, category, detail, feedback)
);

CREATE FUNCTION review_acceptance_days_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE lead_review_days d SET leads = d.leads - o.leads, misroutes = d.misroutes - o.misroutes,
            contest_pending = d.contest_pending - o.contest_pending, upheld = d.upheld - o.upheld,
            overturned = d.overturned - o.overturned
        FROM (SELECT date_trunc('day', received_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day, source, rule, state, accepted,
                  CASE WHEN state = 'returned_to_marketing' THEN return_reason ELSE '' END AS return_reason,
                  standing_category IS NOT NULL AS rejected, coalesce(standing_category, '') AS category,
                  standing_detail AS detail, feedback,
                  count(*) AS leads, sum(misroutes) AS misroutes, sum(contest_pending) AS contest_pending,
                  sum(upheld) AS upheld, sum(overturned) AS overturned
              FROM old_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10) o
        WHERE d.day = o.day AND d.source = o.source AND d.rule = o.rule AND d.state = o.state AND d.accepted = o.accepted
            AND d.return_reason = o.return_reason AND d.rejected = o.rejected AND d.category = o.category
            AND d.detail = o.detail AND d.feedback = o.feedback;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO lead_review_days (day, source, rule, state, accepted, return_reason, rejected, category, detail, feedback,
            leads, misroutes, contest_pending, upheld, overturned)
        SELECT date_trunc('day', received_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', source, rule, state, accepted,
            CASE WHEN state = 'returned_to_marketing' THEN return_reason ELSE '' END,
            standing_category IS NOT NULL, coalesce(standing_category, ''), standing_detail, feedback,
            count(*), sum(misroutes), sum(contest_pending), sum(upheld), sum(overturned)
        FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
        ON CONFLICT (day, source, rule, state, accepted, return_reason, rejected, category, detail, feedback) DO UPDATE SET
            leads = lead_review_days.leads + EXCLUDED.leads, misroutes = lead_review_days.misroutes + EXCLUDED.misroutes,
            contest_pending = lead_review_days.contest_pending + EXCLUDED.contest_pending,
            upheld = lead_review_days.upheld + EXCLUDED.upheld, overturned = lead_review_days.overturned + EXCLUDED.overturned;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER review_acceptance_days_insert AFTER INSERT ON lead_review_facts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION review_acceptance_days_count();
CREATE TRIGGER review_acceptance_days_update AFTER UPDATE ON lead_review_facts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION review_acceptance_days_count();
CREATE TRIGGER review_acceptance_days_delete AFTER DELETE ON lead_review_facts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION review_acceptance_days_count();

-- review_facts_fill works both out for every lead there, in batches of
-- leads by id (this migration, and a generated history written with the
-- triggers off).
CREATE FUNCTION review_facts_fill() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    lo bigint;
BEGIN
    PERFORM review_held_fill();
    FOR lo IN SELECT generate_series(min(id), max(id), 20000) FROM leads LOOP
        PERFORM review_acceptance_write(ARRAY(SELECT id FROM leads WHERE id >= lo AND id < lo + 20000), false);
    END LOOP;
END
$$;

SELECT review_facts_fill();
ANALYZE lead_breach_facts;
ANALYZE lead_review_facts;
ANALYZE lead_review_days;
