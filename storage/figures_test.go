package storage_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/benchgen"
	"github.com/slabot/slabot/storage/storagetest"
)

// The engine's computation over every lead of the period is the oracle of
// the SQL figures (storage.DB.Attainment and Funnel over lead_facts): on
// a generated history, for every scope and period, as of several nows,
// and again after changes that must refresh the figures.

// figuresNow is a Thursday afternoon in New York, as benchgen.Anchor picks.
var figuresNow = time.Date(2026, 11, 19, 19, 30, 0, 0, time.UTC)

// figureScopes name teams and reps every oracle history has (teams team00
// to team09 at least), one of each written as people might: in capitals,
// with spaces around.
var figureScopes = []engine.Scope{{Kind: engine.ScopeAll}, {Kind: engine.ScopeTeam, Team: "team04"},
	{Kind: engine.ScopeTeam, Team: "TEAM07 "}, {Kind: engine.ScopeRep, Rep: "rep042@bench.test"},
	{Kind: engine.ScopeRep, Rep: " Rep071@Bench.test"}}

// oracleLeads is the size of the generated history the oracle tests share
// when SLABOT_ORACLE_LEADS is not set: more than OnDemandRefreshLimit, so
// that a new policy makes the answers count in Go
// (TestAnswersWithManyStaleLeadsAreComputedInGo), on a floor of ten teams,
// so that every team and rep scope of figureScopes has leads in every
// period compared.
const oracleLeads = 6_000

// oracleConfig is the generated history the oracle tests share (the SQL
// figures', the scorecard's, the replay's, the team calendars' and the
// many stale leads' tests), twelve months to figuresNow: oracleLeads leads
// on ten teams of ten reps, or, with SLABOT_ORACLE_LEADS set (`make
// test-oracle`: 20000, the size these tests once always ran on), that
// many leads on benchgen's full floor of fifty teams.
func oracleConfig(t *testing.T) benchgen.Config {
	t.Helper()
	s := os.Getenv("SLABOT_ORACLE_LEADS")
	if s == "" {
		return benchgen.Config{Leads: oracleLeads, Now: figuresNow, Teams: 10}
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil || n <= storage.OnDemandRefreshLimit {
		t.Fatalf("SLABOT_ORACLE_LEADS=%q: want a number of leads above storage.OnDemandRefreshLimit (%d)", s, storage.OnDemandRefreshLimit)
	}
	return benchgen.Config{Leads: n, Now: figuresNow}
}

// oracleDB is a database of the test's own holding the oracle history
// (oracleConfig) and its policy.
func oracleDB(t *testing.T) (*storage.DB, benchgen.Config, *engine.Policy) {
	t.Helper()
	cfg := oracleConfig(t)
	db := generatedDB(t, cfg)
	policy, err := benchgen.Policy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return db, cfg, policy
}

// figurePeriods are the spans the answers ask for as of now: this week,
// month and quarter, and last week and month (the report's).
func figurePeriods(t *testing.T, p *engine.Policy, now time.Time) []engine.Period {
	t.Helper()
	var out []engine.Period
	for _, kind := range []string{"week", "month", "quarter"} {
		period, err := engine.PeriodContaining(kind, now, p.Location)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, period)
	}
	lastWeek, _ := engine.PeriodContaining("week", now.AddDate(0, 0, -7), p.Location)
	lastMonth, _ := engine.PeriodContaining("month", out[1].Start.Add(-time.Hour), p.Location)
	return append(out, lastWeek, lastMonth)
}

// compared counts the figures a check compared that were not zero, by the
// figure's name and by scope, so that a test can tell it compared
// something of each.
type compared struct {
	total             int
	byFigure, byScope map[string]int
}

func (c *compared) add(scope engine.Scope, figures map[string]int) {
	if c.byFigure == nil {
		c.byFigure, c.byScope = map[string]int{}, map[string]int{}
	}
	for name, n := range figures {
		if n != 0 {
			c.total++
			c.byFigure[name]++
			c.byScope[scope.String()]++
		}
	}
}

// atLeast fails the test unless the check compared at least min non-zero
// figures, and something non-zero of every scope of figureScopes.
func (c compared) atLeast(t *testing.T, min int, what string) {
	t.Helper()
	t.Logf("%s: %d non-zero figures compared; by figure %v; by scope %v", what, c.total, c.byFigure, c.byScope)
	if c.total < min {
		t.Errorf("%s: only %d non-zero figures were compared, want at least %d", what, c.total, min)
	}
	for _, scope := range figureScopes {
		if c.byScope[scope.String()] == 0 {
			t.Errorf("%s: every figure of %s was zero: it was not compared", what, scope)
		}
	}
}

// everyFigure fails the test unless each figure was non-zero at least once
// in checks: a history too thin to move a figure would let a bug in it
// through.
func everyFigure(t *testing.T, checks ...compared) {
	t.Helper()
	for name := range attainmentFigures(engine.Attainment{}) {
		seen := 0
		for _, c := range checks {
			seen += c.byFigure[name]
		}
		if seen == 0 {
			t.Errorf("%s was zero in every scope, period and now: it was not compared", name)
		}
	}
}

// attainmentFigures are the counts of an attainment that checkFigures
// wants compared non-zero, by name.
func attainmentFigures(a engine.Attainment) map[string]int {
	return map[string]int{"SQLs": a.SQLs, "FirstTouchOnTime": a.FirstTouchOnTime, "FirstTouchLate": a.FirstTouchLate,
		"FirstTouchPending": a.FirstTouchPending, "FirstTouchClosed": a.FirstTouchClosed, "CadenceMet": a.CadenceMet,
		"CadenceMissed": a.CadenceMissed, "CadenceRunning": a.CadenceRunning, "Breaches": a.Breaches, "Returns": a.Returns,
		"Won": a.Won, "Lost": a.Lost, "Opportunities": a.Opportunities, "OpenLeads": a.OpenLeads,
		"RoutingDelay": a.RoutingDelay.Count}
}

// checkFigures compares, for every scope and period as of now, the SQL
// figures with the engine's over LeadFacts; it returns what it compared
// that was not zero.
func checkFigures(t *testing.T, db *storage.DB, p *engine.Policy, now time.Time, what string) compared {
	t.Helper()
	ctx := context.Background()
	var nonZero compared
	for _, period := range figurePeriods(t, p, now) {
		facts, err := db.LeadFacts(ctx, period.Start, period.End)
		if err != nil {
			t.Fatal(err)
		}
		for _, scope := range figureScopes {
			want := engine.ComputeAttainment(p, facts, scope, period, now)
			got, err := db.Attainment(ctx, p, scope, period, now)
			if err != nil {
				t.Fatalf("%s: %s, %s: %v", what, scope, period.Label, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: %s, %s as of %s: figures differ (-engine +SQL):\n%s", what, scope, period.Label, now.Format(time.RFC3339), diff)
			}
			nonZero.add(scope, attainmentFigures(want))
		}
		mqls, err := db.MQLs(ctx, period.Start, period.End)
		if err != nil {
			t.Fatal(err)
		}
		want := engine.ComputeFunnel(p, facts, mqls, period, now)
		got, err := db.Funnel(ctx, p, period, now)
		if err != nil {
			t.Fatalf("%s: funnel, %s: %v", what, period.Label, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: funnel of %s as of %s differs (-engine +SQL):\n%s", what, period.Label, now.Format(time.RFC3339), diff)
		}
	}
	nonZero.add(engine.Scope{Kind: engine.ScopeAll}, map[string]int{"report ranks": checkReports(t, db, p, now, what)})
	return nonZero
}

// checkReports compares the weekly reports of this week, last week and
// the week holding the 1st of this month (which carries last month's
// figures) from the SQL figures with engine.BuildReport over what
// bot.LoadReport loads.
func checkReports(t *testing.T, db *storage.DB, p *engine.Policy, now time.Time, what string) int {
	t.Helper()
	ctx := context.Background()
	month, _ := engine.PeriodContaining("month", now, p.Location)
	bestAndWorst := 0
	for _, day := range []time.Time{now, now.AddDate(0, 0, -7), month.Start.Add(time.Hour)} {
		week, _ := engine.PeriodContaining("week", day, p.Location)
		spans := engine.ReportSpansOf(week, now)
		from, to := spans.LoadSpan(now)
		facts, err := db.LeadFacts(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		mqls, err := db.MQLs(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		reps, err := db.Reps(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var history []engine.RepEvent
		if err := db.InTx(ctx, func(tx engine.Tx) error {
			var err error
			history, err = tx.RepEvents(ctx, week.Start, to)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		want := engine.BuildReport(p, engine.ReportData{Facts: facts, MQLs: mqls, Reps: reps, RepHistory: history}, week, now)
		got, err := db.WeeklyReport(ctx, p, week, now)
		if err != nil {
			t.Fatalf("%s: report of %s: %v", what, week.Label, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: report of %s as of %s differs (-engine +SQL):\n%s", what, week.Label, now.Format(time.RFC3339), diff)
		}
		sqls := want.Sales.Week.SQLs + want.Sales.MonthToDate.SQLs
		if want.PreviousMonth != nil {
			sqls += want.PreviousMonth.SQLs
		}
		if sqls == 0 || (day.Equal(month.Start.Add(time.Hour)) && want.PreviousMonth == nil) {
			t.Errorf("%s: report of %s: nothing to compare: %d SQLs, previous month %v", what, week.Label, sqls, want.PreviousMonth != nil)
		}
		bestAndWorst += len(want.Best) + len(want.Worst)
	}
	return bestAndWorst
}

// generatedDB is a database of the test's own holding benchgen's history
// for cfg, generated once per test binary and server and copied for each
// test that asks for the same (the oracle history, oracleConfig).
func generatedDB(t *testing.T, cfg benchgen.Config) *storage.DB {
	t.Helper()
	return storagetest.NewDBWith(t, fmt.Sprintf("benchgen.Generate %+v", cfg), func(ctx context.Context, db *storage.DB) error {
		_, err := benchgen.Generate(ctx, db, cfg, nil)
		return err
	})
}

// staleCount is how many leads wait for their figures.
func staleCount(t *testing.T, db *storage.DB) int {
	t.Helper()
	var n int
	if err := db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM lead_facts_stale`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSQLFiguresMatchTheEngine(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, _, policy := oracleDB(t)
	if n := staleCount(t, db); n != 0 {
		t.Fatalf("%d leads still stale after generating", n)
	}
	// As of the history's end, earlier (touches and closings after that
	// now must not count), and a week later (deadlines passed, windows
	// closed since).
	var checks []compared
	for _, now := range []time.Time{figuresNow, figuresNow.Add(-50 * time.Hour), figuresNow.AddDate(0, 0, 8).Add(3 * time.Hour)} {
		c := checkFigures(t, db, policy, now, "generated")
		c.atLeast(t, 100, fmt.Sprint("generated, as of ", now))
		checks = append(checks, c)
	}
	everyFigure(t, checks...)

	if checkReports(t, db, policy, figuresNow, "generated") == 0 {
		t.Error("no report ranks any rep: the rep lines were not compared")
	}

	// Changes through the engine and straight in SQL mark leads stale, and
	// the next answer counts them.
	now := figuresNow.Add(2 * time.Hour)
	service := engine.NewService(db, policy, func() time.Time { return now }, nil)
	rep := "rep042@bench.test"
	open, err := db.OpenLeadsOf(ctx, rep)
	if err != nil || len(open) < 4 {
		t.Fatalf("%s has %d open leads: %v", rep, len(open), err)
	}
	actor := engine.Actor{Email: rep}
	if _, _, err := service.LogTouch(ctx, open[0].Lead.ID, actor, engine.TouchInput{Kind: engine.TouchCall}); err != nil {
		t.Fatal(err)
	}
	if _, err := service.ReturnToMarketing(ctx, open[1].Lead.ID, actor, "wrong country"); err != nil {
		t.Fatal(err)
	}
	if _, err := service.SetOutcome(ctx, open[2].Lead.ID, actor, "won", 4321.5, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A reassignment to another team and a first-touch breach recorded
	// against the old owner, as the timers would write them.
	moved := open[3].Lead
	if _, err := db.Pool().Exec(ctx, `UPDATE leads SET owner_email = 'rep071@bench.test', team = 'team07',
		assigned_at = $2, first_touch_due = $3, reassignments = reassignments + 1, first_touch_at = NULL WHERE id = $1`,
		moved.ID, now.Add(-30*time.Minute), now.Add(30*time.Minute)); err != nil {
		t.Fatal(err)
	}
	b := engine.Breach{LeadID: moved.ID, Kind: engine.BreachFirstTouch, Rule: moved.Rule, RepEmail: rep, Team: "team04",
		Due: now.Add(-31 * time.Minute), At: now.Add(-31 * time.Minute)}
	ev := engine.BreachEvent(b)
	if _, err := db.Pool().Exec(ctx, `INSERT INTO lead_events (lead_id, at, kind, actor, data) VALUES ($1, $2, $3, $4, $5)`,
		ev.LeadID, ev.At, ev.Kind, ev.Actor, ev.Data); err != nil {
		t.Fatal(err)
	}
	res, err := service.HandOff(ctx, engine.HandOff{ExternalID: "after-the-history", Source: "demo_request",
		OwnerEmail: rep, Contact: engine.Contact{Email: "new@buyer.test"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := staleCount(t, db); n != 5 {
		t.Errorf("%d leads stale after changes to 5", n)
	}
	checkFigures(t, db, policy, now, "after changes")
	if n := staleCount(t, db); n != 0 {
		t.Errorf("%d leads still stale after an answer", n)
	}
	// The new lead is counted: it is this week's and rep042's.
	week, _ := engine.PeriodContaining("week", now, policy.Location)
	a, err := db.Attainment(ctx, policy, engine.Scope{Kind: engine.ScopeRep, Rep: rep}, week, now)
	if err != nil {
		t.Fatal(err)
	}
	if a.FirstTouchPending == 0 || res.Lead.OwnerEmail != rep {
		t.Errorf("the new lead of %s is not pending in its week: %+v", rep, a)
	}
}

// TestAChangeDuringARefreshLeavesTheLeadStale commits a touch between the
// refresh reading a lead and writing its figures: the figures written are
// the older ones, so the lead must stay stale, and the next answer must
// count the touch.
func TestAChangeDuringARefreshLeavesTheLeadStale(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := benchgen.Config{Leads: 600, Now: figuresNow}
	db := generatedDB(t, cfg)
	policy, err := benchgen.Policy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	var owner string
	if err := db.Pool().QueryRow(ctx, `SELECT id, owner_email FROM leads WHERE state = 'notified' AND received_at < $1
		ORDER BY id LIMIT 1`, figuresNow).Scan(&id, &owner); err != nil {
		t.Fatal(err)
	}
	now := figuresNow.Add(time.Minute)
	service := engine.NewService(db, policy, func() time.Time { return now }, nil)
	// Mark it stale (a snooze is no change to the figures; an
	// acknowledgement neither; a state change is).
	if _, err := db.Pool().Exec(ctx, `UPDATE leads SET state = 'acknowledged' WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	if n := staleCount(t, db); n != 1 {
		t.Fatalf("%d leads stale after one change", n)
	}
	err = db.RefreshInTwoStepsForTest(ctx, policy, func() {
		if _, _, err := service.LogTouch(ctx, id, engine.Actor{Email: owner}, engine.TouchInput{Kind: engine.TouchEmail}); err != nil {
			t.Fatal(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := staleCount(t, db); n != 1 {
		t.Errorf("%d leads stale after a touch committed during the refresh, want 1", n)
	}
	checkFigures(t, db, policy, now, "after a touch during a refresh")
	if n := staleCount(t, db); n != 0 {
		t.Errorf("%d leads still stale after an answer", n)
	}
}

// TestAnswersWithManyStaleLeadsAreComputedInGo: past OnDemandRefreshLimit
// stale leads (a big import, a new policy) an answer is worked out in Go
// with the same figures, and the background refresh then catches up.
func TestAnswersWithManyStaleLeadsAreComputedInGo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, cfg, policy := oracleDB(t)
	// A new policy: the first rule's first touch is longer, which changes
	// on-time shares, so figures kept under the old one would be wrong.
	yaml := benchgen.PolicyYAML(cfg)
	changed, probs := engine.ParsePolicy([]byte(strings.Replace(yaml, "first_touch: 15m", "first_touch: 2h", 1)), figuresNow)
	if err := probs.Err(); err != nil {
		t.Fatal(err)
	}
	if engine.FiguresFingerprint(changed) == engine.FiguresFingerprint(policy) {
		t.Fatal("the changed policy has the same fingerprint")
	}
	if _, err := db.Attainment(ctx, changed, engine.Scope{}, figurePeriods(t, changed, figuresNow)[0], figuresNow); err != nil {
		t.Fatal(err)
	}
	if n := staleCount(t, db); n <= storage.OnDemandRefreshLimit {
		t.Errorf("%d leads stale under a new policy, want more than %d", n, storage.OnDemandRefreshLimit)
	}
	checkFigures(t, db, changed, figuresNow, "under a new policy, in Go")
	// The first answer started a catch-up in the background.
	deadline := time.Now().Add(time.Minute)
	for staleCount(t, db) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := staleCount(t, db); n > 0 {
		t.Fatalf("%d leads still stale a minute after the first answer", n)
	}
	checkFigures(t, db, changed, figuresNow, "under a new policy, caught up")
}

// TestTheRefreshLoopKeepsUp: with RefreshLeadFactsLoop running, a change
// leaves no stale lead behind for long, and the loop ends with its context.
func TestTheRefreshLoopKeepsUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := benchgen.Config{Leads: 300, Now: figuresNow}
	db := generatedDB(t, cfg)
	policy, err := benchgen.Policy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	loopCtx, cancel := context.WithCancel(ctx)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		db.RefreshLeadFactsLoop(loopCtx, func() *engine.Policy { return policy }, 20*time.Millisecond)
	}()
	if _, err := db.Pool().Exec(ctx, `UPDATE leads SET state = 'lost', closed_at = $1 WHERE id IN (1, 2, 3)`, figuresNow); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for staleCount(t, db) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := staleCount(t, db); n > 0 {
		t.Errorf("%d leads still stale with the loop running", n)
	}
	var lost int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM lead_facts WHERE lead_id IN (1, 2, 3) AND state = 'lost' AND closed_at = $1`,
		figuresNow).Scan(&lost); err != nil || lost != 3 {
		t.Errorf("%d of 3 leads' figures say lost: %v", lost, err)
	}
	cancel()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the loop did not end with its context")
	}
}
