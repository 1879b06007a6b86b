package benchgen_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/benchgen"
	"github.com/slabot/slabot/storage/storagetest"
)

// testNow is a Thursday afternoon in New York, as Anchor picks.
var testNow = time.Date(2026, 11, 19, 19, 30, 0, 0, time.UTC)

func TestAnchor(t *testing.T) {
	loc, _ := time.LoadLocation(benchgen.PolicyTimezone)
	for _, at := range []time.Time{testNow, testNow.Add(time.Minute), testNow.Add(-time.Minute), testNow.AddDate(0, 0, 3), time.Now()} {
		a := benchgen.Anchor(at)
		la := a.In(loc)
		if a.After(at) || at.Sub(a) >= 7*24*time.Hour || la.Weekday() != time.Thursday || la.Hour() != 14 || la.Minute() != 30 {
			t.Errorf("Anchor(%v) = %v (%v)", at, a, la)
		}
	}
	if got := benchgen.Anchor(testNow.Add(-time.Minute)); !got.Equal(testNow.AddDate(0, 0, -7)) {
		t.Errorf("a minute before the anchor, Anchor = %v, want the week before", got)
	}
}

func TestPolicyParses(t *testing.T) {
	for _, n := range []int{20_000, 1_000_000} {
		p, err := benchgen.Policy(benchgen.Config{Leads: n, Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Teams) != 50 || len(p.Teams[4].Reps) != 10 || p.Teams[4].Reps[2] != "rep042@bench.test" ||
			p.Teams[7].Name != "team07" || p.Teams[7].Manager != "manager07@bench.test" {
			t.Errorf("teams: %+v", p.Teams[:1])
		}
		if len(p.Rules) != 5 || p.Calendar == nil || p.Report.Channel != benchgen.ReportChannel {
			t.Errorf("policy: %d rules, calendar %v, report %+v", len(p.Rules), p.Calendar, p.Report)
		}
	}
}

// TestGenerate generates a small history and checks it against the
// engine: every lead loads, belongs to a rule and a team of the policy,
// and every breach the engine would find on an open lead now was
// recorded, as the engine's timers record them.
func TestGenerate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	cfg := benchgen.Config{Leads: 3000, Now: testNow}
	stats, err := benchgen.Generate(ctx, db, cfg, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(stats)
	policy, err := benchgen.Policy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Leads != 3000 || stats.MQLs != 12000 {
		t.Errorf("%d leads, %d MQLs", stats.Leads, stats.MQLs)
	}
	if per := float64(stats.Touches) / float64(stats.Leads); per < 2.5 || per > 3.6 {
		t.Errorf("%.2f touches a lead, want about 3", per)
	}
	if stats.Open < 150 || stats.Open > 1200 || stats.ByState["won"] == 0 || stats.ByState["lost"] == 0 ||
		stats.ByState["returned_to_marketing"] == 0 || stats.Breaches["first_touch"] == 0 || stats.Breaches["cadence"] == 0 ||
		stats.Reassigned == 0 || stats.ReturnedBreached == 0 {
		t.Errorf("an unlikely mix: %v", stats)
	}

	facts, err := db.LeadFacts(ctx, testNow.AddDate(-2, 0, 0), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(facts) != 3000 {
		t.Fatalf("LeadFacts over the whole history loaded %d leads", len(facts))
	}
	var breaches, checked int
	for i := range facts {
		f := &facts[i]
		l := &f.Lead
		rule := policy.Rule(l.Rule)
		team := policy.Team(l.Team)
		if rule == nil || team == nil || policy.TeamOf(l.OwnerEmail) != team {
			t.Fatalf("lead %d: rule %q, team %q, owner %q are not the policy's", l.ID, l.Rule, l.Team, l.OwnerEmail)
		}
		if l.AssignedAt.IsZero() || l.FirstTouchDue.IsZero() || l.AssignedAt.After(testNow) || l.ReceivedAt.Before(l.HandedOffAt) {
			t.Fatalf("lead %d is not one the engine makes: %+v", l.ID, l)
		}
		if i%500 == 0 { // LeadFacts leaves the context out: read the lead whole
			whole, err := db.LeadByID(ctx, l.ID)
			if err != nil || whole.Contact.Email == "" || whole.Company.Name == "" || len(whole.Context.Form) == 0 {
				t.Fatalf("lead %d has no context to show: %+v, %v", l.ID, whole, err)
			}
		}
		if want := policy.LeadDeadlines(rule, l, l.AssignedAt).FirstTouchDue; !l.FirstTouchDue.Equal(want) {
			t.Fatalf("lead %d: first touch due %v, the policy says %v", l.ID, l.FirstTouchDue, want)
		}
		if l.State.Open() != l.ClosedAt.IsZero() && l.State != engine.StateOpportunity {
			t.Fatalf("lead %d is %s with closed_at %v", l.ID, l.State, l.ClosedAt)
		}
		breaches += len(f.Breaches)
		if !l.State.Open() {
			continue
		}
		// What the engine's timers would have found by now (they run a few
		// seconds after each deadline) must be on record.
		for _, b := range policy.Breaches(rule, l, f.Touches, testNow.Add(-5*time.Second)) {
			checked++
			found := false
			for _, r := range f.Breaches {
				found = found || (r.Kind == b.Kind && r.Due.Equal(b.Due))
			}
			if !found {
				t.Errorf("lead %d (%s, assigned %v, touches %v): the engine finds a %s breach due %v that was not recorded (recorded: %+v)",
					l.ID, l.State, l.AssignedAt, f.Touches, b.Kind, b.Due, f.Breaches)
			}
		}
	}
	if int64(breaches) != stats.Breaches["first_touch"]+stats.Breaches["cadence"] || checked == 0 {
		t.Errorf("%d breaches loaded, %v generated; %d checked against the engine", breaches, stats.Breaches, checked)
	}

	quarter, _ := engine.PeriodContaining("quarter", testNow, policy.Location)
	a := engine.ComputeAttainment(policy, facts, engine.Scope{Kind: engine.ScopeAll}, quarter, testNow)
	t.Logf("quarter: %d SQLs, on time %d late %d pending %d closed %d (%.1f%%), cadence met %d missed %d, breaches %d, open %d, won %d",
		a.SQLs, a.FirstTouchOnTime, a.FirstTouchLate, a.FirstTouchPending, a.FirstTouchClosed, 100*a.OnTimeShare,
		a.CadenceMet, a.CadenceMissed, a.Breaches, a.OpenLeads, a.Won)
	if a.OnTimeShare < 0.6 || a.OnTimeShare > 0.97 || a.CadenceMet == 0 || a.CadenceMissed == 0 || a.Won == 0 {
		t.Errorf("unlikely figures for the quarter: %+v", a)
	}
	var owner string
	if err := db.Pool().QueryRow(ctx, `SELECT owner_email FROM leads WHERE state = 'working' ORDER BY id LIMIT 1`).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	open, err := db.OpenLeadsOf(ctx, owner)
	if err != nil || len(open) == 0 {
		t.Errorf("%s has %d open leads: %v", owner, len(open), err)
	}
	mqls, err := db.MQLs(ctx, quarter.Start, quarter.End)
	if err != nil || len(mqls) == 0 {
		t.Errorf("%d MQLs in the quarter: %v", len(mqls), err)
	}
	// The engine works on the generated rows: a touch on an open lead, and
	// a new hand-off after the history (the sequences go on from it).
	service := engine.NewService(db, policy, func() time.Time { return testNow.Add(time.Minute) }, nil)
	lead, added, err := service.LogTouch(ctx, open[0].Lead.ID, engine.Actor{Email: owner}, engine.TouchInput{Kind: engine.TouchCall})
	if err != nil || !added || lead.State != engine.StateWorking {
		t.Errorf("a touch on generated lead %d: %v, added %v, %+v", open[0].Lead.ID, err, added, lead)
	}
	res, err := service.HandOff(ctx, engine.HandOff{ExternalID: "after-the-history", Source: "demo_request",
		OwnerEmail: benchgen.RepEmail(42), Contact: engine.Contact{Email: "new@buyer.test"}})
	if err != nil || res.Lead.ID != 3001 || res.Lead.OwnerEmail != benchgen.RepEmail(42) || res.Lead.Rule != benchgen.RuleDemoRequest {
		t.Errorf("a hand-off after the history: %v, %+v", err, res)
	}
	var fks int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_constraint WHERE contype = 'f'
		AND connamespace = current_schema()::regnamespace AND confrelid = 'leads'::regclass`).Scan(&fks); err != nil || fks < 3 {
		t.Errorf("%d foreign keys to leads after generating: %v", fks, err)
	}
}

// TestOpenKeepsAndReuses generates through Open, then finds the same
// history kept, with the same rows.
func TestOpenKeepsAndReuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := storagetest.URL(t)
	cfg := benchgen.Config{Leads: 500, Now: testNow, Seed: uint64(time.Now().UnixNano()%1_000_000 + 2)}
	schema := benchgen.SchemaName(cfg)
	if !strings.HasPrefix(schema, "bench_500_s") {
		t.Fatalf("schema %q", schema)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Error(err)
		}
	})
	sum := func(db *storage.DB) string {
		var s string
		if err := db.Pool().QueryRow(ctx, `SELECT md5(string_agg(l::text, '|' ORDER BY id)) FROM leads l`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		var e string
		if err := db.Pool().QueryRow(ctx, `SELECT md5(string_agg(e::text, '|' ORDER BY id)) FROM lead_events e`).Scan(&e); err != nil {
			t.Fatal(err)
		}
		return s + e
	}
	db, info, err := benchgen.Open(ctx, url, cfg, storage.Options{}, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	first := sum(db)
	db.Close()
	if !info.Generated || info.Schema != schema || info.Policy == nil {
		t.Fatalf("first Open: %+v", info)
	}
	cfg.Now = time.Time{} // take the kept history's end
	db, info, err = benchgen.Open(ctx, url, cfg, storage.Options{}, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if info.Generated || !info.Config.Now.Equal(testNow) || info.Stats.Leads != 500 {
		t.Fatalf("second Open: generated %v, now %v, stats %v", info.Generated, info.Config.Now, info.Stats)
	}
	if sum(db) != first {
		t.Error("the kept history changed")
	}
	// The same Config in another schema gives the same rows.
	other := storagetest.NewDB(t)
	if _, err := benchgen.Generate(ctx, other, info.Config, nil); err != nil {
		t.Fatal(err)
	}
	if sum(other) != first {
		t.Error("the same Config gave different rows")
	}
}

// scopedConfig is the history of TestScopedFactsGiveTheSameFigures: 3,000
// leads on ten teams of ten reps, so that each team and rep it asks about
// has leads and breaches in the quarter; or, with
// SLABOT_ORACLE_LEADS set (`make test-oracle`: 20000, the size it once
// always ran on), that many on the full floor of fifty teams.
func scopedConfig(t *testing.T) benchgen.Config {
	t.Helper()
	s := os.Getenv("SLABOT_ORACLE_LEADS")
	if s == "" {
		return benchgen.Config{Leads: 3_000, Now: testNow, Teams: 10}
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil || n <= 0 {
		t.Fatalf("SLABOT_ORACLE_LEADS=%q is not a number of leads", s)
	}
	return benchgen.Config{Leads: n, Now: testNow}
}

// TestScopedFactsGiveTheSameFigures keeps the whole period's leads as the
// oracle of LeadFactsFor: a rep's and a team's figures over a generated
// history (reassigned leads, breaches by former owners, leads of other
// teams) are the same from the scoped load as from everything.
func TestScopedFactsGiveTheSameFigures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	cfg := scopedConfig(t)
	if _, err := benchgen.Generate(ctx, db, cfg, t.Logf); err != nil {
		t.Fatal(err)
	}
	policy, err := benchgen.Policy(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Teams and reps every floor has (teams team00 to team09 at least), one
	// of each written as people might: in capitals, with spaces around.
	scopes := []engine.Scope{{Kind: engine.ScopeTeam, Team: "team04"}, {Kind: engine.ScopeTeam, Team: "TEAM07 "},
		{Kind: engine.ScopeRep, Rep: "rep042@bench.test"}, {Kind: engine.ScopeRep, Rep: " Rep071@Bench.test"}}
	for _, kind := range []string{"week", "month", "quarter"} {
		period, err := engine.PeriodContaining(kind, testNow, policy.Location)
		if err != nil {
			t.Fatal(err)
		}
		all, err := db.LeadFacts(ctx, period.Start, period.End)
		if err != nil {
			t.Fatal(err)
		}
		for _, scope := range scopes {
			var emails []string
			if scope.Kind == engine.ScopeTeam {
				for _, r := range policy.Team(strings.TrimSpace(scope.Team)).Reps {
					emails = append(emails, strings.ToLower(r))
				}
			}
			some, err := db.LeadFactsFor(ctx, period.Start, period.End, scope, emails)
			if err != nil {
				t.Fatal(err)
			}
			want := engine.ComputeAttainment(policy, all, scope, period, testNow)
			got := engine.ComputeAttainment(policy, some, scope, period, testNow)
			if kind == "quarter" && (want.SQLs == 0 || want.Breaches == 0) {
				t.Errorf("%s, %s: %d SQLs and %d breaches: too little to compare; pick a busier scope", kind, scope, want.SQLs, want.Breaches)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s, %s: %d of %d leads loaded, figures differ (-all +scoped):\n%s", kind, scope, len(some), len(all), diff)
			}
			if len(some) >= len(all) {
				t.Errorf("%s, %s: the scoped load holds all %d leads", kind, scope, len(all))
			}
		}
	}
}
