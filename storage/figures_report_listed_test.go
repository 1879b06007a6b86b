package storage_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage/storagetest"
)

// The weekly report's rep lines for owners the directory does not list.
// engine's repLines gives a line to every rep listed (DB.Reps) and to every
// owner of a lead received in the week, and to nobody else; the SQL says
// which owners those are by its `owns_week_lead` column. In the generated
// histories every owner is a listed rep, so a line for every owner in the
// report's span (forcing `owns_week_lead` true) passes their oracle tests. Here
// some owners are unknown to the directory: one whose leads are all from
// before the week (and who is breached in it), one with a lead in the week,
// one whose only lead in the week arrives after now.

// unlistedCases are leads around week 47 (16–22 November 2026); ana, bo
// and cy are the directory's reps (casesPolicyYAML's teams), gus, hal and
// dee are not.
func unlistedCases() []caseLead {
	ana, bo, gus, hal, dee := "ana@example.com", "bo@example.com", "gus@example.com", "hal@example.com", "dee@example.com"
	l := func(owner, team, rule, source string, state engine.LeadState, received string) engine.Lead {
		return engine.Lead{OwnerEmail: owner, Team: team, Rule: rule, Source: source, State: state,
			HandedOffAt: at(received).Add(-10 * time.Minute), ReceivedAt: at(received), AssignedAt: at(received)}
	}
	return []caseLead{
		// ana, listed, with three leads of the week: two on time, one late
		// (default: 4h, due 13:00).
		{lead: l(ana, "sdr-east", "demo-request", "demo_request", engine.StateWorking, "2026-11-16 10:00"),
			touches: ats("2026-11-16 10:10", "2026-11-17 10:00", "2026-11-17 11:00")},
		{lead: l(ana, "sdr-east", "default", "webinar", engine.StateWorking, "2026-11-17 09:00"),
			touches: ats("2026-11-17 09:30", "2026-11-18 09:30")},
		{lead: l(ana, "sdr-east", "default", "webinar", engine.StateWorking, "2026-11-18 09:00"),
			touches: ats("2026-11-18 14:00", "2026-11-19 14:00")},
		// bo, listed, holds only a lead of last week: his line is the
		// listing's, all zeros.
		{lead: l(bo, "sdr-east", "default", "webinar", engine.StateWorking, "2026-11-09 09:00"),
			touches: ats("2026-11-09 09:30", "2026-11-10 09:30")},
		// gus, unknown to the directory (left, or a CRM owner never
		// listed), holds a lead of last week whose cadence he missed,
		// breached in this week: an owner in the report's span with a
		// breach in the week, yet no lead received in it, so no line.
		{lead: l(gus, "sdr-east", "default", "webinar", engine.StateWorking, "2026-11-12 09:00"),
			touches: ats("2026-11-12 09:30"),
			breaches: []engine.Breach{{Kind: engine.BreachCadence, Rule: "default", RepEmail: gus, Team: "sdr-east",
				Due: at("2026-11-15 09:00"), At: at("2026-11-16 09:00")}}},
		// And one of last month, won: in the report's span (and the
		// previous month's figures of the report of the week of the 1st).
		{lead: func() engine.Lead {
			x := l(gus, "sdr-east", "default", "webinar", engine.StateWon, "2026-10-05 09:00")
			x.ClosedAt, x.Amount = at("2026-10-20 09:00"), 100
			return x
		}(), touches: ats("2026-10-05 09:30", "2026-10-06 09:30")},
		// hal, unknown, holds a lead of the week, touched on time: a line
		// of his own, though nobody lists him.
		{lead: l(hal, "sdr-west", "default", "webinar", engine.StateWorking, "2026-11-19 09:00"),
			touches: ats("2026-11-19 09:30")},
		// dee, unknown, holds a lead of the week received on Saturday: after
		// Friday's now it is in the week but not yet an SQL; a line all the
		// same.
		{lead: l(dee, "sdr-west", "default", "webinar", engine.StateNotified, "2026-11-21 10:00")},
	}
}

// TestReportLinesGoToListedRepsAndTheWeeksOwnersOnly compares the report's
// rep lines counted in SQL with engine.ComputeReportFigures over what
// bot.LoadReport loads, when some owners are not among the reps listed:
// an unlisted owner gets a line only for a lead received in the week.
func TestReportLinesGoToListedRepsAndTheWeeksOwnersOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	policy, probs := engine.ParsePolicy([]byte(casesPolicyYAML), at("2026-11-01 00:00"))
	if err := probs.Err(); err != nil {
		t.Fatal(err)
	}
	// The directory lists the policy's reps: ana, bo, cy.
	if err := db.SyncTeams(ctx, policy.Teams); err != nil {
		t.Fatal(err)
	}
	writeCases(t, db, unlistedCases())
	reps, err := db.Reps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, r := range reps {
		listed = append(listed, r.Email)
	}
	slices.Sort(listed)
	if want := []string{"ana@example.com", "bo@example.com", "cy@example.com"}; !slices.Equal(listed, want) {
		t.Fatalf("the directory lists %v, want %v", listed, want)
	}

	week47, _ := engine.PeriodContaining("week", at("2026-11-18 12:00"), casesLoc)
	week48, _ := engine.PeriodContaining("week", at("2026-11-25 12:00"), casesLoc)
	type line struct{ sqls, decided, breaches int }
	zero := line{}
	for _, c := range []struct {
		week engine.Period
		now  time.Time
		// want are the lines by email; gone the owners in the report's
		// span that must have none.
		want map[string]line
		gone []string
	}{
		{week47, at("2026-11-20 10:30"), map[string]line{
			"ana@example.com": {3, 3, 0}, "bo@example.com": zero, "cy@example.com": zero,
			"hal@example.com": {1, 1, 0}, "dee@example.com": zero}, []string{"gus@example.com"}},
		{week47, at("2026-11-23 09:00"), map[string]line{
			"ana@example.com": {3, 3, 0}, "bo@example.com": zero, "cy@example.com": zero,
			"hal@example.com": {1, 1, 0}, "dee@example.com": {1, 0, 0}}, []string{"gus@example.com"}},
		// The week after: only the listed reps, though gus, hal and dee
		// all hold leads of the span.
		{week48, at("2026-11-25 12:00"), map[string]line{
			"ana@example.com": zero, "bo@example.com": zero, "cy@example.com": zero},
			[]string{"gus@example.com", "hal@example.com", "dee@example.com"}},
	} {
		what := c.week.Label + " as of " + c.now.Format("Mon 2 Jan 15:04")
		spans := engine.ReportSpansOf(c.week, c.now)
		from, to := spans.LoadSpan(c.now)
		facts, err := db.LeadFacts(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		mqls, err := db.MQLs(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		// The case tests an unlisted owner only while they hold a lead of
		// the span but none received in the week.
		for _, email := range c.gone {
			inSpan, inWeek := false, false
			for _, f := range facts {
				if strings.EqualFold(f.Lead.OwnerEmail, email) {
					inSpan = true
					inWeek = inWeek || c.week.Contains(f.Lead.ReceivedAt)
				}
			}
			if !inSpan || inWeek || slices.Contains(listed, email) {
				t.Fatalf("%s: %s holds a lead of the span %v, of the week %v, is listed %v: want an unlisted owner with no lead of the week",
					what, email, inSpan, inWeek, slices.Contains(listed, email))
			}
		}

		want := engine.ComputeReportFigures(policy, engine.ReportData{Facts: facts, MQLs: mqls, Reps: reps}, spans, c.now)
		got, err := db.ReportFigures(ctx, policy, spans, reps, c.now)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		byEmail := cmpopts.SortSlices(func(a, b engine.RepLine) bool { return a.Email < b.Email })
		if diff := cmp.Diff(want, got, byEmail); diff != "" {
			t.Errorf("%s: report figures differ (-engine +SQL):\n%s", what, diff)
		}

		// The lines as they must be, so that the comparison is not of two
		// wrong answers.
		lines := map[string]line{}
		for _, l := range want.RepLines {
			lines[l.Email] = line{l.SQLs, l.Decided, l.Breaches}
		}
		if diff := cmp.Diff(c.want, lines, cmp.AllowUnexported(line{})); diff != "" {
			t.Errorf("%s: the engine's rep lines (sqls, decided, breaches) are not as expected (-want +got):\n%s", what, diff)
		}
		for _, l := range got.RepLines {
			if slices.Contains(c.gone, l.Email) {
				t.Errorf("%s: the SQL gives %s a line %+v: not listed, and no lead received in the week", what, l.Email, l)
			}
		}
	}
	// The breach that would show on gus's line counts for him in the
	// week: his missing line is the listing's doing, not a missing breach.
	facts, err := db.LeadFacts(ctx, week47.Start, week47.End)
	if err != nil {
		t.Fatal(err)
	}
	gus := engine.ComputeAttainment(policy, facts, engine.Scope{Kind: engine.ScopeRep, Rep: "gus@example.com"}, week47, at("2026-11-20 10:30"))
	if gus.SQLs != 0 || gus.Breaches != 1 {
		t.Errorf("gus in %s: %d SQLs, %d breaches; want 0, 1", week47.Label, gus.SQLs, gus.Breaches)
	}

	// The reports built from those figures are the same too.
	for _, now := range ats("2026-11-20 10:30", "2026-11-23 09:00") {
		checkReports(t, db, policy, now, "unlisted owners")
	}
}
