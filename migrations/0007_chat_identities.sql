-- One bot, any chat platform. Who a person is on a platform moves from
-- reps.slack_user_id to chat_identities (reps and managers alike, with the
-- conversation reference Teams needs), and a message about a lead is
-- referenced by (platform, conversation, message id) instead of Slack's
-- (channel, ts). Existing rows are carried over as Slack's.
CREATE TABLE chat_identities (
    platform        text NOT NULL,
    email           text NOT NULL,             -- lower case
    user_id         text NOT NULL DEFAULT '',  -- Slack user id; Entra object id on Teams
    conversation_id text NOT NULL DEFAULT '',  -- Teams: the 1:1 conversation
    service_url     text NOT NULL DEFAULT '',  -- Teams: where that conversation is served
    tenant_id       text NOT NULL DEFAULT '',
    time_zone       text NOT NULL DEFAULT '',
    name            text NOT NULL DEFAULT '',
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, email)
);
CREATE UNIQUE INDEX chat_identities_user ON chat_identities (platform, user_id) WHERE user_id <> '';

-- A Slack id could sit on two reps (an email changed in Slack and in the
-- policy): the rep updated last keeps it.
INSERT INTO chat_identities (platform, email, user_id, time_zone, name)
SELECT DISTINCT ON (slack_user_id) 'slack', email, slack_user_id, time_zone, name
FROM reps WHERE slack_user_id <> ''
ORDER BY slack_user_id, updated_at DESC, id DESC;

ALTER TABLE reps DROP COLUMN slack_user_id;

ALTER TABLE lead_messages ADD COLUMN platform text NOT NULL DEFAULT 'slack';
ALTER TABLE lead_messages RENAME COLUMN channel TO conversation;
ALTER TABLE lead_messages RENAME COLUMN ts TO message_id;
ALTER TABLE lead_messages DROP CONSTRAINT lead_messages_channel_ts_key;
ALTER TABLE lead_messages ADD CONSTRAINT lead_messages_ref UNIQUE (platform, conversation, message_id);
