package storage_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage/storagetest"
)

// Reps who change teams. The generated history of
// TestScopedFactsGiveTheSameFigures never moves a rep, so there every lead
// a team's figures use also reaches the team's load through its reps (the
// owner, or the rep named on a breach): the ways in by the lead's team
// column and by the team named on a breach are never the only ones, and
// dropping either from LeadFactsFor's SQL leaves that test green. Here the
// policy has moved reps since the history was written, so each of those
// ways in is, for some lead, the only one.

// movesPolicyBefore is the floor when the history below happened.
const movesPolicyBefore = `
timezone: America/New_York
business_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com, dee@example.com, eve@example.com]
  - name: sdr-west
    manager: max@example.com
    reps: [cy@example.com]
  - name: sdr-north
    manager: nia@example.com
    reps: [fay@example.com]
rules:
  - name: default
    first_touch: 4h
    touches: {count: 2, within: 3d}
    on_breach: [notify_manager]
`

// movesPolicyAfter is the floor now: bo, dee and eve have moved from
// sdr-east to sdr-west, fay has left and sdr-north is gone.
const movesPolicyAfter = `
timezone: America/New_York
business_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com]
  - name: sdr-west
    manager: max@example.com
    reps: [cy@example.com, bo@example.com, dee@example.com, eve@example.com]
rules:
  - name: default
    first_touch: 4h
    touches: {count: 2, within: 3d}
    on_breach: [notify_manager]
`

// The ways into LeadFactsFor's scoped load, one per branch of its UNION.
const (
	byOwner      = "owner among the scope's reps"
	byTeam       = "lead's team column"
	byBreachRep  = "breach by one of the scope's reps"
	byBreachTeam = "breach recorded for the scope's team"
)

// movesCases are leads of week 47 (16–22 November 2026), written while
// the floor was movesPolicyBefore.
func movesCases() []caseLead {
	ana, bo, cy, dee, fay := "ana@example.com", "bo@example.com", "cy@example.com", "dee@example.com", "fay@example.com"
	l := func(owner, team string, state engine.LeadState, received, assigned string, reassignments int) engine.Lead {
		return engine.Lead{OwnerEmail: owner, Team: team, Rule: "default", Source: "webinar", State: state,
			HandedOffAt: at(received).Add(-10 * time.Minute), ReceivedAt: at(received), AssignedAt: at(assigned),
			Reassignments: reassignments}
	}
	return []caseLead{
		// case-0: sdr-east's lead, breached by eve while she was in
		// sdr-east, then reassigned to cy in sdr-west; eve has since moved
		// to sdr-west too. The breach is still sdr-east's, and nothing but
		// the team recorded on it brings the lead to sdr-east's load.
		{lead: l(cy, "sdr-west", engine.StateWorking, "2026-11-16 10:00", "2026-11-16 14:30", 1),
			touches: ats("2026-11-16 15:00"),
			breaches: []engine.Breach{{Kind: engine.BreachFirstTouch, Rule: "default", RepEmail: "eve@example.com", Team: "sdr-east",
				Due: at("2026-11-16 14:00"), At: at("2026-11-16 14:00")}}},
		// case-1: a lead still recorded as sdr-east's, held by bo, who has
		// moved to sdr-west: the lead and its breach (which names no rep
		// or team, so is the lead's) stay sdr-east's, and only the team
		// column brings it to sdr-east's load.
		{lead: l(bo, "sdr-east", engine.StateWorking, "2026-11-17 09:00", "2026-11-17 09:00", 0),
			touches: ats("2026-11-17 14:00", "2026-11-18 10:00"),
			breaches: []engine.Breach{{Kind: engine.BreachFirstTouch, Rule: "default",
				Due: at("2026-11-17 13:00"), At: at("2026-11-17 13:00")}}},
		// case-2: a breach that names its rep (dee) but no team counts for
		// the policy's team of that rep, which is now sdr-west although
		// dee was in sdr-east when it happened; the lead is sdr-east's.
		// sdr-west's load reaches it only through dee's breach.
		{lead: l(ana, "sdr-east", engine.StateWorking, "2026-11-18 09:00", "2026-11-18 14:00", 1),
			touches: ats("2026-11-18 15:00"),
			breaches: []engine.Breach{{Kind: engine.BreachFirstTouch, Rule: "default", RepEmail: dee,
				Due: at("2026-11-18 13:00"), At: at("2026-11-18 13:00")}}},
		// case-3: no team column: the lead is its owner's policy team's,
		// sdr-west now that dee has moved, and no longer sdr-east's.
		{lead: l(dee, "", engine.StateWorking, "2026-11-19 09:00", "2026-11-19 09:00", 0),
			touches: ats("2026-11-19 09:30")},
		// case-4: breached by fay for sdr-north, reassigned to cy when
		// she left; sdr-north is gone from the policy, so its load has no
		// reps to go by, only the team recorded on the breach.
		{lead: l(cy, "sdr-west", engine.StateWorking, "2026-11-20 09:00", "2026-11-20 14:00", 1),
			touches: ats("2026-11-20 14:30"),
			breaches: []engine.Breach{{Kind: engine.BreachFirstTouch, Rule: "default", RepEmail: fay, Team: "sdr-north",
				Due: at("2026-11-20 13:00"), At: at("2026-11-20 13:00")}}},
		// case-5: sdr-north's own lead, still held by fay who left: the
		// dissolved team's and fay's figures count it.
		{lead: l(fay, "sdr-north", engine.StateWorking, "2026-11-20 10:00", "2026-11-20 10:00", 0),
			touches: ats("2026-11-20 10:30")},
		// case-6: sdr-east's lead with ana, who never moved: sdr-east has
		// a lead of its own in the comparison.
		{lead: l(ana, "sdr-east", engine.StateWorking, "2026-11-18 11:00", "2026-11-18 11:00", 0),
			touches: ats("2026-11-18 11:30", "2026-11-19 11:00")},
	}
}

// waysIn says by which branches of LeadFactsFor's UNION lead f reaches the
// load of a scope with this team ("" for a rep) and these reps, as the
// SQL decides it; so that each case below says, and checks, which way in
// it tests.
func waysIn(f engine.LeadFacts, team string, emails []string) []string {
	var ways []string
	if slices.Contains(emails, strings.ToLower(f.Lead.OwnerEmail)) {
		ways = append(ways, byOwner)
	}
	if team != "" && strings.EqualFold(f.Lead.Team, team) {
		ways = append(ways, byTeam)
	}
	rep, teamed := false, false
	for _, b := range f.Breaches {
		rep = rep || slices.Contains(emails, strings.ToLower(b.RepEmail))
		teamed = teamed || team != "" && strings.EqualFold(b.Team, team)
	}
	if rep {
		ways = append(ways, byBreachRep)
	}
	if teamed {
		ways = append(ways, byBreachTeam)
	}
	return ways
}

// TestScopedFactsFollowRepsWhoMovedTeams keeps the whole period's leads as
// the oracle of LeadFactsFor when reps have changed teams since their
// leads and breaches were recorded: every team's and rep's figures from
// the scoped load (and counted in SQL) are the same as from everything,
// and the leads that only the team column, or only a breach's recorded
// team or rep, can bring in are in the load.
func TestScopedFactsFollowRepsWhoMovedTeams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	writeCases(t, db, movesCases())
	policies := map[string]*engine.Policy{}
	for name, yaml := range map[string]string{"before the moves": movesPolicyBefore, "after the moves": movesPolicyAfter} {
		p, probs := engine.ParsePolicy([]byte(yaml), at("2026-11-01 00:00"))
		if err := probs.Err(); err != nil {
			t.Fatalf("policy %s: %v", name, err)
		}
		policies[name] = p
	}

	// The leads only one way in brings to a scope's load, now that reps
	// have moved; each is a figure that scope would lose without it.
	only := []struct {
		scope engine.Scope
		lead  string
		way   string
		why   string
	}{
		{engine.Scope{Kind: engine.ScopeTeam, Team: "sdr-east"}, "case-0", byBreachTeam,
			"sdr-east's breach on a lead since reassigned to sdr-west, by a rep since moved to sdr-west"},
		{engine.Scope{Kind: engine.ScopeTeam, Team: "sdr-east"}, "case-1", byTeam,
			"sdr-east's lead held by a rep since moved to sdr-west"},
		{engine.Scope{Kind: engine.ScopeTeam, Team: "sdr-west"}, "case-2", byBreachRep,
			"a breach naming no team by a rep since moved to sdr-west, on sdr-east's lead"},
		{engine.Scope{Kind: engine.ScopeTeam, Team: "sdr-north"}, "case-4", byBreachTeam,
			"a dissolved team's breach on a lead since reassigned"},
		{engine.Scope{Kind: engine.ScopeTeam, Team: "sdr-north"}, "case-5", byTeam,
			"a dissolved team's lead held by a rep who left"},
	}

	scopes := []engine.Scope{{Kind: engine.ScopeTeam, Team: "sdr-east"}, {Kind: engine.ScopeTeam, Team: "SDR-East "},
		{Kind: engine.ScopeTeam, Team: "sdr-west"}, {Kind: engine.ScopeTeam, Team: "sdr-north"}}
	for _, rep := range []string{"ana", "bo", "cy", "dee", "Eve", "fay"} {
		scopes = append(scopes, engine.Scope{Kind: engine.ScopeRep, Rep: rep + "@example.com"})
	}
	now := at("2026-11-23 09:00")
	counted, checked := map[string]bool{}, map[string]bool{}
	for _, when := range []string{"before the moves", "after the moves"} {
		policy := policies[when]
		for _, kind := range []string{"week", "month", "quarter"} {
			period, err := engine.PeriodContaining(kind, at("2026-11-18 12:00"), casesLoc)
			if err != nil {
				t.Fatalf("%s period: %v", kind, err)
			}
			all, err := db.LeadFacts(ctx, period.Start, period.End)
			if err != nil {
				t.Fatalf("%s, %s: load every lead: %v", when, kind, err)
			}
			if len(all) != len(movesCases()) {
				t.Fatalf("%s, %s: the full load has %d leads, want all %d cases", when, kind, len(all), len(movesCases()))
			}
			for _, scope := range scopes {
				// What the callers pass (Attainment, the home tab).
				emails := engine.ScopeReps(policy, scope)
				some, err := db.LeadFactsFor(ctx, period.Start, period.End, scope, emails)
				if err != nil {
					t.Fatalf("%s, %s, %s: scoped load: %v", when, kind, scope, err)
				}
				want := engine.ComputeAttainment(policy, all, scope, period, now)
				got := engine.ComputeAttainment(policy, some, scope, period, now)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s, %s, %s: %d of %d leads loaded (%s), figures differ (-all +scoped):\n%s",
						when, kind, scope, len(some), len(all), externalIDs(some), diff)
				}
				counted[scope.String()] = counted[scope.String()] || want.SQLs > 0 || want.Breaches > 0
				// The figures counted in SQL were worked out under the policy
				// before the moves first: moving reps must have them worked
				// out again, for the leads without a team column and the
				// breaches without a recorded team.
				sql, err := db.Attainment(ctx, policy, scope, period, now)
				if err != nil {
					t.Fatalf("%s, %s, %s: attainment counted in SQL: %v", when, kind, scope, err)
				}
				if diff := cmp.Diff(want, sql); diff != "" {
					t.Errorf("%s, %s, %s: figures differ (-all +counted in SQL):\n%s", when, kind, scope, diff)
				}

				if when != "after the moves" {
					continue
				}
				team := ""
				if scope.Kind == engine.ScopeTeam {
					team = strings.TrimSpace(scope.Team)
				}
				for _, c := range only {
					// The scope however it is written ("SDR-East " is sdr-east).
					if c.scope.Kind != scope.Kind || engine.ScopeKey(c.scope) != engine.ScopeKey(scope) {
						continue
					}
					checked[c.lead+" "+c.way] = true
					f, ok := leadByExternalID(all, c.lead)
					if !ok {
						t.Fatalf("%s: %s is not in the full load", kind, c.lead)
					}
					// The case tests the way it says only while no other
					// way brings the lead in.
					if ways := waysIn(f, team, emails); !slices.Equal(ways, []string{c.way}) {
						t.Fatalf("%s, %s: %s (%s) reaches the load by %q, want only by %s: the case no longer tests that way in",
							kind, scope, c.lead, c.why, ways, c.way)
					}
					if _, ok := leadByExternalID(some, c.lead); !ok {
						t.Errorf("%s, %s: %s (%s) is missing from the scoped load (%s): the way in by %s is lost",
							kind, scope, c.lead, c.why, externalIDs(some), c.way)
					}
				}
			}
		}
	}
	for _, c := range only {
		if !checked[c.lead+" "+c.way] {
			t.Errorf("%s, the way in by %s for %s, was never checked: no scope asked about is %s", c.lead, c.way, c.scope, c.scope)
		}
	}
	for _, scope := range scopes {
		if !counted[scope.String()] {
			t.Errorf("%s has no lead or breach in any period: the comparison says nothing about it", scope)
		}
	}

	// After the moves, the figures these cases are about, as they must be
	// (so that the comparison above is not of two wrong answers).
	month, err := engine.PeriodContaining("month", at("2026-11-18 12:00"), casesLoc)
	if err != nil {
		t.Fatalf("month period: %v", err)
	}
	all, err := db.LeadFacts(ctx, month.Start, month.End)
	if err != nil {
		t.Fatalf("load every lead: %v", err)
	}
	after := policies["after the moves"]
	for _, c := range []struct {
		scope          engine.Scope
		sqls, breaches int
		breachesByRep  map[string]int
	}{
		// Its own leads case-1, case-2, case-6; breaches on case-0 (eve's,
		// recorded for sdr-east) and case-1 (the lead's).
		{engine.Scope{Kind: engine.ScopeTeam, Team: "sdr-east"}, 3, 2, map[string]int{"eve@example.com": 1, "bo@example.com": 1}},
		// Leads case-0, case-3 (dee's, no team column), case-4; dee's
		// breach on case-2, which recorded no team.
		{engine.Scope{Kind: engine.ScopeTeam, Team: "sdr-west"}, 3, 1, map[string]int{"dee@example.com": 1}},
		{engine.Scope{Kind: engine.ScopeTeam, Team: "sdr-north"}, 1, 1, map[string]int{"fay@example.com": 1}},
	} {
		a := engine.ComputeAttainment(after, all, c.scope, month, now)
		if a.SQLs != c.sqls || a.Breaches != c.breaches || !cmp.Equal(a.BreachesByRep, c.breachesByRep) {
			t.Errorf("%s in %s: %d SQLs, %d breaches %v; want %d, %d %v", c.scope, month.Label, a.SQLs, a.Breaches, a.BreachesByRep,
				c.sqls, c.breaches, c.breachesByRep)
		}
	}
}

func leadByExternalID(facts []engine.LeadFacts, id string) (engine.LeadFacts, bool) {
	for _, f := range facts {
		if f.Lead.ExternalID == id {
			return f, true
		}
	}
	return engine.LeadFacts{}, false
}

func externalIDs(facts []engine.LeadFacts) string {
	ids := make([]string, len(facts))
	for i, f := range facts {
		ids[i] = f.Lead.ExternalID
	}
	return fmt.Sprint(ids)
}
