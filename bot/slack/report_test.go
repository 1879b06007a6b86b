package slack_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/slabot/slabot/api"
	"github.com/slabot/slabot/bot"
	"github.com/slabot/slabot/bot/chart"
	slackui "github.com/slabot/slabot/bot/slack"
	"github.com/slabot/slabot/bot/slack/slackfake"
	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

// reportPolicy makes the arithmetic easy to follow by hand: 930 MQLs a
// month is 30 a day in October (31 days) and 31 a day in November; 186
// SQLs (930 × 0.2) is 6 a day in October and 6.2 in November; 19 won
// (186 × 0.1, rounded up).
const reportPolicy = `
timezone: UTC
review_by: "2026-11-20"
report:
  channel: "#smarketing"
  schedule: "0 9 * * MON"
targets:
  mqls: 930
  mql_to_sql: 0.2
  sql_to_won: 0.1
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "#sales-ops"
    reps: [ana@example.com, bo@example.com, cy@example.com]
rules:
  - name: default
    first_touch: 4h
    touches: {count: 3, within: 2d}
    on_breach: [notify_manager]
`

const reportChannel = "C0SMK"

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// reportEnv is a bot that reports, against a real database and the Slack
// fake, without Socket Mode: reports only call the Web API.
type reportEnv struct {
	t      *testing.T
	fake   *slackfake.Server
	db     *storage.DB
	policy *engine.Policy
	logger *slog.Logger
	now    atomic.Pointer[time.Time]
}

func newReportEnv(t *testing.T, policyYAML string, db *storage.DB, fake *slackfake.Server) *reportEnv {
	t.Helper()
	takeTurn(t)
	if db == nil {
		db = storagetest.NewDB(t)
	}
	if fake == nil {
		fake = newFakeSlack(t)
		fake.AddChannel(reportChannel, "smarketing")
	}
	policy, problems := engine.ParsePolicy([]byte(policyYAML), time.Now())
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if err := db.SyncTeams(context.Background(), policy.Teams); err != nil {
		t.Fatal(err)
	}
	e := &reportEnv{t: t, fake: fake, db: db, policy: policy,
		logger: slog.New(slog.NewTextHandler(newTestWriter(t), &slog.HandlerOptions{Level: slog.LevelWarn}))}
	now := time.Now()
	e.now.Store(&now)
	return e
}

func (e *reportEnv) setNow(t time.Time) { e.now.Store(&t) }

// newBot is one replica's bot on the env's database, with store as its
// store (the database unless a test wraps it).
func (e *reportEnv) newBot(store bot.Store) *slackui.App {
	if store == nil {
		store = e.db
	}
	service := engine.NewService(e.db, e.policy, func() time.Time { return *e.now.Load() }, e.logger)
	client := slack.New(slackfake.BotToken, slack.OptionAPIURL(e.fake.APIURL()), slack.OptionAppLevelToken(slackfake.AppToken))
	return slackui.New(slackui.Config{API: client, Socket: socketmode.New(client), Store: store, Service: service, Logger: e.logger,
		Registry: api.NewRegistry(), PaceInterval: 50 * time.Millisecond, PaceBurst: 3, DirectoryInterval: -1})
}

// runWorker runs a job worker with the bot's handlers, as cmd/slabot
// does, until the returned stop is called.
func (e *reportEnv) runWorker(b *slackui.App) (stop func()) {
	w, err := e.db.NewWorker(b.Handlers(), storage.WorkerOptions{Concurrency: 4, Poll: 100 * time.Millisecond, Logger: e.logger})
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := w.Run(ctx); err != nil && ctx.Err() == nil {
			e.t.Errorf("worker stopped: %v", err)
		}
	})
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	e.t.Cleanup(stop)
	return stop
}

// seedReportData stores the fixed data set of the report tests. Week 44
// of 2026 runs from Monday 26 October to Sunday 1 November, across two
// months. Leads come in at 10:00 under the default rule (first touch
// within 4 h, 3 touches within 2 days):
//
//	L1 ana  Oct 5   touched 11:00                               October only
//	L9 ana  Oct 5   touched 11:00, won Oct 30 for $5,000        October only
//	L2 ana  Oct 27  touched 11:00, Oct 27 15:00, Oct 28 09:00   on time, cadence met Oct 28
//	L3 ana  Oct 27  touched 12:00                               on time, cadence missed Oct 29
//	L4 bo   Oct 27  touched 15:00, breached 14:00               late, cadence missed Oct 29
//	L5 ana  Oct 28  touched 10:30                               on time, cadence missed Oct 30
//	L6 —    Oct 28  no owner                                    reached nobody
//	L7 bo   Nov 1   touched 11:00                               on time, cadence running
//	L8 ana  Nov 1   returned 11:00, "student, not a buyer"      closed before its deadline
//
// MQLs: 50 on October 5, 20 on October 27 and 10 on November 1. Ana and
// Bo have names in Slack; Cy went away on October 19 until December.
func seedReportData(t *testing.T, db *storage.DB) {
	t.Helper()
	ctx := context.Background()
	type lead struct {
		id, owner, received string
		touches             []string
		state               engine.LeadState
		closed, reason      string
		amount              float64
		breach              string
	}
	leads := []lead{
		{id: "L1", owner: "ana@example.com", received: "2026-10-05 10:00", touches: []string{"2026-10-05 11:00"}},
		{id: "L9", owner: "ana@example.com", received: "2026-10-05 10:00", touches: []string{"2026-10-05 11:00"},
			state: engine.StateWon, closed: "2026-10-30 12:00", amount: 5000},
		{id: "L2", owner: "ana@example.com", received: "2026-10-27 10:00", touches: []string{"2026-10-27 11:00", "2026-10-27 15:00", "2026-10-28 09:00"}},
		{id: "L3", owner: "ana@example.com", received: "2026-10-27 10:00", touches: []string{"2026-10-27 12:00"}},
		{id: "L4", owner: "bo@example.com", received: "2026-10-27 10:00", touches: []string{"2026-10-27 15:00"}, breach: "2026-10-27 14:00"},
		{id: "L5", owner: "ana@example.com", received: "2026-10-28 10:00", touches: []string{"2026-10-28 10:30"}},
		{id: "L6", received: "2026-10-28 10:00"},
		{id: "L7", owner: "bo@example.com", received: "2026-11-01 10:00", touches: []string{"2026-11-01 11:00"}},
		{id: "L8", owner: "ana@example.com", received: "2026-11-01 10:00", state: engine.StateReturned, closed: "2026-11-01 11:00", reason: "student, not a buyer"},
	}
	err := db.InTx(ctx, func(tx engine.Tx) error {
		for _, s := range leads {
			received := utc(s.received)
			l := &engine.Lead{ExternalID: s.id, Source: "web", Contact: engine.Contact{Name: "Contact " + s.id, Email: strings.ToLower(s.id) + "@acme.test"},
				Company: engine.Company{Name: "Acme"}, OwnerEmail: s.owner, Rule: "default", State: engine.StateWorking,
				HandedOffAt: received, ReceivedAt: received, Amount: s.amount, ReturnReason: s.reason}
			if s.owner != "" {
				l.Team, l.AssignedAt, l.FirstTouchDue = "sdr-east", received, received.Add(4*time.Hour)
			} else {
				l.State = engine.StateNew
			}
			if s.state != "" {
				l.State = s.state
			}
			if s.closed != "" {
				l.ClosedAt = utc(s.closed)
			}
			if len(s.touches) > 0 {
				l.FirstTouchAt = utc(s.touches[0])
			}
			if err := tx.CreateLead(ctx, l); err != nil {
				return err
			}
			for _, touch := range s.touches {
				if _, err := tx.AddTouch(ctx, &engine.Touch{LeadID: l.ID, Kind: engine.TouchCall, At: utc(touch), ByEmail: s.owner}); err != nil {
					return err
				}
			}
			if s.breach != "" {
				b := engine.Breach{LeadID: l.ID, Kind: engine.BreachFirstTouch, Rule: "default", RepEmail: s.owner, Team: "sdr-east",
					Due: l.FirstTouchDue, At: utc(s.breach)}
				if err := tx.AppendEvent(ctx, engine.BreachEvent(b)); err != nil {
					return err
				}
			}
		}
		for i, batch := range []struct {
			n  int
			at string
		}{{50, "2026-10-05 09:00"}, {20, "2026-10-27 09:00"}, {10, "2026-11-01 09:00"}} {
			for j := range batch.n {
				if _, err := tx.AddMQL(ctx, &engine.MQL{ExternalID: fmt.Sprintf("mql-%d-%d", i, j), Source: "web", At: utc(batch.at)}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []engine.Rep{
		{Email: "ana@example.com", Name: "Ana Alvarez", Status: engine.RepActive},
		{Email: "bo@example.com", Name: "Bo Berg", Status: engine.RepActive},
		{Email: "cy@example.com", Name: "Cy Chen", Status: engine.RepActive},
	} {
		if err := db.UpdateRep(ctx, &r); err != nil {
			t.Fatal(err)
		}
	}
	// Cy's absence as /sla away records it, on the day it began.
	err = db.InTx(ctx, func(tx engine.Tx) error {
		until := utc("2026-12-01 00:00")
		if err := tx.SetRepAvailability(ctx, "cy@example.com", engine.RepAway, until); err != nil {
			return err
		}
		return tx.AppendRepEvent(ctx, &engine.RepEvent{RepEmail: "cy@example.com", Kind: engine.RepEventAway,
			Actor: "cy@example.com", At: utc("2026-10-19 09:00"), Until: until})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// reportMessages are the report messages in the report channel.
func reportMessages(fake *slackfake.Server) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range fake.Messages(reportChannel) {
		if m.Metadata != nil && m.Metadata.EventType == "slabot_weekly_report" {
			out = append(out, m)
		}
	}
	return out
}

// wantLines checks that each line appears, whole, in text.
func wantLines(t *testing.T, text string, lines ...string) {
	t.Helper()
	have := map[string]bool{}
	for _, l := range strings.Split(text, "\n") {
		have[l] = true
	}
	for _, l := range lines {
		if !have[l] {
			t.Errorf("the report lacks the line\n\t%s\nit reads:\n%s", l, text)
		}
	}
}

func TestTheWeeklyReportShowsBothSidesFiguresEndToEnd(t *testing.T) {
	t.Parallel()
	e := newReportEnv(t, reportPolicy, nil, nil)
	seedReportData(t, e.db)
	b := e.newBot(nil)
	ctx := ctxTimeout(t, reportPatience)

	t.Run("a week across two months, on the first report of November", func(t *testing.T) {
		e.setNow(utc("2026-11-02 09:00"))
		week, err := engine.ParseISOWeek("2026-W44", time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.PostWeeklyReport(ctx, week); err != nil {
			t.Fatal(err)
		}
		msgs := reportMessages(e.fake)
		if len(msgs) != 1 {
			t.Fatalf("%d report messages in the channel, want 1", len(msgs))
		}
		msg := msgs[0]
		blocks, err := msg.DecodeBlocks()
		if err != nil {
			t.Fatal(err)
		}
		if n := len(blocks.BlockSet); n > 50 {
			t.Errorf("%d blocks, Slack takes 50", n)
		}
		text := cardText(msg)
		for _, l := range strings.Split(text, "\n") {
			if len(l) > 3000 {
				t.Errorf("a line of %d bytes", len(l))
			}
		}
		if got := fmt.Sprint(msg.Metadata.EventPayload["week"]); got != "2026-W44" {
			t.Errorf("metadata week %q, want 2026-W44", got)
		}
		wantLines(t, text,
			"Smarketing report · week 44 (Oct 26–Nov 1)",
			"Month to date: November 1, 2026 · figures as of Mon Nov 2, 9:00 AM (UTC)",
			// The review date is 18 days away.
			"The agreement is due for review on Friday 20 November 2026, in 18 days: time to book the review with Sales and Marketing. The review pack comes to the report channel 14 days before the date.",
			// Marketing. The week's targets: 6 October days and 1
			// November day: 6×30 + 31 = 211 MQLs; 6×6 + 6.2 = 42.2 → 43
			// SQLs. 30 MQLs is 14% of 211; 7 SQLs 16% of 43. The month
			// to date is November 1: 31 MQLs, 6.2 → 7 SQLs; 10 is 32% of
			// 31, 2 is 29% of 7.
			"This week: *30* / 211 · 14% :red_circle:",
			"Month to date: *10* / 31 · 32% :red_circle:",
			"This week: *7* / 43 · 16% :red_circle:",
			"Month to date: *2* / 7 · 29% :red_circle:",
			// 7 SQLs of 30 MQLs; 2 of 10.
			"This week: 23% (target 20%) :large_green_circle:",
			"Month to date: 20% (target 20%) :large_green_circle:",
			"*Returned to Marketing:* 1 lead this week",
			"• student, not a buyer: 1",
			// Accepted: the five leads touched; L6 awaits an owner and L8
			// went back before anyone decided (a return, not a rejection).
			"*Accepted: 100%* (5 of 5 decided) · target 90% :large_green_circle:",
			// Sales. On time: L2 L3 L5 L7; late: L4. L6 has no owner, L8
			// was returned before its deadline.
			"This week: *80%* (4 of 5) · target 99% :red_circle:",
			"Month to date: 100% (1 of 1) :large_green_circle:",
			"_Not counted: 1 not due yet or unassigned, 1 closed before the deadline_",
			// 30 min, 1 h, 1 h, 2 h, 5 h.
			"Median 1 h · 9 in 10 within 5 h",
			// Met: L2; missed: L3 L4 L5; running: L7.
			"1 of 4 met (25%) · 1 still running",
			"*Breaches:* 1 this week",
			"• Bo Berg: 1",
			"• first touch late: 1",
			// L9 won on October 30: 1 of 7 SQLs.
			"This week: 14% (target 10%) :large_green_circle: (1 won, $5,000)",
			"Month to date: 0% (target 10%) :red_circle: (0 won)",
			// People: only Ana has three decided leads.
			"• Ana Alvarez: 100% (3 of 3)",
			"*Away:* Cy Chen (since Mon Oct 19, back Tue Dec 1)",
			"*Reached nobody:* 1 lead this week has no rep :warning: Assign it in your CRM.",
			// October, final: 70 MQLs of 930 (8%), 7 SQLs (L1 L9 L2–L6)
			// of 186 (4%), 1 won of 19; on time 5 of 6.
			"*:calendar: October 2026, final figures*",
			"MQLs: *70* / 930 · 8% :red_circle:",
			"SQLs: *7* / 186 · 4% :red_circle:",
			"Won: *1* / 19 :red_circle:",
			"MQL → SQL: 10% (target 20%) :red_circle:",
			"SQL → won: 14% (target 10%) :large_green_circle:",
			"First touch on time: 83% (target 99%) :red_circle:",
		)
		if strings.Contains(text, "Least on time") {
			t.Errorf("nobody else has three decided leads, yet someone is named least on time:\n%s", text)
		}
		if want := "Smarketing report, week 44 (Oct 26–Nov 1): 30 MQLs, 7 SQLs; first touch on time 80% (target 99%); 1 breach."; msg.Text != want {
			t.Errorf("notification text %q, want %q", msg.Text, want)
		}

		files := e.fake.Files()
		if len(files) != 1 {
			t.Fatalf("%d files uploaded, want the chart", len(files))
		}
		f := files[0]
		if !f.Completed || len(f.Channels) != 1 || f.Channels[0] != reportChannel || f.Name != "smarketing-2026-W44.png" {
			t.Errorf("the chart was uploaded as %+v", f)
		}
		img, err := png.Decode(bytes.NewReader(f.Content))
		if err != nil {
			t.Fatalf("the uploaded chart is not a PNG: %v", err)
		}
		if got := img.Bounds().Size(); got.X != chart.Width || got.Y != chart.Height {
			t.Errorf("the chart is %v, want %d×%d", got, chart.Width, chart.Height)
		}
		if path := os.Getenv("SLABOT_CHART_OUT"); path != "" {
			if err := os.WriteFile(path, f.Content, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote the chart to %s", path)
		}
	})

	t.Run("the week after has November to date and no previous month", func(t *testing.T) {
		e.setNow(utc("2026-11-09 09:00"))
		week, _ := engine.ParseISOWeek("2026-W45", time.UTC)
		if err := b.PostWeeklyReport(ctx, week); err != nil {
			t.Fatal(err)
		}
		msgs := reportMessages(e.fake)
		if len(msgs) != 2 {
			t.Fatalf("%d report messages, want 2", len(msgs))
		}
		text := cardText(msgs[1])
		wantLines(t, text,
			"Smarketing report · week 45 (Nov 2–8)",
			"Month to date: November 1–8, 2026 · figures as of Mon Nov 9, 9:00 AM (UTC)",
			// Targets for 7 November days: 217 MQLs, 43.4 → 44 SQLs.
			"This week: *0* / 217 · 0% :red_circle:",
			"This week: *0* / 44 · 0% :red_circle:",
			// November 1–8: 8 days of 31 MQLs and 6.2 SQLs: 248, 49.6 → 50.
			"Month to date: *10* / 248 · 4% :red_circle:",
			"Month to date: *2* / 50 · 4% :red_circle:",
			"*Returned to Marketing:* none this week",
			"*Breaches:* none this week :white_check_mark:",
			"*Reached nobody:* none, every lead this week has a rep :white_check_mark:",
		)
		if strings.Contains(text, "final figures") {
			t.Errorf("the second report of November repeats October's figures:\n%s", text)
		}
		if n := len(e.fake.Files()); n != 2 {
			t.Errorf("%d charts uploaded, want 2", n)
		}
	})
}

func TestRenderReportStaysWithinSlackLimits(t *testing.T) {
	t.Parallel()
	// A bad week: many reps breaching, many return reasons, many away.
	r := engine.WeeklyReport{
		Week:      engine.WeekPeriod(2026, 47, time.UTC),
		Month:     engine.MonthPeriod(2026, time.November, time.UTC),
		Sales:     engine.SalesReport{Week: engine.Attainment{BreachesByRep: map[string]int{}, BreachesByKind: map[engine.BreachKind]int{"first_touch": 500}, Breaches: 500}},
		Marketing: engine.MarketingReport{ReturnsByReason: map[string]int{}},
	}
	for i := range 200 {
		r.Sales.Week.BreachesByRep[fmt.Sprintf("rep%03d-with-a-long-address@example.com", i)] = i%5 + 1
		r.Marketing.ReturnsByReason[strings.Repeat(fmt.Sprintf("reason %d ", i), 30)] = i + 1
		r.Away = append(r.Away, engine.Absence{Email: fmt.Sprintf("away%03d@example.com", i), Status: engine.RepAway,
			From: utc("2026-11-17 09:00"), To: utc("2026-11-19 17:00")})
	}
	blocks, fallback := slackui.RenderReport(bot.ReportView{Report: r})
	if len(blocks) > 50 {
		t.Errorf("%d blocks", len(blocks))
	}
	for _, bl := range blocks {
		if s, ok := bl.(*slack.SectionBlock); ok && len(s.Text.Text) > 3000 {
			t.Errorf("a section of %d bytes", len(s.Text.Text))
		}
	}
	if len(fallback) > 3000 {
		t.Errorf("notification text of %d bytes", len(fallback))
	}
	text := slackui.ReportText(blocks)
	if !strings.Contains(text, "• 192 others: ") || !strings.Contains(text, "and 192 more") {
		t.Errorf("long lists are not cut short:\n%s", text)
	}
}

func TestTheReportListsRepsAwayDuringTheWeekThoughBackNow(t *testing.T) {
	t.Parallel()
	e := newReportEnv(t, reportPolicy, nil, nil)
	seedReportData(t, e.db)
	b := e.newBot(nil)
	svc := engine.NewService(e.db, e.policy, func() time.Time { return *e.now.Load() }, e.logger)
	ctx := ctxTimeout(t, reportPatience)
	set := func(at string, by, rep string, away bool, until string) {
		t.Helper()
		e.setNow(utc(at))
		var u time.Time
		if until != "" {
			u = utc(until)
		}
		if _, err := svc.SetAvailability(ctx, engine.Actor{Email: by}, rep, away, u); err != nil {
			t.Fatal(err)
		}
	}
	// Week 44: Bo is away from Tuesday morning and says he is back on
	// Thursday afternoon; Maria sends Ana away on Wednesday until Friday,
	// and Ana is back on Friday by her return date, saying nothing.
	set("2026-10-27 09:00", "bo@example.com", "bo@example.com", true, "")
	set("2026-10-28 08:00", "maria@example.com", "ana@example.com", true, "2026-10-30 00:00")
	set("2026-10-29 16:00", "bo@example.com", "bo@example.com", false, "")

	awayLine := func(week string) string {
		t.Helper()
		e.setNow(utc("2026-11-09 09:00"))
		w, err := engine.ParseISOWeek(week, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		view, err := b.WeeklyReport(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		blocks, _ := slackui.RenderReport(view)
		for _, l := range strings.Split(slackui.ReportText(blocks), "\n") {
			if strings.HasPrefix(l, "Away:") {
				return l
			}
		}
		t.Fatalf("the report of %s has no away line", week)
		return ""
	}
	for _, email := range []string{"ana@example.com", "bo@example.com"} {
		if rep, err := e.db.RepByEmail(ctx, email); err != nil || !rep.Available(utc("2026-11-09 09:00")) {
			t.Fatalf("%s is %+v, %v; want back by now", email, rep, err)
		}
	}
	if got, want := awayLine("2026-W44"), "Away: Ana Alvarez (Wed Oct 28 – Thu Oct 29), Bo Berg (Tue Oct 27 – Thu Oct 29), Cy Chen (since Mon Oct 19, back Tue Dec 1)"; got != want {
		t.Errorf("week 44:\n got %s\nwant %s", got, want)
	}
	if got, want := awayLine("2026-W45"), "Away: Cy Chen (since Mon Oct 19, back Tue Dec 1)"; got != want {
		t.Errorf("week 45, after they came back:\n got %s\nwant %s", got, want)
	}
}

func TestReportWeek(t *testing.T) {
	t.Parallel()
	tests := []struct{ at, want string }{
		{"2026-11-23 09:00", "2026-W47"}, // Monday: the week that just ended
		{"2026-11-25 18:00", "2026-W47"}, // Wednesday
		{"2026-11-26 09:00", "2026-W48"}, // Thursday: this week
		{"2026-11-29 23:00", "2026-W48"}, // Sunday
		{"2027-01-04 09:00", "2026-W53"}, // across the new year
	}
	for _, tt := range tests {
		if got := bot.ISOWeek(bot.ReportWeek(utc(tt.at), time.UTC)); got != tt.want {
			t.Errorf("ReportWeek(%s) = %s, want %s", tt.at, got, tt.want)
		}
	}
}

// slackSyntax is Slack markup that has no place in a view: emphasis marks
// and emoji shortcodes belong to the renderer.
var slackSyntax = regexp.MustCompile(`[*_]|:[a-z_]+:`)

func TestTheReportIsAViewWithItsChartAndNoSlackSyntax(t *testing.T) {
	t.Parallel()
	prev, pf := engine.Attainment{HasOnTimeData: true, OnTimeShare: 0.5, OnTimeTarget: 0.9, Breaches: 2},
		engine.Funnel{Period: engine.MonthPeriod(2026, time.October, time.UTC), MQLs: 5, MQLTarget: 10, SQLs: 2, SQLTarget: 2, WonTarget: 1, DaysElapsed: 31, DaysInPeriod: 31}
	r := engine.WeeklyReport{
		Week: engine.WeekPeriod(2026, 47, time.UTC), Month: engine.MonthPeriod(2026, time.November, time.UTC),
		ReviewReminder: "Review the agreement by Friday.", Unrouted: 1,
		Sales: engine.SalesReport{Week: engine.Attainment{Breaches: 1, BreachesByRep: map[string]int{"ana@example.com": 1},
			BreachesByKind: map[engine.BreachKind]int{engine.BreachFirstTouch: 1}, HasOnTimeData: true, OnTimeShare: 0.5, OnTimeTarget: 0.9, FirstTouchClosed: 1}},
		Marketing:     engine.MarketingReport{ReturnsByReason: map[string]int{"no budget": 2}, WeekFunnel: engine.Funnel{MQLs: 4, MQLTarget: 10, SQLs: 1, SQLTarget: 2}},
		PreviousMonth: &prev, PreviousMonthFunnel: &pf,
	}
	m, err := bot.ReportMessage(bot.ReportView{Report: r})
	if err != nil {
		t.Fatal(err)
	}
	var images []view.Image
	var markers int
	for _, blk := range m.Blocks {
		var lines []view.Text
		switch b := blk.(type) {
		case view.Image:
			images = append(images, b)
		case view.Section:
			lines = b.Lines
		case view.Context:
			lines = b.Lines
		case view.Heading:
			lines = []view.Text{view.T(b.Text)}
		}
		for _, l := range lines {
			for _, span := range l {
				if span.Marker != "" {
					markers++
				}
				if slackSyntax.MatchString(span.Text) {
					t.Errorf("the report's view carries Slack markup: %q", span.Text)
				}
			}
		}
	}
	if markers == 0 {
		t.Error("the report's view has no markers: its dots and section signs are lost")
	}
	if len(images) != 1 {
		t.Fatalf("%d images in the report's view, want its chart", len(images))
	}
	img := images[0]
	if _, err := png.Decode(bytes.NewReader(img.PNG)); err != nil {
		t.Errorf("the chart is not a PNG: %v", err)
	}
	if img.Title != "SQLs against target, November 2026" || !strings.HasPrefix(img.Alt, "Chart for November 2026: cumulative SQLs") {
		t.Errorf("the chart is titled %q, described %q", img.Title, img.Alt)
	}
	if blocks, _ := slackui.RenderReport(bot.ReportView{Report: r}); len(blocks) != len(m.Blocks)-1 {
		t.Errorf("%d Slack blocks for %d view blocks and a chart: the figures should render a block each", len(blocks), len(m.Blocks))
	}
}
