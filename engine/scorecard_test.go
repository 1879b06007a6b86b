package engine

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The scorecard's expected numbers below were worked out by hand from the
// fixtures (each lead's comment says how it counts).

// scPolicyYAML has three rules, two with a min_score, so the score bands
// come from the rules: under 50, 50–79, 80+.
const scPolicyYAML = `
timezone: America/New_York
business_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
holidays: ["2026-11-26"]
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: demo-request
    match: {source: demo_request, min_score: 80}
    first_touch: 15m
    touches: {count: 2, within: 2d}
    on_breach: [notify_manager]
  - name: qualified
    match: {min_score: 50}
    first_touch: 1h
    on_breach: [notify_manager]
  - name: default
    first_touch: 4h
    on_breach: [notify_manager]
`

// scFacts are November 2026's leads (and one of October) in New York.
func scFacts() []LeadFacts {
	lead := func(id int64, source string, score int, rule string, received string) Lead {
		return Lead{ID: id, Source: source, Segment: "smb", Score: score, Rule: rule, OwnerEmail: "ana@example.com",
			Team: "sdr-east", State: StateWorking, HandedOffAt: ny(received), ReceivedAt: ny(received), AssignedAt: ny(received)}
	}
	var f []LeadFacts
	// 1: demo, touched 5 business minutes after a Monday 10:00 hand-off:
	// on time; cadence met by its 2nd touch; then won 500.
	l := lead(1, "demo_request", 90, "demo-request", "2026-11-16 10:00")
	l.State, l.ClosedAt, l.Amount = StateWon, ny("2026-11-20 12:00"), 500
	f = append(f, LeadFacts{Lead: l, Touches: []time.Time{ny("2026-11-16 10:05"), ny("2026-11-17 10:00")},
		OpportunityAt: ny("2026-11-18 10:00")})
	// 2: demo received Friday 16:55, touched Monday 09:20: 25 business
	// minutes, late (15m due Monday 09:10); cadence (2 in 2 days) missed.
	l = lead(2, "demo_request", 85, "demo-request", "2026-11-13 16:55")
	f = append(f, LeadFacts{Lead: l, Touches: []time.Time{ny("2026-11-16 09:20")}})
	// 3: webinar (qualified, score 60), touched before the hand-off
	// arrived: 0 minutes, on time; an opportunity with no date known.
	l = lead(3, "webinar", 60, "qualified", "2026-11-17 11:00")
	l.State = StateOpportunity
	f = append(f, LeadFacts{Lead: l, Touches: []time.Time{ny("2026-11-17 10:30")}})
	// 4: webinar (default, score 10), returned untouched before its 4h
	// deadline: closed, returned for "student".
	l = lead(4, "webinar", 10, "default", "2026-11-18 09:00")
	l.State, l.ClosedAt, l.ReturnReason = StateReturned, ny("2026-11-18 10:00"), "student"
	f = append(f, LeadFacts{Lead: l, ReturnedReason: "student"})
	// 5: webinar, reassigned: its touch before the new assignment is the
	// previous owner's; untouched since, and the 4h passed: late.
	l = lead(5, "webinar", 20, "default", "2026-11-18 09:00")
	l.AssignedAt, l.Reassignments = ny("2026-11-18 14:00"), 1
	f = append(f, LeadFacts{Lead: l, Touches: []time.Time{ny("2026-11-18 10:00")}})
	// 6: no source, score 55 (qualified) received on the Thanksgiving
	// holiday at 10:00; touched Friday 09:30: 30 business minutes, on time
	// (1h due Friday 10:00). Lost.
	l = lead(6, "", 55, "qualified", "2026-11-26 10:00")
	l.State, l.ClosedAt = StateLost, ny("2026-11-27 15:00")
	f = append(f, LeadFacts{Lead: l, Touches: []time.Time{ny("2026-11-27 09:30")}})
	// 7: webinar received 30 November 16:00, untouched, not due yet as of
	// the test's now (Dec 1 09:30; 4h due Dec 1 12:00): pending.
	l = lead(7, "webinar", 10, "default", "2026-11-30 16:00")
	f = append(f, LeadFacts{Lead: l})
	// 8: October's: not in November's scorecard.
	l = lead(8, "webinar", 10, "default", "2026-10-30 10:00")
	f = append(f, LeadFacts{Lead: l})
	// 9: demo received after now: not counted yet.
	l = lead(9, "demo_request", 95, "demo-request", "2026-11-30 17:30")
	l.ReceivedAt = ny("2026-12-01 10:00")
	f = append(f, LeadFacts{Lead: l})
	return f
}

var scNow = ny("2026-12-01 09:30")

func TestScorecardCountsTheMonthsOwnLeads(t *testing.T) {
	p := attPolicy(t, scPolicyYAML)
	month := MonthPeriod(2026, time.November, nyLoc)
	mqls := []MQL{{Source: "webinar", At: ny("2026-11-02 10:00")}, {Source: "webinar", At: ny("2026-11-03 10:00")},
		{Source: "demo_request", At: ny("2026-11-03 10:00")}, {Source: "webinar", At: ny("2026-10-03 10:00")}}
	sc := ComputeScorecard(p, scFacts(), mqls, BySource, month, scNow, 0)
	want := []ScorecardRow{
		{Group: "webinar", SQLs: 4, MQLs: 2, HasMQLs: true, OnTime: 1, Late: 1, Pending: 1, Closed: 1,
			TimeToFirstTouch: Stats{Count: 1}, Returned: 1, ReturnsByReason: map[string]int{"student": 1}, Opportunities: 1},
		{Group: "demo_request", SQLs: 2, MQLs: 1, HasMQLs: true, OnTime: 1, Late: 1,
			TimeToFirstTouch: Stats{Count: 2, Median: 5 * time.Minute, P90: 25 * time.Minute}, CadenceMet: 1, CadenceMissed: 1,
			ReturnsByReason: map[string]int{}, Opportunities: 1, Won: 1, WonAmount: 500},
		{Group: NoGroup, SQLs: 1, HasMQLs: true, OnTime: 1, TimeToFirstTouch: Stats{Count: 1, Median: 30 * time.Minute, P90: 30 * time.Minute},
			ReturnsByReason: map[string]int{}, Lost: 1},
	}
	if diff := cmp.Diff(want, sc.Rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	all := ScorecardRow{Group: AllGroup, SQLs: 7, MQLs: 3, HasMQLs: true, OnTime: 3, Late: 2, Pending: 1, Closed: 1,
		TimeToFirstTouch: Stats{Count: 4, Median: 5 * time.Minute, P90: 30 * time.Minute}, CadenceMet: 1, CadenceMissed: 1,
		Returned: 1, ReturnsByReason: map[string]int{"student": 1}, Opportunities: 2, Won: 1, Lost: 1, WonAmount: 500}
	if diff := cmp.Diff(all, sc.All); diff != "" {
		t.Errorf("all (-want +got):\n%s", diff)
	}
	if sc.Young != 7 || !sc.Newest.Equal(ny("2026-11-30 16:00")) {
		t.Errorf("young %d, newest %s", sc.Young, sc.Newest)
	}

	// The (all) row agrees with /sla status all on the SQLs and first
	// touches of the period.
	a := ComputeAttainment(p, scFacts(), Scope{Kind: ScopeAll}, month, scNow)
	if a.SQLs != sc.All.SQLs || a.FirstTouchOnTime != sc.All.OnTime || a.FirstTouchLate != sc.All.Late ||
		a.FirstTouchPending != sc.All.Pending || a.FirstTouchClosed != sc.All.Closed || a.TimeToFirstTouchBusiness != sc.All.TimeToFirstTouch {
		t.Errorf("status all says %+v, the scorecard %+v", a, sc.All)
	}

	// As of 20 November 11:00 the win, the loss and later leads are not
	// there yet; lead 1 became an opportunity on the 18th, and lead 3 is
	// one with no date known.
	early := ComputeScorecard(p, scFacts(), mqls, BySource, month, ny("2026-11-20 11:00"), 0)
	if early.All.Won != 0 || early.All.Lost != 0 || early.All.SQLs != 5 || early.All.Opportunities != 2 {
		t.Errorf("as of Nov 20: %+v", early.All)
	}
	// As of 17 November 10:59, before lead 1 became one and lead 3 came in.
	if e := ComputeScorecard(p, scFacts(), mqls, BySource, month, ny("2026-11-17 10:59"), 0); e.All.Opportunities != 0 || e.All.SQLs != 2 {
		t.Errorf("as of Nov 17 10:59: %d opportunities of %d SQLs, want none of 2", e.All.Opportunities, e.All.SQLs)
	}
}

func TestScorecardGroupings(t *testing.T) {
	p := attPolicy(t, scPolicyYAML)
	month := MonthPeriod(2026, time.November, nyLoc)
	groups := func(sc Scorecard) map[string]int {
		out := map[string]int{}
		for _, r := range sc.Rows {
			out[r.Group] = r.SQLs
		}
		return out
	}
	byScore := ComputeScorecard(p, scFacts(), nil, ByScore, month, scNow, 0)
	if diff := cmp.Diff(map[string]int{"score under 50": 3, "score 50–79": 2, "score 80+": 2}, groups(byScore)); diff != "" {
		t.Errorf("by score (-want +got):\n%s", diff)
	}
	if byScore.Rows[0].Group != "score under 50" || byScore.Rows[2].Group != "score 80+" || byScore.Rows[0].HasMQLs {
		t.Errorf("score bands out of order or with MQLs: %+v", byScore.Rows)
	}
	byRule := ComputeScorecard(p, scFacts(), nil, ByRule, month, scNow, 0)
	if got := []string{byRule.Rows[0].Group, byRule.Rows[1].Group, byRule.Rows[2].Group}; !slices.Equal(got, []string{"demo-request", "qualified", "default"}) {
		t.Errorf("rules in order %v, want the policy's", got)
	}
	// Two rows at most: the largest group, then the others.
	short := ComputeScorecard(p, scFacts(), nil, BySource, month, scNow, 2)
	if diff := cmp.Diff(map[string]int{"webinar": 4, OthersGroup: 3}, groups(short)); diff != "" {
		t.Errorf("shortened (-want +got):\n%s", diff)
	}
	if o := short.Rows[1]; o.TimeToFirstTouch != (Stats{Count: 3, Median: 25 * time.Minute, P90: 30 * time.Minute}) || o.Won != 1 {
		t.Errorf("others row %+v: its medians are over its own leads", o)
	}
	// Summed over groups, the counts are the (all) row's.
	for _, by := range GroupBys {
		sc := ComputeScorecard(p, scFacts(), nil, by, month, scNow, 0)
		var sum ScorecardRow
		for _, r := range sc.Rows {
			sum.SQLs += r.SQLs
			sum.OnTime += r.OnTime
			sum.Late += r.Late
			sum.Won += r.Won
		}
		if sum.SQLs != sc.All.SQLs || sum.OnTime != sc.All.OnTime || sum.Late != sc.All.Late || sum.Won != sc.All.Won {
			t.Errorf("by %s the rows add up to %+v, the (all) row is %+v", by, sum, sc.All)
		}
	}
}

func TestScoreBands(t *testing.T) {
	p := attPolicy(t, scPolicyYAML)
	if got := ScoreBands(p); !slices.Equal(got, []int{50, 80}) {
		t.Errorf("bands from the rules: %v", got)
	}
	withKey := attPolicy(t, strings.Replace(scPolicyYAML, "teams:", "report: {channel: \"#smarketing\", score_bands: [40, 70, 90]}\nteams:", 1))
	if got := ScoreBands(withKey); !slices.Equal(got, []int{40, 70, 90}) {
		t.Errorf("bands from report.score_bands: %v", got)
	}
	if got := ScoreBandLabels([]int{40, 70, 90}); !slices.Equal(got, []string{"score under 40", "score 40–69", "score 70–89", "score 90+"}) {
		t.Errorf("labels %v", got)
	}
	for _, bad := range []string{"[80, 50]", "[fifty]", "50"} {
		_, probs := ParsePolicy([]byte(strings.Replace(scPolicyYAML, "teams:", "report: {channel: \"#s\", score_bands: "+bad+"}\nteams:", 1)), scNow)
		if probs.Err() == nil {
			t.Errorf("score_bands %s was accepted", bad)
		}
	}
}

func TestWilsonRate(t *testing.T) {
	// Reference values from the formula worked by hand (and as published
	// tables give them): 0 of 10 → 0–27.75%, 5 of 10 → 23.66–76.34%,
	// 30 of 100 → 21.9–39.6%.
	for _, c := range []struct {
		k, n      int
		low, high float64
	}{{0, 10, 0, 0.2775}, {5, 10, 0.2366, 0.7634}, {30, 100, 0.2189, 0.3958}, {10, 10, 0.7225, 1}} {
		r := WilsonRate(c.k, c.n)
		if math.Abs(r.Low-c.low) > 5e-4 || math.Abs(r.High-c.high) > 5e-4 {
			t.Errorf("%d of %d: %.4f–%.4f, want %.4f–%.4f", c.k, c.n, r.Low, r.High, c.low, c.high)
		}
	}
	if r := WilsonRate(0, 0); r.Low != 0 || r.High != 1 {
		t.Errorf("no leads: %+v, want the whole 0–1", r)
	}
}

// speedFacts makes n leads for rule in 24×7 time, each first touched after
// a delay drawn from delays (a negative delay: never touched, deadline
// passed), won with the probability winOf gives for the delay.
func speedFacts(rng *rand.Rand, idFrom int64, n int, rule string, delays []time.Duration, winOf func(time.Duration) float64) []LeadFacts {
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	out := make([]LeadFacts, 0, n)
	for i := range n {
		at := start.Add(time.Duration(rng.IntN(28*24*60)) * time.Minute)
		d := delays[rng.IntN(len(delays))]
		l := Lead{ID: idFrom + int64(i), Source: rule, Rule: rule, OwnerEmail: "ana@example.com", State: StateWorking,
			ReceivedAt: at, AssignedAt: at, FirstTouchDue: at.Add(24 * time.Hour)}
		f := LeadFacts{Lead: l}
		if d >= 0 {
			f.Touches = []time.Time{at.Add(d)}
		}
		if rng.Float64() < winOf(d) {
			f.Lead.State, f.Lead.ClosedAt, f.Lead.Amount = StateWon, at.Add(20*24*time.Hour), 100
		}
		out = append(out, f)
	}
	return out
}

var (
	speedJune  = MonthPeriod(2026, time.June, time.UTC)
	speedAsOf  = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	bandDelays = []time.Duration{2 * time.Minute, 10 * time.Minute, 30 * time.Minute, 2 * time.Hour, 8 * time.Hour, -1}
)

func TestSpeedWithNoEffectFindsNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	facts := speedFacts(rng, 1, 3000, "default", bandDelays, func(time.Duration) float64 { return 0.15 })
	s := ComputeSpeed(nil, facts, speedJune, speedAsOf, "", false)
	if len(s.Tables) != 1 || s.Tables[0].Leads != 3000 {
		t.Fatalf("tables %+v", s.Tables)
	}
	for _, c := range s.Tables[0].Cells {
		if c.TooFew || c.Leads < 400 {
			t.Fatalf("band %s has %d leads", c.Label, c.Leads)
		}
	}
	if len(s.Findings) != 0 {
		t.Errorf("outcome does not depend on speed, yet: %v", s.Findings)
	}
	cells := s.Tables[0].Cells
	for i := range cells {
		for j := range i {
			if cells[i].Won.Low > cells[j].Won.High || cells[j].Won.Low > cells[i].Won.High {
				t.Errorf("bands %s and %s differ beyond their intervals with no effect", cells[i].Label, cells[j].Label)
			}
		}
	}
}

func TestSpeedIntervalsHoldAPlantedEffect(t *testing.T) {
	planted := []float64{0.30, 0.20, 0.10, 0.05, 0.05, 0.05}
	winOf := func(d time.Duration) float64 {
		if d < 0 {
			return planted[SpeedBandNever]
		}
		return planted[speedBandOf(d)]
	}
	// Over many histories the 95% intervals hold the planted rates about
	// 95% of the time; each history shows the faster-converts finding.
	held, total, found := 0, 0, 0
	const runs = 100
	for run := range runs {
		rng := rand.New(rand.NewPCG(uint64(run), 99))
		s := ComputeSpeed(nil, speedFacts(rng, 1, 1200, "default", bandDelays, winOf), speedJune, speedAsOf, "", false)
		for _, c := range s.Tables[0].Cells {
			total++
			if c.Won.Low <= planted[c.Band] && planted[c.Band] <= c.Won.High {
				held++
			}
		}
		if slices.ContainsFunc(s.Findings, func(f SpeedFinding) bool { return f.What == "won" && f.FasterBetter }) {
			found++
		}
	}
	if coverage := float64(held) / float64(total); coverage < 0.92 || coverage > 0.99 {
		t.Errorf("the intervals held the planted rate %.1f%% of the time, want about 95%%", 100*coverage)
	}
	if found < runs*9/10 {
		t.Errorf("the planted effect (30%% vs 5%%) was found in %d of %d histories", found, runs)
	}
}

func TestSpeedWithinRuleUndoesSimpson(t *testing.T) {
	// demo leads are touched fast and win 30%; default leads are touched
	// slowly and win 5%; within a rule speed changes nothing.
	rng := rand.New(rand.NewPCG(3, 3))
	fast := []time.Duration{2 * time.Minute, 2 * time.Minute, 2 * time.Minute, 8 * time.Hour}
	slow := []time.Duration{2 * time.Minute, 8 * time.Hour, 8 * time.Hour, 8 * time.Hour}
	facts := append(speedFacts(rng, 1, 1500, "demo", fast, func(time.Duration) float64 { return 0.30 }),
		speedFacts(rng, 10_000, 1500, "default", slow, func(time.Duration) float64 { return 0.05 })...)
	within := ComputeSpeed(nil, facts, speedJune, speedAsOf, "", false)
	if len(within.Tables) != 2 {
		t.Fatalf("within rules: %d tables", len(within.Tables))
	}
	if len(within.Findings) != 0 {
		t.Errorf("within each rule speed changes nothing, yet: %v", within.Findings)
	}
	pooled := ComputeSpeed(nil, facts, speedJune, speedAsOf, "", true)
	if !slices.ContainsFunc(pooled.Findings, func(f SpeedFinding) bool { return f.What == "won" && f.FasterBetter }) {
		t.Errorf("pooled, the fast rule's wins should make speed look profitable: %v", pooled.Findings)
	}
	only := ComputeSpeed(nil, facts, speedJune, speedAsOf, "demo", false)
	if len(only.Tables) != 1 || only.Tables[0].Rule != "demo" || only.Tables[0].Leads != 1500 {
		t.Errorf("rule demo only: %+v", only.Tables)
	}
}

func TestSpeedBands(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 0, 5 * time.Minute: 0, 5*time.Minute + time.Second: 1, 15 * time.Minute: 1,
		time.Hour: 2, 4 * time.Hour: 3, 4*time.Hour + 1: SpeedBandOver4h} {
		if got := speedBandOf(d); got != want {
			t.Errorf("%s: band %d, want %d", d, got, want)
		}
	}
	p := attPolicy(t, scPolicyYAML)
	s := ComputeSpeed(p, scFacts(), MonthPeriod(2026, time.November, nyLoc), scNow, "", true)
	// Touched: 0 (lead 3), 5 min (1), 25 min (2), 30 min (6); never: 4
	// (closed untouched), 5 (late untouched); not yet: 7.
	got := map[string]int{}
	for _, c := range s.Tables[0].Cells {
		if c.Leads > 0 {
			got[c.Label] = c.Leads
		}
	}
	if diff := cmp.Diff(map[string]int{"≤ 5 min": 2, "15–60 min": 2, "never": 2}, got); diff != "" || s.NotYet != 1 {
		t.Errorf("bands (-want +got):\n%s; not yet %d", diff, s.NotYet)
	}
}

func TestSlowerOnBetterLeads(t *testing.T) {
	p := attPolicy(t, scPolicyYAML)
	row := func(g string, n int, median time.Duration) ScorecardRow {
		return ScorecardRow{Group: g, TimeToFirstTouch: Stats{Count: n, Median: median}}
	}
	byScore := Scorecard{By: ByScore, Rows: []ScorecardRow{row("score under 50", 40, 20*time.Minute),
		row("score 50–79", 40, 10*time.Minute), row("score 80+", 19, time.Hour)}}
	byRule := Scorecard{By: ByRule, Rows: []ScorecardRow{row("demo-request", 25, 2*time.Hour), row("qualified", 30, 30*time.Minute),
		row("default", 100, 3*time.Hour)}}
	got := SlowerOnBetterLeads(p, byScore, byRule)
	// The 80+ band has too few leads; 50–79 is faster than under 50.
	// demo-request (15m) is slower than qualified (1h), not than default.
	want := []SlowerFinding{{By: ByRule, Better: "demo-request", Worse: "qualified", BetterMedian: 2 * time.Hour,
		WorseMedian: 30 * time.Minute, BetterLeads: 25, WorseLeads: 30}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	byScore.Rows[2].TimeToFirstTouch.Count = 20
	if got := SlowerOnBetterLeads(p, byScore, Scorecard{}); len(got) != 2 || !strings.Contains(got[0].String(), "score 80+") {
		t.Errorf("with 20 leads in 80+: %v", got)
	}
}

func TestResolveScorecardSpan(t *testing.T) {
	now := ny("2026-12-07 10:00")
	for _, c := range []struct {
		words      string
		start, end time.Time
		asOf       time.Time
	}{
		{"", ny("2026-12-01 00:00"), ny("2027-01-01 00:00"), now},
		{"week", ny("2026-12-07 00:00"), ny("2026-12-14 00:00"), now},
		{"quarter", ny("2026-10-01 00:00"), ny("2027-01-01 00:00"), now},
		{"2026-05", ny("2026-05-01 00:00"), ny("2026-06-01 00:00"), now},
		{"last 90d", ny("2026-09-09 00:00"), now, now},
		{"cohort 2026-05 window 180d", ny("2026-05-01 00:00"), ny("2026-06-01 00:00"), ny("2026-11-28 00:00")},
		{"cohort 2026-11 window 180d", ny("2026-11-01 00:00"), ny("2026-12-01 00:00"), now},
	} {
		var words []string
		if c.words != "" {
			words = strings.Fields(c.words)
		}
		span, err := ResolveScorecardSpan(words, now, nyLoc)
		if err != nil {
			t.Errorf("%q: %v", c.words, err)
			continue
		}
		if !span.Period.Start.Equal(c.start) || !span.Period.End.Equal(c.end) || !span.AsOf.Equal(c.asOf) {
			t.Errorf("%q: %s–%s as of %s", c.words, span.Period.Start, span.Period.End, span.AsOf)
		}
	}
	for _, bad := range []string{"2027-01", "last 0d", "last week", "cohort 2026-05", "fortnight", "2026-13"} {
		if _, err := ResolveScorecardSpan(strings.Fields(bad), now, nyLoc); ErrorCode(err) != EINVALID {
			t.Errorf("%q: %v, want a refusal", bad, err)
		}
	}
}
