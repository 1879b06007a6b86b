package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage/storagetest"
)

// A period that has not begun yet (next week, next month) asked about
// while cadence windows are running now. The cut-off of such a period is
// now, which is before its start, and ComputeAttainment counts a window
// as running only at a cut-off inside the period (!end.Before(period.Start)):
// nothing runs in a period that has not begun. The SQL says the same
// with `@cut >= @start` in figuresAttainmentSQL's cadence_running; the
// generated histories only ask about periods that have begun (this and
// last week, month, quarter), where the cut-off is never before the
// start, so without this test that condition could go unnoticed.

// futureCases are leads of week 48 (23–29 November 2026) and just before,
// all under casesPolicyYAML's default rule: 2 touches within 3 days.
func futureCases() []caseLead {
	ana, bo, cy := "ana@example.com", "bo@example.com", "cy@example.com"
	l := func(owner, team string, state engine.LeadState, assigned string) engine.Lead {
		return engine.Lead{OwnerEmail: owner, Team: team, Rule: "default", Source: "webinar", State: state,
			HandedOffAt: at(assigned).Add(-10 * time.Minute), ReceivedAt: at(assigned), AssignedAt: at(assigned)}
	}
	closed := func(x engine.Lead, when string) engine.Lead { x.ClosedAt = at(when); return x }
	return []caseLead{
		// case-0: one touch of two; window to Sun 29 Nov 10:00, inside
		// week 48: running until then, missed after.
		{lead: l(ana, "sdr-east", engine.StateWorking, "2026-11-26 10:00"), touches: ats("2026-11-26 11:00")},
		// case-1: one touch of two; window to Mon 30 Nov 09:00, reaching
		// into week 49: running across the start of next week.
		{lead: l(bo, "sdr-east", engine.StateWorking, "2026-11-27 09:00"), touches: ats("2026-11-27 09:30")},
		// case-2: met by its second touch on Fri 27 Nov 10:00: not running.
		{lead: l(ana, "sdr-east", engine.StateWorking, "2026-11-26 09:00"), touches: ats("2026-11-26 09:30", "2026-11-27 10:00")},
		// case-3: closed before its window ended: no cadence owed.
		{lead: closed(l(cy, "sdr-west", engine.StateLost, "2026-11-26 09:00"), "2026-11-27 11:00"), touches: ats("2026-11-26 09:15")},
		// case-4: window ended short on Mon 23 Nov 09:00: missed in week 48.
		{lead: l(cy, "sdr-west", engine.StateWorking, "2026-11-20 09:00"), touches: ats("2026-11-20 09:30")},
		// case-5: never assigned: no window.
		{lead: engine.Lead{Rule: "default", Source: "webinar", State: engine.StateNew,
			HandedOffAt: at("2026-11-27 08:50"), ReceivedAt: at("2026-11-27 09:00")}},
	}
}

// TestCadenceRunningIsNotCountedInAPeriodThatHasNotBegun compares
// Attainment counted in SQL with ComputeAttainment over the same rows for
// the current week and month and for periods that have not begun, as of
// a now with windows running, and as of the minute before and the moment
// next week begins; and checks the cadence figures themselves.
func TestCadenceRunningIsNotCountedInAPeriodThatHasNotBegun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	policy, probs := engine.ParsePolicy([]byte(casesPolicyYAML), at("2026-11-01 00:00"))
	if err := probs.Err(); err != nil {
		t.Fatal(err)
	}
	writeCases(t, db, futureCases())

	week48, week49 := engine.WeekPeriod(2026, 48, casesLoc), engine.WeekPeriod(2026, 49, casesLoc)
	november, december := engine.MonthPeriod(2026, time.November, casesLoc), engine.MonthPeriod(2026, time.December, casesLoc)
	nextQuarter := engine.QuarterPeriod(2027, 1, casesLoc)
	if !week49.Start.Equal(at("2026-11-30 00:00")) {
		t.Fatalf("week 49 starts %s, want Mon 30 Nov 00:00: the cases are written around that", week49.Start)
	}
	scopes := []engine.Scope{{Kind: engine.ScopeAll}, {Kind: engine.ScopeTeam, Team: "sdr-east"},
		{Kind: engine.ScopeRep, Rep: "ana@example.com"}, {Kind: engine.ScopeRep, Rep: "bo@example.com"}}

	type cadence struct{ met, missed, running int }
	for _, c := range []struct {
		now    string
		period engine.Period
		all    cadence // everyone's, as it must be
		why    string
	}{
		// Fri 27 Nov 15:00: case-0 and case-1 are running now.
		{"2026-11-27 15:00", week48, cadence{1, 1, 2}, "this week: case-2 met, case-4 missed, case-0 and case-1 running"},
		{"2026-11-27 15:00", november, cadence{1, 1, 2}, "this month: as this week"},
		{"2026-11-27 15:00", week49, cadence{0, 0, 0}, "next week has not begun: nothing runs in it, though case-1's window reaches into it"},
		{"2026-11-27 15:00", december, cadence{0, 0, 0}, "next month has not begun"},
		{"2026-11-27 15:00", nextQuarter, cadence{0, 0, 0}, "next quarter has not begun"},
		// Sun 29 Nov 23:59: case-0's window has closed short; case-1 runs.
		{"2026-11-29 23:59", week48, cadence{1, 2, 1}, "this week's last minute: case-0 missed too, case-1 running"},
		{"2026-11-29 23:59", week49, cadence{0, 0, 0}, "a minute before next week begins: still nothing runs in it"},
		// Mon 30 Nov 00:00: week 49 has begun, its cut-off is its start.
		{"2026-11-30 00:00", week49, cadence{0, 0, 1}, "the moment week 49 begins: case-1 is running in it"},
		{"2026-11-30 00:00", week48, cadence{1, 2, 1}, "last week, cut at its end: case-1 running at the end"},
		{"2026-11-30 00:00", december, cadence{0, 0, 0}, "December begins tomorrow"},
	} {
		now := at(c.now)
		facts, err := db.LeadFacts(ctx, c.period.Start, c.period.End)
		if err != nil {
			t.Fatal(err)
		}
		for _, scope := range scopes {
			want := engine.ComputeAttainment(policy, facts, scope, c.period, now)
			got, err := db.Attainment(ctx, policy, scope, c.period, now)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s, %s as of %s (%s): figures differ (-engine +SQL):\n%s", scope, c.period.Label, c.now, c.why, diff)
			}
			if scope.Kind != engine.ScopeAll {
				continue
			}
			// The expected numbers, so that the engine and the SQL cannot
			// agree on a wrong answer.
			for name, a := range map[string]engine.Attainment{"engine": want, "SQL": got} {
				if g := (cadence{a.CadenceMet, a.CadenceMissed, a.CadenceRunning}); g != c.all {
					t.Errorf("%s as of %s, %s: cadence met/missed/running %v, want %v (%s)", c.period.Label, c.now, name, g, c.all, c.why)
				}
			}
			// A period that has not begun still has leads open now (its
			// cut-off): the windows were loaded and judged, not left out.
			if now.Before(c.period.Start) && got.OpenLeads == 0 {
				t.Errorf("%s as of %s: no open leads counted: the running windows were not even loaded", c.period.Label, c.now)
			}
		}
	}
}
