package teamsfake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// AddPerson adds someone to the tenant and returns them with their ids.
func (s *Server) AddPerson(p Person) Person {
	if p.AADObjectID == "" {
		p.AADObjectID = NewGUID()
	}
	if p.UserID == "" {
		p.UserID = "29:1" + randomHex(20)
	}
	if p.UserPrincipalName == "" {
		p.UserPrincipalName = p.Email
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pp := &person{Person: p}
	s.people[key(p.Email)] = pp
	if p.Installed {
		s.personalConversationLocked(pp)
	}
	return p
}

// Person returns the person with the email as the fake holds them now.
func (s *Server) Person(email string) (Person, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.people[key(email)]
	if p == nil {
		return Person{}, false
	}
	return p.Person, true
}

// SetDisabled disables or enables a person's account.
func (s *Server) SetDisabled(email string, disabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.people[key(email)]; p != nil {
		p.Disabled = disabled
	}
}

// SetBlocked makes the person block (or unblock) the bot in their 1:1
// chat. The app stays installed: Graph answers an install with 409, and
// the connector refuses the bot's writes (connector.go). Teams tells the
// bot nothing (https://github.com/MicrosoftDocs/msteams-docs/issues/8200).
func (s *Server) SetBlocked(email string, blocked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.people[key(email)]; p != nil {
		p.Blocked = blocked
		s.notifyLocked()
	}
}

// personByMemberIDLocked finds a person as the connector does: by Entra
// object id or 29: id.
func (s *Server) personByMemberIDLocked(id string) *person {
	for _, p := range s.people {
		if p.AADObjectID == id || p.UserID == id {
			return p
		}
	}
	return nil
}

// personByGraphIDLocked finds a person as Graph's users/{id} does: by
// Entra object id or user principal name.
func (s *Server) personByGraphIDLocked(id string) *person {
	for _, p := range s.people {
		if (p.AADObjectID == id || strings.EqualFold(p.UserPrincipalName, id)) && !p.NotInDirectory {
			return p
		}
	}
	return nil
}

// personalConversationLocked returns the person's 1:1 chat with the bot,
// creating it on first use (Teams keeps one per person and bot).
func (s *Server) personalConversationLocked(p *person) *conversation {
	if p.conversationID == "" {
		p.conversationID = "a:1" + randomHex(24)
		s.conversation[p.conversationID] = &conversation{id: p.conversationID, kind: "personal", email: p.Email, views: map[string]Card{}}
	}
	return s.conversation[p.conversationID]
}

// PersonalConversation returns the id of the person's 1:1 chat with the
// bot ("" if there is none yet).
func (s *Server) PersonalConversation(email string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.people[key(email)]; p != nil {
		return p.conversationID
	}
	return ""
}

// Install installs the app for the person from the Teams store and tells
// the bot (conversationUpdate with the bot added, then installationUpdate
// "add"), returning the bot's answer to the installationUpdate.
func (s *Server) Install(ctx context.Context, email string) (*BotResponse, error) {
	s.mu.Lock()
	p := s.people[key(email)]
	if p == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("teamsfake: no person %q", email)
	}
	p.Installed, p.Blocked = true, false // adding the app again is turning back to it
	s.personalConversationLocked(p)
	s.notifyLocked()
	s.mu.Unlock()
	return s.announceInstallContext(ctx, email, "add")
}

// Uninstall removes the app for the person and sends installationUpdate
// "remove"; the bot can no longer write to them (403).
func (s *Server) Uninstall(ctx context.Context, email string) (*BotResponse, error) {
	s.mu.Lock()
	p := s.people[key(email)]
	if p == nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("teamsfake: no person %q", email)
	}
	p.Installed = false
	s.notifyLocked()
	s.mu.Unlock()
	return s.announceInstallContext(ctx, email, "remove")
}

func (s *Server) announceInstall(email, action string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := s.announceInstallContext(ctx, email, action)
	return err
}

func (s *Server) announceInstallContext(ctx context.Context, email, action string) (*BotResponse, error) {
	if action == "add" {
		update, err := s.personActivity(email, "conversationUpdate")
		if err != nil {
			return nil, err
		}
		update.MembersAdded = []Account{{ID: s.BotID()}}
		if _, err := s.Send(ctx, update); err != nil {
			return nil, err
		}
	}
	install, err := s.personActivity(email, "installationUpdate")
	if err != nil {
		return nil, err
	}
	install.Action = action
	return s.Send(ctx, install)
}

// personActivity is an activity from the person in their 1:1 chat.
func (s *Server) personActivity(email, typ string) (Activity, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.people[key(email)]
	if p == nil {
		return Activity{}, fmt.Errorf("teamsfake: no person %q", email)
	}
	c := s.personalConversationLocked(p)
	now := time.Now()
	return Activity{
		Type:          typ,
		ID:            s.nextIDLocked(),
		Timestamp:     &now,
		ServiceURL:    s.serviceURLLocked(),
		ChannelID:     "msteams",
		From:          &Account{ID: p.UserID, Name: p.Name, AADObjectID: p.AADObjectID},
		Conversation:  &Conversation{ID: c.id, ConversationType: "personal", TenantID: s.opts.TenantID},
		Recipient:     &Account{ID: s.BotID(), Name: "slabot"},
		ChannelData:   mustJSON(map[string]any{"tenant": map[string]string{"id": s.opts.TenantID}}),
		LocalTimezone: p.TimeZone,
	}, nil
}

// MessageActivity is the activity Teams sends when the person types text
// in their 1:1 chat with the bot; alter it and pass it to Send for
// negative tests.
func (s *Server) MessageActivity(email, text string) (Activity, error) {
	a, err := s.personActivity(email, "message")
	if err != nil {
		return a, err
	}
	a.Text, a.TextFormat = text, "plain"
	return a, nil
}

// Type sends a message from the person in their 1:1 chat with the bot.
// The app must be installed for them.
func (s *Server) Type(ctx context.Context, email, text string) (*BotResponse, error) {
	p, ok := s.Person(email)
	if !ok {
		return nil, fmt.Errorf("teamsfake: no person %q", email)
	}
	if !p.Installed {
		return nil, fmt.Errorf("teamsfake: %s has not installed the app and cannot message it", email)
	}
	if p.Blocked {
		return nil, fmt.Errorf("teamsfake: %s blocked the bot; SetBlocked(false) before they message it", email)
	}
	a, err := s.MessageActivity(email, text)
	if err != nil {
		return nil, err
	}
	return s.Send(ctx, a)
}

// Send signs and POSTs an activity to the bot's endpoint and returns the
// bot's HTTP answer. TokenOptions alter the token.
func (s *Server) Send(ctx context.Context, a Activity, opts ...TokenOption) (*BotResponse, error) {
	s.mu.Lock()
	endpoint := s.botEndpoint
	s.mu.Unlock()
	if endpoint == "" {
		return nil, errors.New("teamsfake: no bot endpoint (SetBotEndpoint)")
	}
	body, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("teamsfake: encode activity: %w", err)
	}
	resp, err := s.post(ctx, endpoint, body, a.ServiceURL, opts)
	// Wake WaitFor: a condition on the bot's side may hold now.
	s.mu.Lock()
	s.notifyLocked()
	s.mu.Unlock()
	return resp, err
}

func mustJSON(v any) json.RawMessage {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}
