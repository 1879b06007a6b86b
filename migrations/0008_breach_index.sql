-- Figures load the breaches of the leads in their period: a small index of
-- breach events by lead, rather than every event of every lead.
CREATE INDEX lead_events_breaches ON lead_events (lead_id) WHERE kind = 'breach';

-- A rep's or a team's figures load their leads only.
CREATE INDEX leads_team_received ON leads (lower(team), received_at);
CREATE INDEX leads_owner_received ON leads (lower(owner_email), received_at);
CREATE INDEX lead_events_breach_rep ON lead_events (lower(data->>'rep'), lead_id) WHERE kind = 'breach';
CREATE INDEX lead_events_breach_team ON lead_events (lower(data->>'team'), lead_id) WHERE kind = 'breach';
