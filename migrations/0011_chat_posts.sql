-- Teams keeps no message metadata and no history a bot may read, so the
-- adapter cannot look for a post an earlier attempt made. It records the
-- post around the send instead: the intent before, the message id after.
-- A post with a message id went out; one without may have (a crash between
-- the send and the record) and is sent again.
CREATE TABLE chat_posts (
    platform     text NOT NULL,
    post_key     text NOT NULL,
    conversation text NOT NULL DEFAULT '',
    message_id   text NOT NULL DEFAULT '',
    intended_at  timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    PRIMARY KEY (platform, post_key)
);

-- The channels of the teams slabot was added to, learnt from the platform,
-- so the policy can name a channel as "Team name/Channel name".
CREATE TABLE chat_channels (
    platform     text NOT NULL,
    channel_id   text NOT NULL,
    channel_name text NOT NULL DEFAULT '',
    team_id      text NOT NULL DEFAULT '',
    team_name    text NOT NULL DEFAULT '',
    service_url  text NOT NULL DEFAULT '',
    tenant_id    text NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, channel_id)
);
CREATE INDEX chat_channels_by_name ON chat_channels (platform, lower(team_name), lower(channel_name));

-- A redraw finds where a person's 1:1 chat is served by its conversation.
CREATE INDEX chat_identities_conversation ON chat_identities (platform, conversation_id) WHERE conversation_id <> '';
