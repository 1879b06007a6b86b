-- Per-lead figures (issue 14): what each lead brings to the SLA figures,
-- worked out in Go with the policy (engine.FiguresOf) and kept here, so
-- that answers over everyone are SQL aggregates over narrow rows instead of
-- every lead of the period loaded into memory. Nothing here depends on
-- "now": the queries decide pending vs late, open at the period's end and
-- running cadences with now and the period as parameters.
--
-- The engine's write paths do not know about these tables. Triggers on
-- leads, touches and lead_events mark a changed lead stale
-- (lead_facts_stale); storage works the stale leads' figures out again
-- (storage.DB.RefreshLeadFacts) in the background and before an answer.
CREATE TABLE lead_facts (
    lead_id              bigint PRIMARY KEY REFERENCES leads (id),
    -- stale_seq is the lead_facts_stale.seq these figures were read at: a
    -- refresh never overwrites figures read later than its own.
    stale_seq            bigint NOT NULL,
    owner_key            text NOT NULL,
    team_key             text NOT NULL,
    has_owner            boolean NOT NULL,
    has_team             boolean NOT NULL,
    state                text NOT NULL,
    is_open              boolean NOT NULL,
    received_at          timestamptz NOT NULL,
    assigned_at          timestamptz,
    closed_at            timestamptz,
    amount               float8 NOT NULL,
    first_touch_due      timestamptz,
    first_touch_breached boolean NOT NULL,
    first_touch_at       timestamptz,
    -- Delays in nanoseconds (time.Duration), so medians come back exact.
    first_touch_business bigint,
    first_touch_wall     bigint,
    routing_delay        bigint,
    cadence_end          timestamptz,
    cadence_met_at       timestamptz,
    -- return_reason is NULL unless the lead went back to Marketing.
    return_reason        text
);
-- The leads a period's figures read: received in it, closed in it, or never
-- closed (open leads and opportunities).
CREATE INDEX lead_facts_received ON lead_facts (received_at);
CREATE INDEX lead_facts_closed ON lead_facts (closed_at);
CREATE INDEX lead_facts_never_closed ON lead_facts (received_at) WHERE closed_at IS NULL;
CREATE INDEX lead_facts_owner ON lead_facts (owner_key, received_at);
CREATE INDEX lead_facts_team ON lead_facts (team_key, received_at);

-- One row per breach, with the rep and team it counts for, and its lead's
-- received_at and closed_at (copies of lead_facts', written with them), so
-- a period's breaches are counted without a join to every lead.
CREATE TABLE lead_breach_facts (
    lead_id          bigint NOT NULL REFERENCES lead_facts (lead_id) ON DELETE CASCADE,
    lead_received_at timestamptz NOT NULL,
    lead_closed_at   timestamptz,
    at               timestamptz NOT NULL,
    kind             text NOT NULL,
    rule             text NOT NULL,
    rep              text NOT NULL,
    rep_key          text NOT NULL,
    team_key         text NOT NULL
);
CREATE INDEX lead_breach_facts_lead ON lead_breach_facts (lead_id);
CREATE INDEX lead_breach_facts_at ON lead_breach_facts (at);
CREATE INDEX lead_breach_facts_rep ON lead_breach_facts (rep_key, at);
CREATE INDEX lead_breach_facts_team ON lead_breach_facts (team_key, at);

-- Leads whose figures are missing or out of date. seq grows with every
-- change (taken after the row lock, so in commit order per lead): a refresh
-- removes the row only if seq is still the one it read, so a change
-- committed during a refresh leaves the lead stale.
CREATE SEQUENCE lead_facts_stale_seq;
CREATE TABLE lead_facts_stale (
    lead_id bigint PRIMARY KEY,
    seq     bigint NOT NULL
);

-- The policy fingerprint (engine.FiguresFingerprint) the figures were
-- worked out under; a new one marks every lead stale.
CREATE TABLE lead_facts_policy (
    single      boolean PRIMARY KEY DEFAULT true CHECK (single),
    fingerprint text NOT NULL
);
INSERT INTO lead_facts_policy (fingerprint) VALUES ('');

-- Statement-level triggers with transition tables: one statement per
-- change in the engine, and one per batch for a COPY of a million rows.
CREATE FUNCTION lead_facts_mark_new_leads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lead_facts_stale (lead_id, seq)
    SELECT id, nextval('lead_facts_stale_seq') FROM new_rows
    ON CONFLICT (lead_id) DO UPDATE SET seq = nextval('lead_facts_stale_seq');
    RETURN NULL;
END
$$;
CREATE TRIGGER lead_facts_new_leads AFTER INSERT ON leads
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lead_facts_mark_new_leads();

CREATE FUNCTION lead_facts_mark_lead() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lead_facts_stale (lead_id, seq) VALUES (NEW.id, nextval('lead_facts_stale_seq'))
    ON CONFLICT (lead_id) DO UPDATE SET seq = nextval('lead_facts_stale_seq');
    RETURN NULL;
END
$$;
-- Only the columns the figures read: a snooze or a redrawn card is not a
-- change to the figures.
CREATE TRIGGER lead_facts_changed_lead AFTER UPDATE ON leads FOR EACH ROW
    WHEN ((OLD.owner_email, OLD.team, OLD.rule, OLD.source, OLD.segment, OLD.score, OLD.state, OLD.handed_off_at,
           OLD.received_at, OLD.assigned_at, OLD.first_touch_due, OLD.first_touch_at, OLD.closed_at,
           OLD.reassignments, OLD.return_reason, OLD.amount)
          IS DISTINCT FROM
          (NEW.owner_email, NEW.team, NEW.rule, NEW.source, NEW.segment, NEW.score, NEW.state, NEW.handed_off_at,
           NEW.received_at, NEW.assigned_at, NEW.first_touch_due, NEW.first_touch_at, NEW.closed_at,
           NEW.reassignments, NEW.return_reason, NEW.amount))
    EXECUTE FUNCTION lead_facts_mark_lead();

CREATE FUNCTION lead_facts_mark_touched_leads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lead_facts_stale (lead_id, seq)
    SELECT lead_id, nextval('lead_facts_stale_seq') FROM (SELECT DISTINCT lead_id FROM new_rows) t
    ON CONFLICT (lead_id) DO UPDATE SET seq = nextval('lead_facts_stale_seq');
    RETURN NULL;
END
$$;
CREATE TRIGGER lead_facts_new_touches AFTER INSERT ON touches
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lead_facts_mark_touched_leads();

CREATE FUNCTION lead_facts_mark_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        INSERT INTO lead_facts_stale (lead_id, seq) VALUES (OLD.lead_id, nextval('lead_facts_stale_seq'))
        ON CONFLICT (lead_id) DO UPDATE SET seq = nextval('lead_facts_stale_seq');
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.lead_id <> OLD.lead_id THEN
        INSERT INTO lead_facts_stale (lead_id, seq) VALUES (NEW.lead_id, nextval('lead_facts_stale_seq'))
        ON CONFLICT (lead_id) DO UPDATE SET seq = nextval('lead_facts_stale_seq');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER lead_facts_changed_touch AFTER UPDATE OF lead_id, at OR DELETE ON touches
    FOR EACH ROW EXECUTE FUNCTION lead_facts_mark_touch();

CREATE FUNCTION lead_facts_mark_breached_leads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lead_facts_stale (lead_id, seq)
    SELECT lead_id, nextval('lead_facts_stale_seq') FROM (SELECT DISTINCT lead_id FROM new_rows WHERE kind = 'breach') t
    ON CONFLICT (lead_id) DO UPDATE SET seq = nextval('lead_facts_stale_seq');
    RETURN NULL;
END
$$;
CREATE TRIGGER lead_facts_new_breaches AFTER INSERT ON lead_events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lead_facts_mark_breached_leads();

-- Every lead so far is stale: the first refresh works them all out.
INSERT INTO lead_facts_stale (lead_id, seq) SELECT id, nextval('lead_facts_stale_seq') FROM leads;
