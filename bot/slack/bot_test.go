package slack_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/slabot/slabot/api"
	"github.com/slabot/slabot/bot/bottest"
	slackui "github.com/slabot/slabot/bot/slack"
	"github.com/slabot/slabot/bot/slack/slackfake"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

const e2ePolicy = `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "#sales-ops"
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

// Slack users of the end-to-end tests.
const (
	ana      = "U0ANA"
	bo       = "U0BO"
	maria    = "U0MARIA"
	stranger = "U0EVE"
)

// env is the bot as it runs in production, against a real PostgreSQL and
// the Slack fake.
type env struct {
	t       testing.TB
	fake    *slackfake.Server
	db      *storage.DB
	service *engine.Service
	bot     *slackui.App
	cancel  context.CancelFunc
	done    sync.WaitGroup
}

type envOption func(*envConfig)

type envConfig struct {
	policy      string
	now         func() time.Time
	db          *storage.DB
	fake        *slackfake.Server
	lease       time.Duration
	paceEvery   time.Duration
	paceBurst   int
	concurrency int
	afterPost   func(leadID int64)
}

func withDB(db *storage.DB) envOption        { return func(c *envConfig) { c.db = db } }
func withFake(f *slackfake.Server) envOption { return func(c *envConfig) { c.fake = f } }
func withLease(d time.Duration) envOption    { return func(c *envConfig) { c.lease = d } }
func withConcurrency(n int) envOption        { return func(c *envConfig) { c.concurrency = n } }

// withAfterPost has this env's sender call f between posting a card and
// recording it (slackui.SetAfterPostHook), set before the bot runs.
func withAfterPost(f func(leadID int64)) envOption { return func(c *envConfig) { c.afterPost = f } }
func newFakeSlack(t testing.TB) *slackfake.Server  { return addPeople(t, slackfake.New()) }

func addPeople(t testing.TB, fake *slackfake.Server) *slackfake.Server {
	t.Cleanup(fake.Close)
	fake.AddUser(slackfake.User{ID: ana, Name: "ana", RealName: "Ana Alvarez", Email: "ana@example.com", TZ: "America/New_York"})
	fake.AddUser(slackfake.User{ID: bo, Name: "bo", RealName: "Bo Berg", Email: "bo@example.com", TZ: "Europe/Berlin"})
	fake.AddUser(slackfake.User{ID: maria, Name: "maria", RealName: "Maria Manager", Email: "maria@example.com", TZ: "America/New_York"})
	fake.AddUser(slackfake.User{ID: stranger, Name: "eve", RealName: "Eve Else", Email: "eve@example.com", TZ: "UTC"})
	fake.AddChannel("C0OPS", "sales-ops")
	return fake
}

// maxRunning is how many tests run a bot at once, whatever go test's
// -parallel: each runs a job worker against its own database, and on a
// busy 2-core machine, under the race detector, more at once make each so
// slow that the bot misses Slack's 3-second acknowledgement or a test's
// deadline of a few seconds.
const maxRunning = 4

var running = struct {
	sync.Mutex
	slots chan struct{}
	held  map[testing.TB]bool
}{slots: make(chan struct{}, maxRunning), held: map[testing.TB]bool{}}

// takeTurn waits until fewer than maxRunning tests run a bot, and holds
// the test's turn until it ends. A test that starts a second bot (a
// restart, a second replica) keeps the turn it has.
func takeTurn(t testing.TB) {
	running.Lock()
	held := running.held[t]
	running.held[t] = true
	running.Unlock()
	if held {
		return
	}
	running.slots <- struct{}{}
	t.Cleanup(func() {
		<-running.slots
		running.Lock()
		delete(running.held, t)
		running.Unlock()
	})
}

func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	takeTurn(t)
	cfg := envConfig{policy: e2ePolicy, now: time.Now, lease: time.Minute, concurrency: 8, paceEvery: 100 * time.Millisecond, paceBurst: 3}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.db == nil {
		cfg.db = storagetest.NewDB(t)
	}
	if cfg.fake == nil {
		cfg.fake = newFakeSlack(t)
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
	client := slack.New(slackfake.BotToken, slack.OptionAPIURL(cfg.fake.APIURL()), slack.OptionAppLevelToken(slackfake.AppToken))
	b := slackui.New(slackui.Config{API: client, Socket: socketmode.New(client), Store: cfg.db, Service: service, Logger: logger,
		Registry: api.NewRegistry(), PaceInterval: cfg.paceEvery, PaceBurst: cfg.paceBurst})
	if cfg.afterPost != nil {
		slackui.SetAfterPostHook(b, cfg.afterPost)
	}
	worker, err := cfg.db.NewWorker(append(b.Handlers(), service.TimerHandlers(nil)...), storage.WorkerOptions{Concurrency: cfg.concurrency,
		JobTimeout: cfg.lease, RescueAfter: cfg.lease + time.Second, Poll: 200 * time.Millisecond, Logger: logger,
		StopTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, fake: cfg.fake, db: cfg.db, service: service, bot: b, cancel: cancel}
	e.done.Go(func() {
		if err := b.Run(ctx); err != nil {
			t.Errorf("bot stopped: %v", err)
		}
	})
	e.done.Go(func() {
		if err := worker.Run(ctx); err != nil && ctx.Err() == nil {
			t.Errorf("worker stopped: %v", err)
		}
	})
	t.Cleanup(e.stop)
	wctx, wcancel := context.WithTimeout(context.Background(), patience)
	defer wcancel()
	if err := cfg.fake.WaitForConnections(wctx, 1); err != nil {
		t.Fatalf("the bot did not connect to Slack: %v", err)
	}
	return e
}

func (e *env) stop() {
	e.cancel()
	e.done.Wait()
}

// testWriter routes a logger to t.Log until the test ends; River's
// goroutines of a worker that was killed mid-job may still log after that,
// which testing would treat as a bug of the test.
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
	if w.done.Load() {
		return len(p), nil
	}
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (e *env) handOff(h engine.HandOff) *engine.Lead {
	e.t.Helper()
	res, err := e.service.HandOff(context.Background(), h)
	if err != nil {
		e.t.Fatal(err)
	}
	return res.Lead
}

// demoLead is bottest.DemoLead, a demo request for Ana.
func demoLead(id string) engine.HandOff { return bottest.DemoLead(id) }

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// card waits for the lead's card in a user's DM.
func (e *env) card(userID string, l *engine.Lead) slackfake.Message {
	e.t.Helper()
	dm := e.fake.DMChannel(userID)
	msg, err := e.fake.WaitForMessage(ctxTimeout(e.t, 30*time.Second), func(m slackfake.Message) bool {
		return m.Channel == dm && m.Metadata != nil && fmt.Sprint(m.Metadata.EventPayload["lead_id"]) == fmt.Sprint(l.ID)
	})
	if err != nil {
		e.t.Fatalf("no card for lead %d in %s's DM: %v", l.ID, userID, err)
	}
	return msg
}

// waitCard waits until the card satisfies cond, returning it.
func (e *env) waitCard(msg slackfake.Message, what string, cond func(slackfake.Message) bool) slackfake.Message {
	e.t.Helper()
	got, err := e.fake.WaitForMessage(ctxTimeout(e.t, 30*time.Second), func(m slackfake.Message) bool {
		return m.Channel == msg.Channel && m.TS == msg.TS && cond(m)
	})
	if err != nil {
		cur, _ := e.fake.GetMessage(msg.Channel, msg.TS)
		e.t.Fatalf("the card never showed %s; it is:\n%s", what, cardText(cur))
	}
	return got
}

// cardText is everything a person reads on the card.
func cardText(m slackfake.Message) string {
	blocks, err := m.DecodeBlocks()
	if err != nil {
		return m.Text
	}
	var b strings.Builder
	for _, bl := range blocks.BlockSet {
		switch v := bl.(type) {
		case *slack.HeaderBlock:
			b.WriteString(v.Text.Text + "\n")
		case *slack.SectionBlock:
			if v.Text != nil {
				b.WriteString(v.Text.Text + "\n")
			}
			for _, f := range v.Fields {
				b.WriteString(f.Text + "\n")
			}
		case *slack.ContextBlock:
			for _, el := range v.ContextElements.Elements {
				if t, ok := el.(*slack.TextBlockObject); ok {
					b.WriteString(t.Text + "\n")
				}
			}
		case *slack.ActionBlock:
			for _, el := range v.Elements.ElementSet {
				switch x := el.(type) {
				case *slack.ButtonBlockElement:
					b.WriteString("[" + x.Text.Text + "] ")
				case *slack.SelectBlockElement:
					b.WriteString("[" + x.Placeholder.Text + "] ")
				}
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func (e *env) lead(id int64) *engine.Lead {
	e.t.Helper()
	l, err := e.db.LeadByID(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

func (e *env) lastEvent(id int64) engine.Event {
	e.t.Helper()
	events, err := e.db.Events(context.Background(), id)
	if err != nil || len(events) == 0 {
		e.t.Fatalf("events of lead %d: %v %v", id, events, err)
	}
	return events[len(events)-1]
}

// patience bounds how long a test waits for something that must happen
// soon: the tests run in parallel, under the race detector, on a busy
// 2-core machine. It bounds a wait; it asserts nothing about speed.
const patience = 30 * time.Second

func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) events(id int64) []engine.Event {
	e.t.Helper()
	events, err := e.db.Events(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return events
}

func withClock(now func() time.Time) envOption { return func(c *envConfig) { c.now = now } }

func withPolicy(yaml string) envOption { return func(c *envConfig) { c.policy = yaml } }

func withPace(every time.Duration, burst int) envOption {
	return func(c *envConfig) { c.paceEvery, c.paceBurst = every, burst }
}
