package storage_test

import (
	"context"
	"strings"
	"testing"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage/benchgen"
)

// withTeamCalendar gives team its own calendar in a generated policy file.
func withTeamCalendar(t *testing.T, yaml, team, calendar string) string {
	t.Helper()
	i := strings.Index(yaml, "  - name: "+team+"\n")
	if i < 0 {
		t.Fatalf("no team %s in the generated policy", team)
	}
	j := i + strings.Index(yaml[i:], "]\n") + 2
	return yaml[:j] + "    calendar: " + calendar + "\n" + yaml[j:]
}

// TestSQLFiguresCountOnTeamCalendars moves two teams of a generated
// history to calendars of their own (team04 to Berlin with a holiday only
// it has, team07 to Tokyo's mornings): the per-lead figures kept in SQL
// are worked out again under the new fingerprint and still match the
// engine's, scope by scope, and team04's business times are not what
// they were on the policy's calendar.
func TestSQLFiguresCountOnTeamCalendars(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, cfg, policy := oracleDB(t)
	yaml := benchgen.PolicyYAML(cfg)
	yaml = withTeamCalendar(t, yaml, "team04", `{timezone: Europe/Berlin, holidays: ["2026-11-17"]}`)
	yaml = withTeamCalendar(t, yaml, "team07", `{timezone: Asia/Tokyo, business_hours: {start: "08:00", end: "12:00"}}`)
	teams, probs := engine.ParsePolicy([]byte(yaml), figuresNow)
	if err := probs.Err(); err != nil {
		t.Fatal(err)
	}
	if teams.CalendarFor("team04") == policy.Calendar || teams.CalendarFor("team07") == policy.Calendar {
		t.Fatal("the teams did not get their calendars")
	}
	if engine.FiguresFingerprint(teams) == engine.FiguresFingerprint(policy) {
		t.Fatal("team calendars leave the figures' fingerprint as it was")
	}
	// Every lead's figures are worked out again under the new fingerprint
	// here, as the catch-up after a policy change does: the history has
	// more leads than an answer refreshes itself (OnDemandRefreshLimit),
	// and the answers below must be counted in SQL, not in Go.
	refreshed, err := db.RefreshLeadFacts(ctx, teams, 0)
	if err != nil {
		t.Fatal(err)
	}
	if refreshed != cfg.Leads || staleCount(t, db) != 0 {
		t.Fatalf("%d leads' figures worked out again under the team calendars, of %d; %d still stale", refreshed, cfg.Leads, staleCount(t, db))
	}
	c := checkFigures(t, db, teams, figuresNow, "team calendars")
	c.atLeast(t, 100, "team calendars")
	everyFigure(t, c)

	// The calendars matter: team04's business times differ from the
	// policy's calendar's, while a team that kept it has the same figures.
	quarter := figurePeriods(t, policy, figuresNow)[2]
	facts, err := db.LeadFacts(ctx, quarter.Start, quarter.End)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		team string
		same bool
	}{{"team04", false}, {"team07", false}, {"team05", true}} {
		scope := engine.Scope{Kind: engine.ScopeTeam, Team: tc.team}
		before := engine.ComputeAttainment(policy, facts, scope, quarter, figuresNow)
		after := engine.ComputeAttainment(teams, facts, scope, quarter, figuresNow)
		if before.TimeToFirstTouchBusiness.Count == 0 {
			t.Fatalf("%s has no touched lead in %s", tc.team, quarter.Label)
		}
		if same := before.TimeToFirstTouchBusiness == after.TimeToFirstTouchBusiness; same != tc.same {
			t.Errorf("%s: time to first touch %+v on the policy's calendar, %+v with team calendars; want the same: %v",
				tc.team, before.TimeToFirstTouchBusiness, after.TimeToFirstTouchBusiness, tc.same)
		}
	}
}
