package teamsfake

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

type statusRecorder struct {
	http.ResponseWriter
	status int
	size   int // of the activity written, as MessageSize counts it
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// connector wraps a connector endpoint: bearer check, injected faults and
// the call log.
func (s *Server) connector(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			s.mu.Lock()
			s.calls = append(s.calls, Call{
				At: time.Now(), Method: r.Method, Path: r.URL.Path,
				ServiceURL:     s.ts.URL + "/smba/" + r.PathValue("region") + "/",
				ConversationID: r.PathValue("conv"), Status: rec.status, Size: rec.size,
			})
			s.notifyLocked()
			s.mu.Unlock()
		}()
		if !s.bearerScope(rec, r, ScopeBotFramework) {
			return
		}
		if s.injectConnectorFault(rec, r.PathValue("conv")) != 0 {
			return
		}
		h(rec, r)
	}
}

func decodeBody(w http.ResponseWriter, r *http.Request, into any) bool {
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(data, into)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "BadSyntax", "Incorrect conversation creation parameters")
		return false
	}
	return true
}

func (s *Server) createConversation(w http.ResponseWriter, r *http.Request) {
	var body struct {
		IsGroup     bool      `json:"isGroup"`
		Bot         *Account  `json:"bot"`
		Members     []Account `json:"members"`
		TenantID    string    `json:"tenantId"`
		ChannelData *struct {
			Tenant *struct {
				ID string `json:"id"`
			} `json:"tenant"`
		} `json:"channelData"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	switch {
	case body.IsGroup || len(body.Members) != 1:
		writeError(w, http.StatusBadRequest, "BadSyntax", "Incorrect conversation creation parameters")
		return
	case body.TenantID != s.opts.TenantID:
		writeError(w, http.StatusBadRequest, "BadSyntax", "tenantId missing or not the bot's tenant")
		return
	case body.ChannelData == nil || body.ChannelData.Tenant == nil || body.ChannelData.Tenant.ID != s.opts.TenantID:
		writeError(w, http.StatusBadRequest, "BadSyntax", "channelData.tenant.id missing or not the bot's tenant")
		return
	case body.Bot != nil && body.Bot.ID != s.BotID():
		writeError(w, http.StatusBadRequest, "BadSyntax", "bot id is not this bot")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.personByMemberIDLocked(body.Members[0].ID)
	if p == nil {
		writeError(w, http.StatusNotFound, "NotFound", "user not found")
		return
	}
	switch {
	case !p.Installed:
		// "ForbiddenOperationException: Bot isn't installed in user's
		// personal scope" (conversation-messages#status-codes-from-bot-conversational-apis).
		writeError(w, http.StatusForbidden, "ForbiddenOperationException", "Bot isn't installed in user's personal scope")
		return
	case p.Blocked:
		// Opening the chat of someone who blocked the bot: the status
		// table lists ConversationBlockedByUser ("User blocked the
		// conversation with the bot."), which createConversation answers
		// (https://github.com/OfficeDev/microsoft-teams-library-js/issues/2009).
		writeError(w, http.StatusForbidden, "ConversationBlockedByUser", "User blocked the conversation with the bot.")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": s.personalConversationLocked(p).id})
}

func (s *Server) sendActivity(w http.ResponseWriter, r *http.Request) {
	a, ok := s.decodeActivity(w, r)
	if !ok {
		return
	}
	if a.Type == "" {
		writeError(w, http.StatusBadRequest, "BadArgument", "activity type is required")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.writableConversationLocked(w, r.PathValue("conv"))
	if !ok {
		return
	}
	a.ID = s.nextIDLocked()
	now := time.Now()
	a.Timestamp = &now
	a.From = &Account{ID: s.BotID()}
	a.Conversation = &Conversation{ID: c.id, ConversationType: c.kind, TenantID: s.opts.TenantID}
	c.activities = append(c.activities, &Recorded{
		ConversationID: c.id, ServiceURL: s.ts.URL + "/smba/" + r.PathValue("region") + "/", At: now, Activity: a,
	})
	s.notifyLocked()
	writeJSON(w, http.StatusCreated, map[string]string{"id": a.ID})
}

func (s *Server) updateActivity(w http.ResponseWriter, r *http.Request) {
	a, ok := s.decodeActivity(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.writableConversationLocked(w, r.PathValue("conv"))
	if !ok {
		return
	}
	id := r.PathValue("activity")
	for _, rec := range c.activities {
		if rec.Activity.ID != id {
			continue
		}
		now := time.Now()
		a.ID, a.Timestamp = id, rec.Activity.Timestamp
		a.From, a.Conversation = rec.Activity.From, rec.Activity.Conversation
		if a.Type == "" {
			a.Type = "message"
		}
		rec.Activity = a
		rec.Updates = append(rec.Updates, now)
		for k := range c.views {
			if strings.HasSuffix(k, "\x00"+id) {
				delete(c.views, k)
			}
		}
		s.notifyLocked()
		writeJSON(w, http.StatusOK, map[string]string{"id": id})
		return
	}
	writeError(w, http.StatusNotFound, "ActivityNotFound", "Unknown activity")
}

// writableConversationLocked finds a conversation the bot may write to,
// answering 404 or 403 otherwise.
func (s *Server) writableConversationLocked(w http.ResponseWriter, id string) (*conversation, bool) {
	c := s.conversation[id]
	if c == nil {
		writeError(w, http.StatusNotFound, "ConversationNotFound", "Conversation not found.")
		return nil, false
	}
	switch c.kind {
	case "personal":
		if p := s.people[key(c.email)]; p == nil || !p.Installed || p.Blocked {
			writeWritesBlocked(w)
			return nil, false
		}
	case "channel":
		if t := s.teams[c.teamID]; t == nil || !t.botInstalled {
			// Removed from the team: "BotNotInConversationRoster: The bot
			// isn't part of the conversation roster."
			// (conversation-messages#status-codes-from-bot-conversational-apis).
			writeError(w, http.StatusForbidden, "BotNotInConversationRoster", "The bot isn't part of the conversation roster.")
			return nil, false
		}
	}
	return c, true
}

// writeWritesBlocked answers a write to the 1:1 chat of someone who
// blocked or uninstalled the bot as Microsoft documents it: 403 with
// errorCode 209 and, inside the message, the subCode MessageWritesBlocked
// ("If the bot is blocked or uninstalled, Teams returns a 403 response
// code with a subCode: MessageWritesBlocked",
// https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/send-proactive-messages#understand-who-blocked-muted-or-uninstalled-a-bot).
func writeWritesBlocked(w http.ResponseWriter) {
	inner := "{\r\n  \"subCode\": \"MessageWritesBlocked\",\r\n  \"details\": \"Thread is blocked from message writes.\",\r\n" +
		"  \"errorCode\": null,\r\n  \"errorSubCode\": null\r\n}"
	writeJSON(w, http.StatusForbidden, map[string]any{"errorCode": 209, "message": inner})
}

func (s *Server) teamConversations(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.teams[r.PathValue("team")]
	if t == nil {
		writeError(w, http.StatusNotFound, "NotFound", "Team not found")
		return
	}
	if !t.botInstalled {
		writeError(w, http.StatusForbidden, "BotNotInConversationRoster", "The bot is not part of the team.")
		return
	}
	list := make([]map[string]any, 0, len(t.Channels))
	for _, ch := range t.Channels {
		entry := map[string]any{"id": ch.ID}
		if ch.ID != t.ID { // Teams sends no name for General
			entry["name"] = ch.Name
		}
		list = append(list, entry)
	}
	writeJSON(w, http.StatusOK, map[string]any{"conversations": list})
}
