package teams_test

import (
	"context"
	"encoding/json"
	"github.com/prometheus/client_golang/prometheus"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slabot/slabot/api"
	"github.com/slabot/slabot/bot/teams"
	"github.com/slabot/slabot/bot/teams/teamsfake"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

// This file is the end-to-end harness of the Teams adapter: the real
// teams.App behind an httptest server registered with the Teams fake, a
// real job worker and a real PostgreSQL, as `slabot run` wires them with
// SLABOT_CHAT=teams.

const e2ePolicy = `
timezone: UTC
report:
  channel: "Sales/Reports"
  schedule: "0 9 * * MON"
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "Sales/Escalations"
    reps: [ana@example.com, bo@example.com]
rules:
  - name: demo-request
    match: {source: demo_request}
    first_touch: 15m
    touches: {count: 8, within: 15d}
    remind_before: [10m, 2m]
    on_breach: [notify_manager, reassign]
  - name: default
    first_touch: 4h
    touches: {count: 6, within: 14d}
    on_breach: [notify_manager, return_to_marketing]
`

// timerPolicy is an agreement for a test that runs its timers on a test
// clock (withClock): a reminder 10 minutes after the hand-off
// (remindAfter), the first touch due 50 minutes later (breachAfter).
func timerPolicy(onBreach string) string {
	return `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "Sales/Escalations"
    reps: [ana@example.com, bo@example.com]
rules:
  - name: fast
    first_touch: 1h
    remind_before: [50m]
    on_breach: ` + onBreach + `
`
}

// movingClock is a test clock that starts now and jumps when told.
type movingClock struct{ offset atomic.Int64 }

func (c *movingClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *movingClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// The steps of timerPolicy's clock: from the hand-off to the reminder,
// and from the reminder to the breach.
const (
	remindAfter = 10 * time.Minute
	breachAfter = 50 * time.Minute
)

// People of the end-to-end tests, by email.
const (
	ana      = "ana@example.com"
	bo       = "bo@example.com"
	maria    = "maria@example.com"
	stranger = "eve@example.com"
)

// teamsEnv is slabot on Teams as it runs in production, against a real
// PostgreSQL and the Teams fake.
type teamsEnv struct {
	t       testing.TB
	fake    *teamsfake.Server
	db      *storage.DB
	service *engine.Service
	app     *teams.App
	metrics *prometheus.Registry
	server  *httptest.Server
	cancel  context.CancelFunc
	done    sync.WaitGroup
	stopped sync.Once
}

type envConfig struct {
	policy string
	db     *storage.DB
	fake   *teamsfake.Server
	pacer  *teams.Pacer
	now    func() time.Time
	// workerNow is the clock the job worker waits on for a job woken
	// early (nil: the wall clock).
	workerNow func() time.Time
	// clock, when set, is both clocks, and the env releases the jobs due
	// by it (see withClock).
	clock       *movingClock
	concurrency int
	// serve registers the app's endpoint with the fake; a second replica
	// sharing a fake leaves the inbound side to the first.
	serve bool
	// editConfig changes the TEAMS_* settings slabot gets.
	editConfig func(*teams.Config)
}

type envOption func(*envConfig)

func withPolicy(yaml string) envOption { return func(c *envConfig) { c.policy = yaml } }

// withClock runs the service and the job worker on clk, and makes the
// jobs that clk says are due available as soon as it says so: River
// schedules by the wall clock, which a jump of clk leaves behind. A test
// moves time on with advance. Replicas of one database pass the same
// clock; the first releases the jobs for all (a job released twice could
// run twice).
func withClock(clk *movingClock) envOption { return func(c *envConfig) { c.clock = clk } }
func withPacer(p *teams.Pacer) envOption {
	return func(c *envConfig) { c.pacer = p }
}

// asReplicaOf runs a second slabot on the first one's database and Teams.
func asReplicaOf(first *teamsEnv) envOption {
	return func(c *envConfig) { c.db, c.fake, c.serve = first.db, first.fake, false }
}

// newFakeTeams is a tenant with the people of the tests and the Sales
// team (channels Escalations and Reports) that slabot is not in yet. Cy
// has not installed the app.
func newFakeTeams(t testing.TB) *teamsfake.Server {
	fake := teamsfake.New(teamsfake.Options{})
	t.Cleanup(fake.Close)
	for _, p := range []teamsfake.Person{
		{Email: ana, Name: "Ana Alvarez", Installed: true, TimeZone: "America/New_York"},
		{Email: bo, Name: "Bo Berg", Installed: true, TimeZone: "Europe/Berlin"},
		{Email: maria, Name: "Maria Manager", Installed: true, TimeZone: "America/New_York"},
		{Email: stranger, Name: "Eve Else", Installed: true},
		{Email: "cy@example.com", Name: "Cy Chen"},
	} {
		fake.AddPerson(p)
	}
	fake.AddTeam("Sales", "Escalations", "Reports")
	return fake
}

func newTeamsEnv(t testing.TB, opts ...envOption) *teamsEnv {
	t.Helper()
	cfg := envConfig{policy: e2ePolicy, now: time.Now, concurrency: 8, serve: true,
		// Tests of other things than pace should not wait a second per
		// message; the pace test passes Teams' limits.
		pacer: teams.NewPacer(teams.PacerOptions{Interval: time.Millisecond})}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.clock != nil {
		cfg.now, cfg.workerNow = cfg.clock.Now, cfg.clock.Now
	}
	if cfg.db == nil {
		cfg.db = storagetest.NewDB(t)
	}
	if cfg.fake == nil {
		cfg.fake = newFakeTeams(t)
	}
	policy, problems := engine.ParsePolicy([]byte(cfg.policy), time.Now())
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := cfg.db.SyncTeams(ctx, policy.Teams); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(newTestWriter(t), &slog.HandlerOptions{Level: slog.LevelWarn}))
	service := engine.NewService(cfg.db, policy, cfg.now, logger)
	registry := api.NewRegistry()
	teamsCfg := fakeConfig(cfg.fake)
	if cfg.editConfig != nil {
		cfg.editConfig(&teamsCfg)
	}
	app := teams.NewApp(teams.AppConfig{Teams: teamsCfg, Store: cfg.db, Service: service, Logger: logger,
		Registry: registry, Pacer: cfg.pacer, DirectoryInterval: -1})
	worker, err := cfg.db.NewWorker(append(app.Handlers(), service.TimerHandlers(nil)...), storage.WorkerOptions{
		Concurrency: cfg.concurrency, JobTimeout: reportLimit, RescueAfter: reportLimit + time.Second,
		Poll: 200 * time.Millisecond, Logger: logger, StopTimeout: 2 * time.Second, Now: cfg.workerNow})
	if err != nil {
		t.Fatal(err)
	}
	// A machine busy with other tests must not change the answers: a
	// click is answered with what it did, not "working on it" after the
	// 4 s soft timeout (that answer is the Handler's story,
	// TestSlowInvokeIsAnsweredInTimeAndFinishesAfter), and a message is
	// recorded, not answered "send it again" after 2 s.
	app.SetSoftTimeout(20 * time.Second)
	app.SetRecordTimeout(15 * time.Second)
	e := &teamsEnv{t: t, fake: cfg.fake, db: cfg.db, service: service, app: app, metrics: registry, cancel: cancel}
	e.server = httptest.NewServer(app.Endpoint())
	if cfg.serve {
		cfg.fake.SetBotEndpoint(e.server.URL + "/api/messages")
	}
	ran := make(chan struct{})
	e.done.Go(func() {
		defer close(ran)
		if err := app.Run(ctx); err != nil {
			t.Errorf("the app stopped: %v", err)
		}
	})
	e.done.Go(func() {
		if err := worker.Run(ctx); err != nil && ctx.Err() == nil {
			t.Errorf("worker stopped: %v", err)
		}
	})
	if cfg.clock != nil && cfg.serve {
		e.done.Go(func() { releaseJobsDueBy(ctx, cfg.db, cfg.clock) })
	}
	t.Cleanup(e.stop)
	// Run pins the policy's channel names first. A test starts once that
	// is done, so that channels it adds come after, as a team added while
	// slabot runs does: else, on a busy machine, Run could pin a name to
	// the first team the test adds, or refuse to start beside a second.
	select {
	case <-app.ChannelsPinned():
	case <-ran:
	case <-time.After(30 * time.Second):
		t.Fatal("the app did not pin the policy's channels in 30 s")
	}
	return e
}

func fakeConfig(fake *teamsfake.Server) teams.Config {
	return teams.Config{
		AppID: fake.AppID(), AppPassword: fake.AppPassword(), TenantID: fake.TenantID(),
		OpenIDMetadataURL: fake.OpenIDMetadataURL(), LoginURL: fake.LoginURL(),
		GraphURL: fake.GraphURL(), ServiceURL: fake.ServiceURL(), ServiceURLHosts: fake.ServiceURLHosts(),
	}
}

func (e *teamsEnv) stop() {
	e.stopped.Do(func() {
		e.cancel()
		e.done.Wait()
		e.server.Close()
	})
}

// testWriter routes a logger to t.Log until the test ends; River's
// goroutines may still log after that, which testing treats as a bug.
type testWriter struct {
	t    testing.TB
	done *atomic.Bool
}

func newTestWriter(t testing.TB) testWriter {
	w := testWriter{t: t, done: new(atomic.Bool)}
	t.Cleanup(func() { w.done.Store(true) })
	return w
}

func (w testWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

// waitLimit bounds a wait for something slabot does at once: long enough
// for a machine busy with other tests under the race detector, which
// may take seconds, and never reached when all is well.
const waitLimit = time.Minute

// reportLimit bounds building and posting a weekly report (its figures
// and chart), and one attempt of any job: the report takes seconds alone
// but, beside other tests on a busy machine, has taken over a minute.
const reportLimit = 5 * time.Minute

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// addBotToSales adds slabot to the Sales team, as a Teams admin does, so
// "Sales/Escalations" and "Sales/Reports" resolve.
func (e *teamsEnv) addBotToSales() teamsfake.Team {
	e.t.Helper()
	team, ok := e.fake.TeamByName("Sales")
	if !ok {
		e.t.Fatal("no Sales team in the fake")
	}
	resp, err := e.fake.AddBotToTeam(ctxTimeout(e.t, waitLimit), team.ID, maria)
	if err != nil || resp.Status/100 != 2 {
		e.t.Fatalf("adding slabot to the Sales team: %v %+v", err, resp)
	}
	e.waitFor("the Sales team's channels to be learnt", func() bool {
		ch, err := e.db.ChatChannelByName(context.Background(), engine.PlatformTeams, "Sales", "Escalations")
		return err == nil && ch.ID == team.ChannelID("Escalations")
	})
	return team
}

func (e *teamsEnv) handOff(h engine.HandOff) *engine.Lead {
	e.t.Helper()
	res, err := e.service.HandOff(context.Background(), h)
	if err != nil {
		e.t.Fatal(err)
	}
	return res.Lead
}

func demoLead(id string) engine.HandOff {
	return engine.HandOff{ExternalID: id, Source: "demo_request", Segment: "enterprise", Score: 87, OwnerEmail: ana,
		Contact: engine.Contact{Name: "Dana Ruiz", Email: id + "@acme.test", Title: "VP Ops", Phone: "+1 555 0100"},
		Company: engine.Company{Name: "Acme Corp", Domain: "acme.test", Employees: 1200, Industry: "Manufacturing", Country: "US"},
		Context: engine.LeadContext{Form: map[string]string{"Budget": "$50k", "Timeline": "Q1"},
			Activity: engine.Activity{Visits: 7, Pages: []string{"/pricing"}, Downloads: []string{"ROI guide"}}},
		CRMURL: "https://crm.example/leads/" + id, Value: 25000}
}

// text is everything a person reads on a card, one line per TextBlock.
func text(card teamsfake.Card) string { return strings.Join(teamsfake.CardTexts(card), "\n") }

// posts lists the activities in a conversation whose summary starts with
// prefix and that name the lead (a test with several leads gives each its
// own contact name).
func (e *teamsEnv) posts(conversationID, prefix string, l *engine.Lead) []teamsfake.Recorded {
	var out []teamsfake.Recorded
	for _, r := range e.fake.Activities(conversationID) {
		cards := r.Activity.Cards()
		if !strings.HasPrefix(r.Activity.Summary, prefix) || len(cards) == 0 {
			continue
		}
		if l == nil || strings.Contains(r.Activity.Summary, l.DisplayName()) || strings.Contains(text(cards[0]), l.DisplayName()) {
			out = append(out, r)
		}
	}
	return out
}

// Summaries of slabot's posts, as the core writes them.
const (
	summaryCard       = "New lead: "
	summaryReminder   = "Reminder: "
	summaryEscalation = "SLA breach: "
	summaryOrphan     = "Lead without an owner: "
	summaryHome       = "Your SLA dashboard"
)

func (e *teamsEnv) personal(email string) string { return e.fake.PersonalConversation(email) }

// waitPost waits for a post of the lead in a conversation and returns
// the first.
func (e *teamsEnv) waitPost(conversationID, prefix string, l *engine.Lead) teamsfake.Recorded {
	e.t.Helper()
	var found teamsfake.Recorded
	err := e.fake.WaitFor(ctxTimeout(e.t, waitLimit), func() bool {
		posts := e.posts(conversationID, prefix, l)
		if len(posts) > 0 {
			found = posts[0]
		}
		return len(posts) > 0
	})
	if err != nil {
		var seen []string
		for _, r := range e.fake.Activities(conversationID) {
			seen = append(seen, r.Activity.Summary)
		}
		e.t.Fatalf("no %q post for lead %d in %s: %v; the conversation holds %q", prefix, l.ID, conversationID, err, seen)
	}
	return found
}

// card waits for the lead's card in a person's 1:1 chat.
func (e *teamsEnv) card(email string, l *engine.Lead) teamsfake.Recorded {
	e.t.Helper()
	return e.waitPost(e.fake.PersonalConversation(email), summaryCard, l)
}

// seen is the card a person sees for a post now: the redrawn card their
// click was answered with, or the posted (or updated) card.
func (e *teamsEnv) seen(email string, post teamsfake.Recorded) teamsfake.Card {
	card, _ := e.fake.CardFor(email, post.ConversationID, post.Activity.ID)
	return card
}

// click presses verb on a post as a person, with a form's inputs.
func (e *teamsEnv) click(email string, post teamsfake.Recorded, verb string, inputs map[string]any) *teamsfake.InvokeResult {
	e.t.Helper()
	res, err := e.fake.Click(ctxTimeout(e.t, waitLimit), email, post.ConversationID, post.Activity.ID, verb, inputs)
	if err != nil {
		e.t.Fatalf("%s pressing %s: %v", email, verb, err)
	}
	if res.HTTPStatus != 200 || res.StatusCode != 200 {
		e.t.Fatalf("%s pressing %s: HTTP %d, statusCode %d: %s", email, verb, res.HTTPStatus, res.StatusCode, res.Body)
	}
	return res
}

func (e *teamsEnv) lead(id int64) *engine.Lead {
	e.t.Helper()
	l, err := e.db.LeadByID(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

func (e *teamsEnv) events(id int64) []engine.Event {
	e.t.Helper()
	events, err := e.db.Events(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return events
}

func (e *teamsEnv) lastEvent(id int64) engine.Event {
	e.t.Helper()
	events := e.events(id)
	if len(events) == 0 {
		e.t.Fatalf("lead %d has no events", id)
	}
	return events[len(events)-1]
}

// waitFor waits for a condition on slabot's database, which the fake
// cannot signal.
func (e *teamsEnv) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// typed sends a message to slabot from a person and waits for slabot's
// answer in their 1:1 chat, returning its card.
func (e *teamsEnv) typed(email, message string) teamsfake.Card {
	e.t.Helper()
	rec := e.typedAnswer(email, message)
	return rec.Activity.Cards()[0]
}

// typedAnswer types a message to slabot as a person and returns the
// activity that answered it.
func (e *teamsEnv) typedAnswer(email, message string) teamsfake.Recorded {
	e.t.Helper()
	conv := e.fake.PersonalConversation(email)
	before := len(e.fake.Activities(conv))
	resp, err := e.fake.Type(ctxTimeout(e.t, waitLimit), email, message)
	if err != nil || resp.Status/100 != 2 {
		e.t.Fatalf("%s typing %q: %v %+v", email, message, err, resp)
	}
	// A message to slabot also refreshes the person's home card, which
	// may land before the answer, and a person who could not be written
	// to gets what was held back (a lead's card, a reminder) once they
	// write: unless the home card is what was asked for, the answer is
	// the first activity that is none of these.
	wantsHome := strings.HasSuffix(strings.TrimSpace(message), "home")
	ctx := ctxTimeout(e.t, waitLimit)
	for n := before + 1; ; n++ {
		recs, err := e.fake.WaitActivities(ctx, conv, n)
		if err != nil {
			e.t.Fatalf("no answer to %q: %v", message, err)
		}
		rec := recs[n-1]
		if !wantsHome && rec.Activity.Summary == "Your SLA dashboard" {
			continue
		}
		if sum := rec.Activity.Summary; strings.HasPrefix(sum, summaryCard) || strings.HasPrefix(sum, summaryReminder) {
			continue
		}
		if len(rec.Activity.Cards()) == 0 {
			e.t.Fatalf("the answer to %q has no card: %+v", message, rec.Activity)
		}
		return rec
	}
}

func mustSay(t testing.TB, what, got string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(got, want) {
			t.Errorf("%s does not say %q:\n%s", what, want, got)
		}
	}
}

// settle waits until t has passed, so a test can check that nothing more
// happened up to then.
func settle(until time.Time) {
	for time.Now().Before(until) {
		time.Sleep(min(100*time.Millisecond, time.Until(until)+time.Millisecond))
	}
}

func countEvents(events []engine.Event, kind string) int {
	return len(slices.DeleteFunc(slices.Clone(events), func(ev engine.Event) bool { return ev.Kind != kind }))
}

// clickAs sends the invoke of pressing verb on a post as someone who is
// not in the post's conversation (a card forwarded or shown to them): the
// fake refuses to click in another person's 1:1 chat, so the invoke is
// built here as Teams would send it from the person's own chat.
func (e *teamsEnv) clickAs(email string, post teamsfake.Recorded, verb string) *teamsfake.InvokeResult {
	e.t.Helper()
	action := findExecute(e.seen(email, post), verb)
	if action == nil {
		action = findExecute(post.Activity.Cards()[0], verb)
	}
	if action == nil {
		e.t.Fatalf("the post has no %s button", verb)
	}
	a, err := e.fake.MessageActivity(email, "")
	if err != nil {
		e.t.Fatal(err)
	}
	a.Type, a.Text, a.TextFormat, a.Name, a.ReplyToID = "invoke", "", "", "adaptiveCard/action", post.Activity.ID
	value, _ := json.Marshal(map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": verb, "data": action["data"]}, "trigger": "manual"})
	a.Value = value
	resp, err := e.fake.Send(ctxTimeout(e.t, waitLimit), a)
	if err != nil || resp.Status != 200 {
		e.t.Fatalf("%s pressing %s: %v %+v", email, verb, err, resp)
	}
	var body struct {
		StatusCode int             `json:"statusCode"`
		Type       string          `json:"type"`
		Value      json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		e.t.Fatalf("the answer to %s's click is not JSON: %s", email, resp.Body)
	}
	res := &teamsfake.InvokeResult{HTTPStatus: resp.Status, StatusCode: body.StatusCode, Type: body.Type, Body: resp.Body}
	if body.Type == "application/vnd.microsoft.card.adaptive" {
		_ = json.Unmarshal(body.Value, &res.Card)
	} else {
		_ = json.Unmarshal(body.Value, &res.Message)
	}
	return res
}

// findExecute finds the Action.Execute with the verb anywhere in a card.
func findExecute(node any, verb string) map[string]any {
	switch v := node.(type) {
	case map[string]any:
		if v["type"] == "Action.Execute" && v["verb"] == verb {
			return v
		}
		for _, child := range v {
			if found := findExecute(child, verb); found != nil {
				return found
			}
		}
	case []any:
		for _, child := range v {
			if found := findExecute(child, verb); found != nil {
				return found
			}
		}
	}
	return nil
}

// balanceAcross puts a round-robin load balancer in front of the
// replicas' endpoints, as a deployment of several replicas has, and points
// the fake at it: successive activities reach successive replicas.
func balanceAcross(t testing.TB, envs ...*teamsEnv) {
	var next atomic.Uint64
	proxies := make([]*httputil.ReverseProxy, len(envs))
	for i, e := range envs {
		target, err := url.Parse(e.server.URL)
		if err != nil {
			t.Fatal(err)
		}
		proxies[i] = httputil.NewSingleHostReverseProxy(target)
	}
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxies[next.Add(1)%uint64(len(proxies))].ServeHTTP(w, r)
	}))
	t.Cleanup(lb.Close)
	envs[0].fake.SetBotEndpoint(lb.URL + "/api/messages")
}

// releaseJobsDueBy makes the scheduled jobs that clk says are due available,
// every 50 ms until ctx ends. A job the worker snoozed (a Retry-After) is
// due by the wall clock: it is released as soon as clk is ahead of that.
func releaseJobsDueBy(ctx context.Context, db *storage.DB, clk *movingClock) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		jobs, err := db.ListJobs(ctx, storage.JobFilter{States: []string{"scheduled"}, Limit: 1000})
		if err != nil {
			continue // the test ends, or the next tick tries again
		}
		now := clk.Now()
		for _, j := range jobs {
			if !j.RunAt.After(now) {
				_ = db.RetryJob(ctx, j.ID)
			}
		}
	}
}

// advance moves the test's clock on by d and waits until the jobs due by
// then have run: none is scheduled and due, available or running.
func (e *teamsEnv) advance(clk *movingClock, d time.Duration) {
	e.t.Helper()
	clk.Advance(d)
	e.waitFor("the jobs due to run", func() bool {
		jobs, err := e.db.ListJobs(context.Background(), storage.JobFilter{States: []string{"scheduled", "available", "running"}, Limit: 1000})
		if err != nil {
			return false
		}
		now := clk.Now()
		for _, j := range jobs {
			if j.State != "scheduled" || !j.RunAt.After(now) {
				return false
			}
		}
		return true
	})
}
