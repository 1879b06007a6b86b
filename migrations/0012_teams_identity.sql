-- Who wrote, as Entra says: a Teams member id ("29:…") is tied to the
-- Entra object id it came with, so that an activity carrying only the
-- 29: id is known as that person, and nothing else is.
CREATE TABLE chat_members (
    platform   text NOT NULL,
    member_id  text NOT NULL,   -- Teams: the 29: id
    user_id    text NOT NULL,   -- Teams: the Entra object id
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, member_id)
);

-- A channel name in the policy ("Team/Channel") means one channel: the
-- first that answered to it, pinned by its id.
CREATE TABLE chat_channel_pins (
    platform   text NOT NULL,
    name       text NOT NULL,   -- lower case, "team/channel"
    channel_id text NOT NULL,
    pinned_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, name)
);
