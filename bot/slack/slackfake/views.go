package slackfake

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/slack-go/slack"
)

// storedView is a modal or Home tab as the fake keeps it.
type storedView struct {
	ID, Type, Hash, CallbackID, PrivateMetadata, ExternalID string
	RootViewID, PreviousViewID                              string
	Title, Close, Submit                                    json.RawMessage
	Blocks                                                  json.RawMessage
	ClearOnClose, NotifyOnClose                             bool
	User                                                    string
	Open                                                    bool
}

// viewReq is the view object a client sends to views.*.
type viewReq struct {
	Type            string          `json:"type"`
	Title           json.RawMessage `json:"title"`
	Close           json.RawMessage `json:"close"`
	Submit          json.RawMessage `json:"submit"`
	Blocks          json.RawMessage `json:"blocks"`
	PrivateMetadata string          `json:"private_metadata"`
	CallbackID      string          `json:"callback_id"`
	ClearOnClose    bool            `json:"clear_on_close"`
	NotifyOnClose   bool            `json:"notify_on_close"`
	ExternalID      string          `json:"external_id"`
}

func (v *storedView) render(state map[string]any) obj {
	if state == nil {
		state = map[string]any{}
	}
	o := obj{
		"id": v.ID, "team_id": TeamID, "type": v.Type, "blocks": rawOr(v.Blocks, "[]"),
		"private_metadata": v.PrivateMetadata, "callback_id": v.CallbackID,
		"state": obj{"values": state}, "hash": v.Hash,
		"clear_on_close": v.ClearOnClose, "notify_on_close": v.NotifyOnClose,
		"root_view_id": v.RootViewID, "previous_view_id": nilIfEmpty(v.PreviousViewID),
		"app_id": AppID, "external_id": v.ExternalID, "app_installed_team_id": TeamID, "bot_id": BotID,
		"title": rawOr(v.Title, "null"), "close": rawOr(v.Close, "null"), "submit": rawOr(v.Submit, "null"),
	}
	return o
}

func rawOr(r json.RawMessage, def string) json.RawMessage {
	if len(r) == 0 {
		return json.RawMessage(def)
	}
	return r
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (v *storedView) slackView() slack.View {
	b, _ := json.Marshal(v.render(nil))
	var sv slack.View
	_ = json.Unmarshal(b, &sv)
	return sv
}

func (s *Server) newHashLocked() string {
	s.seq++
	return fmt.Sprintf("%d.%08x", s.now().Unix(), s.seq)
}

// parseView checks a view request against the limits Slack enforces.
func parseView(raw json.RawMessage, wantType string) (*viewReq, json.RawMessage, []string) {
	var vr viewReq
	if err := json.Unmarshal(raw, &vr); err != nil || raw == nil {
		return nil, nil, []string{"[ERROR] missing required field: view"}
	}
	var msgs []string
	if vr.Type != wantType {
		msgs = append(msgs, fmt.Sprintf("[ERROR] must be %q [json-pointer:/view/type]", wantType))
	}
	if wantType == "modal" {
		var title struct {
			Text string `json:"text"`
		}
		_ = json.Unmarshal(vr.Title, &title)
		if title.Text == "" {
			msgs = append(msgs, "[ERROR] missing required field: title [json-pointer:/view/title]")
		} else if utf8.RuneCountInString(title.Text) > maxModalTitle {
			msgs = append(msgs, fmt.Sprintf("[ERROR] must be less than %d characters [json-pointer:/view/title/text]", maxModalTitle+1))
		}
	}
	blocks, bm := normalizeBlocks(vr.Blocks, maxViewBlocks)
	for _, m := range bm {
		msgs = append(msgs, m)
	}
	if wantType == "modal" && len(vr.Submit) == 0 {
		for _, e := range findElements(blocks) {
			if e.blockType == "input" {
				msgs = append(msgs, "[ERROR] must provide a submit property when using input blocks [json-pointer:/view]")
				break
			}
		}
	}
	return &vr, blocks, msgs
}

// useTriggerLocked checks and consumes a trigger_id: Slack's expire after
// 3 s and can be exchanged once.
func (s *Server) useTriggerLocked(id string) (*trigger, string) {
	t := s.triggers[id]
	switch {
	case id == "":
		return nil, "invalid_arguments"
	case t == nil:
		return nil, "invalid_trigger_id"
	case t.used:
		return nil, "exchanged_trigger_id"
	case s.now().Sub(t.issued) > s.cfg.triggerTTL:
		return nil, "expired_trigger_id"
	}
	t.used = true
	return t, ""
}

func (s *Server) viewsOpen(q *apiReq) apiResult {
	vr, blocks, msgs := parseView(q.raw("view"), "modal")
	if len(msgs) > 0 {
		return failWith("invalid_arguments", msgs)
	}
	t, code := s.useTriggerLocked(q.str("trigger_id"))
	if code != "" {
		return fail(code)
	}
	v := s.storeModalLocked(vr, blocks, t.user, "")
	s.modals[t.user] = []string{v.ID}
	return ok(obj{"view": v.render(nil)})
}

func (s *Server) storeModalLocked(vr *viewReq, blocks json.RawMessage, user, prev string) *storedView {
	v := &storedView{ID: s.newIDLocked("V"), Type: vr.Type, Hash: s.newHashLocked(),
		CallbackID: vr.CallbackID, PrivateMetadata: vr.PrivateMetadata, ExternalID: vr.ExternalID,
		Title: vr.Title, Close: vr.Close, Submit: vr.Submit, Blocks: blocks,
		ClearOnClose: vr.ClearOnClose, NotifyOnClose: vr.NotifyOnClose, User: user, Open: true,
		PreviousViewID: prev}
	v.RootViewID = v.ID
	if prev != "" {
		v.RootViewID = s.views[prev].RootViewID
	}
	s.views[v.ID] = v
	return v
}

func (s *Server) viewsPush(q *apiReq) apiResult {
	vr, blocks, msgs := parseView(q.raw("view"), "modal")
	if len(msgs) > 0 {
		return failWith("invalid_arguments", msgs)
	}
	t, code := s.useTriggerLocked(q.str("trigger_id"))
	if code != "" {
		return fail(code)
	}
	stack := s.modals[t.user]
	if len(stack) == 0 {
		return fail("not_found")
	}
	if len(stack) >= 3 {
		return fail("push_limit_reached")
	}
	v := s.storeModalLocked(vr, blocks, t.user, stack[len(stack)-1])
	s.modals[t.user] = append(stack, v.ID)
	return ok(obj{"view": v.render(nil)})
}

func (s *Server) findViewLocked(viewID, externalID string) *storedView {
	if viewID != "" {
		return s.views[viewID]
	}
	for _, v := range s.views {
		if externalID != "" && v.ExternalID == externalID {
			return v
		}
	}
	return nil
}

func (s *Server) viewsUpdate(q *apiReq) apiResult {
	v := s.findViewLocked(q.str("view_id"), q.str("external_id"))
	if v == nil {
		return fail("not_found")
	}
	vr, blocks, msgs := parseView(q.raw("view"), v.Type)
	if len(msgs) > 0 {
		return failWith("invalid_arguments", msgs)
	}
	if h := q.str("hash"); h != "" && h != v.Hash {
		return fail("hash_conflict")
	}
	s.applyViewLocked(v, vr, blocks)
	return ok(obj{"view": v.render(nil)})
}

func (s *Server) applyViewLocked(v *storedView, vr *viewReq, blocks json.RawMessage) {
	v.Title, v.Close, v.Submit, v.Blocks = vr.Title, vr.Close, vr.Submit, blocks
	v.CallbackID, v.PrivateMetadata = vr.CallbackID, vr.PrivateMetadata
	v.ClearOnClose, v.NotifyOnClose = vr.ClearOnClose, vr.NotifyOnClose
	if vr.ExternalID != "" {
		v.ExternalID = vr.ExternalID
	}
	v.Hash = s.newHashLocked()
}

func (s *Server) viewsPublish(q *apiReq) apiResult {
	user := q.str("user_id")
	if s.users[user] == nil {
		return fail("user_not_found")
	}
	vr, blocks, msgs := parseView(q.raw("view"), "home")
	if len(msgs) > 0 {
		return failWith("invalid_arguments", msgs)
	}
	v := s.views[s.homeViews[user]]
	if v == nil {
		v = &storedView{ID: s.newIDLocked("V"), Type: "home", User: user}
		v.RootViewID = v.ID
		s.views[v.ID] = v
		s.homeViews[user] = v.ID
	} else if h := q.str("hash"); h != "" && h != v.Hash {
		return fail("hash_conflict")
	}
	s.applyViewLocked(v, vr, blocks)
	return ok(obj{"view": v.render(nil)})
}

// HomeView returns the last Home tab published for a user.
func (s *Server) HomeView(userID string) (slack.View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.views[s.homeViews[userID]]
	if v == nil {
		return slack.View{}, false
	}
	return v.slackView(), true
}

// HomeViewBlocks returns the raw blocks of a user's Home tab.
func (s *Server) HomeViewBlocks(userID string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.views[s.homeViews[userID]]
	if v == nil {
		return nil, false
	}
	return append(json.RawMessage(nil), v.Blocks...), true
}

// OpenViews returns the modal stack open for a user, bottom first.
func (s *Server) OpenViews(userID string) []slack.View {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []slack.View
	for _, id := range s.modals[userID] {
		out = append(out, s.views[id].slackView())
	}
	return out
}

// View returns a stored view (modal or Home tab) by ID.
func (s *Server) View(viewID string) (slack.View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.views[viewID]
	if v == nil {
		return slack.View{}, false
	}
	return v.slackView(), true
}
