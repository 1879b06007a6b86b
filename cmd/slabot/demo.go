package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/slabot/slabot/bot/slack/transcript"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/logging"
	"github.com/slabot/slabot/storage/pgtemp"
)

// demoPerson is a member of the demo's sales team.
type demoPerson struct {
	ID, Name, Email, TZ string
}

var demoPeople = []demoPerson{
	{"U0MARIA", "Maria (manager)", "maria@example.com", "America/New_York"},
	{"U0ANA", "Ana", "ana@example.com", "America/New_York"},
	{"U0BO", "Bo", "bo@example.com", "America/Chicago"},
	{"U0CHEN", "Chen", "chen@example.com", "America/Los_Angeles"},
	{"U0DEE", "Dee (away)", "dee@example.com", "Europe/Berlin"},
}

// demoPolicy is the agreement of the demo: minutes of a real SLA become
// seconds, divided by the speed.
func demoPolicy(speed float64, reportChannel, escalationChannel string) string {
	d := func(seconds float64) string { return fmt.Sprintf("%dms", int(seconds*1000/speed)) }
	return fmt.Sprintf(`# The demo's agreement: a real SLA's minutes are the demo's seconds.
timezone: America/New_York
review_by: "%s"
report:
  channel: %q
  schedule: "0 9 * * MON"
targets:
  mqls: 2400
  mql_to_sql: 0.25
  sql_to_won: 0.15
  revenue: 1200000
  deal_size: 15000
  win_rate: 0.45
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: %q
    reps: [ana@example.com, bo@example.com, chen@example.com, dee@example.com]
rules:
  - name: demo-request
    match: {source: demo_request}
    first_touch: %s
    touches: {count: 3, within: %s}
    remind_before: [%s]
    on_breach: [notify_manager, reassign]
  - name: trial
    match: {source: [trial_signup, event, partner_referral]}
    first_touch: %s
    touches: {count: 3, within: %s}
    remind_before: [%s]
    on_breach: [notify_manager]
  - name: default
    first_touch: %s
    touches: {count: 3, within: %s}
    remind_before: [%s]
    on_breach: [notify_manager, return_to_marketing]
recycle: {route_to: previous_owner, within: 180d}
`, time.Now().AddDate(0, 0, 20).Format("2006-01-02"), reportChannel, escalationChannel, d(15), d(120), d(8), d(60), d(240), d(30), d(30), d(120), d(12))
}

// demoSettings are what a test changes of the demo; the zero value is the
// demo `slabot demo` plays.
type demoSettings struct {
	// databaseURL is a migrated database to play in instead of a
	// throwaway PostgreSQL server of the demo's own.
	databaseURL string
	// historyLeads is how many leads the seeded history has (0:
	// demoHistoryLeads).
	historyLeads int
	// teamsPace spaces the messages of each Teams conversation (0: Teams'
	// limits, one a second).
	teamsPace time.Duration
	// webhookSecretEnv is the environment variable the demo puts its
	// webhook secret in (default demoWebhookSecretEnv): two demos in one
	// process each need their own.
	webhookSecretEnv string
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runDemo(ctx, args, stdout, stderr, demoSettings{})
}

// runDemo is cmdDemo with settings.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer, settings demoSettings) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	speed := fs.Float64("speed", 1, "how much faster than the normal demo pace to play (2 = twice as fast)")
	seed := fs.Int64("seed", 1, "seed for the simulated people's choices")
	keepDB := fs.Bool("keep-db", false, "leave the demo's PostgreSQL running at the end and print how to reach it")
	chartPath := fs.String("chart", "demo-chart.png", "where to write the weekly report's chart")
	color := fs.String("color", "auto", "colour the transcript: auto, always or never")
	chat := fs.String("chat", "slack", "the chat platform to play on: slack or teams")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *speed <= 0 || *speed > 50 {
		fmt.Fprintln(stderr, "slabot demo: --speed must be above 0 and at most 50")
		return 2
	}
	style := transcript.Style{Color: *color == "always" || (*color == "auto" && isTerminal(stdout))}
	var platform demoChat
	switch strings.ToLower(*chat) {
	case "slack":
		platform = newSlackDemo()
	case "teams":
		platform = newTeamsDemo()
	default:
		fmt.Fprintf(stderr, "slabot demo: --chat %q: the demo plays on slack or teams\n", *chat)
		return 2
	}
	d := &demo{out: stdout, style: style, speed: *speed, rng: mrand.New(mrand.NewPCG(uint64(*seed), 7)), chat: platform,
		chartPath: *chartPath, start: time.Now(), seed: uint64(*seed), settings: settings}
	if t, ok := platform.(*teamsDemo); ok {
		t.d = d
	}
	if err := d.run(ctx, *keepDB); err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(stderr, "\nslabot demo: stopped; everything it started is cleaned up.")
			return 130
		}
		fmt.Fprintln(stderr, "slabot demo:", err)
		return 1
	}
	return 0
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// demo plays a compressed hour of a sales team's life against the real bot.
type demo struct {
	out       io.Writer
	mu        sync.Mutex // serialises writes to out
	style     transcript.Style
	speed     float64
	rng       *mrand.Rand
	seed      uint64 // of the seeded history
	chartPath string
	start     time.Time
	settings  demoSettings

	chat   demoChat
	app    *App
	intake string
	token  string
	crm    *demoCRM
}

func (d *demo) say(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	elapsed := time.Since(d.start).Seconds() * d.speed
	fmt.Fprintf(d.out, "%s %s\n", d.style.Dim(fmt.Sprintf("[%02d:%02d]", int(elapsed)/60, int(elapsed)%60)), fmt.Sprintf(format, args...))
}

// pause waits seconds of demo time.
func (d *demo) pause(ctx context.Context, seconds float64) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(seconds * float64(time.Second) / d.speed)):
		return nil
	}
}

func (d *demo) run(ctx context.Context, keepDB bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.say("%s", d.style.Bold("slabot demo: a sales team's hour, compressed into about a minute"))
	simulator, connection := d.chat.describe()
	databaseURL := d.settings.databaseURL
	if databaseURL != "" {
		d.say("Starting %s (no workspace, no network needed)…", simulator)
	} else {
		d.say("Starting a throwaway PostgreSQL and %s (no workspace, no network needed)…", simulator)
		pg, err := pgtemp.Start(ctx)
		if err != nil {
			return err
		}
		defer func() {
			if keepDB {
				d.say("The demo's database is still running: DATABASE_URL=%q", pg.URL)
				d.say("Stop it with: scripts/pg.sh stop %s", pg.Dir)
				return
			}
			if err := pg.Stop(); err != nil {
				d.say("could not stop the demo's PostgreSQL: %v", err)
			}
		}()
		databaseURL = pg.URL
	}

	defer d.chat.close()

	dir, err := os.MkdirTemp("", "slabot-demo.")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	policyFile := filepath.Join(dir, "slabot.yaml")
	if d.crm, err = d.startCRM("dana@acme.test", "lee@globex.test", "sam@initech.test", "kim@uni.test"); err != nil {
		return err
	}
	defer d.crm.close()
	reportChannel, escalationChannel := d.chat.channels()
	if err := os.WriteFile(policyFile, []byte(demoPolicy(d.speed, reportChannel, escalationChannel)+d.crm.policy()), 0o600); err != nil {
		return err
	}
	var tok [16]byte
	_, _ = rand.Read(tok[:])
	d.token = hex.EncodeToString(tok[:])
	cfg := Config{DatabaseURL: databaseURL, PolicyFile: policyFile, HTTPAddr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0",
		IntakeToken: d.token, LogLevel: "error", HubSpotToken: demoHubSpotToken, HubSpotAPIURL: d.crm.hubspot.APIURL()}
	d.chat.configure(&cfg)
	cfg.teamsPace = d.settings.teamsPace
	logger := slog.New(logging.Redact(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	app, err := NewApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer app.Close()
	d.app = app
	if err := d.seedHistory(ctx, app.DB, app.Service.Policy(), d.seed); err != nil {
		return err
	}
	d.intake = "http://" + app.Addr()
	var wg sync.WaitGroup
	appCtx, stopApp := context.WithCancel(ctx)
	wg.Go(func() {
		if err := app.Run(appCtx); err != nil {
			d.say("slabot stopped: %v", err)
		}
	})
	defer func() {
		stopApp()
		wg.Wait()
	}()
	select {
	case <-app.Prepared():
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := app.DB.UpdateRep(ctx, repAway("dee@example.com")); err != nil {
		return err
	}
	wg.Go(func() { d.chat.watch(appCtx, d) })
	wg.Go(func() { d.watchHubSpot(appCtx, d.crm) })
	if err := d.chat.connect(ctx, app); err != nil {
		return err
	}
	d.mu.Lock()
	d.start = time.Now() // the story's clock starts now
	d.mu.Unlock()
	d.say("slabot is running: intake API at %s, %s.", d.intake, connection)
	d.say("The team: Maria manages Ana, Bo, Chen and Dee; Dee is away this week.")
	if err := d.script(ctx); err != nil {
		return err
	}
	// Let the last messages reach the transcript.
	_ = d.pause(ctx, 2)
	d.say("%s", d.style.Bold("That was slabot. Install it for your team: see README.md."))
	return nil
}

func repAway(email string) *engine.Rep { return &engine.Rep{Email: email, Status: engine.RepAway} }

// crmClient sends the demo CRM's hand-offs: like a CRM, it sends a hand-off
// again when the intake answers 503 and asks for that (on a busy machine
// the intake's deadline can pass).
var crmClient = &http.Client{Transport: retryUnavailable{next: http.DefaultTransport}}

// handOff posts a hand-off to the intake API as a CRM would.
func (d *demo) handOff(ctx context.Context, body string) (int, string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, d.intake+"/v1/handoffs", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+d.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := crmClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// poll runs f every interval until ctx ends: how the demo watches its
// simulators.
func poll(ctx context.Context, every time.Duration, f func()) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			f()
		}
	}
}

// post prints a message slabot posted or updated: verb where, then body.
func (d *demo) post(verb, where, body string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	elapsed := time.Since(d.start).Seconds() * d.speed
	fmt.Fprintf(d.out, "%s %s %s %s\n%s", d.style.Dim(fmt.Sprintf("[%02d:%02d]", int(elapsed)/60, int(elapsed)%60)),
		d.style.Accent("slabot"), verb, d.style.Bold(where), body)
}

// retryUnavailable sends a request again, a few times, half a second
// apart, while it is answered 503 Service Unavailable: what the intake asks
// a sender to do.
type retryUnavailable struct{ next http.RoundTripper }

func (r retryUnavailable) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		defer req.Body.Close() // each try sends a copy (GetBody)
	}
	for attempt := 1; ; attempt++ {
		try := req.Clone(req.Context())
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			try.Body = body
		}
		res, err := r.next.RoundTrip(try)
		if err != nil || res.StatusCode != http.StatusServiceUnavailable || attempt == 5 || req.GetBody == nil {
			return res, err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		select {
		case <-req.Context().Done():
			return nil, req.Context().Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
