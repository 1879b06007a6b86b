package engine_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slabot/slabot/engine"
)

// The expectations here come from the test's own arithmetic: business
// time counted minute by minute over a plain Mon–Fri 09:00–17:00 UTC week
// with its holidays, and percentiles by nearest rank over a sorted list.
// None of it calls the engine's calendar, deadlines or figures.

const replayCurrentYAML = `
timezone: UTC
business_hours: {days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
teams:
  - name: sdr
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: demo-request
    match: {source: demo_request}
    first_touch: %s
    remind_before: [5m]
    on_breach: [notify_manager]
  - name: default
    first_touch: 4h
    on_breach: [notify_manager]
`

func replayPolicy(t *testing.T, firstTouch, holidays string) *engine.Policy {
	t.Helper()
	yaml := fmt.Sprintf(replayCurrentYAML, firstTouch)
	if holidays != "" {
		yaml = "holidays: [" + holidays + "]\n" + yaml
	}
	p, problems := engine.ParsePolicy([]byte(yaml), time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatalf("policy: %v", errs)
	}
	return p
}

// businessMinutes counts the open minutes in [a, b): weekdays 09:00–17:00
// UTC, holidays closed. a and b fall on whole minutes.
func businessMinutes(a, b time.Time, holidays []string) int {
	n := 0
	for m := a; m.Before(b); m = m.Add(time.Minute) {
		wd := m.Weekday()
		if wd == time.Saturday || wd == time.Sunday || m.Hour() < 9 || m.Hour() >= 17 ||
			slices.Contains(holidays, m.Format("2006-01-02")) {
			continue
		}
		n++
	}
	return n
}

func nearestRankMinutes(xs []int, pct int) int {
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := (pct*len(s) + 99) / 100
	return s[max(rank, 1)-1]
}

// replayCase is one hand-made lead: its rule's source, when it was
// assigned, and its touch (minutes after, -1 for none).
type replayCase struct {
	source   string
	assigned time.Time
	touch    int
}

func replayCases() []replayCase {
	var out []replayCase
	// Tuesday 2 June, Wednesday 10 June (a holiday in the proposal) and
	// Friday 12 June; mid-morning and ten minutes before closing.
	for _, day := range []int{2, 10, 12} {
		for _, hm := range [][2]int{{10, 0}, {16, 50}} {
			at := time.Date(2026, 6, day, hm[0], hm[1], 0, 0, time.UTC)
			for _, touch := range []int{-1, 3, 12, 20, 28, 45, 300} {
				out = append(out, replayCase{"demo_request", at, touch})
			}
			for _, touch := range []int{-1, 30, 230, 270, 1500} {
				out = append(out, replayCase{"webinar", at, touch})
			}
		}
	}
	return out
}

func replayHistories(cases []replayCase) []engine.LeadHistory {
	var out []engine.LeadHistory
	for i, c := range cases {
		l := engine.Lead{ID: int64(i + 1), ExternalID: fmt.Sprint("crm-", i), Source: c.source, OwnerEmail: "ana@example.com",
			Team: "sdr", State: engine.StateNotified, ReceivedAt: c.assigned, AssignedAt: c.assigned, HandedOffAt: c.assigned}
		h := engine.LeadHistory{Facts: engine.LeadFacts{Lead: l},
			Routed: engine.Move{At: c.assigned, To: "ana@example.com", Team: "sdr"}}
		if c.touch >= 0 {
			t := c.assigned.Add(time.Duration(c.touch) * time.Minute)
			h.Facts.Touches = []time.Time{t}
			h.Facts.Lead.FirstTouchAt = t
			h.Facts.Lead.State = engine.StateWorking
		}
		out = append(out, h)
	}
	return out
}

// expectedFigures works out a rule's figures from the cases alone.
func expectedFigures(cases []replayCase, source string, firstTouch, remindBefore int, holidays []string) engine.ReplayFigures {
	f := engine.ReplayFigures{Breaches: map[engine.BreachKind]int{}}
	var minutes []int
	for _, c := range cases {
		if c.source != source {
			continue
		}
		f.Leads++
		onTime := false
		if c.touch >= 0 {
			m := businessMinutes(c.assigned, c.assigned.Add(time.Duration(c.touch)*time.Minute), holidays)
			minutes = append(minutes, m)
			onTime = m <= firstTouch
			if remindBefore > 0 && m <= firstTouch-remindBefore {
				f.Reminders-- // touched before the reminder: none goes out
			}
		}
		if remindBefore > 0 {
			f.Reminders++
		}
		if onTime {
			f.OnTime++
		} else {
			f.Late++
			f.Breaches[engine.BreachFirstTouch]++
		}
	}
	if len(minutes) > 0 {
		f.TimeToFirstTouch = engine.Stats{Count: len(minutes),
			Median: time.Duration(nearestRankMinutes(minutes, 50)) * time.Minute,
			P90:    time.Duration(nearestRankMinutes(minutes, 90)) * time.Minute}
	}
	return f
}

func replayFigures(t *testing.T, p *engine.Policy, histories []engine.LeadHistory) engine.ReplayResult {
	t.Helper()
	june := engine.MonthPeriod(2026, time.June, time.UTC)
	r := engine.NewReplayer(engine.Replay{Policy: p, Now: time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)}, june)
	// Two batches, as storage streams them.
	r.Add(histories[:len(histories)/2])
	r.Add(histories[len(histories)/2:])
	return r.Result()
}

func TestReplayOfAProposedPolicyCountsWhatItsDeadlinesSay(t *testing.T) {
	cases := replayCases()
	histories := replayHistories(cases)
	current := replayPolicy(t, "15m", "")
	proposed := replayPolicy(t, "30m", `"2026-06-10"`)
	holiday := []string{"2026-06-10"}

	for _, tc := range []struct {
		name     string
		policy   *engine.Policy
		demo     int
		holidays []string
	}{{"current", current, 15, nil}, {"proposed", proposed, 30, holiday}} {
		got := replayFigures(t, tc.policy, histories)
		want := map[string]engine.ReplayFigures{
			"demo-request": expectedFigures(cases, "demo_request", tc.demo, 5, tc.holidays),
			"default":      expectedFigures(cases, "webinar", 240, 0, tc.holidays),
		}
		if len(got.Rules) != 2 {
			t.Fatalf("%s: rules %+v", tc.name, got.Rules)
		}
		for _, r := range got.Rules {
			if diff := cmp.Diff(want[r.Rule], r.ReplayFigures); diff != "" {
				t.Errorf("%s: rule %s (-expected +replayed):\n%s", tc.name, r.Rule, diff)
			}
		}
		if got.Total.Leads != len(cases) {
			t.Errorf("%s: %d leads in total, want %d", tc.name, got.Total.Leads, len(cases))
		}
	}

	// The change must matter, or the test above shows nothing: a longer
	// first touch and a holiday put more leads on time.
	a := expectedFigures(cases, "demo_request", 15, 5, nil)
	b := expectedFigures(cases, "demo_request", 30, 5, holiday)
	if a.OnTime >= b.OnTime || a.Late == 0 {
		t.Fatalf("the cases do not tell the policies apart: %+v vs %+v", a, b)
	}
	d1 := expectedFigures(cases, "webinar", 240, 0, nil)
	d2 := expectedFigures(cases, "webinar", 240, 0, holiday)
	if d1.OnTime == d2.OnTime {
		t.Fatalf("the holiday changes nothing for the default rule: %+v", d1)
	}
}

func TestCompareReplaysPairsRulesByName(t *testing.T) {
	cur := engine.ReplayResult{Rules: []engine.RuleFigures{{Rule: "demo"}, {Rule: "default"}}}
	prop := engine.ReplayResult{Rules: []engine.RuleFigures{{Rule: "Demo"}, {Rule: "trial"}, {Rule: "default"}}}
	var got []string
	for _, c := range engine.CompareReplays(cur, prop) {
		got = append(got, fmt.Sprintf("%s %v %v", c.Rule, c.Current != nil, c.Proposed != nil))
	}
	want := []string{"demo true true", "default true true", "trial false true"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}

// TestReplayBreachActionsFollowAvailability: on_breach [reassign,
// return_to_marketing] reassigns an untouched lead once, to a teammate who
// is there, and returns it when it breaches again, or at once when nobody
// else is available.
func TestReplayBreachActionsFollowAvailability(t *testing.T) {
	p, problems := engine.ParsePolicy([]byte(`
timezone: UTC
teams:
  - name: sdr
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: default
    first_touch: 1h
    on_breach: [reassign, return_to_marketing]
`), time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	assigned := time.Date(2026, 6, 3, 10, 0, 0, 0, time.UTC)
	h := engine.LeadHistory{
		Facts: engine.LeadFacts{Lead: engine.Lead{ID: 1, ExternalID: "crm-1", OwnerEmail: "ana@example.com", Team: "sdr",
			State: engine.StateNotified, ReceivedAt: assigned, AssignedAt: assigned}},
		Routed: engine.Move{At: assigned, To: "ana@example.com", Team: "sdr"},
	}
	now := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name         string
		boAway       bool
		breaches     []time.Time // 24×7: one hour after each assignment
		reassigned   []time.Time
		owner        string
		returnedAt   time.Time
		reassignment int
	}{
		{"bo is there", false, []time.Time{assigned.Add(time.Hour), assigned.Add(2 * time.Hour)},
			[]time.Time{assigned.Add(time.Hour)}, "bo@example.com", assigned.Add(2 * time.Hour), 1},
		{"bo is away", true, []time.Time{assigned.Add(time.Hour)}, nil, "ana@example.com", assigned.Add(time.Hour), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := engine.Replay{Policy: p, Now: now, Available: func(email string, at time.Time) bool {
				return !(tc.boAway && email == "bo@example.com")
			}}
			out := r.Lead(&h)
			var breaches []time.Time
			for _, b := range out.Facts.Breaches {
				if b.Kind != engine.BreachFirstTouch {
					t.Errorf("a %s breach", b.Kind)
				}
				breaches = append(breaches, b.At)
			}
			l := out.Facts.Lead
			if diff := cmp.Diff(tc.breaches, breaches); diff != "" {
				t.Errorf("breaches:\n%s", diff)
			}
			if diff := cmp.Diff(tc.reassigned, out.Reassigned); diff != "" {
				t.Errorf("reassignments:\n%s", diff)
			}
			if l.OwnerEmail != tc.owner || l.State != engine.StateReturned || !l.ClosedAt.Equal(tc.returnedAt) ||
				l.ReturnReason != engine.ReturnReasonBreached || l.Reassignments != tc.reassignment {
				t.Errorf("lead ends %s with %s, closed %s (%q), %d reassignments", l.State, l.OwnerEmail, l.ClosedAt, l.ReturnReason, l.Reassignments)
			}
		})
	}
}

// TestReplayRoutesInArrivalOrder: a lead whose named owner is in no team
// of the replayed policy goes round the team in arrival order, skipping
// whoever is away; one whose named owner is in a team and there stays
// with them.
func TestReplayRoutesInArrivalOrder(t *testing.T) {
	p, problems := engine.ParsePolicy([]byte(`
timezone: UTC
teams:
  - name: east
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com, cy@example.com]
rules:
  - name: default
    first_touch: 1h
    on_breach: [notify_manager]
`), time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	start := time.Date(2026, 6, 3, 10, 0, 0, 0, time.UTC)
	// The record routed every lead to dan of a team the policy no longer has.
	lead := func(i int, named string) engine.LeadHistory {
		at := start.Add(time.Duration(i) * time.Minute)
		return engine.LeadHistory{
			Facts: engine.LeadFacts{Lead: engine.Lead{ID: int64(i + 1), ExternalID: fmt.Sprint("crm-", i), OwnerEmail: "dan@example.com",
				Team: "west", State: engine.StateNotified, ReceivedAt: at, AssignedAt: at}},
			Routed:     engine.Move{At: at, To: "dan@example.com", Team: "west"},
			NamedOwner: named,
		}
	}
	boAwayFrom := start.Add(90 * time.Second) // from the second lead on
	r := engine.Replay{Policy: p, Now: start.AddDate(0, 1, 0), Available: func(email string, at time.Time) bool {
		return email != "bo@example.com" || at.Before(boAwayFrom)
	}}
	var got []string
	for i, named := range []string{"dan@example.com", "dan@example.com", "", "cy@example.com", "dan@example.com", "bo@example.com"} {
		h := lead(i, named)
		out := r.Lead(&h)
		got = append(got, out.Facts.Lead.OwnerEmail+" "+out.Facts.Lead.Team)
	}
	// dan is in no team: ana, then bo (there for the second lead, 60s
	// in); no named owner: cy; cy named and there: cy, the turn unmoved;
	// dan: round to ana; bo named but away from 90s on: after ana, bo is
	// away, so cy.
	want := []string{"ana@example.com east", "bo@example.com east", "cy@example.com east", "cy@example.com east",
		"ana@example.com east", "cy@example.com east"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("owners (-want +got):\n%s", diff)
	}
}

func TestReplayLookbackCoversTheLongestDeadlineTwice(t *testing.T) {
	p := replayPolicy(t, "15m", "")
	// The default rule's 4h, no cadence: the longest wait is from Friday
	// 13:00 to Monday 09:00 plus 4 hours, 68 hours, measured hour by hour
	// (plus an hour for the probes' spacing); twice, for a reassignment,
	// and a day more.
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	if got, want := engine.ReplayLookback(start, p), 2*(68*time.Hour+time.Hour)+24*time.Hour; got != want {
		t.Errorf("lookback %s, want %s", got, want)
	}
}

// TestReplayPeakOpenLeads: the most open leads one rep held at once; a
// lead closed at the instant another arrives is gone first.
func TestReplayPeakOpenLeads(t *testing.T) {
	p := replayPolicy(t, "15m", "")
	day := time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)
	lead := func(id int64, owner string, from, closed time.Time) engine.LeadHistory {
		l := engine.Lead{ID: id, ExternalID: fmt.Sprint("crm-", id), Source: "webinar", OwnerEmail: owner, Team: "sdr",
			State: engine.StateNotified, ReceivedAt: from, AssignedAt: from}
		if !closed.IsZero() {
			l.State, l.ClosedAt = engine.StateWon, closed
		}
		return engine.LeadHistory{Facts: engine.LeadFacts{Lead: l}, Routed: engine.Move{At: from, To: owner, Team: "sdr"}}
	}
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	histories := []engine.LeadHistory{
		lead(1, "ana@example.com", at(10, 0), at(12, 0)),
		lead(2, "ana@example.com", at(10, 30), time.Time{}),
		lead(3, "ana@example.com", at(12, 0), at(15, 0)),
		lead(4, "bo@example.com", at(11, 0), time.Time{}),
	}
	got := replayFigures(t, p, histories)
	// ana: 1 at 10:00, 2 at 10:30, still 2 at 12:00 (one out, one in),
	// 1 from 15:00; bo: 1.
	if got.PeakOpen != 2 {
		t.Errorf("peak %d open leads, want 2", got.PeakOpen)
	}
}

func replay24x7(t *testing.T, rule string) *engine.Policy {
	t.Helper()
	p, problems := engine.ParsePolicy([]byte(`
timezone: UTC
teams:
  - name: sdr
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: default
`+rule), time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	return p
}

// TestReplayKeepsAManagersReassignment: a manager's reassignment stays
// where it was made, and the new owner is judged by their own clock.
func TestReplayKeepsAManagersReassignment(t *testing.T) {
	p := replay24x7(t, "    first_touch: 1h\n    on_breach: [notify_manager]\n")
	at := func(h, m int) time.Time { return time.Date(2026, 6, 3, h, m, 0, 0, time.UTC) }
	h := engine.LeadHistory{
		Facts: engine.LeadFacts{Lead: engine.Lead{ID: 1, ExternalID: "crm-1", OwnerEmail: "bo@example.com", Team: "sdr",
			State: engine.StateWorking, ReceivedAt: at(10, 0), AssignedAt: at(11, 30), FirstTouchAt: at(11, 45)},
			Touches: []time.Time{at(11, 45)}},
		Routed: engine.Move{At: at(10, 0), To: "ana@example.com", Team: "sdr"},
		Moves:  []engine.Move{{At: at(11, 30), To: "bo@example.com", Team: "sdr"}},
	}
	got := replayFigures(t, p, []engine.LeadHistory{h})
	want := engine.ReplayFigures{Leads: 1, OnTime: 1, Breaches: map[engine.BreachKind]int{engine.BreachFirstTouch: 1},
		TimeToFirstTouch: engine.Stats{Count: 1, Median: 15 * time.Minute, P90: 15 * time.Minute}}
	// ana's deadline passed at 11:00 untouched (a breach); bo, given the
	// lead at 11:30, touched it 15 minutes later, on time by his clock.
	if diff := cmp.Diff(want, got.Total); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestReplayRemindersWaitForASnoozeAndStopOnAnAcknowledgement: a reminder
// due during a snooze goes out when the snooze ends, if that is before
// the deadline; an acknowledged lead gets none.
func TestReplayRemindersWaitForASnoozeAndStopOnAnAcknowledgement(t *testing.T) {
	p := replay24x7(t, "    first_touch: 1h\n    remind_before: [30m]\n    on_breach: [notify_manager]\n")
	at := func(h, m int) time.Time { return time.Date(2026, 6, 3, h, m, 0, 0, time.UTC) }
	r := engine.Replay{Policy: p, Now: at(23, 0)}
	lead := func() engine.LeadHistory {
		return engine.LeadHistory{
			Facts: engine.LeadFacts{Lead: engine.Lead{ID: 1, ExternalID: "crm-1", OwnerEmail: "ana@example.com", Team: "sdr",
				State: engine.StateNotified, ReceivedAt: at(10, 0), AssignedAt: at(10, 0)}},
			Routed: engine.Move{At: at(10, 0), To: "ana@example.com", Team: "sdr"},
		}
	}
	for _, tc := range []struct {
		name string
		edit func(h *engine.LeadHistory)
		want []time.Time
	}{
		{"left alone", func(*engine.LeadHistory) {}, []time.Time{at(10, 30)}},
		{"snoozed to 10:45", func(h *engine.LeadHistory) { h.Snoozes = []engine.Snooze{{At: at(10, 10), Until: at(10, 45)}} }, []time.Time{at(10, 45)}},
		{"snoozed past the deadline", func(h *engine.LeadHistory) { h.Snoozes = []engine.Snooze{{At: at(10, 10), Until: at(11, 30)}} }, nil},
		{"acknowledged at 10:20", func(h *engine.LeadHistory) { h.Acks = []time.Time{at(10, 20)} }, nil},
		{"touched at 10:20", func(h *engine.LeadHistory) { h.Facts.Touches = []time.Time{at(10, 20)} }, nil},
		{"touched at 10:40", func(h *engine.LeadHistory) { h.Facts.Touches = []time.Time{at(10, 40)} }, []time.Time{at(10, 30)}},
	} {
		h := lead()
		tc.edit(&h)
		if diff := cmp.Diff(tc.want, r.Lead(&h).Reminders); diff != "" {
			t.Errorf("%s: reminders (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestReplayOfATeamMovedToItsOwnCalendar(t *testing.T) {
	cases := replayCases()
	histories := replayHistories(cases)
	current := replayPolicy(t, "15m", "")
	// The proposal moves sdr to Dubai's 09:00–17:00 (UTC+4 all year): 05:00–
	// 13:00 UTC. The rule and the rest of the policy stay as they are.
	yaml := fmt.Sprintf(replayCurrentYAML, "15m")
	yaml = strings.Replace(yaml, "    reps: [ana@example.com, bo@example.com]\n",
		"    reps: [ana@example.com, bo@example.com]\n    calendar: {timezone: Asia/Dubai}\n", 1)
	proposed, problems := engine.ParsePolicy([]byte(yaml), time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatalf("policy: %v", errs)
	}
	// Dubai's wall clock is UTC's four hours on: counting business minutes
	// on shifted times is counting them on Dubai's calendar.
	dubai := make([]replayCase, len(cases))
	for i, c := range cases {
		dubai[i] = replayCase{c.source, c.assigned.Add(4 * time.Hour), c.touch}
	}
	got := replayFigures(t, proposed, histories)
	want := map[string]engine.ReplayFigures{
		"demo-request": expectedFigures(dubai, "demo_request", 15, 5, nil),
		"default":      expectedFigures(dubai, "webinar", 240, 0, nil),
	}
	if len(got.Rules) != 2 {
		t.Fatalf("rules %+v", got.Rules)
	}
	for _, r := range got.Rules {
		if diff := cmp.Diff(want[r.Rule], r.ReplayFigures); diff != "" {
			t.Errorf("rule %s (-expected +replayed):\n%s", r.Rule, diff)
		}
	}
	// The move must matter, or the test shows nothing.
	before := replayFigures(t, current, histories)
	for i := range before.Rules {
		if cmp.Equal(before.Rules[i], got.Rules[i]) {
			t.Errorf("rule %s has the same figures on both calendars: %+v", before.Rules[i].Rule, got.Rules[i])
		}
	}
}
