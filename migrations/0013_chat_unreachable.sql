-- People slabot must not write to until they write to it: on Teams, those
-- who blocked slabot (403 MessageWritesBlocked while the app is installed,
-- ConversationBlockedByUser, BotDisabledByAdmin). Kept here so that a
-- restart does not start writing to them again.
CREATE TABLE chat_unreachable (
    platform text        NOT NULL,
    user_id  text        NOT NULL,  -- Teams: the Entra object id
    reason   text        NOT NULL,  -- in words for the people an alert goes to
    since    timestamptz NOT NULL,
    PRIMARY KEY (platform, user_id)
);
