-- Card feedback and contested rejections (issue 23). Both live in the
-- lead's history (lead_events); these indexes hold the rules the engine
-- keeps under the lead's lock even if two writers ever raced: one card
-- feedback answer a lead, one contest a rejection, one decision a contest.
CREATE UNIQUE INDEX lead_events_one_card_feedback ON lead_events (lead_id)
    WHERE kind = 'card_feedback';
CREATE UNIQUE INDEX lead_events_one_contest ON lead_events (lead_id, (data->>'rejection'))
    WHERE kind = 'contested';
CREATE UNIQUE INDEX lead_events_one_contest_decision ON lead_events (lead_id, (data->>'contest'))
    WHERE kind = 'contest_decided';
