package teamsfake

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// getMember answers GET v3/conversations/{id}/members/{memberId} as the
// connector does: the member's account with their Entra object id, email
// and sign-in name (TeamsChannelAccount), or 404 for someone who is not a
// member. A member is found by 29: id or Entra object id. The fake's
// teams hold every person of the tenant (a team's id is also a
// conversation id, that of its General channel); a 1:1 chat holds only
// its person.
func (s *Server) getMember(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conversation[r.PathValue("conv")]
	if c == nil {
		writeError(w, http.StatusNotFound, "ConversationNotFound", "Conversation not found.")
		return
	}
	p := s.personByMemberIDLocked(r.PathValue("member"))
	if p == nil || (c.kind == "personal" && key(p.Email) != key(c.email)) {
		writeError(w, http.StatusNotFound, "MemberNotFoundInConversation", "The member was not found in the conversation.")
		return
	}
	s.memberLookups++
	writeJSON(w, http.StatusOK, map[string]any{
		"id": p.UserID, "name": p.Name, "aadObjectId": p.AADObjectID, "email": p.Email,
		"userPrincipalName": p.UserPrincipalName, "tenantId": s.opts.TenantID, "userRole": "user",
	})
}

// MemberLookups counts the member lookups the bot made.
func (s *Server) MemberLookups() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.memberLookups
}

// Mention is how Teams writes a mention of the person in a message's text
// ("<at>Bo Berg</at>"); "" for someone the fake does not know.
func (s *Server) Mention(email string) string {
	p, ok := s.Person(email)
	if !ok {
		return ""
	}
	return "<at>" + p.Name + "</at>"
}

// TypeMentioning sends a message from the person in their 1:1 chat whose
// text mentions people (written with Mention) and slabot ("<at>slabot</at>"):
// each mention gets the entity Teams sends, {"type": "mention", "text":
// the tag, "mentioned": {"id": the 29: id, "name"}}
// (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/channel-and-group-conversations).
func (s *Server) TypeMentioning(ctx context.Context, email, text string, mentioned ...string) (*BotResponse, error) {
	a, err := s.MessageActivity(email, text)
	if err != nil {
		return nil, err
	}
	if strings.Contains(text, "<at>slabot</at>") {
		a.Entities = append(a.Entities, Entity{Type: "mention", Text: "<at>slabot</at>",
			Mentioned: &Account{ID: s.BotID(), Name: "slabot"}})
	}
	for _, m := range mentioned {
		p, ok := s.Person(m)
		if !ok {
			return nil, fmt.Errorf("teamsfake: no person %q", m)
		}
		a.Entities = append(a.Entities, Entity{Type: "mention", Text: "<at>" + p.Name + "</at>",
			Mentioned: &Account{ID: p.UserID, Name: p.Name}})
	}
	return s.Send(ctx, a)
}

// RemoveBotFromTeam uninstalls the app from the team, as a team owner
// does, and tells the bot as Teams does: a conversationUpdate with the
// bot in membersRemoved (eventType teamMemberRemoved), then an
// installationUpdate "remove" in the team
// (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/subscribe-to-conversation-events).
// The bot can no longer write in the team's channels.
func (s *Server) RemoveBotFromTeam(ctx context.Context, teamID, byEmail string) (*BotResponse, error) {
	s.mu.Lock()
	t := s.teams[teamID]
	p := s.people[key(byEmail)]
	if t == nil || p == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("teamsfake: no team %q or person %q", teamID, byEmail)
	}
	t.botInstalled = false
	update := s.channelActivityLocked(p, t, t.ID, "conversationUpdate")
	update.MembersRemoved = []Account{{ID: s.BotID()}}
	update.ChannelData = mustJSON(map[string]any{
		"tenant":    map[string]string{"id": s.opts.TenantID},
		"team":      map[string]string{"id": t.ID, "name": t.Name, "aadGroupId": t.AADGroupID},
		"eventType": "teamMemberRemoved",
	})
	install := s.channelActivityLocked(p, t, t.ID, "installationUpdate")
	install.Action = "remove"
	s.notifyLocked()
	s.mu.Unlock()
	if resp, err := s.Send(ctx, update); err != nil || resp.Status/100 != 2 {
		return resp, err
	}
	return s.Send(ctx, install)
}

// DeleteChannel deletes a channel of a team; when the bot is in the team,
// Teams tells it with a conversationUpdate whose eventType is
// channelDeleted and whose channelData.channel names the channel.
func (s *Server) DeleteChannel(ctx context.Context, teamID, channelID, byEmail string) (*BotResponse, error) {
	s.mu.Lock()
	t := s.teams[teamID]
	p := s.people[key(byEmail)]
	if t == nil || p == nil || channelID == teamID {
		s.mu.Unlock()
		return nil, fmt.Errorf("teamsfake: no team %q or person %q, or the General channel (which cannot be deleted)", teamID, byEmail)
	}
	name := ""
	for i, ch := range t.Channels {
		if ch.ID == channelID {
			name = ch.Name
			t.Channels = append(t.Channels[:i:i], t.Channels[i+1:]...)
			break
		}
	}
	if name == "" {
		s.mu.Unlock()
		return nil, fmt.Errorf("teamsfake: team %q has no channel %q", teamID, channelID)
	}
	delete(s.conversation, channelID)
	s.notifyLocked()
	if !t.botInstalled {
		s.mu.Unlock()
		return nil, nil
	}
	a := s.channelActivityLocked(p, t, t.ID, "conversationUpdate")
	a.ChannelData = mustJSON(map[string]any{
		"tenant":    map[string]string{"id": s.opts.TenantID},
		"team":      map[string]string{"id": t.ID, "name": t.Name, "aadGroupId": t.AADGroupID},
		"channel":   map[string]string{"id": channelID, "name": name},
		"eventType": "channelDeleted",
	})
	s.mu.Unlock()
	return s.Send(ctx, a)
}

// KeyFetchesWaiting counts requests for the signing keys being held.
func (s *Server) KeyFetchesWaiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keysWaiting
}

// HoldKeyFetches makes requests for the signing keys (JWKS) wait until
// the returned release is called, as a slow endpoint does.
func (s *Server) HoldKeyFetches() (release func()) {
	hold := make(chan struct{})
	s.mu.Lock()
	s.keysHeld = hold
	s.mu.Unlock()
	var once bool
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !once {
			once = true
			close(hold)
			s.keysHeld = nil
		}
	}
}
