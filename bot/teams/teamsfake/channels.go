package teamsfake

import (
	"context"
	"fmt"
)

// AddChannel creates a channel in a team. When the bot is in the team,
// Teams tells it, as it does: a conversationUpdate with eventType
// channelCreated, sent by addedBy, and the bot's answer is returned (nil
// when the bot is not in the team).
func (s *Server) AddChannel(ctx context.Context, teamID, name, addedByEmail string) (Channel, *BotResponse, error) {
	s.mu.Lock()
	t := s.teams[teamID]
	p := s.people[key(addedByEmail)]
	if t == nil || p == nil {
		s.mu.Unlock()
		return Channel{}, nil, fmt.Errorf("teamsfake: no team %q or person %q", teamID, addedByEmail)
	}
	ch := Channel{ID: "19:" + randomHex(16) + "@thread.tacv2", Name: name}
	t.Channels = append(t.Channels, ch)
	s.conversation[ch.ID] = &conversation{id: ch.ID, kind: "channel", teamID: t.ID, views: map[string]Card{}}
	s.notifyLocked()
	if !t.botInstalled {
		s.mu.Unlock()
		return ch, nil, nil
	}
	a := s.channelActivityLocked(p, t, t.ID, "conversationUpdate")
	a.ChannelData = mustJSON(map[string]any{
		"tenant":    map[string]string{"id": s.opts.TenantID},
		"team":      map[string]string{"id": t.ID, "name": t.Name, "aadGroupId": t.AADGroupID},
		"channel":   map[string]string{"id": ch.ID, "name": ch.Name},
		"eventType": "channelCreated",
	})
	s.mu.Unlock()
	resp, err := s.Send(ctx, a)
	return ch, resp, err
}
