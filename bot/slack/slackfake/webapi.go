package slackfake

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

type obj = map[string]any

// apiReq is a Web API request with form and JSON bodies folded together:
// slack-go posts most methods form-encoded (token in the form) and views.*
// and apps.connections.open as JSON (token in the Authorization header).
type apiReq struct {
	method string
	token  string
	form   url.Values
	body   json.RawMessage
	fields map[string]json.RawMessage
}

func (q *apiReq) has(k string) bool {
	if _, ok := q.fields[k]; ok {
		return true
	}
	_, ok := q.form[k]
	return ok
}

func (q *apiReq) str(k string) string {
	if v, ok := q.fields[k]; ok {
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
		if string(v) == "null" {
			return ""
		}
		return string(v)
	}
	return q.form.Get(k)
}

// raw returns a JSON-valued argument. Form clients send JSON as a string
// (blocks=[...]); JSON clients send the value itself; Slack takes both.
func (q *apiReq) raw(k string) json.RawMessage {
	if v, ok := q.fields[k]; ok {
		var s string
		if json.Unmarshal(v, &s) == nil {
			if json.Valid([]byte(s)) {
				return json.RawMessage(s)
			}
			return nil
		}
		if string(v) == "null" {
			return nil
		}
		return v
	}
	if s := q.form.Get(k); s != "" && json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	return nil
}

func (q *apiReq) boolean(k string) bool {
	v := q.str(k)
	return v == "1" || v == "true"
}

func (q *apiReq) integer(k string, def int) int {
	if n, err := strconv.Atoi(q.str(k)); err == nil {
		return n
	}
	return def
}

func (q *apiReq) params() url.Values {
	p := cloneValues(q.form)
	for k, v := range q.fields {
		p.Set(k, q.strOrRaw(k, v))
	}
	p.Del("token")
	return p
}

func (q *apiReq) strOrRaw(k string, v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

func parseAPIRequest(r *http.Request) (*apiReq, error) {
	q := &apiReq{method: strings.TrimPrefix(r.URL.Path, "/api/")}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
		if err != nil {
			return nil, err
		}
		q.body = body
		q.form = r.URL.Query()
		if len(strings.TrimSpace(string(body))) > 0 && string(body) != "null" {
			if err := json.Unmarshal(body, &q.fields); err != nil {
				return nil, err
			}
		}
	} else {
		if err := r.ParseForm(); err != nil {
			return nil, err
		}
		q.form = r.Form
	}
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		q.token = strings.TrimPrefix(h, "Bearer ")
	} else {
		q.token = q.str("token")
	}
	return q, nil
}

// apiResult is what a method handler produces: extra fields for the
// response, or a Slack error code (with optional extra fields such as
// response_metadata.messages).
type apiResult struct {
	fields obj
	err    string
}

func ok(fields obj) apiResult    { return apiResult{fields: fields} }
func fail(code string) apiResult { return apiResult{err: code} }
func failWith(code string, msgs []string) apiResult {
	return apiResult{err: code, fields: obj{"response_metadata": obj{"messages": msgs}}}
}

type methodFunc func(s *Server, q *apiReq) apiResult

var methods map[string]methodFunc

// appTokenMethods take the app-level token instead of the bot token.
var appTokenMethods = map[string]bool{"apps.connections.open": true}

func init() {
	methods = map[string]methodFunc{
		"auth.test":                    (*Server).authTest,
		"apps.connections.open":        (*Server).connectionsOpen,
		"chat.postMessage":             (*Server).chatPostMessage,
		"chat.update":                  (*Server).chatUpdate,
		"chat.postEphemeral":           (*Server).chatPostEphemeral,
		"chat.delete":                  (*Server).chatDelete,
		"conversations.open":           (*Server).conversationsOpen,
		"conversations.history":        (*Server).conversationsHistory,
		"conversations.replies":        (*Server).conversationsReplies,
		"conversations.info":           (*Server).conversationsInfo,
		"conversations.list":           (*Server).conversationsList,
		"users.lookupByEmail":          (*Server).usersLookupByEmail,
		"users.info":                   (*Server).usersInfo,
		"users.list":                   (*Server).usersList,
		"views.open":                   (*Server).viewsOpen,
		"views.push":                   (*Server).viewsPush,
		"views.update":                 (*Server).viewsUpdate,
		"views.publish":                (*Server).viewsPublish,
		"files.getUploadURLExternal":   (*Server).filesGetUploadURL,
		"files.completeUploadExternal": (*Server).filesComplete,
	}
}

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	start := s.now()
	q, err := parseAPIRequest(r)
	if err != nil {
		// Slack answers malformed bodies with invalid_form_data / invalid_json.
		writeJSON(w, http.StatusOK, obj{"ok": false, "error": "invalid_form_data"})
		return
	}

	s.mu.Lock()
	latency := s.latency
	s.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.done:
			t.Stop()
		}
	}

	s.mu.Lock()
	status, resp, retryAfter := s.dispatchLocked(q)
	body, _ := json.Marshal(resp)
	s.calls = append(s.calls, Call{
		Method:   q.method,
		Params:   q.params(),
		JSON:     q.body,
		At:       start,
		Status:   status,
		Error:    errorOf(resp),
		Response: body,
	})
	s.notifyLocked()
	s.mu.Unlock()

	s.logf("%s -> %d %s", q.method, status, body)
	if status == http.StatusTooManyRequests {
		// Slack sends whole seconds; round up so a test never sees a
		// shorter wait than it asked for.
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retryAfter.Seconds()))))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func errorOf(resp obj) string {
	if e, ok := resp["error"].(string); ok {
		return e
	}
	return ""
}

// dispatchLocked runs checks in the order Slack applies them as far as it
// is visible from outside: method, auth, rate limit, then the method.
func (s *Server) dispatchLocked(q *apiReq) (int, obj, time.Duration) {
	fn, known := methods[q.method]
	if !known {
		return http.StatusOK, obj{"ok": false, "error": "unknown_method"}, 0
	}
	if code := s.checkAuth(q); code != "" {
		return http.StatusOK, obj{"ok": false, "error": code}, 0
	}
	if need := s.missingScopeLocked(q); need != "" {
		return http.StatusOK, obj{"ok": false, "error": "missing_scope", "needed": need}, 0
	}
	if ra, limited := s.rateLimitLocked(q.method); limited {
		return http.StatusTooManyRequests, obj{"ok": false, "error": "ratelimited"}, ra
	}
	if q.method == "chat.postMessage" && s.cfg.chanRate > 0 {
		if c, _ := s.resolveChannelLocked(q.str("channel")); c != nil && !s.channelBucketLocked(c.id) {
			return http.StatusTooManyRequests, obj{"ok": false, "error": "ratelimited"}, time.Second
		}
	}
	if status, failed := s.serverErrorLocked(q.method); failed {
		return status, obj{"ok": false, "error": "fatal_error"}, 0
	}
	if code := s.injectedErrorLocked(q.method); code != "" {
		return http.StatusOK, obj{"ok": false, "error": code}, 0
	}
	res := fn(s, q)
	out := obj{"ok": res.err == ""}
	if res.err != "" {
		out["error"] = res.err
	}
	for k, v := range res.fields {
		out[k] = v
	}
	return http.StatusOK, out, 0
}

func (s *Server) checkAuth(q *apiReq) string {
	if q.token == "" {
		return "not_authed"
	}
	want := s.cfg.botToken
	if appTokenMethods[q.method] {
		want = s.cfg.appToken
	}
	if q.token == want {
		return ""
	}
	// A token of the other kind is valid but not allowed here, which Slack
	// reports differently from a bad token.
	if q.token == s.cfg.botToken || q.token == s.cfg.appToken {
		return "not_allowed_token_type"
	}
	return "invalid_auth"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ---------------------------------------------------------------------------
// auth / apps

func (s *Server) authTest(q *apiReq) apiResult {
	return ok(obj{
		"url":                   "https://" + TeamDomain + ".slack.com/",
		"team":                  TeamName,
		"user":                  BotName,
		"team_id":               TeamID,
		"user_id":               BotUserID,
		"bot_id":                BotID,
		"is_enterprise_install": false,
	})
}

func (s *Server) connectionsOpen(q *apiReq) apiResult {
	ticket := s.newIDLocked("tk")
	s.tickets[ticket] = true
	host := strings.TrimPrefix(s.srv.URL, "http://")
	return ok(obj{"url": "ws://" + host + "/link/?ticket=" + ticket + "&app_id=" + AppID})
}

// ---------------------------------------------------------------------------
// chat.*

func (s *Server) chatPostMessage(q *apiReq) apiResult {
	c, code := s.resolveChannelLocked(q.str("channel"))
	if code != "" {
		return fail(code)
	}
	if c.archived {
		return fail("is_archived")
	}
	text, blocks, atts := q.str("text"), q.raw("blocks"), q.raw("attachments")
	if text == "" && isEmptyArray(blocks) && isEmptyArray(atts) {
		return fail("no_text")
	}
	blocks, msgs := normalizeBlocks(blocks, maxMessageBlocks)
	if len(msgs) > 0 {
		return failWith("invalid_blocks", msgs)
	}
	md, code := parseMetadata(q.raw("metadata"), q.str("metadata"))
	if code != "" {
		return fail(code)
	}
	now := s.now()
	m := &Message{
		Channel: c.id, TS: s.nextTSLocked(), ThreadTS: q.str("thread_ts"),
		User: BotUserID, BotID: BotID, Text: text, Blocks: blocks, Attachments: atts,
		Metadata: md, PostedAt: now, UpdatedAt: now, Via: "chat.postMessage",
	}
	s.msgs = append(s.msgs, m)
	s.postTimes[c.id] = append(s.postTimes[c.id], now)
	if c.isIM {
		s.echoBotMessageLocked(c, m)
	}
	return ok(obj{"channel": c.id, "ts": m.TS, "message": s.renderMsgLocked(m, true)})
}

func isEmptyArray(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null" || s == "[]"
}

// parseMetadata reads chat.postMessage's metadata argument. slack-go's
// response_url sender always includes an empty one, which means none.
func parseMetadata(raw json.RawMessage, str string) (*slack.SlackMetadata, string) {
	if raw == nil {
		if str != "" {
			return nil, "invalid_metadata_format"
		}
		return nil, ""
	}
	var md slack.SlackMetadata
	if err := json.Unmarshal(raw, &md); err != nil {
		return nil, "invalid_metadata_format"
	}
	if md.EventType == "" && len(md.EventPayload) == 0 {
		return nil, ""
	}
	if md.EventType == "" {
		return nil, "invalid_metadata_schema"
	}
	return &md, ""
}

func (s *Server) chatUpdate(q *apiReq) apiResult {
	// Unlike chat.postMessage this takes only a channel ID (the one
	// chat.postMessage returned), so a bot that passes a user ID or name
	// fails here as on Slack.
	c := s.channels[q.str("channel")]
	if c == nil {
		return fail("channel_not_found")
	}
	m := s.findMsgLocked(c.id, q.str("ts"))
	if m == nil || m.Deleted || m.Ephemeral {
		return fail("message_not_found")
	}
	if m.User != BotUserID {
		return fail("cant_update_message")
	}
	var blocks json.RawMessage
	if q.has("blocks") {
		var msgs []string
		if blocks, msgs = normalizeBlocks(q.raw("blocks"), maxMessageBlocks); len(msgs) > 0 {
			return failWith("invalid_blocks", msgs)
		}
	}
	var md *slack.SlackMetadata
	if q.has("metadata") {
		var code string
		if md, code = parseMetadata(q.raw("metadata"), q.str("metadata")); code != "" {
			return fail(code)
		}
	}
	// Fields left out keep their old value, as chat.update documents.
	s.editMsgLocked(m, "chat.update", func() {
		if q.has("text") {
			m.Text = q.str("text")
		}
		if q.has("blocks") {
			m.Blocks = blocks
		}
		if q.has("attachments") {
			m.Attachments = q.raw("attachments")
		}
		if md != nil {
			m.Metadata = md
		}
	})
	return ok(obj{"channel": c.id, "ts": m.TS, "text": m.Text, "message": s.renderMsgLocked(m, true)})
}

func (s *Server) editMsgLocked(m *Message, via string, apply func()) {
	m.Edits = append(m.Edits, Edit{ReplacedAt: s.now(), ReplacedBy: via, Text: m.Text, Blocks: m.Blocks})
	apply()
	m.Updates++
	m.UpdatedAt = s.now()
}

func (s *Server) chatPostEphemeral(q *apiReq) apiResult {
	c, code := s.resolveChannelLocked(q.str("channel"))
	if code != "" {
		return fail(code)
	}
	user := q.str("user")
	if s.users[user] == nil {
		return fail("user_not_found")
	}
	if c.members != nil && !contains(c.members, user) {
		return fail("user_not_in_channel")
	}
	text, blocks, atts := q.str("text"), q.raw("blocks"), q.raw("attachments")
	if text == "" && isEmptyArray(blocks) && isEmptyArray(atts) {
		return fail("no_text")
	}
	blocks, msgs := normalizeBlocks(blocks, maxMessageBlocks)
	if len(msgs) > 0 {
		return failWith("invalid_blocks", msgs)
	}
	m := s.addEphemeralLocked(c.id, user, text, blocks, "chat.postEphemeral")
	m.Attachments = atts
	m.ThreadTS = q.str("thread_ts")
	return ok(obj{"message_ts": m.TS})
}

func (s *Server) addEphemeralLocked(ch, user, text string, blocks json.RawMessage, via string) *Message {
	now := s.now()
	m := &Message{Channel: ch, TS: s.nextTSLocked(), User: BotUserID, BotID: BotID, Text: text,
		Blocks: blocks, Ephemeral: true, To: user, PostedAt: now, UpdatedAt: now, Via: via}
	s.msgs = append(s.msgs, m)
	return m
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Server) chatDelete(q *apiReq) apiResult {
	// Unlike chat.postMessage this takes only a channel ID (the one
	// chat.postMessage returned), so a bot that passes a user ID or name
	// fails here as on Slack.
	c := s.channels[q.str("channel")]
	if c == nil {
		return fail("channel_not_found")
	}
	m := s.findMsgLocked(c.id, q.str("ts"))
	if m == nil || m.Deleted || m.Ephemeral {
		return fail("message_not_found")
	}
	if m.User != BotUserID {
		return fail("cant_delete_message")
	}
	m.Deleted = true
	m.UpdatedAt = s.now()
	return ok(obj{"channel": c.id, "ts": m.TS})
}

// renderMsgLocked renders a message the way history and chat.* return it.
func (s *Server) renderMsgLocked(m *Message, withMetadata bool) obj {
	o := obj{"type": "message", "ts": m.TS, "text": m.Text, "user": m.User, "team": TeamID}
	if m.BotID != "" {
		o["bot_id"] = m.BotID
		o["app_id"] = AppID
	}
	if m.ThreadTS != "" {
		o["thread_ts"] = m.ThreadTS
	}
	if len(m.Blocks) > 0 {
		o["blocks"] = m.Blocks
	}
	if len(m.Attachments) > 0 {
		o["attachments"] = m.Attachments
	}
	if m.Updates > 0 {
		o["edited"] = obj{"user": m.User, "ts": formatTS(m.UpdatedAt.UnixMicro())}
	}
	if withMetadata && m.Metadata != nil {
		o["metadata"] = obj{"event_type": m.Metadata.EventType, "event_payload": m.Metadata.EventPayload}
	}
	if len(m.Files) > 0 {
		var fs []obj
		for _, id := range m.Files {
			if f := s.files[id]; f != nil {
				fs = append(fs, s.renderFileLocked(f))
			}
		}
		o["files"] = fs
		o["upload"] = true
		o["display_as_bot"] = false
	}
	return o
}

// ---------------------------------------------------------------------------
// conversations.*

func (s *Server) conversationsOpen(q *apiReq) apiResult {
	var c *channel
	already := false
	switch {
	case q.str("channel") != "":
		c = s.channels[q.str("channel")]
		if c == nil || !c.isIM {
			return fail("channel_not_found")
		}
		already = true
	case q.str("users") != "":
		users := strings.Split(q.str("users"), ",")
		if len(users) != 1 {
			// Group DMs are not modelled; say so rather than fake one.
			return fail("not_supported_by_slackfake")
		}
		u := strings.TrimSpace(users[0])
		if s.users[u] == nil {
			return fail("user_not_found")
		}
		_, already = s.dms[u]
		c = s.channels[s.dmLocked(u)]
	default:
		return fail("users_list_not_supplied")
	}
	ch := obj{"id": c.id}
	if q.boolean("return_im") {
		ch = s.renderChannelLocked(c)
	}
	return ok(obj{"channel": ch, "no_op": already, "already_open": already})
}

func (s *Server) renderChannelLocked(c *channel) obj {
	o := obj{"id": c.id, "created": c.created.Unix(), "is_archived": c.archived,
		"is_org_shared": false, "is_shared": false, "context_team_id": TeamID}
	if c.isIM {
		o["is_im"] = true
		o["user"] = c.user
		o["is_open"] = true
		if u := s.users[c.user]; u != nil && u.Deleted {
			o["is_user_deleted"] = true
		}
		return o
	}
	o["name"] = c.name
	o["name_normalized"] = c.name
	o["is_channel"] = !c.private
	o["is_group"] = false
	o["is_private"] = c.private
	o["is_member"] = true
	o["is_general"] = false
	o["creator"] = ""
	o["topic"] = obj{"value": "", "creator": "", "last_set": 0}
	o["purpose"] = obj{"value": "", "creator": "", "last_set": 0}
	if c.members != nil {
		o["num_members"] = len(c.members)
	}
	return o
}

func (s *Server) conversationsInfo(q *apiReq) apiResult {
	c := s.channels[q.str("channel")]
	if c == nil {
		return fail("channel_not_found")
	}
	return ok(obj{"channel": s.renderChannelLocked(c)})
}

func (s *Server) conversationsList(q *apiReq) apiResult {
	types := map[string]bool{}
	for _, t := range strings.Split(q.str("types"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			types[t] = true
		}
	}
	if len(types) == 0 {
		types["public_channel"] = true
	}
	var all []obj
	for _, id := range s.chanOrder {
		c := s.channels[id]
		kind := "public_channel"
		switch {
		case c.isIM:
			kind = "im"
		case c.private:
			kind = "private_channel"
		}
		if !types[kind] || (c.archived && q.boolean("exclude_archived")) {
			continue
		}
		all = append(all, s.renderChannelLocked(c))
	}
	page, next := paginate(all, q.str("cursor"), q.integer("limit", 100))
	return ok(obj{"channels": page, "response_metadata": obj{"next_cursor": next}})
}

// paginate slices a list by an opaque cursor ("offset:N"); next is "" on the
// last page, which is how slack-go's paginators know to stop.
func paginate(all []obj, cursor string, limit int) ([]obj, string) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	off := 0
	if n, err := strconv.Atoi(strings.TrimPrefix(cursor, "offset:")); err == nil && n > 0 {
		off = n
	}
	if off > len(all) {
		off = len(all)
	}
	end := min(off+limit, len(all))
	next := ""
	if end < len(all) {
		next = fmt.Sprintf("offset:%d", end)
	}
	page := all[off:end]
	if page == nil {
		page = []obj{}
	}
	return page, next
}

func (s *Server) conversationsHistory(q *apiReq) apiResult {
	c := s.channels[q.str("channel")]
	if c == nil {
		return fail("channel_not_found")
	}
	limit := q.integer("limit", 100)
	if limit <= 0 || limit > 999 {
		limit = 100
	}
	inclusive := q.boolean("inclusive")
	oldest, hasOldest := parseTS(q.str("oldest"))
	latest, hasLatest := parseTS(q.str("latest"))
	if cur := q.str("cursor"); strings.HasPrefix(cur, "before:") {
		// Our cursor continues strictly below the last ts returned.
		latest, hasLatest = parseTS(strings.TrimPrefix(cur, "before:"))
		inclusive = false
	}
	// Slack returns metadata in history only when asked to.
	withMeta := q.boolean("include_all_metadata")
	var out []obj
	hasMore := false
	for i := len(s.msgs) - 1; i >= 0; i-- {
		m := s.msgs[i]
		if m.Channel != c.id || m.Deleted || m.Ephemeral {
			continue
		}
		// Thread replies live in conversations.replies, not history.
		if m.ThreadTS != "" && m.ThreadTS != m.TS {
			continue
		}
		ts, _ := parseTS(m.TS)
		if hasLatest && (ts > latest || (!inclusive && ts == latest)) {
			continue
		}
		if hasOldest && (ts < oldest || (!inclusive && ts == oldest)) {
			continue
		}
		if len(out) == limit {
			hasMore = true
			break
		}
		out = append(out, s.renderMsgLocked(m, withMeta))
	}
	if out == nil {
		out = []obj{}
	}
	res := obj{"messages": out, "has_more": hasMore, "pin_count": 0}
	next := ""
	if hasMore {
		next = "before:" + out[len(out)-1]["ts"].(string)
	}
	res["response_metadata"] = obj{"next_cursor": next}
	return ok(res)
}

func (s *Server) conversationsReplies(q *apiReq) apiResult {
	c := s.channels[q.str("channel")]
	if c == nil {
		return fail("channel_not_found")
	}
	ts := q.str("ts")
	parent := s.findMsgLocked(c.id, ts)
	if parent == nil || parent.Deleted {
		return fail("thread_not_found")
	}
	withMeta := q.boolean("include_all_metadata")
	out := []obj{s.renderMsgLocked(parent, withMeta)}
	for _, m := range s.msgs {
		if m.Channel == c.id && m.ThreadTS == ts && m.TS != ts && !m.Deleted && !m.Ephemeral {
			out = append(out, s.renderMsgLocked(m, withMeta))
		}
	}
	return ok(obj{"messages": out, "has_more": false, "response_metadata": obj{"next_cursor": ""}})
}

// ---------------------------------------------------------------------------
// users.*

func (s *Server) renderUserLocked(u *User) obj {
	display := u.Name
	return obj{
		"id": u.ID, "team_id": TeamID, "name": u.Name, "deleted": u.Deleted, "color": "9f69e7",
		"real_name": u.RealName, "tz": u.TZ, "tz_label": u.TZ, "tz_offset": u.TZOffset,
		"is_bot": u.IsBot, "is_admin": u.IsAdmin, "is_owner": false, "is_primary_owner": false,
		"is_restricted": false, "is_ultra_restricted": false, "is_app_user": false,
		"is_email_confirmed": u.Email != "", "updated": 1700000000,
		"profile": obj{
			"real_name": u.RealName, "real_name_normalized": u.RealName,
			"display_name": display, "display_name_normalized": display,
			"email": u.Email, "team": TeamID, "avatar_hash": "",
			"image_24": "", "image_32": "", "image_48": "", "image_72": "", "image_192": "", "image_512": "",
		},
	}
}

func (s *Server) usersLookupByEmail(q *apiReq) apiResult {
	email := strings.ToLower(strings.TrimSpace(q.str("email")))
	for _, id := range s.userOrder {
		u := s.users[id]
		// Slack's docs: deactivated users are not found by email.
		if !u.Deleted && u.Email != "" && strings.ToLower(u.Email) == email {
			return ok(obj{"user": s.renderUserLocked(u)})
		}
	}
	return fail("users_not_found")
}

func (s *Server) usersInfo(q *apiReq) apiResult {
	if list := q.str("users"); list != "" {
		var out []obj
		for _, id := range strings.Split(list, ",") {
			if u := s.users[strings.TrimSpace(id)]; u != nil {
				out = append(out, s.renderUserLocked(u))
			}
		}
		if len(out) == 0 {
			return fail("users_not_found")
		}
		return ok(obj{"users": out})
	}
	u := s.users[q.str("user")]
	if u == nil {
		return fail("user_not_found")
	}
	return ok(obj{"user": s.renderUserLocked(u)})
}

func (s *Server) usersList(q *apiReq) apiResult {
	var all []obj
	for _, id := range s.userOrder {
		all = append(all, s.renderUserLocked(s.users[id]))
	}
	page, next := paginate(all, q.str("cursor"), q.integer("limit", 0))
	return ok(obj{"members": page, "cache_ts": s.now().Unix(), "response_metadata": obj{"next_cursor": next}})
}

// ---------------------------------------------------------------------------
// files (v2 upload flow)

func (s *Server) filesGetUploadURL(q *apiReq) apiResult {
	name := q.str("filename")
	length := q.integer("length", 0)
	if name == "" || length <= 0 {
		return fail("invalid_arguments")
	}
	id := s.newIDLocked("F")
	s.files[id] = &File{ID: id, Name: name, Length: length, AltText: q.str("alt_txt"),
		SnippetType: q.str("snippet_type"), CreatedAt: s.now()}
	s.fileOrder = append(s.fileOrder, id)
	return ok(obj{"upload_url": s.srv.URL + "/upload/" + id, "file_id": id})
}

func (s *Server) filesComplete(q *apiReq) apiResult {
	var list []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal(q.raw("files"), &list); err != nil || len(list) == 0 {
		return fail("invalid_arguments")
	}
	var chans []string
	if ch := q.str("channel_id"); ch != "" {
		chans = append(chans, ch)
	}
	for _, ch := range strings.Split(q.str("channels"), ",") {
		if ch = strings.TrimSpace(ch); ch != "" {
			chans = append(chans, ch)
		}
	}
	for _, ch := range chans {
		if s.channels[ch] == nil {
			return fail("channel_not_found")
		}
	}
	for _, it := range list {
		f := s.files[it.ID]
		if f == nil || !f.Uploaded || f.Completed {
			return fail("file_not_found")
		}
	}
	var out []obj
	var ids []string
	for _, it := range list {
		f := s.files[it.ID]
		f.Completed = true
		f.Title = it.Title
		if f.Title == "" {
			f.Title = f.Name
		}
		f.Channels = chans
		f.InitialComment = q.str("initial_comment")
		f.ThreadTS = q.str("thread_ts")
		out = append(out, obj{"id": f.ID, "title": f.Title})
		ids = append(ids, f.ID)
	}
	// Sharing a file posts a message carrying it, with the initial comment
	// as its text, in every channel it was shared to.
	now := s.now()
	for _, ch := range chans {
		s.msgs = append(s.msgs, &Message{Channel: ch, TS: s.nextTSLocked(), ThreadTS: q.str("thread_ts"),
			User: BotUserID, BotID: BotID, Text: q.str("initial_comment"), Files: ids,
			PostedAt: now, UpdatedAt: now, Via: "files.completeUploadExternal"})
	}
	return ok(obj{"files": out})
}

func (s *Server) renderFileLocked(f *File) obj {
	return obj{"id": f.ID, "name": f.Name, "title": f.Title, "size": len(f.Content),
		"created": f.CreatedAt.Unix(), "timestamp": f.CreatedAt.Unix(), "user": BotUserID,
		"mimetype": "application/octet-stream", "filetype": "binary", "pretty_type": "Binary",
		"url_private": s.srv.URL + "/files/" + f.ID, "channels": f.Channels}
}

// handleUpload takes the bytes posted to an upload_url. slack-go sends a
// multipart form with the file in field "file"; a raw body works too.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/upload/")
	var data []byte
	var err error
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		if err = r.ParseMultipartForm(32 << 20); err == nil {
			f, _, ferr := r.FormFile("file")
			if ferr != nil {
				err = ferr
			} else {
				data, err = io.ReadAll(f)
				_ = f.Close()
			}
		}
	} else {
		data, err = io.ReadAll(r.Body)
	}
	if err != nil {
		http.Error(w, "bad upload: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	f := s.files[id]
	if f != nil && !f.Completed {
		f.Content = data
		f.Uploaded = true
	}
	s.notifyLocked()
	s.mu.Unlock()
	if f == nil {
		http.Error(w, "unknown upload", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = fmt.Fprintf(w, "OK - %d", len(data))
}

func (s *Server) handleFileDownload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/files/")
	s.mu.Lock()
	var data []byte
	f := s.files[id]
	if f != nil {
		data = append(data, f.Content...)
	}
	s.mu.Unlock()
	if f == nil {
		http.NotFound(w, r)
		return
	}
	_, _ = w.Write(data)
}

// missingScopeLocked names the bot scope a call needs and the token lacks,
// or "" (Slack's scope table for the methods the fake answers).
func (s *Server) missingScopeLocked(q *apiReq) string {
	if s.cfg.scopes == nil || appTokenMethods[q.method] {
		return ""
	}
	var need []string
	switch q.method {
	case "chat.postMessage", "chat.update", "chat.postEphemeral", "chat.delete":
		need = []string{"chat:write"}
	case "conversations.open":
		need = []string{"im:write"}
	case "conversations.history":
		c, _ := s.resolveChannelLocked(q.str("channel"))
		switch {
		case c != nil && c.isIM:
			need = []string{"im:history"}
		case c != nil && c.private:
			need = []string{"groups:history"}
		default:
			need = []string{"channels:history"}
		}
	case "conversations.list", "conversations.info":
		need = []string{"channels:read"}
		if strings.Contains(q.str("types"), "private_channel") {
			need = append(need, "groups:read")
		}
	case "users.lookupByEmail":
		need = []string{"users:read.email"}
	case "users.info", "users.list":
		need = []string{"users:read"}
	case "files.getUploadURLExternal", "files.completeUploadExternal":
		need = []string{"files:write"}
	}
	for _, n := range need {
		if !s.cfg.scopes[n] {
			return n
		}
	}
	return ""
}
