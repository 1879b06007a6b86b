-- Figures load the breaches of the leads in their period: a small index of
-- breach events by lead, rather than every event of every lead.
CREATE INDEX lead_events_breaches ON lead_events (lead_id) WHERE kind = 'breach';
