package engine

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// reportFacts is week47Facts plus reps whose weeks make a ranking: each
// synthetic lead comes in on Tuesday 17 November at 10:00 under the
// default rule (due 14:00) and is touched at 11:00 (on time) or 15:00 (late).
func reportFacts() []LeadFacts {
	facts := week47Facts()
	id := int64(100)
	add := func(rep string, onTime, late int) {
		for i := 0; i < onTime+late; i++ {
			touch := "2026-11-17 11:00"
			if i >= onTime {
				touch = "2026-11-17 15:00"
			}
			id++
			facts = append(facts, LeadFacts{
				Lead: Lead{ID: id, ExternalID: fmt.Sprintf("crm-%d", id), OwnerEmail: rep, Team: "sdr-east", Rule: "default", State: StateWorking,
					HandedOffAt: ny("2026-11-17 10:00"), ReceivedAt: ny("2026-11-17 10:00"), AssignedAt: ny("2026-11-17 10:00")},
				Touches: nys(touch),
			})
		}
	}
	add("dee@example.com", 3, 0)
	add("eve@example.com", 2, 1)
	add("fay@example.com", 1, 2)
	add("gus@example.com", 0, 3)
	add("hal@example.com", 1, 1) // two decided: too few to rank
	return facts
}

func reportReps() []Rep {
	return []Rep{
		{Email: repAna, Status: RepActive},
		{Email: repBo, Status: RepAway, AwayUntil: ny("2026-12-01 00:00")},
		{Email: repCy, Status: RepAway, AwayUntil: ny("2026-11-20 00:00")}, // back already
		{Email: "dee@example.com", Status: RepInactive},
		{Email: "ivy@example.com", Status: RepAway}, // away until further notice, no leads
	}
}

// reportHistory is the availability history behind reportReps, and more:
// a rep away and back before the week, one away from Tuesday to Thursday,
// one who went away after the week.
func reportHistory() []RepEvent {
	return []RepEvent{
		{ID: 1, RepEmail: "ivy@example.com", Kind: RepEventAway, Actor: "ivy@example.com", At: ny("2026-10-01 09:00")},
		{ID: 2, RepEmail: "jon@example.com", Kind: RepEventAway, At: ny("2026-11-02 09:00"), Until: ny("2026-11-09 00:00")},
		{ID: 3, RepEmail: repCy, Kind: RepEventAway, At: ny("2026-11-09 09:00"), Until: ny("2026-11-20 00:00")},
		{ID: 4, RepEmail: repBo, Kind: RepEventAway, At: ny("2026-11-13 17:00"), Until: ny("2026-11-20 00:00")},
		{ID: 5, RepEmail: repBo, Kind: RepEventAway, At: ny("2026-11-18 12:00"), Until: ny("2026-12-01 00:00")},
		{ID: 6, RepEmail: "kim@example.com", Kind: RepEventAway, At: ny("2026-11-17 09:00")},
		{ID: 7, RepEmail: "kim@example.com", Kind: RepEventBack, At: ny("2026-11-19 17:00")},
		{ID: 8, RepEmail: "dee@example.com", Kind: RepEventDeactivated, Actor: "directory", At: ny("2026-11-21 10:00")},
		{ID: 9, RepEmail: "lou@example.com", Kind: RepEventAway, At: ny("2026-11-23 08:00")},
	}
}

func reportMQLs() []MQL {
	return append(mqlsBetween(30, ny("2026-11-01 00:00"), ny("2026-11-16 00:00")), mqlsBetween(40, ny("2026-11-16 00:00"), ny("2026-11-23 00:00"))...)
}

func TestBuildWeeklyReportForWeek47(t *testing.T) {
	p := attPolicy(t, attPolicyYAML)
	week := WeekPeriod(2026, 47, nyLoc)
	now := ny("2026-11-23 09:00")
	r := BuildReport(p, ReportData{Facts: reportFacts(), MQLs: reportMQLs(), Reps: reportReps(), RepHistory: reportHistory()}, week, now)

	t.Run("the month is November to the end of the week", func(t *testing.T) {
		want := Period{Start: ny("2026-11-01 00:00"), End: ny("2026-11-23 00:00"), Label: "November 1–22, 2026"}
		if diff := cmp.Diff(want, r.Month); diff != "" {
			t.Errorf("Month (-want +got):\n%s", diff)
		}
	})
	t.Run("both sides' numbers are those of the week and the month to date", func(t *testing.T) {
		type side struct {
			WeekSQLs, WeekOnTime, WeekLate, MonthSQLs int
			WeekMQLs, MonthMQLs                       int
			MonthMQLTarget, MonthSQLTarget, MonthWon  int
		}
		// The week: 10 fixture SQLs and 14 synthetic (7 on time and 7 late,
		// besides the fixture's 5 and 2). The month: 16 fixture SQLs in
		// November and the 14. Targets for 22 of 30 days: 1800×22/30 = 1320,
		// 450×22/30 = 330, 68×22/30 = 49.9 → 50.
		want := side{WeekSQLs: 24, WeekOnTime: 12, WeekLate: 9, MonthSQLs: 30, WeekMQLs: 40, MonthMQLs: 70,
			MonthMQLTarget: 1320, MonthSQLTarget: 330, MonthWon: 50}
		got := side{r.Sales.Week.SQLs, r.Sales.Week.FirstTouchOnTime, r.Sales.Week.FirstTouchLate, r.Sales.MonthToDate.SQLs,
			r.Marketing.WeekFunnel.MQLs, r.Marketing.MonthFunnel.MQLs,
			r.Marketing.MonthFunnel.MQLTarget, r.Marketing.MonthFunnel.SQLTarget, r.Marketing.MonthFunnel.WonTarget}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if want := map[string]int{"student, not a buyer": 1, "SLA breached": 1}; !cmp.Equal(want, r.Marketing.ReturnsByReason) {
			t.Errorf("returns %v, want %v", r.Marketing.ReturnsByReason, want)
		}
	})
	t.Run("the best and worst reps are ranked by on-time share among those with three decided leads", func(t *testing.T) {
		// Eligible: ana 4/4, dee 3/3, eve 2/3, fay 1/3, gus 0/3; bo (2),
		// cy (1) and hal (2) have too few. The best take the top three
		// (ana before dee by email), the worst the rest from the bottom.
		wantBest := []RepLine{
			{Email: repAna, SQLs: 4, Decided: 4, OnTimeShare: 1, Breaches: 2},
			{Email: "dee@example.com", SQLs: 3, Decided: 3, OnTimeShare: 1},
			{Email: "eve@example.com", SQLs: 3, Decided: 3, OnTimeShare: 2.0 / 3},
		}
		wantWorst := []RepLine{
			{Email: "gus@example.com", SQLs: 3, Decided: 3, OnTimeShare: 0},
			{Email: "fay@example.com", SQLs: 3, Decided: 3, OnTimeShare: 1.0 / 3},
		}
		if diff := cmp.Diff(wantBest, r.Best, approxFloat); diff != "" {
			t.Errorf("Best (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantWorst, r.Worst, approxFloat); diff != "" {
			t.Errorf("Worst (-want +got):\n%s", diff)
		}
	})
	t.Run("away reps are those away or inactive during the week, unrouted leads those without an owner", func(t *testing.T) {
		// Bo extended his absence; Cy came back on Friday, her return
		// date; Kim was away Tuesday to Thursday; Dee was deactivated on
		// Saturday. Jon was back before the week, Lou went away after it.
		want := []Absence{
			{Email: repBo, Status: RepAway, From: ny("2026-11-13 17:00"), Until: ny("2026-12-01 00:00")},
			{Email: repCy, Status: RepAway, From: ny("2026-11-09 09:00"), To: ny("2026-11-20 00:00")},
			{Email: "dee@example.com", Status: RepInactive, From: ny("2026-11-21 10:00")},
			{Email: "ivy@example.com", Status: RepAway, From: ny("2026-10-01 09:00")},
			{Email: "kim@example.com", Status: RepAway, From: ny("2026-11-17 09:00"), To: ny("2026-11-19 17:00")},
		}
		if diff := cmp.Diff(want, r.Away); diff != "" {
			t.Errorf("Away (-want +got):\n%s", diff)
		}
		if away := BuildWeeklyReport(p, reportFacts(), reportMQLs(), reportReps(), week, now).Away; away != nil {
			t.Errorf("without a history the away list is %v, want none", away)
		}
		if r.Unrouted != 1 {
			t.Errorf("Unrouted = %d, want 1", r.Unrouted)
		}
	})
	t.Run("seven months before the review there is no reminder and no previous month", func(t *testing.T) {
		if r.ReviewReminder != "" || r.PreviousMonth != nil || r.PreviousMonthFunnel != nil {
			t.Errorf("reminder %q, previous month %v / %v; want none", r.ReviewReminder, r.PreviousMonth, r.PreviousMonthFunnel)
		}
	})
	t.Run("the waterfall has every day of November, actuals through the 22nd", func(t *testing.T) {
		if len(r.Waterfall) != 30 {
			t.Fatalf("%d days, want 30", len(r.Waterfall))
		}
		// SQLs received: 1st L11, 5th L12, 9th L17, 10th L13 L14, 13th L16,
		// 16th L1 L2, 17th L4 L15 and the 14 synthetic, 18th L5 L9, 19th L6
		// L7, 20th L3, 21st L8. Target: 450 × day / 30.
		want := map[int]WaterfallDay{
			1:  {Date: ny("2026-11-01 00:00"), Target: 15, Actual: 1, HasActual: true},
			16: {Date: ny("2026-11-16 00:00"), Target: 240, Actual: 8, HasActual: true},
			17: {Date: ny("2026-11-17 00:00"), Target: 255, Actual: 24, HasActual: true},
			22: {Date: ny("2026-11-22 00:00"), Target: 330, Actual: 30, HasActual: true},
			23: {Date: ny("2026-11-23 00:00"), Target: 345},
			30: {Date: ny("2026-11-30 00:00"), Target: 450},
		}
		for day, w := range want {
			if diff := cmp.Diff(w, r.Waterfall[day-1], approxFloat); diff != "" {
				t.Errorf("day %d (-want +got):\n%s", day, diff)
			}
		}
	})
}

func TestTheFirstReportOfAMonthCarriesLastMonthsFinalFigures(t *testing.T) {
	p := attPolicy(t, attPolicyYAML)
	tests := []struct {
		name      string
		year, wk  int
		now       string
		wantPrev  string // label of the previous month, "" for none
		wantMonth string
	}{
		{name: "a week that holds the 1st", year: 2026, wk: 44, now: "2026-11-02 09:00", wantPrev: "October 2026", wantMonth: "November 1, 2026"},
		{name: "a week that starts on the 1st", year: 2026, wk: 23, now: "2026-06-08 09:00", wantPrev: "May 2026", wantMonth: "June 1–7, 2026"},
		{name: "a report run in the first seven days of the month", year: 2026, wk: 48, now: "2026-12-02 09:00", wantPrev: "November 2026", wantMonth: "November 1–29, 2026"},
		{name: "a week in the middle of the month", year: 2026, wk: 47, now: "2026-11-23 09:00", wantMonth: "November 1–22, 2026"},
		{name: "the week after the first week", year: 2026, wk: 45, now: "2026-11-09 09:00", wantMonth: "November 1–8, 2026"},
		{name: "December's first week reports November", year: 2026, wk: 49, now: "2026-12-07 09:00", wantPrev: "November 2026", wantMonth: "December 1–6, 2026"},
		{name: "a week across the new year reports December of the year before", year: 2026, wk: 53, now: "2027-01-04 09:00", wantPrev: "December 2026", wantMonth: "January 1–3, 2027"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := BuildWeeklyReport(p, week47Facts(), nil, nil, WeekPeriod(tt.year, tt.wk, nyLoc), ny(tt.now))
			if r.Month.Label != tt.wantMonth {
				t.Errorf("Month %q, want %q", r.Month.Label, tt.wantMonth)
			}
			got := ""
			if r.PreviousMonth != nil {
				got = r.PreviousMonth.Period.Label
				if r.PreviousMonthFunnel == nil || r.PreviousMonthFunnel.Period != r.PreviousMonth.Period {
					t.Errorf("the previous month's funnel is %v, want one for %s", r.PreviousMonthFunnel, got)
				}
			}
			if got != tt.wantPrev {
				t.Errorf("previous month %q, want %q", got, tt.wantPrev)
			}
		})
	}
	t.Run("October's final figures", func(t *testing.T) {
		r := BuildWeeklyReport(p, week47Facts(), nil, nil, WeekPeriod(2026, 44, nyLoc), ny("2026-11-02 09:00"))
		// In October only L10 came in; it was open at the end of October.
		if a := r.PreviousMonth; a.SQLs != 1 || a.OpenLeads != 1 || a.CadenceMet != 1 {
			t.Errorf("October: %d SQLs, %d open, %d cadence met; want 1, 1, 1", a.SQLs, a.OpenLeads, a.CadenceMet)
		}
		if f := r.PreviousMonthFunnel; f.SQLTarget != 450 || f.DaysElapsed != 31 {
			t.Errorf("October funnel: SQL target %d over %d days, want 450 over 31", f.SQLTarget, f.DaysElapsed)
		}
	})
}

func TestRankRepsNamesNobodyTwiceAndNobodyOnTargetAmongTheWorst(t *testing.T) {
	line := func(email string, share float64) RepLine {
		return RepLine{Email: email, SQLs: 4, Decided: 4, OnTimeShare: share}
	}
	emails := func(ls []RepLine) []string {
		out := []string{}
		for _, l := range ls {
			out = append(out, l.Email)
		}
		return out
	}
	tests := []struct {
		name        string
		lines       []RepLine
		best, worst []string
	}{
		{name: "nobody to rank", best: []string{}, worst: []string{}},
		{name: "one rep is only the best", lines: []RepLine{line("a", 0.5)}, best: []string{"a"}, worst: []string{}},
		{name: "two reps split one and one", lines: []RepLine{line("a", 0.5), line("b", 0.9)}, best: []string{"b"}, worst: []string{"a"}},
		{name: "equal shares go by email", lines: []RepLine{line("c", 0.5), line("b", 0.5), line("a", 0.5), line("d", 0.5)},
			best: []string{"a", "b"}, worst: []string{"c", "d"}},
		{name: "at most three each", lines: []RepLine{line("a", 0.1), line("b", 0.2), line("c", 0.3), line("d", 0.4), line("e", 0.5), line("f", 0.6), line("g", 0.7), line("h", 0.8)},
			best: []string{"h", "g", "f"}, worst: []string{"a", "b", "c"}},
		{name: "reps on target are never among the worst", lines: []RepLine{line("a", 1), line("b", 1), line("c", 0.99), line("d", 0.98)},
			best: []string{"a", "b"}, worst: []string{"d"}},
		{name: "fewer than three decided leads are not ranked", lines: []RepLine{line("a", 0.9), {Email: "b", SQLs: 9, Decided: 2, OnTimeShare: 0}},
			best: []string{"a"}, worst: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			best, worst := RankReps(tt.lines, 0.99)
			if diff := cmp.Diff(tt.best, emails(best)); diff != "" {
				t.Errorf("best (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.worst, emails(worst)); diff != "" {
				t.Errorf("worst (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReviewReminder(t *testing.T) {
	p := attPolicy(t, attPolicyYAML) // review_by 2027-06-30
	tests := []struct {
		now  string
		want string
	}{
		{now: "2026-11-23 09:00", want: ""},
		{now: "2027-05-30 09:00", want: ""},
		{now: "2027-05-31 09:00", want: "The agreement is due for review on Wednesday 30 June 2027, in 30 days: time to book the review with Sales and Marketing. The review pack comes to the report channel 14 days before the date."},
		{now: "2027-06-15 23:59", want: "The agreement is due for review on Wednesday 30 June 2027, in 15 days: time to book the review with Sales and Marketing. The review pack comes to the report channel 14 days before the date."},
		{now: "2027-06-16 00:00", want: "The agreement is due for review on Wednesday 30 June 2027, in 14 days: the review pack went to the report channel 14 days before the date."},
		{now: "2027-06-29 23:59", want: "The agreement is due for review on Wednesday 30 June 2027, in 1 day: the review pack went to the report channel 14 days before the date."},
		{now: "2027-06-30 09:00", want: "The agreement is due for review today, Wednesday 30 June 2027. Sales and Marketing should review it together and update the policy file."},
		{now: "2027-07-02 09:00", want: "The agreement was due for review on Wednesday 30 June 2027, 2 days ago. Sales and Marketing should review it together and update the policy file."},
	}
	for _, tt := range tests {
		t.Run(tt.now, func(t *testing.T) {
			r := BuildWeeklyReport(p, nil, nil, nil, WeekPeriod(2026, 47, nyLoc), ny(tt.now))
			if r.ReviewReminder != tt.want {
				t.Errorf("ReviewReminder = %q, want %q", r.ReviewReminder, tt.want)
			}
		})
	}
	t.Run("no review date, no reminder", func(t *testing.T) {
		q := *p
		q.ReviewBy = time.Time{}
		if r := BuildWeeklyReport(&q, nil, nil, nil, WeekPeriod(2026, 47, nyLoc), ny("2027-07-02 09:00")); r.ReviewReminder != "" {
			t.Errorf("ReviewReminder = %q, want none", r.ReviewReminder)
		}
	})
}

func TestAnEmptyWeekMakesAReportWithoutNaN(t *testing.T) {
	p := attPolicy(t, attPolicyYAML)
	r := BuildWeeklyReport(p, nil, nil, nil, WeekPeriod(2026, 47, nyLoc), ny("2026-11-23 09:00"))
	if r.Sales.Week.HasOnTimeData || r.Sales.Week.OnTimeShare != 0 || len(r.Best) != 0 || len(r.Worst) != 0 {
		t.Errorf("an empty week: %+v", r.Sales.Week)
	}
	if len(r.Waterfall) != 30 || r.Waterfall[21].Actual != 0 || !r.Waterfall[21].HasActual {
		t.Errorf("waterfall day 22: %+v", r.Waterfall[21])
	}
}

// TestRepLinesMatchEachRepsAttainmentOverTheWholeHistory keeps the
// straightforward computation (every rep's attainment over every lead) as
// the oracle of repLines, which gives each rep only the leads they own and
// the breaches recorded against them, on random histories with reassigned
// leads, breaches by former owners, odd spacing and case in emails.
func TestRepLinesMatchEachRepsAttainmentOverTheWholeHistory(t *testing.T) {
	p := attPolicy(t, attPolicyYAML)
	week, err := PeriodContaining("week", ny("2026-11-18 12:00"), p.Location)
	if err != nil {
		t.Fatal(err)
	}
	now := ny("2026-11-23 09:00")
	owners := []string{repAna, repBo, " " + strings.ToUpper(repCy) + " ", "dee@example.com", ""}
	states := []LeadState{StateNotified, StateWorking, StateAcknowledged, StateWon, StateLost, StateReturned}
	for seed := range 20 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		var facts []LeadFacts
		for id := range 200 {
			received := week.Start.Add(time.Duration(rng.IntN(10*24)-72) * time.Hour)
			l := Lead{ID: int64(id + 1), OwnerEmail: owners[rng.IntN(len(owners))], Team: "sdr-east", Rule: "default",
				State: states[rng.IntN(len(states))], HandedOffAt: received, ReceivedAt: received, AssignedAt: received,
				FirstTouchDue: received.Add(4 * time.Hour)}
			f := LeadFacts{Lead: l}
			if rng.IntN(3) > 0 {
				f.Touches = []time.Time{received.Add(time.Duration(rng.IntN(8*60)) * time.Minute)}
			}
			for range rng.IntN(3) {
				f.Breaches = append(f.Breaches, Breach{LeadID: l.ID, Kind: BreachFirstTouch, Rule: "default",
					RepEmail: strings.ToLower(strings.TrimSpace(owners[rng.IntN(len(owners))])),
					Due:      received.Add(4 * time.Hour), At: received.Add(5 * time.Hour)})
			}
			facts = append(facts, f)
		}
		reps := []Rep{{Email: repAna}, {Email: repBo}, {Email: repCy}, {Email: "ivy@example.com"}}
		got := repLines(p, facts, reps, week, now)
		for _, line := range got {
			a := ComputeAttainment(p, facts, Scope{Kind: ScopeRep, Rep: line.Email}, week, now)
			want := RepLine{Email: line.Email, SQLs: a.SQLs, Decided: a.FirstTouchOnTime + a.FirstTouchLate,
				OnTimeShare: a.OnTimeShare, Breaches: a.Breaches}
			if diff := cmp.Diff(want, line); diff != "" {
				t.Errorf("seed %d, %s (-whole history +own leads):\n%s", seed, line.Email, diff)
			}
		}
	}
}
