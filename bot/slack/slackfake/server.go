package slackfake

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Option configures a Server.
type Option func(*config)

type config struct {
	now             func() time.Time
	pingInterval    time.Duration
	ackTimeout      time.Duration
	redeliveries    int
	disconnectGrace time.Duration
	connectWait     time.Duration
	triggerTTL      time.Duration
	chanRate        float64
	chanBurst       int
	botToken        string
	appToken        string
	scopes          map[string]bool // nil: the bot token has every scope
	events          map[string]bool // Events API subscriptions beyond app_home_opened
	logf            func(format string, args ...any)
}

// WithBotScopes limits the bot token to the given OAuth scopes, as an app
// installed from a manifest is: a method whose scope is missing answers
// missing_scope, as Slack does. Without it every scope is granted.
func WithBotScopes(scopes ...string) Option {
	return func(c *config) {
		c.scopes = map[string]bool{}
		for _, s := range scopes {
			c.scopes[s] = true
		}
	}
}

// WithClock sets the clock used for message timestamps, trigger expiry and
// recorded times. Default time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithPingInterval sets how often the fake sends WebSocket pings. slack-go
// treats a connection without a ping for 30 s (OptionPingInterval) as dead
// and reconnects, so this must stay below the client's interval. Zero or
// negative disables pings, which lets a test watch the client give up.
// Default 5 s; a ping is also sent right after hello.
func WithPingInterval(d time.Duration) Option { return func(c *config) { c.pingInterval = d } }

// WithAckTimeout sets how long the fake waits for an ack before it counts an
// envelope as not acked. Default 3 s, as Slack.
func WithAckTimeout(d time.Duration) Option { return func(c *config) { c.ackTimeout = d } }

// WithRedelivery makes the fake resend an events_api envelope that was not
// acked within the ack timeout, up to n more times, each with a new
// envelope_id, retry_attempt incremented and retry_reason "timeout" (the
// payload, and so the event_id, is the same). Slack does not retry
// interactive or slash-command envelopes, so neither does the fake.
func WithRedelivery(n int) Option { return func(c *config) { c.redeliveries = n } }

// WithDisconnectGrace sets how long after a disconnect message the fake
// closes the connection itself if the client has not. Default 2 s.
func WithDisconnectGrace(d time.Duration) Option { return func(c *config) { c.disconnectGrace = d } }

// WithConnectWait sets how long a send helper waits for a Socket Mode
// connection to appear when none is open (bounded also by its context).
// Default 5 s.
func WithConnectWait(d time.Duration) Option { return func(c *config) { c.connectWait = d } }

// WithTriggerTTL sets how long a trigger_id stays valid. Default 3 s, as Slack.
func WithTriggerTTL(d time.Duration) Option { return func(c *config) { c.triggerTTL = d } }

// WithChannelRateLimit makes chat.postMessage answer 429 (Retry-After: 1)
// when a channel gets more than burst posts at once or more than perSecond
// sustained, approximating Slack's "about one message per second per
// channel". Off by default; PostTimes lets a test check pacing without it.
func WithChannelRateLimit(perSecond float64, burst int) Option {
	return func(c *config) { c.chanRate, c.chanBurst = perSecond, burst }
}

// WithTokens replaces the accepted bot and app tokens.
func WithTokens(bot, app string) Option {
	return func(c *config) { c.botToken, c.appToken = bot, app }
}

// WithLogf receives one line per Web API call and Socket Mode frame, e.g. t.Logf.
func WithLogf(logf func(format string, args ...any)) Option { return func(c *config) { c.logf = logf } }

// Server is the fake. Create it with New and Close it when done.
type Server struct {
	cfg  config
	srv  *httptest.Server
	done chan struct{}
	wg   sync.WaitGroup

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change
	closed  bool
	seq     int
	lastTS  int64
	latency time.Duration

	users     map[string]*User
	userOrder []string
	channels  map[string]*channel
	chanOrder []string
	dms       map[string]string // user ID -> DM channel ID
	msgs      []*Message
	calls     []Call
	postTimes map[string][]time.Time
	buckets   map[string]*bucket

	triggers  map[string]*trigger
	views     map[string]*storedView
	homeViews map[string]string   // user ID -> view ID
	modals    map[string][]string // user ID -> open modal stack (view IDs)

	files     map[string]*File
	fileOrder []string

	responseURLs map[string]*responseURL
	rupPosts     []ResponseURLPost

	faults faults

	tickets      map[string]bool
	conns        map[int]*wsConn
	connOrder    []int
	connInfo     map[int]*ConnInfo
	connectCount int
	rr           int
	envelopes    []Envelope
	acks         []Ack
	inflight     map[string]*delivery
	timers       []*time.Timer
}

type channel struct {
	id       string
	name     string
	isIM     bool
	user     string // IM peer
	private  bool
	archived bool
	members  []string // nil: membership not modelled
	created  time.Time
}

type trigger struct {
	user    string
	channel string
	issued  time.Time
	used    bool
}

type bucket struct {
	tokens float64
	last   time.Time
}

// New starts a fake server. The bot user (BotUserID) exists from the start.
func New(opts ...Option) *Server {
	cfg := config{
		now:             time.Now,
		pingInterval:    5 * time.Second,
		ackTimeout:      3 * time.Second,
		disconnectGrace: 2 * time.Second,
		connectWait:     5 * time.Second,
		triggerTTL:      3 * time.Second,
		botToken:        BotToken,
		appToken:        AppToken,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{
		cfg:          cfg,
		done:         make(chan struct{}),
		changed:      make(chan struct{}),
		users:        map[string]*User{},
		channels:     map[string]*channel{},
		dms:          map[string]string{},
		postTimes:    map[string][]time.Time{},
		buckets:      map[string]*bucket{},
		triggers:     map[string]*trigger{},
		views:        map[string]*storedView{},
		homeViews:    map[string]string{},
		modals:       map[string][]string{},
		files:        map[string]*File{},
		responseURLs: map[string]*responseURL{},
		tickets:      map[string]bool{},
		conns:        map[int]*wsConn{},
		connInfo:     map[int]*ConnInfo{},
		inflight:     map[string]*delivery{},
	}
	s.faults.rateLimits = map[string]*rateRule{}
	s.faults.errs = map[string][]*errRule{}
	s.addUserLocked(User{ID: BotUserID, Name: BotName, RealName: "Slabot", IsBot: true})

	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.handleAPI)
	mux.HandleFunc("/link/", s.handleWS)
	mux.HandleFunc("/upload/", s.handleUpload)
	mux.HandleFunc("/response/", s.handleResponseURL)
	mux.HandleFunc("/files/", s.handleFileDownload)
	s.srv = httptest.NewServer(mux)
	return s
}

// Close closes all Socket Mode connections abruptly and stops the server.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	conns := make([]*wsConn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	for _, t := range s.timers {
		t.Stop()
	}
	s.notifyLocked()
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	s.srv.Close()
	s.wg.Wait()
}

// URL is the server's base URL (http://127.0.0.1:port).
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the Web API base for slack.OptionAPIURL; it ends with "/".
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

func (s *Server) now() time.Time { return s.cfg.now() }

func (s *Server) logf(format string, args ...any) {
	if s.cfg.logf != nil {
		s.cfg.logf("slackfake: "+format, args...)
	}
}

// notifyLocked wakes every waiter; callers hold s.mu.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitUntil takes a snapshot under the lock each time the state changes and
// checks it with cond outside the lock, so that cond may call the server
// (a test's predicate often does), until cond reports true, ctx ends or the
// server closes.
func waitUntil[T any](ctx context.Context, s *Server, snapshot func() T, cond func(T) bool) error {
	for {
		s.mu.Lock()
		snap := snapshot()
		ch, closed := s.changed, s.closed
		s.mu.Unlock()
		if cond(snap) {
			return nil
		}
		if closed {
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// waitFor polls cond under the lock each time the state changes, until it
// reports true, ctx ends or the server closes. cond must not call the
// server's exported methods.
func (s *Server) waitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		if cond() {
			s.mu.Unlock()
			return nil
		}
		ch, closed := s.changed, s.closed
		s.mu.Unlock()
		if closed {
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// newIDLocked returns a Slack-looking ID with the given prefix.
func (s *Server) newIDLocked(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s0%08X", prefix, s.seq)
}

// nextTSLocked returns a message timestamp that is strictly increasing
// across the whole server, so it is unique per channel as Slack's are.
func (s *Server) nextTSLocked() string {
	us := s.now().UnixMicro()
	if us <= s.lastTS {
		us = s.lastTS + 1
	}
	s.lastTS = us
	return formatTS(us)
}

func formatTS(us int64) string { return fmt.Sprintf("%d.%06d", us/1e6, us%1e6) }

// parseTS turns "1700000000.000123" (or fewer digits) into microseconds.
func parseTS(ts string) (int64, bool) {
	if ts == "" {
		return 0, false
	}
	sec, frac, _ := strings.Cut(ts, ".")
	// ParseInt, not fmt.Sscan: the fraction has leading zeros, which
	// Sscan would read as octal.
	s, err := strconv.ParseInt(sec, 10, 64)
	if err != nil {
		return 0, false
	}
	var f int64
	if frac != "" {
		if f, err = strconv.ParseInt((frac + "000000")[:6], 10, 64); err != nil {
			return 0, false
		}
	}
	return s*1e6 + f, true
}

// ---------------------------------------------------------------------------
// Directory: users and channels.

// AddUser adds or replaces a user.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUserLocked(u)
	s.notifyLocked()
}

func (s *Server) addUserLocked(u User) {
	if u.TZ == "" {
		u.TZ = "UTC"
	}
	if _, ok := s.users[u.ID]; !ok {
		s.userOrder = append(s.userOrder, u.ID)
	}
	cp := u
	s.users[u.ID] = &cp
}

// DeactivateUser marks a user deleted. As on Slack, users.info and
// users.list still return them (deleted: true), users.lookupByEmail answers
// users_not_found, and posting to them still succeeds.
func (s *Server) DeactivateUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u, ok := s.users[id]; ok {
		u.Deleted = true
	}
	s.notifyLocked()
}

// GetUser returns a user as currently stored.
func (s *Server) GetUser(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return User{}, false
	}
	return *u, true
}

// AddChannel adds a public channel. name is without "#".
func (s *Server) AddChannel(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addChannelLocked(&channel{id: id, name: normName(name), created: s.now()})
	s.notifyLocked()
}

// AddPrivateChannel adds a private channel the bot is a member of.
func (s *Server) AddPrivateChannel(id, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addChannelLocked(&channel{id: id, name: normName(name), private: true, created: s.now()})
	s.notifyLocked()
}

// ArchiveChannel archives a channel; posting to it then fails with is_archived.
func (s *Server) ArchiveChannel(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.channels[id]; ok {
		c.archived = true
	}
	s.notifyLocked()
}

// SetChannelMembers sets a channel's members. Once set,
// chat.postEphemeral to a non-member fails with user_not_in_channel.
func (s *Server) SetChannelMembers(id string, userIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.channels[id]; ok {
		c.members = append([]string{}, userIDs...)
	}
	s.notifyLocked()
}

func (s *Server) addChannelLocked(c *channel) {
	if _, ok := s.channels[c.id]; !ok {
		s.chanOrder = append(s.chanOrder, c.id)
	}
	s.channels[c.id] = c
}

func normName(n string) string { return strings.ToLower(strings.TrimPrefix(n, "#")) }

// DMChannel returns the DM channel ID between the bot and a user, creating
// it as conversations.open would. The ID is stable for the server's life.
func (s *Server) DMChannel(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.dmLocked(userID)
	s.notifyLocked()
	return id
}

func (s *Server) dmLocked(userID string) string {
	if id, ok := s.dms[userID]; ok {
		return id
	}
	id := s.newIDLocked("D")
	s.dms[userID] = id
	s.addChannelLocked(&channel{id: id, isIM: true, user: userID, created: s.now(),
		members: []string{userID, BotUserID}})
	return id
}

// resolveChannelLocked maps what a client may pass as "channel" to a
// channel: an ID, "#name", a bare name, or a user ID (the DM, as Slack does
// for chat.postMessage). It returns a Slack error code on failure.
func (s *Server) resolveChannelLocked(arg string) (*channel, string) {
	if arg == "" {
		return nil, "channel_not_found"
	}
	if c, ok := s.channels[arg]; ok {
		return c, ""
	}
	if (arg[0] == 'U' || arg[0] == 'W') && s.users[arg] != nil {
		return s.channels[s.dmLocked(arg)], ""
	}
	name := normName(arg)
	for _, id := range s.chanOrder {
		if c := s.channels[id]; !c.isIM && c.name == name {
			return c, ""
		}
	}
	return nil, "channel_not_found"
}

// channelID resolves an ID/name/user for the query helpers.
func (s *Server) channelIDLocked(arg string) string {
	if c, _ := s.resolveChannelLocked(arg); c != nil {
		return c.id
	}
	return arg
}

// ---------------------------------------------------------------------------
// Query helpers for tests.

// Calls returns the recorded Web API calls to method, oldest first; "" returns all.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, cloneCall(c))
		}
	}
	return out
}

func cloneCall(c Call) Call {
	c.Params = url.Values(cloneValues(c.Params))
	return c
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// WaitForCall returns the first recorded call to method (past or future)
// for which pred is true (nil matches any), or ctx's error.
func (s *Server) WaitForCall(ctx context.Context, method string, pred func(Call) bool) (Call, error) {
	var found Call
	err := waitUntil(ctx, s, func() []Call {
		var out []Call
		for _, c := range s.calls {
			if method == "" || c.Method == method {
				out = append(out, cloneCall(c))
			}
		}
		return out
	}, func(calls []Call) bool {
		for _, c := range calls {
			if pred == nil || pred(c) {
				found = c
				return true
			}
		}
		return false
	})
	return found, err
}

// Messages returns the messages in a channel (ID, name or user ID for the
// DM), oldest first, including ephemeral and deleted ones (see the flags).
func (s *Server) Messages(ch string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.channelIDLocked(ch)
	var out []Message
	for _, m := range s.msgs {
		if m.Channel == id {
			out = append(out, cloneMsg(m))
		}
	}
	return out
}

// AllMessages returns every stored message, oldest first.
func (s *Server) AllMessages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.msgs))
	for _, m := range s.msgs {
		out = append(out, cloneMsg(m))
	}
	return out
}

// GetMessage returns the current version of one message.
func (s *Server) GetMessage(ch, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.findMsgLocked(s.channelIDLocked(ch), ts)
	if m == nil {
		return Message{}, false
	}
	return cloneMsg(m), true
}

func (s *Server) findMsgLocked(ch, ts string) *Message {
	for _, m := range s.msgs {
		if m.Channel == ch && m.TS == ts {
			return m
		}
	}
	return nil
}

func cloneMsg(m *Message) Message {
	c := *m
	c.Blocks = append(json.RawMessage(nil), m.Blocks...)
	c.Attachments = append(json.RawMessage(nil), m.Attachments...)
	c.Files = append([]string(nil), m.Files...)
	c.Edits = append([]Edit(nil), m.Edits...)
	if m.Metadata != nil {
		md := *m.Metadata
		c.Metadata = &md
	}
	return c
}

// WaitForMessage returns the first stored message (in post order, in any
// channel, past or future, current version) for which pred is true.
func (s *Server) WaitForMessage(ctx context.Context, pred func(Message) bool) (Message, error) {
	var found Message
	err := waitUntil(ctx, s, func() []Message {
		out := make([]Message, 0, len(s.msgs))
		for _, m := range s.msgs {
			out = append(out, cloneMsg(m))
		}
		return out
	}, func(msgs []Message) bool {
		for _, m := range msgs {
			if pred(m) {
				found = m
				return true
			}
		}
		return false
	})
	return found, err
}

// PostTimes returns when chat.postMessage succeeded for a channel (ID, name
// or user ID for the DM), oldest first.
func (s *Server) PostTimes(ch string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.postTimes[s.channelIDLocked(ch)]...)
}

// MaxPostsInWindow returns the largest number of chat.postMessage calls to
// the channel that fell within any window of length w; a pacing test
// asserts it stays at or below its budget.
func (s *Server) MaxPostsInWindow(ch string, w time.Duration) int {
	times := s.PostTimes(ch)
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	best, lo := 0, 0
	for hi := range times {
		for times[hi].Sub(times[lo]) >= w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// Files returns every upload, in creation order.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]File, 0, len(s.fileOrder))
	for _, id := range s.fileOrder {
		f := *s.files[id]
		f.Content = append([]byte(nil), f.Content...)
		f.Channels = append([]string(nil), f.Channels...)
		out = append(out, f)
	}
	return out
}

// ResponseURLPosts returns every POST to a response_url, oldest first.
func (s *Server) ResponseURLPosts() []ResponseURLPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ResponseURLPost(nil), s.rupPosts...)
}

// ---------------------------------------------------------------------------
// Fault injection.

type faults struct {
	rateLimits map[string]*rateRule
	ratio      float64
	ratioAfter time.Duration
	rng        *rand.Rand
	errs       map[string][]*errRule
	// serverErr* answer a share of calls with an HTTP error status.
	serverErrRatio  float64
	serverErrStatus int
	serverErrRng    *rand.Rand
}

type rateRule struct {
	n          int
	retryAfter time.Duration
}

type errRule struct {
	code string
	n    int // <0: forever
}

// InjectRateLimit makes the next n calls to method answer HTTP 429 with a
// Retry-After header. Slack sends whole seconds, so retryAfter is rounded up
// to a second; zero sends "Retry-After: 0", which slack-go turns into a
// RateLimitedError with RetryAfter 0 (handy for fast tests).
func (s *Server) InjectRateLimit(method string, n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.rateLimits[method] = &rateRule{n: n, retryAfter: retryAfter}
}

// InjectRateLimitRatio makes a share (0..1) of all Web API calls answer 429,
// chosen by a PRNG seeded with seed so runs repeat. apps.connections.open is
// exempt so Socket Mode keeps working; ratio 0 turns it off.
func (s *Server) InjectRateLimitRatio(ratio float64, retryAfter time.Duration, seed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.ratio = ratio
	s.faults.ratioAfter = retryAfter
	s.faults.rng = rand.New(rand.NewSource(seed))
}

// InjectServerErrorRatio makes a share (0..1) of all Web API calls answer
// with HTTP status (500 when 0), as Slack does in an outage: the method does not
// run, and slack-go returns a StatusCodeError. Calls are chosen by a PRNG
// seeded with seed so runs repeat. apps.connections.open is exempt, as with
// InjectRateLimitRatio; ratio 0 turns it off. The draw comes after
// InjectRateLimitRatio's, so with both set a share r of the calls that
// escaped a 429 get the error: 15% 429s and 30% of calls failing in all
// take InjectRateLimitRatio(0.15, …) and InjectServerErrorRatio(0.15/0.85, …).
func (s *Server) InjectServerErrorRatio(ratio float64, status int, seed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		status = http.StatusInternalServerError
	}
	s.faults.serverErrRatio = ratio
	s.faults.serverErrStatus = status
	s.faults.serverErrRng = rand.New(rand.NewSource(seed))
}

// serverErrorLocked decides whether this call gets an HTTP error status.
func (s *Server) serverErrorLocked(method string) (int, bool) {
	if s.faults.serverErrRatio > 0 && method != "apps.connections.open" && s.faults.serverErrRng.Float64() < s.faults.serverErrRatio {
		return s.faults.serverErrStatus, true
	}
	return 0, false
}

// InjectError makes the next n calls to method answer
// {"ok":false,"error":slackError} (HTTP 200, as Slack does). n < 0 means
// every call until ClearFaults. Rules for one method queue up in order.
func (s *Server) InjectError(method, slackError string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.errs[method] = append(s.faults.errs[method], &errRule{code: slackError, n: n})
}

// SetLatency delays every Web API answer by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// ClearFaults removes all injected rate limits, server errors, errors and latency.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = faults{rateLimits: map[string]*rateRule{}, errs: map[string][]*errRule{}}
	s.latency = 0
}

// rateLimitLocked decides whether this call gets a 429.
func (s *Server) rateLimitLocked(method string) (time.Duration, bool) {
	if r := s.faults.rateLimits[method]; r != nil && r.n > 0 {
		r.n--
		return r.retryAfter, true
	}
	if s.faults.ratio > 0 && method != "apps.connections.open" && s.faults.rng.Float64() < s.faults.ratio {
		return s.faults.ratioAfter, true
	}
	return 0, false
}

func (s *Server) injectedErrorLocked(method string) string {
	rules := s.faults.errs[method]
	for len(rules) > 0 && rules[0].n == 0 {
		rules = rules[1:]
	}
	s.faults.errs[method] = rules
	if len(rules) == 0 {
		return ""
	}
	if rules[0].n > 0 {
		rules[0].n--
	}
	return rules[0].code
}

// channelBucketLocked applies WithChannelRateLimit to one post.
func (s *Server) channelBucketLocked(ch string) bool {
	if s.cfg.chanRate <= 0 {
		return true
	}
	now := s.now()
	b := s.buckets[ch]
	if b == nil {
		b = &bucket{tokens: float64(max(s.cfg.chanBurst, 1)), last: now}
		s.buckets[ch] = b
	}
	b.tokens = min(float64(max(s.cfg.chanBurst, 1)), b.tokens+now.Sub(b.last).Seconds()*s.cfg.chanRate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
