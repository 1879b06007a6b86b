package slackfake

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// Slack lets a response_url be used 5 times within 30 minutes.
const (
	responseURLUses = 5
	responseURLTTL  = 30 * time.Minute
)

type responseURL struct {
	origin  string
	user    string
	channel string
	msgTS   string
	issued  time.Time
	uses    int
}

func (s *Server) teamObj() obj { return obj{"id": TeamID, "domain": TeamDomain} }

func (s *Server) userObjLocked(id string) obj {
	name := id
	if u := s.users[id]; u != nil {
		name = u.Name
	}
	return obj{"id": id, "username": name, "name": name, "team_id": TeamID}
}

func (s *Server) channelNameLocked(id string) string {
	c := s.channels[id]
	switch {
	case c == nil:
		return ""
	case c.isIM:
		return "directmessage"
	case c.private:
		return "privategroup"
	}
	return c.name
}

func (s *Server) newTriggerLocked(user, ch string) string {
	s.seq++
	id := fmt.Sprintf("%d.%s.%032x", s.now().UnixMilli(), strings.TrimPrefix(TeamID, "T"), s.seq)
	s.triggers[id] = &trigger{user: user, channel: ch, issued: s.now()}
	return id
}

func (s *Server) newResponseURLLocked(origin, user, ch, msgTS string) string {
	id := s.newIDLocked("R")
	s.responseURLs[id] = &responseURL{origin: origin, user: user, channel: ch, msgTS: msgTS, issued: s.now()}
	return s.srv.URL + "/response/" + TeamID + "/" + id
}

func withIDs(res EnvelopeResult, trig, rurl string) EnvelopeResult {
	res.TriggerID, res.ResponseURL = trig, rurl
	return res
}

// ClickButton has userID click the interactive element actionID in a
// stored message (its current version is used) and sends the block_actions
// envelope Slack would, with trigger_id, response_url, container, channel
// and message. value overrides the button's value or picks the option for
// a select ("" keeps the element's own value). It returns once the bot acks
// or the ack timeout passes (ErrNotAcked).
func (s *Server) ClickButton(ctx context.Context, userID string, msg Message, actionID, value string) (EnvelopeResult, error) {
	return s.click(ctx, userID, msg, actionID, value, false)
}

// ClickButtonAsSeen clicks actionID in msg as the caller holds it, not as
// the server now has it: a Slack client that has not yet shown an update
// (offline, or a moment behind) still sends the click of the old buttons.
func (s *Server) ClickButtonAsSeen(ctx context.Context, userID string, msg Message, actionID, value string) (EnvelopeResult, error) {
	return s.click(ctx, userID, msg, actionID, value, true)
}

func (s *Server) click(ctx context.Context, userID string, msg Message, actionID, value string, asSeen bool) (EnvelopeResult, error) {
	s.mu.Lock()
	m := s.findMsgLocked(msg.Channel, msg.TS)
	if m == nil || m.Deleted {
		s.mu.Unlock()
		return EnvelopeResult{}, fmt.Errorf("slackfake: message %s/%s not found", msg.Channel, msg.TS)
	}
	if asSeen {
		seen := *m
		seen.Blocks = msg.Blocks
		m = &seen
	}
	if m.Ephemeral && m.To != userID {
		s.mu.Unlock()
		return EnvelopeResult{}, fmt.Errorf("slackfake: ephemeral message %s is not visible to %s", m.TS, userID)
	}
	el, found := findElement(m.Blocks, actionID)
	if !found {
		s.mu.Unlock()
		return EnvelopeResult{}, fmt.Errorf("slackfake: no element with action_id %q in message %s", actionID, m.TS)
	}
	trig := s.newTriggerLocked(userID, m.Channel)
	rurl := s.newResponseURLLocked("block_actions", userID, m.Channel, m.TS)
	payload := obj{
		"type": "block_actions", "user": s.userObjLocked(userID), "api_app_id": AppID,
		"token": VerificationToken, "trigger_id": trig, "team": s.teamObj(),
		"enterprise": nil, "is_enterprise_install": false,
		"container":    obj{"type": "message", "message_ts": m.TS, "channel_id": m.Channel, "is_ephemeral": m.Ephemeral},
		"channel":      obj{"id": m.Channel, "name": s.channelNameLocked(m.Channel)},
		"state":        obj{"values": obj{}},
		"response_url": rurl,
		"actions":      []obj{s.actionLocked(el, value)},
	}
	// Slack leaves the message out for ephemeral messages; the bot only
	// gets the container. Metadata is left out too: do not rely on it.
	if !m.Ephemeral {
		payload["message"] = s.renderMsgLocked(m, false)
	}
	s.mu.Unlock()
	res, err := s.sendAndWait(ctx, "interactive", payload, false, nil)
	return withIDs(res, trig, rurl), err
}

func (s *Server) actionLocked(el element, value string) obj {
	var v any
	if value != "" {
		v = value
	}
	a := elementState(el.el, v)
	a["action_id"] = el.el["action_id"]
	a["block_id"] = el.blockID
	a["action_ts"] = formatTS(time.Now().UnixMicro())
	return a
}

// ClickViewButton clicks an element in a stored view (Home tab or modal).
// Slack sends no response_url for views; the container names the view.
func (s *Server) ClickViewButton(ctx context.Context, userID string, view slack.View, actionID, value string) (EnvelopeResult, error) {
	s.mu.Lock()
	v := s.views[view.ID]
	if v == nil {
		s.mu.Unlock()
		return EnvelopeResult{}, fmt.Errorf("slackfake: view %s not found", view.ID)
	}
	el, found := findElement(v.Blocks, actionID)
	if !found {
		s.mu.Unlock()
		return EnvelopeResult{}, fmt.Errorf("slackfake: no element with action_id %q in view %s", actionID, v.ID)
	}
	trig := s.newTriggerLocked(userID, "")
	payload := obj{
		"type": "block_actions", "user": s.userObjLocked(userID), "api_app_id": AppID,
		"token": VerificationToken, "trigger_id": trig, "team": s.teamObj(),
		"enterprise": nil, "is_enterprise_install": false,
		"container": obj{"type": "view", "view_id": v.ID},
		"view":      v.render(nil),
		"actions":   []obj{s.actionLocked(el, value)},
	}
	s.mu.Unlock()
	res, err := s.sendAndWait(ctx, "interactive", payload, false, nil)
	return withIDs(res, trig, ""), err
}

// SubmitView has userID submit an open modal (view as returned by views.open
// or OpenViews; only its ID is used). values maps block_id → action_id →
// value: a string goes where the element keeps it (value, selected_option by
// option value, selected_user, selected_date, …; comma-separated for multi
// selects), a []string for multi selects, a map[string]any is used as the
// state entry verbatim. Input blocks not mentioned report their initial
// value or empty, as Slack does. The ack's response_action is applied:
// none or "clear" closes the modal(s), "update" replaces it, "push" pushes,
// "errors" keeps it open.
func (s *Server) SubmitView(ctx context.Context, userID string, view slack.View, values map[string]map[string]any) (EnvelopeResult, error) {
	s.mu.Lock()
	v := s.views[view.ID]
	stack := s.modals[userID]
	if v == nil || v.Type != "modal" || len(stack) == 0 || stack[len(stack)-1] != v.ID {
		s.mu.Unlock()
		return EnvelopeResult{}, fmt.Errorf("slackfake: view %s is not the modal open for %s", view.ID, userID)
	}
	state := map[string]any{}
	used := map[string]bool{}
	for _, e := range findElements(v.Blocks) {
		aid, _ := e.el["action_id"].(string)
		val, given := values[e.blockID][aid]
		if !given && e.blockType != "input" {
			continue
		}
		used[e.blockID+"\x00"+aid] = true
		if state[e.blockID] == nil {
			state[e.blockID] = map[string]any{}
		}
		state[e.blockID].(map[string]any)[aid] = elementState(e.el, val)
	}
	for bid, acts := range values {
		for aid := range acts {
			if !used[bid+"\x00"+aid] {
				s.mu.Unlock()
				return EnvelopeResult{}, fmt.Errorf("slackfake: view %s has no element %s/%s", v.ID, bid, aid)
			}
		}
	}
	trig := s.newTriggerLocked(userID, "")
	payload := obj{
		"type": "view_submission", "team": s.teamObj(), "user": s.userObjLocked(userID),
		"api_app_id": AppID, "token": VerificationToken, "trigger_id": trig,
		"view": v.render(state), "response_urls": []obj{},
		"is_enterprise_install": false, "enterprise": nil,
	}
	viewID := v.ID
	s.mu.Unlock()
	onAck := func(p json.RawMessage) { s.applyViewResponseLocked(userID, viewID, p) }
	res, err := s.sendAndWait(ctx, "interactive", payload, true, onAck)
	if err == nil && res.Ack.Payload == nil {
		// An empty ack closes the submitted modal.
		s.mu.Lock()
		s.applyViewResponseLocked(userID, viewID, nil)
		s.notifyLocked()
		s.mu.Unlock()
	}
	return withIDs(res, trig, ""), err
}

func (s *Server) applyViewResponseLocked(user, viewID string, p json.RawMessage) {
	var r struct {
		ResponseAction string          `json:"response_action"`
		View           json.RawMessage `json:"view"`
	}
	_ = json.Unmarshal(p, &r)
	stack := s.modals[user]
	switch r.ResponseAction {
	case "errors":
	case "clear":
		s.modals[user] = nil
	case "update":
		if vr, blocks, msgs := parseView(r.View, "modal"); len(msgs) == 0 {
			s.applyViewLocked(s.views[viewID], vr, blocks)
		}
	case "push":
		if vr, blocks, msgs := parseView(r.View, "modal"); len(msgs) == 0 && len(stack) < 3 {
			nv := s.storeModalLocked(vr, blocks, user, viewID)
			s.modals[user] = append(stack, nv.ID)
		}
	default:
		if n := len(stack); n > 0 && stack[n-1] == viewID {
			s.modals[user] = stack[:n-1]
		}
	}
}

// SlashCommand has userID run command (e.g. "/leads") with text in a
// channel (ID, name or user ID for a DM). An ack payload with text or
// blocks becomes the reply Slack shows: ephemeral to the user, or in the
// channel when response_type is "in_channel".
func (s *Server) SlashCommand(ctx context.Context, userID, channel, command, text string) (EnvelopeResult, error) {
	s.mu.Lock()
	c, code := s.resolveChannelLocked(channel)
	if code != "" {
		s.mu.Unlock()
		return EnvelopeResult{}, fmt.Errorf("slackfake: channel %q: %s", channel, code)
	}
	name := userID
	if u := s.users[userID]; u != nil {
		name = u.Name
	}
	trig := s.newTriggerLocked(userID, c.id)
	rurl := s.newResponseURLLocked("slash_command", userID, c.id, "")
	// Socket Mode sends the form fields of the HTTP variant as strings,
	// including is_enterprise_install.
	payload := obj{
		"token": VerificationToken, "team_id": TeamID, "team_domain": TeamDomain,
		"channel_id": c.id, "channel_name": s.channelNameLocked(c.id),
		"user_id": userID, "user_name": name, "command": command, "text": text,
		"api_app_id": AppID, "is_enterprise_install": "false",
		"response_url": rurl, "trigger_id": trig,
	}
	chID := c.id
	s.mu.Unlock()
	onAck := func(p json.RawMessage) {
		var r struct {
			Text         string          `json:"text"`
			Blocks       json.RawMessage `json:"blocks"`
			ResponseType string          `json:"response_type"`
		}
		if json.Unmarshal(p, &r) != nil || (r.Text == "" && isEmptyArray(r.Blocks)) {
			return
		}
		blocks, msgs := normalizeBlocks(r.Blocks, maxMessageBlocks)
		if len(msgs) > 0 {
			return // Slack shows the user an error instead
		}
		s.postReplyLocked(chID, userID, r.ResponseType, r.Text, blocks, "ack")
	}
	res, err := s.sendAndWait(ctx, "slash_commands", payload, true, onAck)
	return withIDs(res, trig, rurl), err
}

func (s *Server) postReplyLocked(ch, user, responseType, text string, blocks json.RawMessage, via string) *Message {
	if responseType == "in_channel" {
		now := s.now()
		m := &Message{Channel: ch, TS: s.nextTSLocked(), User: BotUserID, BotID: BotID, Text: text,
			Blocks: blocks, PostedAt: now, UpdatedAt: now, Via: via}
		s.msgs = append(s.msgs, m)
		return m
	}
	return s.addEphemeralLocked(ch, user, text, blocks, via)
}

// AppHomeOpened sends the app_home_opened event for userID's Home tab,
// including the currently published view when there is one.
func (s *Server) AppHomeOpened(ctx context.Context, userID string) (EnvelopeResult, error) {
	s.mu.Lock()
	ev := obj{"type": "app_home_opened", "user": userID, "channel": s.dmLocked(userID), "tab": "home"}
	if v := s.views[s.homeViews[userID]]; v != nil {
		ev["view"] = v.render(nil)
	}
	s.notifyLocked()
	s.mu.Unlock()
	return s.SendEvent(ctx, ev)
}

// SendEvent wraps an inner event (a map or a struct that marshals to an
// object with "type") in an event_callback with event_id, event_time and
// authorizations, and sends it as an events_api envelope.
func (s *Server) SendEvent(ctx context.Context, event any) (EnvelopeResult, error) {
	b, err := json.Marshal(event)
	if err != nil {
		return EnvelopeResult{}, err
	}
	var inner map[string]any
	if err := json.Unmarshal(b, &inner); err != nil {
		return EnvelopeResult{}, fmt.Errorf("slackfake: event must be a JSON object: %w", err)
	}
	s.mu.Lock()
	now := s.now()
	if _, ok := inner["event_ts"]; !ok {
		inner["event_ts"] = formatTS(now.UnixMicro())
	}
	eventID := s.newIDLocked("Ev")
	s.mu.Unlock()
	payload := obj{
		"token": VerificationToken, "team_id": TeamID, "api_app_id": AppID, "event": inner,
		"type": "event_callback", "event_id": eventID, "event_time": now.Unix(),
		"authorizations": []obj{{"enterprise_id": nil, "team_id": TeamID, "user_id": BotUserID,
			"is_bot": true, "is_enterprise_install": false}},
		"is_ext_shared_channel": false, "event_context": "4-" + eventID,
	}
	res, err := s.sendAndWait(ctx, "events_api", payload, false, nil)
	res.EventID = eventID
	return res, err
}

// handleResponseURL takes the bot's POSTs to a response_url. slack-go
// sends JSON (text, blocks, response_type, replace_original,
// delete_original); Slack answers {"ok":true}.
func (s *Server) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/response/"), "/")
	id := parts[len(parts)-1]
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var msg struct {
		Text            string          `json:"text"`
		Blocks          json.RawMessage `json:"blocks"`
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal bool            `json:"replace_original"`
		DeleteOriginal  bool            `json:"delete_original"`
		ThreadTS        string          `json:"thread_ts"`
	}
	parseErr := json.Unmarshal(body, &msg)

	s.mu.Lock()
	defer s.mu.Unlock()
	ru := s.responseURLs[id]
	post := ResponseURLPost{URL: s.srv.URL + r.URL.Path, Body: body, Text: msg.Text,
		ResponseType: msg.ResponseType, ReplaceOriginal: msg.ReplaceOriginal,
		DeleteOriginal: msg.DeleteOriginal, At: s.now()}
	status, resp := http.StatusOK, obj{"ok": true}
	switch {
	case ru == nil:
		status, resp = http.StatusNotFound, obj{"ok": false, "error": "invalid_url"}
	case ru.uses >= responseURLUses:
		status, resp = http.StatusNotFound, obj{"ok": false, "error": "used_url"}
	case s.now().Sub(ru.issued) > responseURLTTL:
		status, resp = http.StatusNotFound, obj{"ok": false, "error": "expired_url"}
	case parseErr != nil:
		status, resp = http.StatusBadRequest, obj{"ok": false, "error": "invalid_payload"}
	}
	if ru != nil {
		post.Origin, post.User, post.Channel, post.MessageTS = ru.origin, ru.user, ru.channel, ru.msgTS
	}
	var blocks json.RawMessage
	if status == http.StatusOK {
		var msgs []string
		if blocks, msgs = normalizeBlocks(msg.Blocks, maxMessageBlocks); len(msgs) > 0 {
			resp = obj{"ok": false, "error": "invalid_blocks", "response_metadata": obj{"messages": msgs}}
		}
	}
	if status == http.StatusOK && resp["ok"] == true {
		ru.uses++
		orig := s.findMsgLocked(ru.channel, ru.msgTS)
		switch {
		case msg.DeleteOriginal && orig != nil:
			orig.Deleted = true
			orig.UpdatedAt = s.now()
		case msg.ReplaceOriginal && orig != nil:
			s.editMsgLocked(orig, "response_url", func() {
				orig.Text = msg.Text
				orig.Blocks = blocks
			})
		case msg.Text != "" || blocks != nil:
			m := s.postReplyLocked(ru.channel, ru.user, msg.ResponseType, msg.Text, blocks, "response_url")
			m.ThreadTS = msg.ThreadTS
		}
	}
	post.Status = status
	s.rupPosts = append(s.rupPosts, post)
	s.notifyLocked()
	writeJSON(w, status, resp)
}
