package teamsfake

import (
	"context"
	"fmt"
	"time"
)

// AddTeam creates a team with a General channel and the named channels.
// The bot is not in it until AddBotToTeam.
func (s *Server) AddTeam(name string, channelNames ...string) Team {
	t := Team{ID: "19:" + randomHex(16) + "@thread.tacv2", Name: name, AADGroupID: NewGUID()}
	t.Channels = append(t.Channels, Channel{ID: t.ID, Name: "General"})
	for _, n := range channelNames {
		t.Channels = append(t.Channels, Channel{ID: "19:" + randomHex(16) + "@thread.tacv2", Name: n})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.teams[t.ID] = &team{Team: t}
	for _, ch := range t.Channels {
		s.conversation[ch.ID] = &conversation{id: ch.ID, kind: "channel", teamID: t.ID, views: map[string]Card{}}
	}
	return t
}

// TeamByName finds a team.
func (s *Server) TeamByName(name string) (Team, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.teams {
		if t.Name == name {
			return t.Team, true
		}
	}
	return Team{}, false
}

// ChannelID returns the id of a team's channel by name ("" if none).
func (t Team) ChannelID(name string) string {
	for _, ch := range t.Channels {
		if ch.Name == name {
			return ch.ID
		}
	}
	return ""
}

// AddBotToTeam installs the app in the team, as addedBy, and sends the
// bot the conversationUpdate Teams sends (membersAdded with the bot,
// eventType teamMemberAdded, in the General channel).
func (s *Server) AddBotToTeam(ctx context.Context, teamID, addedByEmail string) (*BotResponse, error) {
	s.mu.Lock()
	t := s.teams[teamID]
	p := s.people[key(addedByEmail)]
	if t == nil || p == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("teamsfake: no team %q or person %q", teamID, addedByEmail)
	}
	t.botInstalled = true
	a := s.channelActivityLocked(p, t, t.ID, "conversationUpdate")
	a.MembersAdded = []Account{{ID: s.BotID()}}
	a.ChannelData = mustJSON(map[string]any{
		"tenant":    map[string]string{"id": s.opts.TenantID},
		"team":      map[string]string{"id": t.ID, "name": t.Name, "aadGroupId": t.AADGroupID},
		"eventType": "teamMemberAdded",
	})
	s.notifyLocked()
	s.mu.Unlock()
	return s.Send(ctx, a)
}

// TypeInChannel posts a message in a channel that @mentions the bot, the
// only way a channel message reaches a bot.
func (s *Server) TypeInChannel(ctx context.Context, email, channelID, text string) (*BotResponse, error) {
	s.mu.Lock()
	c := s.conversation[channelID]
	p := s.people[key(email)]
	if c == nil || c.kind != "channel" || p == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("teamsfake: no channel %q or person %q", channelID, email)
	}
	a := s.channelActivityLocked(p, s.teams[c.teamID], channelID, "message")
	s.mu.Unlock()
	a.Text, a.TextFormat = "<at>slabot</at> "+text, "plain"
	return s.Send(ctx, a)
}

func (s *Server) channelActivityLocked(p *person, t *team, channelID, typ string) Activity {
	now := time.Now()
	channelName := ""
	for _, ch := range t.Channels {
		if ch.ID == channelID && ch.ID != t.ID {
			channelName = ch.Name
		}
	}
	channel := map[string]string{"id": channelID}
	if channelName != "" {
		channel["name"] = channelName
	}
	return Activity{
		Type:         typ,
		ID:           s.nextIDLocked(),
		Timestamp:    &now,
		ServiceURL:   s.serviceURLLocked(),
		ChannelID:    "msteams",
		From:         &Account{ID: p.UserID, Name: p.Name, AADObjectID: p.AADObjectID},
		Conversation: &Conversation{ID: channelID, ConversationType: "channel", TenantID: s.opts.TenantID, IsGroup: true},
		Recipient:    &Account{ID: s.BotID(), Name: "slabot"},
		ChannelData: mustJSON(map[string]any{
			"tenant":  map[string]string{"id": s.opts.TenantID},
			"team":    map[string]string{"id": t.ID, "name": t.Name, "aadGroupId": t.AADGroupID},
			"channel": channel,
		}),
	}
}

// LoseBotFromTeam takes the bot out of a team without telling it, as when
// Teams' conversationUpdate never reached the bot (it was down, or the
// event was lost): its writes in the team's channels are refused with 403
// BotNotInConversationRoster from then on (connector.go).
func (s *Server) LoseBotFromTeam(teamID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.teams[teamID]; t != nil {
		t.botInstalled = false
		s.notifyLocked()
	}
}
