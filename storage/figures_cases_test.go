package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

// Hand-made leads at the edges of each figure's definition (the
// boundaries a generated history seldom hits exactly), written as rows,
// counted in SQL and compared with the engine over the same rows.

const casesPolicyYAML = `
timezone: America/New_York
business_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
targets: {mqls: 1800, mql_to_sql: 0.25, sql_to_won: 0.15, revenue: 5000, deal_size: 100, win_rate: 0.5}
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
  - name: sdr-west
    manager: max@example.com
    reps: [cy@example.com]
rules:
  - name: demo-request
    match: {source: demo_request}
    first_touch: 15m
    touches: {count: 3, within: 2d}
    on_breach: [notify_manager]
  - name: default
    first_touch: 4h
    touches: {count: 2, within: 3d}
    on_breach: [notify_manager]
`

var casesLoc = func() *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	return loc
}()

// at is a New York wall time, "2006-01-02 15:04"; "" is no time.
func at(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.ParseInLocation("2006-01-02 15:04", s, casesLoc)
	if err != nil {
		panic(err)
	}
	return t
}

func ats(ss ...string) []time.Time {
	out := make([]time.Time, len(ss))
	for i, s := range ss {
		out[i] = at(s)
	}
	return out
}

type caseLead struct {
	lead     engine.Lead
	touches  []time.Time
	breaches []engine.Breach
}

// figureCases are leads of week 47 (16–22 November 2026) and around it.
func figureCases() []caseLead {
	ana, bo, cy := "ana@example.com", "bo@example.com", "cy@example.com"
	l := func(owner, team, rule, source string, state engine.LeadState, received, assigned string) engine.Lead {
		return engine.Lead{OwnerEmail: owner, Team: team, Rule: rule, Source: source, State: state,
			HandedOffAt: at(received).Add(-10 * time.Minute), ReceivedAt: at(received), AssignedAt: at(assigned)}
	}
	with := func(x engine.Lead, edit func(*engine.Lead)) engine.Lead { edit(&x); return x }
	return []caseLead{
		// Touched exactly at the deadline: on time.
		{lead: l(ana, "sdr-east", "demo-request", "demo_request", engine.StateWorking, "2026-11-16 10:00", "2026-11-16 10:00"),
			touches: ats("2026-11-16 10:15")},
		// Closed untouched exactly at the deadline: closed; a minute later: late.
		{lead: with(l(bo, "sdr-east", "demo-request", "demo_request", engine.StateDisqualified, "2026-11-16 11:00", "2026-11-16 11:00"),
			func(x *engine.Lead) { x.ClosedAt = at("2026-11-16 11:15") })},
		{lead: with(l(bo, "sdr-east", "demo-request", "demo_request", engine.StateLost, "2026-11-16 12:00", "2026-11-16 12:00"),
			func(x *engine.Lead) { x.ClosedAt = at("2026-11-16 12:16") })},
		// Unrouted.
		{lead: l("", "", "default", "webinar", engine.StateNew, "2026-11-17 10:00", "")},
		// Reassigned: the previous owner's earlier touch is not the new owner's.
		{lead: with(l(cy, "sdr-west", "demo-request", "demo_request", engine.StateWorking, "2026-11-17 09:00", "2026-11-17 09:30"),
			func(x *engine.Lead) { x.Reassignments = 1 }),
			touches: ats("2026-11-17 09:20", "2026-11-17 09:40")},
		// A touch before the hand-off arrived, never reassigned: 0; team
		// left blank, found through the policy.
		{lead: l(ana, "", "default", "webinar", engine.StateWorking, "2026-11-17 13:00", "2026-11-17 13:00"),
			touches: ats("2026-11-17 12:50", "2026-11-18 12:50", "2026-11-19 12:50")},
		// A first-touch breach wins over a touch before the deadline
		// (back-dated); the breach names no rep or team (the owner's).
		{lead: l(bo, "sdr-east", "default", "webinar", engine.StateWorking, "2026-11-18 09:00", "2026-11-18 09:00"),
			touches:  ats("2026-11-18 10:00"),
			breaches: []engine.Breach{{Kind: engine.BreachFirstTouch, Rule: "", Due: at("2026-11-18 13:00"), At: at("2026-11-18 13:00")}}},
		// A breach due before the assignment (the previous owner's, by
		// rep without a team: the policy's): reassigned, so no routing delay.
		{lead: l(cy, "sdr-west", "default", "webinar", engine.StateWorking, "2026-11-18 09:00", "2026-11-18 14:00"),
			touches:  ats("2026-11-18 15:00"),
			breaches: []engine.Breach{{Kind: engine.BreachFirstTouch, Rule: "default", RepEmail: "Ana@Example.com", Due: at("2026-11-18 13:00"), At: at("2026-11-18 13:00")}}},
		// Opportunities: no date (by received), and with one.
		{lead: l(ana, "sdr-east", "default", "webinar", engine.StateOpportunity, "2026-11-10 09:00", "2026-11-10 09:00"),
			touches: ats("2026-11-10 09:30")},
		{lead: with(l(ana, "sdr-east", "default", "webinar", engine.StateOpportunity, "2026-11-02 09:00", "2026-11-02 09:00"),
			func(x *engine.Lead) { x.ClosedAt = at("2026-11-18 09:00") })},
		// Returned without a reason, and with one padded.
		{lead: with(l(bo, "sdr-east", "default", "webinar", engine.StateReturned, "2026-11-19 09:00", "2026-11-19 09:00"),
			func(x *engine.Lead) { x.ClosedAt = at("2026-11-19 10:00") })},
		{lead: with(l(cy, "sdr-west", "default", "webinar", engine.StateReturned, "2026-11-19 09:00", "2026-11-19 09:00"),
			func(x *engine.Lead) { x.ClosedAt, x.ReturnReason = at("2026-11-19 10:00"), "  student " })},
		// Won amounts whose float sum depends on the order.
		{lead: with(l(ana, "sdr-east", "default", "webinar", engine.StateWon, "2026-10-01 09:00", "2026-10-01 09:00"),
			func(x *engine.Lead) { x.ClosedAt, x.Amount = at("2026-11-20 09:00"), 0.1 })},
		{lead: with(l(bo, "sdr-east", "default", "webinar", engine.StateWon, "2026-10-01 09:00", "2026-10-01 09:00"),
			func(x *engine.Lead) { x.ClosedAt, x.Amount = at("2026-11-20 10:00"), 0.2 })},
		{lead: with(l(cy, "sdr-west", "default", "webinar", engine.StateWon, "2026-10-01 09:00", "2026-10-01 09:00"),
			func(x *engine.Lead) { x.ClosedAt, x.Amount = at("2026-11-20 11:00"), 0.3 })},
		// Cadence met by the 3rd touch in the window; one more touch after.
		{lead: l(ana, "sdr-east", "demo-request", "demo_request", engine.StateWorking, "2026-11-16 14:00", "2026-11-16 14:00"),
			touches: ats("2026-11-16 14:05", "2026-11-17 09:00", "2026-11-18 13:59", "2026-11-18 15:00")},
		// Cadence: the 3rd touch exactly at the window's end is outside it: missed.
		{lead: l(bo, "sdr-east", "demo-request", "demo_request", engine.StateWorking, "2026-11-19 14:00", "2026-11-19 14:00"),
			touches: ats("2026-11-19 14:05", "2026-11-20 09:00", "2026-11-21 14:00")},
		// Closed after its window ended short: missed, still owed.
		{lead: with(l(cy, "sdr-west", "default", "webinar", engine.StateLost, "2026-11-12 09:00", "2026-11-12 09:00"),
			func(x *engine.Lead) { x.ClosedAt = at("2026-11-19 09:00") }), touches: ats("2026-11-12 10:00")},
		// Closed before its window ended: no cadence owed.
		{lead: with(l(cy, "sdr-west", "default", "webinar", engine.StateLost, "2026-11-20 09:00", "2026-11-20 09:00"),
			func(x *engine.Lead) { x.ClosedAt = at("2026-11-20 11:00") }), touches: ats("2026-11-20 10:00")},
		// Still running at the end of the week: window to Tuesday.
		{lead: l(ana, "sdr-east", "default", "webinar", engine.StateWorking, "2026-11-21 10:00", "2026-11-21 10:00"),
			touches: ats("2026-11-21 11:00")},
		// A rule that is not in the policy (matched again: default), no
		// deadline stored; and a deadline stored that differs from the rule.
		{lead: l(bo, "sdr-east", "gone-rule", "webinar", engine.StateNotified, "2026-11-20 15:00", "2026-11-20 15:00")},
		{lead: with(l(ana, "sdr-east", "default", "webinar", engine.StateNotified, "2026-11-20 16:00", "2026-11-20 16:00"),
			func(x *engine.Lead) { x.FirstTouchDue = at("2026-11-20 16:30") })},
		// A breach recorded by a cadence timer, for a team by name.
		{lead: l(bo, "sdr-east", "demo-request", "demo_request", engine.StateWorking, "2026-11-13 09:00", "2026-11-13 09:00"),
			touches: ats("2026-11-13 09:05"),
			breaches: []engine.Breach{{Kind: engine.BreachCadence, Rule: "demo-request", RepEmail: "bo@example.com", Team: "SDR-East",
				Due: at("2026-11-15 09:00"), At: at("2026-11-16 09:00")}}},
		// Received in the next week (after some nows).
		{lead: l(cy, "sdr-west", "default", "webinar", engine.StateWorking, "2026-11-23 08:00", "2026-11-23 08:00"),
			touches: ats("2026-11-23 08:30")},
		// From last quarter, still open: open at every cut-off.
		{lead: l(bo, "sdr-east", "default", "webinar", engine.StateSnoozed, "2026-09-01 09:00", "2026-09-01 09:00")},
	}
}

// writeCases writes the cases as the engine would have left them.
func writeCases(t *testing.T, db *storage.DB, cases []caseLead) {
	t.Helper()
	ctx := context.Background()
	for i, c := range cases {
		x := c.lead
		var id int64
		err := db.Pool().QueryRow(ctx, `INSERT INTO leads (external_id, source, owner_email, team, rule, state,
			handed_off_at, received_at, assigned_at, first_touch_due, closed_at, reassignments, return_reason, amount)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
			fmt.Sprintf("case-%d", i), x.Source, x.OwnerEmail, x.Team, x.Rule, x.State, x.HandedOffAt, x.ReceivedAt,
			nullTime(x.AssignedAt), nullTime(x.FirstTouchDue), nullTime(x.ClosedAt), x.Reassignments, x.ReturnReason, x.Amount).Scan(&id)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		for _, touch := range c.touches {
			if _, err := db.Pool().Exec(ctx, `INSERT INTO touches (lead_id, kind, at) VALUES ($1, 'call', $2)`, id, touch); err != nil {
				t.Fatal(err)
			}
		}
		for _, b := range c.breaches {
			b.LeadID = id
			ev := engine.BreachEvent(b)
			if _, err := db.Pool().Exec(ctx, `INSERT INTO lead_events (lead_id, at, kind, actor, data) VALUES ($1, $2, $3, $4, $5)`,
				id, ev.At, ev.Kind, ev.Actor, ev.Data); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func TestSQLFiguresMatchTheEngineAtTheEdges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	policy, probs := engine.ParsePolicy([]byte(casesPolicyYAML), at("2026-11-01 00:00"))
	if err := probs.Err(); err != nil {
		t.Fatal(err)
	}
	writeCases(t, db, figureCases())
	scopes := []engine.Scope{{Kind: engine.ScopeAll}, {Kind: engine.ScopeTeam, Team: "sdr-east"}, {Kind: engine.ScopeTeam, Team: "SDR-West"},
		{Kind: engine.ScopeRep, Rep: "ana@example.com"}, {Kind: engine.ScopeRep, Rep: "BO@example.com "}, {Kind: engine.ScopeRep, Rep: "cy@example.com"}}
	compared := map[string]bool{}
	for _, now := range ats("2026-11-16 10:10", "2026-11-16 11:15", "2026-11-18 14:00", "2026-11-20 10:30", "2026-11-21 14:00", "2026-11-23 09:00", "2026-12-02 09:00") {
		week, _ := engine.PeriodContaining("week", at("2026-11-18 12:00"), casesLoc)
		month, _ := engine.PeriodContaining("month", at("2026-11-18 12:00"), casesLoc)
		quarter, _ := engine.PeriodContaining("quarter", at("2026-11-18 12:00"), casesLoc)
		for _, period := range []engine.Period{week, month, quarter} {
			facts, err := db.LeadFacts(ctx, period.Start, period.End)
			if err != nil {
				t.Fatal(err)
			}
			for _, scope := range scopes {
				want := engine.ComputeAttainment(policy, facts, scope, period, now)
				got, err := db.Attainment(ctx, policy, scope, period, now)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s, %s as of %s: figures differ (-engine +SQL):\n%s", scope, period.Label, now.Format("Mon 2 Jan 15:04"), diff)
				}
				for name, n := range map[string]int{"on time": want.FirstTouchOnTime, "late": want.FirstTouchLate, "pending": want.FirstTouchPending,
					"closed": want.FirstTouchClosed, "unrouted": want.Unrouted, "cadence met": want.CadenceMet, "cadence missed": want.CadenceMissed,
					"cadence running": want.CadenceRunning, "breaches": want.Breaches, "returns": want.Returns, "won": want.Won,
					"opportunities": want.Opportunities, "routing": want.RoutingDelay.Count} {
					compared[name] = compared[name] || n > 0
				}
			}
			want := engine.ComputeFunnel(policy, facts, nil, period, now)
			got, err := db.Funnel(ctx, policy, period, now)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("funnel of %s as of %s differs (-engine +SQL):\n%s", period.Label, now.Format("Mon 2 Jan 15:04"), diff)
			}
		}
	}
	for _, now := range ats("2026-11-20 10:30", "2026-11-23 09:00") {
		checkReports(t, db, policy, now, "edges")
	}
	for name, seen := range compared {
		if !seen {
			t.Errorf("no case has %s: the comparison does not cover it", name)
		}
	}
}
