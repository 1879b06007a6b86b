package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
)

// SaveLeadMessage records a posted message; recording the same one twice
// is a no-op.
func (db *DB) SaveLeadMessage(ctx context.Context, m *engine.MessageRef) error {
	var event any
	if m.EventID != 0 {
		event = m.EventID
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO lead_messages
			(lead_id, kind, recipient, platform, conversation, message_id, assigned_at, event_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (platform, conversation, message_id) DO NOTHING`,
		m.LeadID, m.Kind, m.Recipient, m.Platform, m.Conversation, m.MessageID, nullTime(m.AssignedAt), event)
	return mapError(err, "record the message of lead %d", m.LeadID)
}

// LeadMessages lists the messages of one kind about a lead, oldest first.
func (db *DB) LeadMessages(ctx context.Context, leadID int64, kind string) ([]engine.MessageRef, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, lead_id, kind, recipient, platform, conversation, message_id,
			assigned_at, COALESCE(event_id, 0), quiet_at
		FROM lead_messages WHERE lead_id = $1 AND kind = $2 ORDER BY id`, leadID, kind)
	if err != nil {
		return nil, mapError(err, "list the messages of lead %d", leadID)
	}
	msgs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (engine.MessageRef, error) {
		var m engine.MessageRef
		var assigned, quiet *time.Time
		err := row.Scan(&m.ID, &m.LeadID, &m.Kind, &m.Recipient, &m.Platform, &m.Conversation, &m.MessageID,
			&assigned, &m.EventID, &quiet)
		m.AssignedAt, m.QuietAt = timeOrZero(assigned), timeOrZero(quiet)
		return m, err
	})
	return msgs, mapError(err, "list the messages of lead %d", leadID)
}

// QuietLeadMessage records that a message lost its buttons.
func (db *DB) QuietLeadMessage(ctx context.Context, id int64, at time.Time) error {
	_, err := db.pool.Exec(ctx, `UPDATE lead_messages SET quiet_at = $2 WHERE id = $1 AND quiet_at IS NULL`, id, at)
	return mapError(err, "record that message %d lost its buttons", id)
}

const identityColumns = `platform, email, user_id, conversation_id, service_url, tenant_id, time_zone, name`

func scanIdentity(row pgx.Row) (*engine.ChatIdentity, error) {
	var id engine.ChatIdentity
	err := row.Scan(&id.Platform, &id.Email, &id.UserID, &id.ConversationID, &id.ServiceURL, &id.TenantID, &id.TimeZone, &id.Name)
	return &id, err
}

// ChatIdentityByEmail finds who a person is on a platform.
func (db *DB) ChatIdentityByEmail(ctx context.Context, platform, email string) (*engine.ChatIdentity, error) {
	id, err := scanIdentity(db.pool.QueryRow(ctx, `SELECT `+identityColumns+` FROM chat_identities
		WHERE platform = $1 AND email = lower($2)`, platform, email))
	if err != nil {
		return nil, mapError(err, "find %q on %s", email, platform)
	}
	return id, nil
}

// ChatIdentityByUserID finds a person by their id on a platform.
func (db *DB) ChatIdentityByUserID(ctx context.Context, platform, userID string) (*engine.ChatIdentity, error) {
	id, err := scanIdentity(db.pool.QueryRow(ctx, `SELECT `+identityColumns+` FROM chat_identities
		WHERE platform = $1 AND user_id = $2 AND user_id <> ''`, platform, userID))
	if err != nil {
		return nil, mapError(err, "find user %q on %s", userID, platform)
	}
	return id, nil
}

// SaveChatIdentity stores who a person is on a platform, taking the user id
// from anyone who held it before (an account given to someone else). A
// rep with this email gets the platform's time zone and, when they have
// none yet, its name; their status is left alone, so a lookup racing
// `/sla away` or a deactivation cannot undo it.
func (db *DB) SaveChatIdentity(ctx context.Context, id *engine.ChatIdentity) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if id.UserID != "" {
			if _, err := tx.Exec(ctx, `UPDATE chat_identities SET user_id = '', updated_at = now()
				WHERE platform = $1 AND user_id = $2 AND email <> lower($3)`, id.Platform, id.UserID, id.Email); err != nil {
				return mapError(err, "store who %q is on %s", id.Email, id.Platform)
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO chat_identities (`+identityColumns+`)
			VALUES ($1, lower($2), $3, $4, $5, $6, $7, $8)
			ON CONFLICT (platform, email) DO UPDATE SET user_id = EXCLUDED.user_id,
				conversation_id = CASE WHEN EXCLUDED.conversation_id = '' THEN chat_identities.conversation_id ELSE EXCLUDED.conversation_id END,
				service_url = CASE WHEN EXCLUDED.service_url = '' THEN chat_identities.service_url ELSE EXCLUDED.service_url END,
				tenant_id = CASE WHEN EXCLUDED.tenant_id = '' THEN chat_identities.tenant_id ELSE EXCLUDED.tenant_id END,
				time_zone = CASE WHEN EXCLUDED.time_zone = '' THEN chat_identities.time_zone ELSE EXCLUDED.time_zone END,
				name = CASE WHEN EXCLUDED.name = '' THEN chat_identities.name ELSE EXCLUDED.name END,
				updated_at = now()`,
			id.Platform, id.Email, id.UserID, id.ConversationID, id.ServiceURL, id.TenantID, id.TimeZone, id.Name); err != nil {
			return mapError(err, "store who %q is on %s", id.Email, id.Platform)
		}
		_, err := tx.Exec(ctx, `UPDATE reps SET time_zone = CASE WHEN $2 = '' THEN time_zone ELSE $2 END,
				name = CASE WHEN name = '' THEN $3 ELSE name END, updated_at = now()
			WHERE email = lower($1)`, id.Email, id.TimeZone, id.Name)
		return mapError(err, "store the time zone of rep %q", id.Email)
	})
}

// IntendPost records that a post is about to be sent and returns its
// record: a fresh one, or the one an earlier attempt left (sent, with its
// message id, or not known to have gone out).
func (db *DB) IntendPost(ctx context.Context, platform, key, conversation string) (*engine.ChatPost, error) {
	// A racing attempt's row, committed while this statement waited on it,
	// is not in this statement's snapshot: the next statement sees it.
	for range 3 {
		p, err := db.intendPost(ctx, platform, key, conversation)
		if !errors.Is(err, pgx.ErrNoRows) {
			return p, mapError(err, "record a post about to be sent")
		}
	}
	return nil, fmt.Errorf("storage: record a post about to be sent: it was neither inserted nor found")
}

func (db *DB) intendPost(ctx context.Context, platform, key, conversation string) (*engine.ChatPost, error) {
	row := db.pool.QueryRow(ctx, `WITH fresh AS (
			INSERT INTO chat_posts (platform, post_key, conversation) VALUES ($1, $2, $3)
			ON CONFLICT (platform, post_key) DO NOTHING
			RETURNING platform, post_key, conversation, message_id, sent_at)
		SELECT * FROM fresh
		UNION ALL
		SELECT platform, post_key, conversation, message_id, sent_at FROM chat_posts WHERE platform = $1 AND post_key = $2
		LIMIT 1`, platform, key, conversation)
	return scanChatPost(row)
}

// PostSent records the message id of a post that went out.
func (db *DB) PostSent(ctx context.Context, platform, key, conversation, messageID string, at time.Time) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO chat_posts (platform, post_key, conversation, message_id, sent_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (platform, post_key) DO UPDATE SET conversation = $3, message_id = $4, sent_at = $5`,
		platform, key, conversation, messageID, at)
	return mapError(err, "record a post that was sent")
}

// ChatPostByKey finds a recorded post; ENOTFOUND when there is none.
func (db *DB) ChatPostByKey(ctx context.Context, platform, key string) (*engine.ChatPost, error) {
	p, err := scanChatPost(db.pool.QueryRow(ctx, `SELECT platform, post_key, conversation, message_id, sent_at
		FROM chat_posts WHERE platform = $1 AND post_key = $2`, platform, key))
	return p, mapError(err, "find a recorded post")
}

func scanChatPost(row pgx.Row) (*engine.ChatPost, error) {
	var p engine.ChatPost
	var sent *time.Time
	if err := row.Scan(&p.Platform, &p.Key, &p.Conversation, &p.MessageID, &sent); err != nil {
		return nil, err
	}
	p.SentAt = timeOrZero(sent)
	return &p, nil
}

// SaveChatChannel records a channel as the platform describes it now.
func (db *DB) SaveChatChannel(ctx context.Context, c *engine.ChatChannel) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO chat_channels
			(platform, channel_id, channel_name, team_id, team_name, service_url, tenant_id, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, now())
		ON CONFLICT (platform, channel_id) DO UPDATE SET channel_name = $3, team_id = $4, team_name = $5,
			service_url = $6, tenant_id = $7, updated_at = now()`,
		c.Platform, c.ID, c.Name, c.TeamID, c.TeamName, c.ServiceURL, c.TenantID)
	return mapError(err, "record channel %s", c.ID)
}

// ChatChannelByName finds a channel by its team's and its own name, in any
// case; ENOTFOUND when slabot knows no such channel.
func (db *DB) ChatChannelByName(ctx context.Context, platform, team, channel string) (*engine.ChatChannel, error) {
	var c engine.ChatChannel
	err := db.pool.QueryRow(ctx, `SELECT platform, channel_id, channel_name, team_id, team_name, service_url, tenant_id
		FROM chat_channels WHERE platform = $1 AND lower(team_name) = lower($2) AND lower(channel_name) = lower($3)
		ORDER BY updated_at DESC LIMIT 1`, platform, team, channel).
		Scan(&c.Platform, &c.ID, &c.Name, &c.TeamID, &c.TeamName, &c.ServiceURL, &c.TenantID)
	if err != nil {
		return nil, mapError(err, "find channel %s/%s", team, channel)
	}
	return &c, nil
}

// ChatChannelByID finds a channel by its id; ENOTFOUND when unknown.
func (db *DB) ChatChannelByID(ctx context.Context, platform, id string) (*engine.ChatChannel, error) {
	var c engine.ChatChannel
	err := db.pool.QueryRow(ctx, `SELECT platform, channel_id, channel_name, team_id, team_name, service_url, tenant_id
		FROM chat_channels WHERE platform = $1 AND channel_id = $2`, platform, id).
		Scan(&c.Platform, &c.ID, &c.Name, &c.TeamID, &c.TeamName, &c.ServiceURL, &c.TenantID)
	if err != nil {
		return nil, mapError(err, "find channel %s", id)
	}
	return &c, nil
}

// ConversationServiceURL is where a conversation is served, as last
// learnt from the platform (a person's 1:1 chat or a channel); "" when
// slabot never learnt it.
func (db *DB) ConversationServiceURL(ctx context.Context, platform, conversation string) (string, error) {
	var url string
	err := db.pool.QueryRow(ctx, `SELECT service_url FROM (
			SELECT service_url, updated_at FROM chat_identities WHERE platform = $1 AND conversation_id = $2 AND service_url <> ''
			UNION ALL
			SELECT service_url, updated_at FROM chat_channels WHERE platform = $1 AND channel_id = $2 AND service_url <> ''
		) known ORDER BY updated_at DESC LIMIT 1`, platform, conversation).Scan(&url)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return url, mapError(err, "find where conversation %s is served", conversation)
}

// TieMember records that a platform member id (a Teams 29: id) belongs to
// the person with userID (their Entra object id), as an activity carrying
// both said.
func (db *DB) TieMember(ctx context.Context, platform, memberID, userID string) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO chat_members (platform, member_id, user_id) VALUES ($1, $2, $3)
		ON CONFLICT (platform, member_id) DO UPDATE SET user_id = $3, updated_at = now()
		WHERE chat_members.user_id <> $3`, platform, memberID, userID)
	return mapError(err, "record whose member id %s is", memberID)
}

// UserIDOfMember is the user id a member id was tied to; ENOTFOUND when
// it never was.
func (db *DB) UserIDOfMember(ctx context.Context, platform, memberID string) (string, error) {
	var userID string
	err := db.pool.QueryRow(ctx, `SELECT user_id FROM chat_members WHERE platform = $1 AND member_id = $2`,
		platform, memberID).Scan(&userID)
	return userID, mapError(err, "find whose member id %s is", memberID)
}

const channelColumns = `platform, channel_id, channel_name, team_id, team_name, service_url, tenant_id`

func scanChannel(row pgx.CollectableRow) (engine.ChatChannel, error) {
	var c engine.ChatChannel
	err := row.Scan(&c.Platform, &c.ID, &c.Name, &c.TeamID, &c.TeamName, &c.ServiceURL, &c.TenantID)
	return c, err
}

// ChatChannelsByName lists every channel of the tenant named so in a team
// named so, in any case: more than one means the name is ambiguous.
func (db *DB) ChatChannelsByName(ctx context.Context, platform, tenantID, team, channel string) ([]engine.ChatChannel, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+channelColumns+` FROM chat_channels
		WHERE platform = $1 AND lower(tenant_id) = lower($2) AND lower(team_name) = lower($3) AND lower(channel_name) = lower($4)
		ORDER BY team_id, channel_id`, platform, tenantID, team, channel)
	if err != nil {
		return nil, mapError(err, "find channel %s/%s", team, channel)
	}
	channels, err := pgx.CollectRows(rows, scanChannel)
	return channels, mapError(err, "find channel %s/%s", team, channel)
}

// PinChatChannel pins a policy's channel name to a channel id, unless it
// is pinned already, and returns the id it is pinned to.
func (db *DB) PinChatChannel(ctx context.Context, platform, name, channelID string) (string, error) {
	var pinned string
	err := db.pool.QueryRow(ctx, `WITH fresh AS (
			INSERT INTO chat_channel_pins (platform, name, channel_id) VALUES ($1, lower($2), $3)
			ON CONFLICT (platform, name) DO NOTHING RETURNING channel_id)
		SELECT channel_id FROM fresh
		UNION ALL
		SELECT channel_id FROM chat_channel_pins WHERE platform = $1 AND name = lower($2)
		LIMIT 1`, platform, name, channelID).Scan(&pinned)
	return pinned, mapError(err, "pin channel %s", name)
}

// UnpinChatChannel removes the pin of a policy's channel name, so the name
// is resolved afresh, and returns the channel id it was pinned to;
// ENOTFOUND when it was not pinned.
func (db *DB) UnpinChatChannel(ctx context.Context, platform, name string) (string, error) {
	var id string
	err := db.pool.QueryRow(ctx, `DELETE FROM chat_channel_pins WHERE platform = $1 AND name = lower($2) RETURNING channel_id`,
		platform, name).Scan(&id)
	return id, mapError(err, "unpin the channel %s", name)
}

// ChatChannelPin is the channel id a policy's channel name is pinned to;
// ENOTFOUND when it is not pinned.
func (db *DB) ChatChannelPin(ctx context.Context, platform, name string) (string, error) {
	var id string
	err := db.pool.QueryRow(ctx, `SELECT channel_id FROM chat_channel_pins WHERE platform = $1 AND name = lower($2)`,
		platform, name).Scan(&id)
	return id, mapError(err, "find the channel %s is pinned to", name)
}

// ForgetChatChannels forgets channels that are gone (deleted, or in a team
// slabot was removed from) and returns what it forgot. The pins on them
// are kept: a name pinned to a channel that is gone stays refused (a team
// created later with the same name could be anyone's) until slabot is
// back in that channel or an operator unpins the name (UnpinChatChannel).
func (db *DB) ForgetChatChannels(ctx context.Context, platform string, channelIDs []string) ([]engine.ChatChannel, error) {
	var gone []engine.ChatChannel
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `DELETE FROM chat_channels WHERE platform = $1 AND channel_id = ANY($2)
			RETURNING `+channelColumns, platform, channelIDs)
		if err != nil {
			return err
		}
		gone, err = pgx.CollectRows(rows, scanChannel)
		return err
	})
	return gone, mapError(err, "forget %d channels", len(channelIDs))
}

// ChatChannelsOfTeam lists the channels slabot knows in a team.
func (db *DB) ChatChannelsOfTeam(ctx context.Context, platform, teamID string) ([]engine.ChatChannel, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+channelColumns+` FROM chat_channels
		WHERE platform = $1 AND team_id = $2 ORDER BY channel_id`, platform, teamID)
	if err != nil {
		return nil, mapError(err, "list the channels of team %s", teamID)
	}
	channels, err := pgx.CollectRows(rows, scanChannel)
	return channels, mapError(err, "list the channels of team %s", teamID)
}

// ChatTeams lists the teams slabot knows channels of, each with the
// channel that is its General (whose id is the team's).
func (db *DB) ChatTeams(ctx context.Context, platform string) ([]engine.ChatChannel, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+channelColumns+` FROM chat_channels
		WHERE platform = $1 AND channel_id = team_id ORDER BY team_id`, platform)
	if err != nil {
		return nil, mapError(err, "list the teams slabot is in")
	}
	teams, err := pgx.CollectRows(rows, scanChannel)
	return teams, mapError(err, "list the teams slabot is in")
}
