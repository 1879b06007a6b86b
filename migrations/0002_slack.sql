-- Slack messages slabot posted about a lead, so cards can be updated in place
-- and a resend after a crash can be recognised.
CREATE TABLE lead_messages (
    id          bigserial PRIMARY KEY,
    lead_id     bigint NOT NULL REFERENCES leads (id),
    kind        text NOT NULL,          -- card, escalation
    recipient   text NOT NULL DEFAULT '', -- the rep's or manager's email
    channel     text NOT NULL,
    ts          text NOT NULL,
    assigned_at timestamptz,            -- the assignment a card belongs to
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel, ts)
);
CREATE INDEX lead_messages_lead ON lead_messages (lead_id, kind, id);
