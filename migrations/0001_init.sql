-- Teams and their reps, as declared in the policy file and enriched from Slack.
CREATE TABLE teams (
    name               text PRIMARY KEY,
    manager_email      text NOT NULL DEFAULT '',
    escalation_channel text NOT NULL DEFAULT '',
    -- rr_cursor is the position in the round robin of the last rep who got a
    -- lead, stored so rotation stays fair across restarts and replicas.
    rr_cursor          bigint NOT NULL DEFAULT -1,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reps (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL UNIQUE CHECK (email = lower(email) AND email <> ''),
    name          text NOT NULL DEFAULT '',
    team          text REFERENCES teams (name) ON UPDATE CASCADE ON DELETE SET NULL,
    -- position orders the team's round robin.
    position      int NOT NULL DEFAULT 0,
    slack_user_id text NOT NULL DEFAULT '',
    time_zone     text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'away', 'inactive')),
    away_until    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE leads (
    id              bigserial PRIMARY KEY,
    external_id     text NOT NULL UNIQUE CHECK (external_id <> ''),
    source          text NOT NULL DEFAULT '',
    segment         text NOT NULL DEFAULT '',
    score           int NOT NULL DEFAULT 0,
    contact         jsonb NOT NULL DEFAULT '{}',
    company         jsonb NOT NULL DEFAULT '{}',
    context         jsonb NOT NULL DEFAULT '{}',
    contact_email   text GENERATED ALWAYS AS (lower(contact ->> 'email')) STORED,
    crm_url         text NOT NULL DEFAULT '',
    value           numeric(14, 2) NOT NULL DEFAULT 0,
    owner_email     text NOT NULL DEFAULT '',
    team            text NOT NULL DEFAULT '',
    rule            text NOT NULL DEFAULT '',
    state           text NOT NULL CHECK (state IN ('new', 'notified', 'acknowledged', 'working', 'snoozed',
                                                   'reassigned', 'returned_to_marketing', 'opportunity',
                                                   'won', 'lost', 'disqualified')),
    handed_off_at   timestamptz NOT NULL,
    received_at     timestamptz NOT NULL,
    assigned_at     timestamptz,
    first_touch_due timestamptz,
    acknowledged_at timestamptz,
    first_touch_at  timestamptz,
    snoozed_until   timestamptz,
    closed_at       timestamptz,
    reassignments   int NOT NULL DEFAULT 0,
    return_reason   text NOT NULL DEFAULT '',
    amount          numeric(14, 2) NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- A re-submitted lead is matched to a still-open lead with the same contact.
CREATE INDEX leads_open_contact_email ON leads (contact_email)
    WHERE state IN ('new', 'notified', 'acknowledged', 'working', 'snoozed', 'reassigned');
CREATE INDEX leads_owner_state ON leads (owner_email, state);
CREATE INDEX leads_received_at ON leads (received_at);

-- Further external ids that were linked to an existing lead (the same person
-- handed off again under a new CRM id), so a repeat of them finds the lead.
CREATE TABLE lead_aliases (
    external_id text PRIMARY KEY CHECK (external_id <> ''),
    lead_id     bigint NOT NULL REFERENCES leads (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE touches (
    id         bigserial PRIMARY KEY,
    lead_id    bigint NOT NULL REFERENCES leads (id),
    kind       text NOT NULL CHECK (kind IN ('call', 'email', 'meeting', 'linkedin', 'other')),
    at         timestamptz NOT NULL,
    by_email   text NOT NULL DEFAULT '',
    note       text NOT NULL DEFAULT '',
    origin     text NOT NULL DEFAULT '',
    -- key makes logging a touch idempotent (a retried webhook, a double click).
    key        text UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX touches_lead_at ON touches (lead_id, at);

-- The append-only history of every lead: what happened, when, by whom.
CREATE TABLE lead_events (
    id      bigserial PRIMARY KEY,
    lead_id bigint NOT NULL REFERENCES leads (id),
    at      timestamptz NOT NULL,
    kind    text NOT NULL,
    actor   text NOT NULL DEFAULT '',
    data    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX lead_events_lead ON lead_events (lead_id, id);
CREATE INDEX lead_events_kind_at ON lead_events (kind, at);

CREATE FUNCTION lead_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'lead_events is append-only: % is not allowed', TG_OP;
END
$$;
CREATE TRIGGER lead_events_append_only BEFORE UPDATE OR DELETE ON lead_events
    FOR EACH ROW EXECUTE FUNCTION lead_events_append_only();

-- Marketing-qualified leads, counted for the funnel.
CREATE TABLE mqls (
    id          bigserial PRIMARY KEY,
    external_id text NOT NULL UNIQUE CHECK (external_id <> ''),
    source      text NOT NULL DEFAULT '',
    segment     text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mqls_at ON mqls (at);

-- Durable work: messages to send and timers to fire. A job is inserted in the
-- same transaction as the state change that caused it, so neither is lost.
CREATE TABLE jobs (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL,
    lead_id      bigint REFERENCES leads (id),
    payload      jsonb NOT NULL DEFAULT '{}',
    -- unique_key, when set, makes enqueueing idempotent.
    unique_key   text UNIQUE,
    run_at       timestamptz NOT NULL,
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed', 'cancelled')),
    attempts     int NOT NULL DEFAULT 0,
    max_attempts int NOT NULL DEFAULT 25,
    last_error   text NOT NULL DEFAULT '',
    locked_by    text NOT NULL DEFAULT '',
    locked_until timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'pending';
CREATE INDEX jobs_lead ON jobs (lead_id) WHERE state = 'pending';
CREATE INDEX jobs_running ON jobs (locked_until) WHERE state = 'running';
