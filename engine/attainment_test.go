package engine

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// The expected numbers in these tests were worked out by hand from the
// fixtures below (the comments on each lead say how it counts), not by
// running the code under test, so a wrong rule in the code shows up as a
// difference here.

// attPolicyYAML is the seeds' agreement (slabot.yaml) with a second team.
const attPolicyYAML = `
timezone: America/New_York
business_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
holidays: ["2026-12-25", "2027-01-01"]
review_by: "2027-06-30"
targets:
  mqls: 1800
  mql_to_sql: 0.25
  sql_to_won: 0.15
  revenue: 5000
  deal_size: 100
  win_rate: 0.5
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
    touches: {count: 8, within: 15d}
    remind_before: [10m, 2m]
    on_breach: [notify_manager, reassign]
  - name: default
    first_touch: 4h
    touches: {count: 6, within: 14d}
    remind_before: [1h, 15m]
    on_breach: [notify_manager, return_to_marketing]
`

func attPolicy(t testing.TB, yaml string) *Policy {
	t.Helper()
	p, probs := ParsePolicy([]byte(yaml), time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	if err := probs.Err(); err != nil {
		t.Fatalf("policy: %v", err)
	}
	return p
}

var nyLoc = func() *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	return loc
}()

// ny reads "2026-11-16 10:00" as New York wall time; "" is the zero time.
func ny(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.ParseInLocation("2006-01-02 15:04", s, nyLoc)
	if err != nil {
		panic(err)
	}
	return t
}

func nys(ss ...string) []time.Time {
	out := make([]time.Time, len(ss))
	for i, s := range ss {
		out[i] = ny(s)
	}
	return out
}

const (
	repAna = "ana@example.com"
	repBo  = "bo@example.com"
	repCy  = "cy@example.com"
)

// week47Facts is one week of leads, 2026 week 47 (Mon 16 – Sun 22
// November, New York), seen on Monday 23 November at 09:00. Business hours
// are Mon–Fri 09:00–17:00.
func week47Facts() []LeadFacts {
	lead := func(id int64, owner, team, rule, source string, state LeadState, handed, received, assigned string) Lead {
		return Lead{ID: id, ExternalID: fmt.Sprintf("crm-%d", id), OwnerEmail: owner, Team: team, Rule: rule, Source: source,
			State: state, HandedOffAt: ny(handed), ReceivedAt: ny(received), AssignedAt: ny(assigned)}
	}
	with := func(l Lead, edit func(*Lead)) Lead { edit(&l); return l }
	return []LeadFacts{
		{ // L1 ana, demo: due 10:15, touched 10:05: on time, 5m; routing 5m.
			Lead:    lead(1, repAna, "sdr-east", "demo-request", "demo_request", StateWorking, "2026-11-16 09:55", "2026-11-16 09:58", "2026-11-16 10:00"),
			Touches: nys("2026-11-16 10:05"),
		},
		{ // L2 ana: Mon 16:30 + 4 business hours = Tue 12:30; touched Tue 11:00:
			// on time; 2h30 of business time, 18h30 on the wall; routing 30m.
			Lead:    lead(2, repAna, "sdr-east", "default", "webinar", StateWorking, "2026-11-16 16:00", "2026-11-16 16:30", "2026-11-16 16:30"),
			Touches: nys("2026-11-17 11:00"),
		},
		{ // L3 bo: Fri 15:00 + 4h = Mon 11:00, untouched at Mon 09:00: pending; routing 1h.
			Lead: lead(3, repBo, "sdr-east", "default", "webinar", StateNotified, "2026-11-20 14:00", "2026-11-20 15:00", "2026-11-20 15:00"),
		},
		{ // L4 bo, demo: breached at 10:15, touched at 11:00: late, 1h; routing 10m.
			Lead:     lead(4, repBo, "sdr-east", "demo-request", "demo_request", StateWorking, "2026-11-17 09:50", "2026-11-17 10:00", "2026-11-17 10:00"),
			Touches:  nys("2026-11-17 11:00"),
			Breaches: []Breach{{LeadID: 4, Kind: BreachFirstTouch, Rule: "demo-request", RepEmail: repBo, Team: "sdr-east", Due: ny("2026-11-17 10:15"), At: ny("2026-11-17 10:15")}},
		},
		{ // L5 bo: due 13:00, touched 14:00 with no breach recorded: late, 5h; routing 1h.
			Lead:    with(lead(5, repBo, "sdr-east", "default", "webinar", StateWorking, "2026-11-18 08:00", "2026-11-18 09:00", "2026-11-18 09:00"), func(l *Lead) { l.FirstTouchDue = ny("2026-11-18 13:00") }),
			Touches: nys("2026-11-18 14:00"),
		},
		{ // L6 reassigned from ana (breached 10:15, then touched at 10:15:30
			// too late) to cy at 10:16, due 10:31; cy touched 10:25: on time
			// for cy, 9m (ana's touch is not cy's). Breach is ana's. No routing.
			Lead: with(lead(6, repCy, "sdr-west", "demo-request", "demo_request", StateWorking, "2026-11-19 09:58", "2026-11-19 09:59", "2026-11-19 10:16"), func(l *Lead) {
				l.Reassignments, l.FirstTouchDue = 1, ny("2026-11-19 10:31")
				l.FirstTouchAt = ny("2026-11-19 10:15").Add(30 * time.Second)
			}),
			Touches:  []time.Time{ny("2026-11-19 10:15").Add(30 * time.Second), ny("2026-11-19 10:25")},
			Breaches: []Breach{{LeadID: 6, Kind: BreachFirstTouch, Rule: "demo-request", RepEmail: repAna, Team: "sdr-east", Due: ny("2026-11-19 10:15"), At: ny("2026-11-19 10:15")}},
		},
		{ // L7 ana, team left blank (found through the policy): the rep
			// called at 13:05, before the hand-off arrived at 13:10: on time, 0;
			// routing 10m. The early touch is outside the cadence window.
			Lead:    with(lead(7, repAna, "", "default", "webinar", StateWorking, "2026-11-19 13:00", "2026-11-19 13:10", "2026-11-19 13:10"), func(l *Lead) { l.FirstTouchAt = ny("2026-11-19 13:05") }),
			Touches: nys("2026-11-19 13:05"),
		},
		{ // L8 unrouted (no owner): pending, open.
			Lead: lead(8, "", "", "default", "webinar", StateNew, "2026-11-21 10:00", "2026-11-21 10:00", ""),
		},
		{ // L9 bo: returned untouched at 10:30, before its 14:00 deadline:
			// closed; a return this week; routing 20m.
			Lead: with(lead(9, repBo, "sdr-east", "default", "webinar", StateReturned, "2026-11-18 09:40", "2026-11-18 10:00", "2026-11-18 10:00"), func(l *Lead) {
				l.ClosedAt, l.ReturnReason = ny("2026-11-18 10:30"), "student, not a buyer"
			}),
			ReturnedReason: "student, not a buyer",
		},
		{ // L10 ana, from October: won on Thursday for 1,200; cadence met in October.
			Lead: with(lead(10, repAna, "sdr-east", "default", "webinar", StateWon, "2026-10-20 09:00", "2026-10-20 09:00", "2026-10-20 09:00"), func(l *Lead) {
				l.ClosedAt, l.Amount = ny("2026-11-19 15:00"), 1200
			}),
			Touches: nys("2026-10-20 10:00", "2026-10-21 10:00", "2026-10-22 10:00", "2026-10-23 10:00", "2026-10-24 10:00", "2026-10-25 10:00"),
		},
		{ // L11 ana, demo from 1 November 12:00: 3 of 8 touches when its
			// 15-day window closed on Monday 16 November 12:00: cadence missed
			// this week, with a cadence breach.
			Lead:     lead(11, repAna, "sdr-east", "demo-request", "demo_request", StateWorking, "2026-11-01 12:00", "2026-11-01 12:00", "2026-11-01 12:00"),
			Touches:  nys("2026-11-02 09:00", "2026-11-03 09:00", "2026-11-04 09:00"),
			Breaches: []Breach{{LeadID: 11, Kind: BreachCadence, Rule: "demo-request", RepEmail: repAna, Team: "sdr-east", Due: ny("2026-11-16 12:00"), At: ny("2026-11-16 12:00")}},
		},
		{ // L12 bo from 5 November: 6th touch on Tuesday 17: cadence met this week.
			Lead:    lead(12, repBo, "sdr-east", "default", "webinar", StateWorking, "2026-11-05 09:00", "2026-11-05 09:00", "2026-11-05 09:00"),
			Touches: nys("2026-11-05 10:00", "2026-11-06 10:00", "2026-11-09 10:00", "2026-11-11 10:00", "2026-11-13 10:00", "2026-11-17 10:00"),
		},
		{ // L13 cy: disqualified Friday, before its window closed: no cadence owed.
			Lead: with(lead(13, repCy, "sdr-west", "default", "webinar", StateDisqualified, "2026-11-10 09:00", "2026-11-10 09:00", "2026-11-10 09:00"), func(l *Lead) { l.ClosedAt = ny("2026-11-20 11:00") }),
		},
		{ // L14 cy: lost Saturday.
			Lead: with(lead(14, repCy, "sdr-west", "default", "webinar", StateLost, "2026-11-10 09:00", "2026-11-10 09:00", "2026-11-10 09:00"), func(l *Lead) { l.ClosedAt = ny("2026-11-21 11:00") }),
		},
		{ // L15 ana: received Tuesday, touched after 30m (on time), now an
			// opportunity (no date for that: counted by ReceivedAt); routing 30m.
			Lead:    lead(15, repAna, "sdr-east", "default", "webinar", StateOpportunity, "2026-11-17 08:30", "2026-11-17 09:00", "2026-11-17 09:00"),
			Touches: nys("2026-11-17 09:30"),
		},
		{ // L16 bo from Friday 13th: first-touch breach Monday 11:00 and
			// returned automatically at once.
			Lead: with(lead(16, repBo, "sdr-east", "default", "webinar", StateReturned, "2026-11-13 15:00", "2026-11-13 15:00", "2026-11-13 15:00"), func(l *Lead) {
				l.ClosedAt, l.ReturnReason = ny("2026-11-16 11:00"), "SLA breached"
			}),
			Breaches:       []Breach{{LeadID: 16, Kind: BreachFirstTouch, Rule: "default", RepEmail: repBo, Team: "sdr-east", Due: ny("2026-11-16 11:00"), At: ny("2026-11-16 11:00")}},
			ReturnedReason: "SLA breached",
		},
		{ // L17 bo from Monday 9 November 00:00: its window closes, short,
			// exactly at the end of the week: the breach and the miss belong
			// to the next week.
			Lead:     lead(17, repBo, "sdr-east", "default", "webinar", StateWorking, "2026-11-09 00:00", "2026-11-09 00:00", "2026-11-09 00:00"),
			Touches:  nys("2026-11-10 10:00", "2026-11-11 10:00"),
			Breaches: []Breach{{LeadID: 17, Kind: BreachCadence, Rule: "default", RepEmail: repBo, Team: "sdr-east", Due: ny("2026-11-23 00:00"), At: ny("2026-11-23 00:00")}},
		},
	}
}

var approxFloat = cmpopts.EquateApprox(0, 1e-9)

func TestComputeAttainmentOverAWeekOfLeads(t *testing.T) {
	p := attPolicy(t, attPolicyYAML)
	week := WeekPeriod(2026, 47, nyLoc)
	now := ny("2026-11-23 09:00")
	m := time.Minute
	h := time.Hour
	tests := []struct {
		name  string
		scope Scope
		want  Attainment
	}{
		{
			name:  "everyone: ten SQLs, five on time out of seven decided",
			scope: Scope{Kind: ScopeAll},
			want: Attainment{
				SQLs: 10, FirstTouchOnTime: 5, FirstTouchLate: 2, FirstTouchPending: 2, FirstTouchClosed: 1,
				OnTimeShare: 5.0 / 7, HasOnTimeData: true, OnTimeTarget: 0.99, Unrouted: 1,
				// 0, 5m, 9m, 30m, 1h, 2h30, 5h → median 4th, P90 7th.
				TimeToFirstTouchBusiness: Stats{Count: 7, Median: 30 * m, P90: 5 * h},
				// 0, 5m, 9m, 30m, 1h, 5h, 18h30 → median 4th, P90 7th.
				TimeToFirstTouchWall: Stats{Count: 7, Median: 30 * m, P90: 18*h + 30*m},
				// 5m, 10m, 10m, 20m, 30m, 30m, 1h, 1h → median 4th, P90 8th.
				RoutingDelay: Stats{Count: 8, Median: 20 * m, P90: h},
				CadenceMet:   1, CadenceMissed: 1, CadenceRunning: 7, CadenceShare: 0.5, HasCadenceData: true,
				BreachesByRule:  map[string]int{"demo-request": 3, "default": 1},
				BreachesByKind:  map[BreachKind]int{BreachFirstTouch: 3, BreachCadence: 1},
				BreachesByRep:   map[string]int{repAna: 2, repBo: 2},
				Breaches:        4,
				ReturnsByReason: map[string]int{"student, not a buyer": 1, "SLA breached": 1},
				Returns:         2,
				Opportunities:   1, Won: 1, Lost: 1, Disqualified: 1, WonAmount: 1200,
				// L1–L8, L11, L12, L17.
				OpenLeads: 11,
			},
		},
		{
			name:  "a rep: the reassigned lead is not hers, but the breach she caused is",
			scope: Scope{Kind: ScopeRep, Rep: "Ana@Example.com"},
			want: Attainment{
				SQLs: 4, FirstTouchOnTime: 4, OnTimeShare: 1, HasOnTimeData: true, OnTimeTarget: 0.99,
				// 0, 5m, 30m, 2h30 / 0, 5m, 30m, 18h30.
				TimeToFirstTouchBusiness: Stats{Count: 4, Median: 5 * m, P90: 2*h + 30*m},
				TimeToFirstTouchWall:     Stats{Count: 4, Median: 5 * m, P90: 18*h + 30*m},
				// 5m, 10m, 30m, 30m.
				RoutingDelay:  Stats{Count: 4, Median: 10 * m, P90: 30 * m},
				CadenceMissed: 1, CadenceRunning: 3, HasCadenceData: true,
				BreachesByRule:  map[string]int{"demo-request": 2},
				BreachesByKind:  map[BreachKind]int{BreachFirstTouch: 1, BreachCadence: 1},
				BreachesByRep:   map[string]int{repAna: 2},
				Breaches:        2,
				ReturnsByReason: map[string]int{},
				Opportunities:   1, Won: 1, WonAmount: 1200,
				OpenLeads: 4,
			},
		},
		{
			name:  "a team: the inherited lead counts, its earlier breach does not",
			scope: Scope{Kind: ScopeTeam, Team: "sdr-west"},
			want: Attainment{
				SQLs: 1, FirstTouchOnTime: 1, OnTimeShare: 1, HasOnTimeData: true, OnTimeTarget: 0.99,
				TimeToFirstTouchBusiness: Stats{Count: 1, Median: 9 * m, P90: 9 * m},
				TimeToFirstTouchWall:     Stats{Count: 1, Median: 9 * m, P90: 9 * m},
				CadenceRunning:           1,
				BreachesByRule:           map[string]int{}, BreachesByKind: map[BreachKind]int{}, BreachesByRep: map[string]int{},
				ReturnsByReason: map[string]int{},
				Lost:            1, Disqualified: 1,
				OpenLeads: 1,
			},
		},
		{
			name:  "a team whose leads name no team is found through the policy",
			scope: Scope{Kind: ScopeTeam, Team: "SDR-East"},
			want: Attainment{
				// L1–L5, L7, L9, L15.
				SQLs: 8, FirstTouchOnTime: 4, FirstTouchLate: 2, FirstTouchPending: 1, FirstTouchClosed: 1,
				OnTimeShare: 4.0 / 6, HasOnTimeData: true, OnTimeTarget: 0.99,
				// 0, 5m, 30m, 1h, 2h30, 5h / 0, 5m, 30m, 1h, 5h, 18h30.
				TimeToFirstTouchBusiness: Stats{Count: 6, Median: 30 * m, P90: 5 * h},
				TimeToFirstTouchWall:     Stats{Count: 6, Median: 30 * m, P90: 18*h + 30*m},
				RoutingDelay:             Stats{Count: 8, Median: 20 * m, P90: h},
				CadenceMet:               1, CadenceMissed: 1, CadenceRunning: 6, CadenceShare: 0.5, HasCadenceData: true,
				BreachesByRule:  map[string]int{"demo-request": 3, "default": 1},
				BreachesByKind:  map[BreachKind]int{BreachFirstTouch: 3, BreachCadence: 1},
				BreachesByRep:   map[string]int{repAna: 2, repBo: 2},
				Breaches:        4,
				ReturnsByReason: map[string]int{"student, not a buyer": 1, "SLA breached": 1},
				Returns:         2,
				Opportunities:   1, Won: 1, WonAmount: 1200,
				// L1–L5, L7, L11, L12, L17.
				OpenLeads: 9,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.Scope, tt.want.Period = tt.scope, week
			got := ComputeAttainment(p, week47Facts(), tt.scope, week, now)
			if diff := cmp.Diff(tt.want, got, approxFloat); diff != "" {
				t.Errorf("ComputeAttainment (-want +got):\n%s", diff)
			}
			if n := got.FirstTouchOnTime + got.FirstTouchLate + got.FirstTouchPending + got.FirstTouchClosed; n != got.SQLs {
				t.Errorf("first-touch outcomes add up to %d, not the %d SQLs", n, got.SQLs)
			}
		})
	}
}

func TestAttainmentJudgesTheFirstTouchAsOfNow(t *testing.T) {
	p := attPolicy(t, attPolicyYAML)
	week := WeekPeriod(2026, 47, nyLoc)
	// L3 was assigned Friday 15:00 and is due Monday 11:00, untouched.
	tests := []struct {
		name                  string
		now                   string
		onTime, late, pending int
		wantOpen, wantRunning int
		wantHasData           bool
	}{
		{name: "before the deadline it is pending", now: "2026-11-23 10:59", pending: 1, wantOpen: 1, wantRunning: 1},
		{name: "at the deadline it is late, breach recorded or not", now: "2026-11-23 11:00", late: 1, wantOpen: 1, wantRunning: 1, wantHasData: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			facts := week47Facts()[2:3]
			got := ComputeAttainment(p, facts, Scope{}, week, ny(tt.now))
			if got.FirstTouchOnTime != tt.onTime || got.FirstTouchLate != tt.late || got.FirstTouchPending != tt.pending {
				t.Errorf("on time/late/pending = %d/%d/%d, want %d/%d/%d", got.FirstTouchOnTime, got.FirstTouchLate, got.FirstTouchPending, tt.onTime, tt.late, tt.pending)
			}
			if got.HasOnTimeData != tt.wantHasData || got.OnTimeShare != 0 {
				t.Errorf("HasOnTimeData %v, share %v; want %v, 0", got.HasOnTimeData, got.OnTimeShare, tt.wantHasData)
			}
			if got.OpenLeads != tt.wantOpen || got.CadenceRunning != tt.wantRunning {
				t.Errorf("open %d, cadence running %d; want %d, %d", got.OpenLeads, got.CadenceRunning, tt.wantOpen, tt.wantRunning)
			}
		})
	}
}

func TestAttainmentOfNothingIsZeroNotNaN(t *testing.T) {
	p := attPolicy(t, attPolicyYAML)
	week := WeekPeriod(2026, 47, nyLoc)
	for _, tt := range []struct {
		name  string
		p     *Policy
		facts []LeadFacts
	}{
		{name: "no leads at all", p: p},
		{name: "leads, but none in the period", p: p, facts: week47Facts()[9:10]},
		{name: "no policy either", p: nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := ComputeAttainment(tt.p, tt.facts, Scope{Kind: ScopeRep, Rep: repCy}, week, ny("2026-11-23 09:00"))
			want := Attainment{
				Scope: Scope{Kind: ScopeRep, Rep: repCy}, Period: week, OnTimeTarget: 0.99,
				BreachesByRule: map[string]int{}, BreachesByKind: map[BreachKind]int{}, BreachesByRep: map[string]int{},
				ReturnsByReason: map[string]int{},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if math.IsNaN(got.OnTimeShare) || math.IsNaN(got.CadenceShare) {
				t.Error("a share is NaN")
			}
			f := ComputeFunnel(tt.p, tt.facts, nil, week, ny("2026-11-23 09:00"))
			for name, v := range map[string]float64{"MQLToSQL": f.MQLToSQL, "SQLToWon": f.SQLToWon, "MQLPace": f.MQLPace, "SQLPace": f.SQLPace, "ExpectedPipeline": f.ExpectedPipeline} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Errorf("funnel %s is %v", name, v)
				}
			}
		})
	}
}

func TestBusinessTimeToFirstTouchSkipsTheWeekendAndTheDSTHour(t *testing.T) {
	p := attPolicy(t, attPolicyYAML)
	// Assigned Friday 30 October 16:00 EDT, touched Monday 2 November
	// 10:00 EST: one business hour on Friday and one on Monday; the wall
	// clock also gains the hour the clocks fell back on Sunday.
	l := Lead{ID: 1, OwnerEmail: repAna, Rule: "default", State: StateWorking,
		HandedOffAt: ny("2026-10-30 16:00"), ReceivedAt: ny("2026-10-30 16:00"), AssignedAt: ny("2026-10-30 16:00")}
	got := ComputeAttainment(p, []LeadFacts{{Lead: l, Touches: nys("2026-11-02 10:00")}}, Scope{}, WeekPeriod(2026, 44, nyLoc), ny("2026-11-02 12:00"))
	if want := (Stats{Count: 1, Median: 2 * time.Hour, P90: 2 * time.Hour}); got.TimeToFirstTouchBusiness != want {
		t.Errorf("business time %+v, want %+v", got.TimeToFirstTouchBusiness, want)
	}
	if want := (Stats{Count: 1, Median: 67 * time.Hour, P90: 67 * time.Hour}); got.TimeToFirstTouchWall != want {
		t.Errorf("wall time %+v, want %+v", got.TimeToFirstTouchWall, want)
	}
	// Due Monday 12:00 (one business hour Friday, three Monday): on time.
	if got.FirstTouchOnTime != 1 {
		t.Errorf("on time %d, want 1", got.FirstTouchOnTime)
	}
}

func TestStatsUseNearestRankPercentiles(t *testing.T) {
	mins := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Minute
		}
		return out
	}
	tests := []struct {
		name string
		in   []time.Duration
		want Stats
	}{
		{name: "no values give zeros", in: nil, want: Stats{}},
		{name: "one value is every percentile", in: mins(7), want: Stats{Count: 1, Median: 7 * time.Minute, P90: 7 * time.Minute}},
		{name: "the median of an even count is the lower middle value", in: mins(40, 10, 30, 20), want: Stats{Count: 4, Median: 20 * time.Minute, P90: 40 * time.Minute}},
		{name: "the median of an odd count is the middle value", in: mins(5, 1, 3), want: Stats{Count: 3, Median: 3 * time.Minute, P90: 5 * time.Minute}},
		{name: "P90 of ten values is the ninth", in: mins(10, 9, 8, 7, 6, 5, 4, 3, 2, 1), want: Stats{Count: 10, Median: 5 * time.Minute, P90: 9 * time.Minute}},
		{name: "P90 of eleven values is the tenth", in: mins(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 600), want: Stats{Count: 11, Median: 6 * time.Minute, P90: 10 * time.Minute}},
		{name: "one slow lead among twenty moves P90 but not the median", in: append(mins(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2), 48*time.Hour), want: Stats{Count: 20, Median: time.Minute, P90: 2 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]time.Duration(nil), tt.in...)
			if got := StatsOf(tt.in); got != tt.want {
				t.Errorf("StatsOf = %+v, want %+v", got, tt.want)
			}
			if diff := cmp.Diff(in, tt.in); diff != "" {
				t.Errorf("StatsOf changed its input (-before +after):\n%s", diff)
			}
		})
	}
}

func TestPeriods(t *testing.T) {
	h := time.Hour
	tests := []struct {
		name      string
		got       func() (Period, error)
		start     string
		length    time.Duration
		wantLabel string
	}{
		{name: "2026-W47 is Monday 16 to Sunday 22 November", got: func() (Period, error) { return ParseISOWeek("2026-W47", nyLoc) },
			start: "2026-11-16 00:00", length: 7 * 24 * h, wantLabel: "week 47 (Nov 16–22)"},
		{name: "week 44 spans October and November and the end of DST, so it has an extra hour", got: func() (Period, error) { return WeekPeriod(2026, 44, nyLoc), nil },
			start: "2026-10-26 00:00", length: 7*24*h + h, wantLabel: "week 44 (Oct 26–Nov 1)"},
		{name: "the week the clocks spring forward is an hour short", got: func() (Period, error) { return WeekPeriod(2026, 10, nyLoc), nil },
			start: "2026-03-02 00:00", length: 7*24*h - h, wantLabel: "week 10 (Mar 2–8)"},
		{name: "week 1 of 2026 starts in 2025", got: func() (Period, error) { return ParseISOWeek("2026-w01", nyLoc) },
			start: "2025-12-29 00:00", length: 7 * 24 * h, wantLabel: "week 1 (Dec 29–Jan 4)"},
		{name: "2026 has a week 53", got: func() (Period, error) { return ParseISOWeek("2026-W53", nyLoc) },
			start: "2026-12-28 00:00", length: 7 * 24 * h, wantLabel: "week 53 (Dec 28–Jan 3)"},
		{name: "Sunday night in New York is still the New York week, though Monday in UTC", got: func() (Period, error) {
			return PeriodContaining("week", ny("2026-11-22 23:30"), nyLoc)
		}, start: "2026-11-16 00:00", length: 7 * 24 * h, wantLabel: "week 47 (Nov 16–22)"},
		{name: "the month of 31 October 23:59 is October", got: func() (Period, error) { return PeriodContaining("Month", ny("2026-10-31 23:59"), nyLoc) },
			start: "2026-10-01 00:00", length: 31 * 24 * h, wantLabel: "October 2026"},
		{name: "November 2026", got: func() (Period, error) { return PeriodContaining("month", ny("2026-11-30 23:59"), nyLoc) },
			start: "2026-11-01 00:00", length: 30*24*h + h, wantLabel: "November 2026"},
		{name: "the fourth quarter", got: func() (Period, error) { return PeriodContaining("quarter", ny("2026-11-23 09:00"), nyLoc) },
			start: "2026-10-01 00:00", length: 92*24*h + h, wantLabel: "Q4 2026"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.got()
			if err != nil {
				t.Fatal(err)
			}
			if !p.Start.Equal(ny(tt.start)) || p.End.Sub(p.Start) != tt.length || p.Label != tt.wantLabel {
				t.Errorf("got %v + %v %q, want %v + %v %q", p.Start, p.End.Sub(p.Start), p.Label, ny(tt.start), tt.length, tt.wantLabel)
			}
		})
	}
}

func TestParseISOWeekRejectsWeeksTheYearDoesNotHave(t *testing.T) {
	for _, s := range []string{"2027-W53", "2026-W00", "2026-47", "2026-W", "26-W47", "2026-W147", "abcd-W01", ""} {
		t.Run(s, func(t *testing.T) {
			if _, err := ParseISOWeek(s, nyLoc); ErrorCode(err) != EINVALID {
				t.Errorf("ParseISOWeek(%q) error %v, want an EINVALID error", s, err)
			}
		})
	}
	if _, err := PeriodContaining("fortnight", time.Now(), nil); ErrorCode(err) != EINVALID {
		t.Errorf("PeriodContaining(fortnight) error %v, want EINVALID", err)
	}
}

func TestMonthlyTargetsFollowTheSeeds(t *testing.T) {
	tests := []struct {
		name                string
		targets             string
		mqls, sqls, wonDeal int
	}{
		{name: "the SLA for Q1: 1,800 MQLs, 25% → 450 SQLs, 15% → 68 won (67.5 rounded up)",
			targets: "mqls: 1800\n  mql_to_sql: 0.25\n  sql_to_won: 0.15\n  revenue: 5000\n  deal_size: 100\n  win_rate: 0.5", mqls: 1800, sqls: 450, wonDeal: 68},
		{name: "the current funnel: 1,500 MQLs, 20% → 300 SQLs, 10% → 30 won",
			targets: "mqls: 1500\n  mql_to_sql: 0.2\n  sql_to_won: 0.1", mqls: 1500, sqls: 300, wonDeal: 30},
		{name: "the reverse funnel: 5,000 ÷ 100 = 50 sales at a 50% win rate need 100 SQLs",
			targets: "revenue: 5000\n  deal_size: 100\n  win_rate: 0.5", sqls: 100, wonDeal: 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := attPolicy(t, "timezone: America/New_York\ntargets:\n  "+tt.targets+
				"\nteams:\n  - {name: t, manager: m@example.com, reps: [r@example.com]}\nrules:\n  - name: default\n    first_touch: 4h\n")
			mqls, sqls, won := MonthlyTargets(p)
			if mqls != tt.mqls || sqls != tt.sqls || won != tt.wonDeal {
				t.Errorf("MonthlyTargets = %d, %d, %d; want %d, %d, %d", mqls, sqls, won, tt.mqls, tt.sqls, tt.wonDeal)
			}
		})
	}
}

// mqlsBetween makes n MQLs spread over [from, to).
func mqlsBetween(n int, from, to time.Time) []MQL {
	out := make([]MQL, n)
	step := to.Sub(from) / time.Duration(n)
	for i := range out {
		out[i] = MQL{ID: int64(i + 1), ExternalID: fmt.Sprintf("mql-%s-%d", from.Format("0102"), i), At: from.Add(time.Duration(i) * step)}
	}
	return out
}

func TestComputeFunnelProRatesTheMonthlyTargets(t *testing.T) {
	p := attPolicy(t, attPolicyYAML)
	var mqls []MQL
	mqls = append(mqls, mqlsBetween(30, ny("2026-10-26 00:00"), ny("2026-11-01 00:00"))...) // Mon–Sat of week 44
	mqls = append(mqls, mqlsBetween(5, ny("2026-11-01 00:00"), ny("2026-11-02 00:00"))...)  // Sunday 1 November
	mqls = append(mqls, mqlsBetween(40, ny("2026-11-16 00:00"), ny("2026-11-23 00:00"))...) // week 47
	mqls = append(mqls, mqlsBetween(3, ny("2026-11-23 00:00"), ny("2026-11-23 09:00"))...)  // Monday morning
	mqls = append(mqls, MQL{ExternalID: "late-oct", At: ny("2026-10-31 23:59")})            // October, though 1 November in UTC
	facts := week47Facts()
	tests := []struct {
		name   string
		period Period
		now    string
		want   Funnel
	}{
		{
			name: "week 47: 7/30 of November's targets", period: WeekPeriod(2026, 47, nyLoc), now: "2026-11-23 09:00",
			want: Funnel{
				// 1800×7/30 = 420, 450×7/30 = 105, 68×7/30 = 15.87 → 16.
				MQLs: 40, MQLTarget: 420, SQLs: 10, SQLTarget: 105, Won: 1, WonTarget: 16,
				MQLToSQL: 0.25, MQLToSQLTarget: 0.25, SQLToWon: 0.1, SQLToWonTarget: 0.15,
				DaysElapsed: 7, DaysInPeriod: 7, MQLPace: 40.0 / 420, SQLPace: 10.0 / 105,
				// 11 open leads and the opportunity, × 0.5 × 100.
				OpenSQLs: 12, ExpectedPipeline: 600,
			},
		},
		{
			name: "mid-week, the pace compares with the days begun so far", period: WeekPeriod(2026, 47, nyLoc), now: "2026-11-18 12:00",
			want: Funnel{
				// MQLs Mon 00:00 to Wed 12:00: every 4h12m from Monday 00:00, i.e. 15 (the 15th at 58:48).
				// SQLs by then: L1, L2, L4, L5, L9, L15.
				MQLs: 15, MQLTarget: 420, SQLs: 6, SQLTarget: 105, WonTarget: 16,
				MQLToSQL: 6.0 / 15, MQLToSQLTarget: 0.25, SQLToWonTarget: 0.15,
				// Three days begun: 1800×3/30 = 180 MQLs and 450×3/30 = 45 SQLs expected.
				DaysElapsed: 3, DaysInPeriod: 7, MQLPace: 15.0 / 180, SQLPace: 6.0 / 45,
				// Open on Wednesday noon: L1, L2, L4, L5, L11, L12, L17, and
				// L10, L13, L14, which closed later (not L9, returned at 10:30),
				// and the opportunity L15: 11.
				OpenSQLs: 11, ExpectedPipeline: 550,
			},
		},
		{
			name: "week 44 spans October and November: 6/31 of one and 1/30 of the other", period: WeekPeriod(2026, 44, nyLoc), now: "2026-11-02 09:00",
			want: Funnel{
				// 1800×(6/31 + 1/30) = 408.39 → 409; 450×… = 102.10 → 103; 68×… = 15.43 → 16.
				MQLs: 36, MQLTarget: 409, SQLs: 1, SQLTarget: 103, WonTarget: 16,
				MQLToSQL: 1.0 / 36, MQLToSQLTarget: 0.25, SQLToWonTarget: 0.15,
				DaysElapsed: 7, DaysInPeriod: 7,
				MQLPace: 36 / (1800 * (6.0/31 + 1.0/30)), SQLPace: 1 / (450 * (6.0/31 + 1.0/30)),
				// L10 and L11 (received 1 November).
				OpenSQLs: 2, ExpectedPipeline: 100,
			},
		},
		{
			name: "November to date: 23 of 30 days begun", period: MonthPeriod(2026, time.November, nyLoc), now: "2026-11-23 09:00",
			want: Funnel{
				MQLs: 48, MQLTarget: 1800, SQLs: 16, SQLTarget: 450, Won: 1, WonTarget: 68,
				MQLToSQL: 16.0 / 48, MQLToSQLTarget: 0.25, SQLToWon: 1.0 / 16, SQLToWonTarget: 0.15,
				DaysElapsed: 23, DaysInPeriod: 30, MQLPace: 48 / 1380.0, SQLPace: 16 / 345.0,
				// Now is before the month's end: open now (11) and the opportunity.
				OpenSQLs: 12, ExpectedPipeline: 600,
			},
		},
		{
			name: "a quarter is three months' targets", period: QuarterPeriod(2026, 4, nyLoc), now: "2027-01-05 09:00",
			want: Funnel{
				MQLs: 79, MQLTarget: 5400, SQLs: 17, SQLTarget: 1350, Won: 1, WonTarget: 204,
				MQLToSQL: 17.0 / 79, MQLToSQLTarget: 0.25, SQLToWon: 1.0 / 17, SQLToWonTarget: 0.15,
				DaysElapsed: 92, DaysInPeriod: 92, MQLPace: 79 / 5400.0, SQLPace: 17 / 1350.0,
				OpenSQLs: 12, ExpectedPipeline: 600,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.Period = tt.period
			got := ComputeFunnel(p, facts, mqls, tt.period, ny(tt.now))
			if diff := cmp.Diff(tt.want, got, approxFloat); diff != "" {
				t.Errorf("ComputeFunnel (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAttainmentOverAMonthCountsByNewYorkDates(t *testing.T) {
	p := attPolicy(t, attPolicyYAML)
	mk := func(id int64, received string) LeadFacts {
		return LeadFacts{Lead: Lead{ID: id, OwnerEmail: repAna, Rule: "default", State: StateNotified, ReceivedAt: ny(received), AssignedAt: ny(received)}}
	}
	facts := []LeadFacts{
		mk(1, "2026-10-31 23:59"), // October in New York, 1 November in UTC
		mk(2, "2026-11-01 00:00"),
		mk(3, "2026-11-30 23:59"),
		mk(4, "2026-12-01 00:00"),
	}
	oct := ComputeAttainment(p, facts, Scope{}, MonthPeriod(2026, time.October, nyLoc), ny("2026-12-05 09:00"))
	nov := ComputeAttainment(p, facts, Scope{}, MonthPeriod(2026, time.November, nyLoc), ny("2026-12-05 09:00"))
	if oct.SQLs != 1 || nov.SQLs != 2 {
		t.Errorf("October %d SQLs, November %d; want 1 and 2", oct.SQLs, nov.SQLs)
	}
	// Open at the end of October: only lead 1; at the end of November: 1–3.
	if oct.OpenLeads != 1 || nov.OpenLeads != 3 {
		t.Errorf("open at the end of October %d, of November %d; want 1 and 3", oct.OpenLeads, nov.OpenLeads)
	}
}
