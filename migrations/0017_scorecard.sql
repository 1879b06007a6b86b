-- The scorecard (issue 22): what each lead is grouped by, and when it
-- became an opportunity, beside its other figures, so that a period's
-- leads are counted by source, segment, rule or score band in SQL.
-- engine.FiguresOf works them out (engine.ScorecardKeys); its figures
-- version changed with them, so every lead is worked out again on the
-- first refresh after this migration.
ALTER TABLE lead_facts
    ADD COLUMN source_key     text NOT NULL DEFAULT '',
    ADD COLUMN segment_key    text NOT NULL DEFAULT '',
    ADD COLUMN rule_key       text NOT NULL DEFAULT '',
    ADD COLUMN score          integer NOT NULL DEFAULT 0,
    ADD COLUMN opportunity_at timestamptz;

-- A lead becomes an opportunity by an event whose time is the CRM's
-- (its data's "at"): mark such leads stale like the breaches.
CREATE FUNCTION lead_facts_mark_outcome_leads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lead_facts_stale (lead_id, seq)
    SELECT lead_id, nextval('lead_facts_stale_seq') FROM (SELECT DISTINCT lead_id FROM new_rows WHERE kind = 'opportunity') t
    ON CONFLICT (lead_id) DO UPDATE SET seq = nextval('lead_facts_stale_seq');
    RETURN NULL;
END
$$;
CREATE TRIGGER lead_facts_new_outcomes AFTER INSERT ON lead_events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lead_facts_mark_outcome_leads();
