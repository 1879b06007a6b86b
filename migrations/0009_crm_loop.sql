-- The CRM loop: outbound webhook deliveries, and the HubSpot writes that
-- must happen once however often their job runs.

-- One row per event per endpoint. Deliveries of one subject (a lead, or a
-- rep) to one endpoint go out in event order: a pending delivery holds the
-- later ones back. body is stored as sent, so every attempt signs the same
-- bytes; msg_id is the webhook-id, the same on every attempt.
CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    endpoint        text NOT NULL,
    subject         text NOT NULL,
    event_id        bigint NOT NULL,
    event_type      text NOT NULL,
    msg_id          text NOT NULL,
    body            bytea NOT NULL,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'parked')),
    attempts        integer NOT NULL DEFAULT 0,
    redeliveries    integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    -- retry_from starts the retry window: the event, or an operator's redelivery.
    retry_from      timestamptz NOT NULL,
    next_attempt_at timestamptz,
    last_attempt_at timestamptz,
    last_status     integer,
    last_error      text NOT NULL DEFAULT '',
    delivered_at    timestamptz,
    parked_at       timestamptz,
    UNIQUE (endpoint, msg_id)
);
CREATE INDEX webhook_deliveries_line ON webhook_deliveries (endpoint, subject, event_id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_trouble ON webhook_deliveries (id) WHERE state <> 'delivered';

-- An event's CRM jobs are fanned out in event order per subject: a
-- crm.event job waits for the earlier ones of its subject.
CREATE INDEX river_job_crm_subject ON river_job ((args->'args'->>'subject'), id) WHERE kind = 'crm.event';

-- One HubSpot object per event. sent_at is set, and committed, before a
-- create is sent: a later attempt that finds it set looks for the object
-- (by the marker in its body) before creating it again.
CREATE TABLE hubspot_writes (
    event_key   text PRIMARY KEY,
    object_type text NOT NULL,
    marker      text NOT NULL,
    sent_at     timestamptz,
    object_id   text,
    associated  boolean NOT NULL DEFAULT false,
    done_at     timestamptz,
    outcome     text NOT NULL DEFAULT ''
);

-- A missing HubSpot scope is reported to operators once, not per event.
CREATE TABLE hubspot_scope_reports (
    scope       text PRIMARY KEY,
    reported_at timestamptz NOT NULL
);
