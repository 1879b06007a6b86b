-- Reminders and escalations carry buttons too. When their lead moves on
-- (reassigned, returned, won, lost) they are redrawn without them, once:
-- quiet_at records when. event_id names the event an escalation is about,
-- so it can be redrawn as it was.
ALTER TABLE lead_messages
    ADD COLUMN event_id bigint,
    ADD COLUMN quiet_at timestamptz;
