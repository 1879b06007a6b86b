package engine

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDeadlinesCountFirstTouchInBusinessTimeAndCadenceOnTheCalendar(t *testing.T) {
	p := examplePolicy(t)
	ny := p.Location
	demo, def := p.Rule("demo-request"), p.Rule("default")
	tests := []struct {
		name     string
		rule     *Rule
		assigned string
		want     Deadlines
	}{
		{"a demo request on a Tuesday morning", demo, "2026-11-24 10:00", Deadlines{
			FirstTouchDue: at(t, ny, "2026-11-24 10:15"),
			Reminders:     []time.Time{at(t, ny, "2026-11-24 10:05"), at(t, ny, "2026-11-24 10:13")},
			CadenceDue:    at(t, ny, "2026-12-09 10:00"),
		}},
		{"a demo request five minutes before Friday's close", demo, "2026-11-20 16:55", Deadlines{
			FirstTouchDue: at(t, ny, "2026-11-23 09:10"),
			// Five business minutes run out at 17:00 Friday: the reminder
			// comes when the office opens, not at closing time.
			Reminders:  []time.Time{at(t, ny, "2026-11-23 09:00"), at(t, ny, "2026-11-23 09:08")},
			CadenceDue: at(t, ny, "2026-12-05 16:55"),
		}},
		{"a demo request on Saturday waits for Monday", demo, "2026-11-21 11:00", Deadlines{
			FirstTouchDue: at(t, ny, "2026-11-23 09:15"),
			Reminders:     []time.Time{at(t, ny, "2026-11-23 09:05"), at(t, ny, "2026-11-23 09:13")},
			CadenceDue:    at(t, ny, "2026-12-06 11:00"),
		}},
		{"a lead on Christmas Eve afternoon skips the holiday and the weekend", def, "2026-12-24 15:00", Deadlines{
			FirstTouchDue: at(t, ny, "2026-12-28 11:00"),
			Reminders:     []time.Time{at(t, ny, "2026-12-28 10:00"), at(t, ny, "2026-12-28 10:45")},
			CadenceDue:    at(t, ny, "2027-01-07 15:00"),
		}},
		{"the cadence window counts calendar days, so it ends at the same time of day across fall back", def, "2026-10-30 12:00", Deadlines{
			FirstTouchDue: at(t, ny, "2026-10-30 16:00"),
			Reminders:     []time.Time{at(t, ny, "2026-10-30 15:00"), at(t, ny, "2026-10-30 15:45")},
			CadenceDue:    at(t, ny, "2026-11-13 12:00"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Deadlines(tt.rule, "", at(t, ny, tt.assigned))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("deadlines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDeadlinesWithoutBusinessHoursRunAroundTheClock(t *testing.T) {
	p := &Policy{Location: time.UTC}
	r := &Rule{Name: "default", FirstTouch: 4 * time.Hour,
		// 5h and 4h are not before the deadline and after the hand-off, so
		// they are dropped; 30m twice gives one reminder.
		RemindBefore: []time.Duration{5 * time.Hour, 4 * time.Hour, time.Hour, 30 * time.Minute, 30 * time.Minute}}
	assigned := time.Date(2026, 11, 21, 22, 0, 0, 0, time.UTC)
	want := Deadlines{
		FirstTouchDue: time.Date(2026, 11, 22, 2, 0, 0, 0, time.UTC),
		Reminders:     []time.Time{time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC), time.Date(2026, 11, 22, 1, 30, 0, 0, time.UTC)},
	}
	if diff := cmp.Diff(want, p.Deadlines(r, "", assigned)); diff != "" {
		t.Errorf("deadlines (-want +got):\n%s", diff)
	}
}

func TestCadenceStatusCountsTouchesInTheWindow(t *testing.T) {
	rule := &Rule{Name: "demo", FirstTouch: 15 * time.Minute, Touches: Cadence{Count: 8, Within: 15 * 24 * time.Hour}}
	assigned := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	due := assigned.Add(15 * 24 * time.Hour)
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	touches := func(n int) []time.Time {
		var ts []time.Time
		for i := range n {
			ts = append(ts, assigned.Add(time.Duration(i+1)*time.Hour))
		}
		return ts
	}
	tests := []struct {
		name    string
		now     time.Time
		touches []time.Time
		want    CadenceProgress
		text    string
	}{
		{"under way", day(13, 9), touches(3),
			CadenceProgress{Done: 3, Required: 8, Left: 5, Due: due, TimeLeft: 4*24*time.Hour + time.Hour, Achievable: true},
			"3/8 touches, 4 days left: 5 more needed"},
		{"hours left", day(17, 8), touches(3),
			CadenceProgress{Done: 3, Required: 8, Left: 5, Due: due, TimeLeft: 2 * time.Hour, Achievable: true},
			"3/8 touches, 2 hours left: 5 more needed"},
		{"met", day(10, 9), touches(8),
			CadenceProgress{Done: 8, Required: 8, Due: due, TimeLeft: 7*24*time.Hour + time.Hour, Met: true, Achievable: true},
			"8/8 touches: cadence met"},
		{"met and the window over", day(20, 9), touches(9),
			CadenceProgress{Done: 9, Required: 8, Due: due, Met: true, Achievable: true},
			"9/8 touches: cadence met"},
		{"missed", due, touches(5),
			CadenceProgress{Done: 5, Required: 8, Left: 3, Due: due, Breached: true},
			"5/8 touches: the window closed 3 short"},
		{"only touches in [assigned, due) and not after now count",
			day(16, 0),
			[]time.Time{assigned.Add(-time.Minute), assigned, due.Add(-time.Second), due, day(15, 0), day(16, 1)},
			CadenceProgress{Done: 2, Required: 8, Left: 6, Due: due, TimeLeft: 34 * time.Hour, Achievable: true},
			"2/8 touches, 34 hours left: 6 more needed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CadenceStatus(rule, assigned, tt.now, tt.touches)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("progress (-want +got):\n%s", diff)
			}
			if s := got.String(); s != tt.text {
				t.Errorf("String() = %q, want %q", s, tt.text)
			}
		})
	}
	none := CadenceStatus(&Rule{FirstTouch: time.Hour}, assigned, day(30, 0), nil)
	if !none.Met || !none.Achievable || none.Breached || none.String() != "no touch cadence required" {
		t.Errorf("a rule without a cadence: %+v %q", none, none)
	}
}

func TestBreachesOfEachKind(t *testing.T) {
	p := examplePolicy(t)
	ny := p.Location
	demo := p.Rule("demo-request")
	assigned := at(t, ny, "2026-11-24 10:00")
	due := at(t, ny, "2026-11-24 10:15")
	cadenceDue := at(t, ny, "2026-12-09 10:00")
	eight := func(from time.Time) []time.Time {
		var ts []time.Time
		for i := range 8 {
			ts = append(ts, from.Add(time.Duration(i)*24*time.Hour))
		}
		return ts
	}
	lead := func(mod func(*Lead)) *Lead {
		l := &Lead{ID: 7, OwnerEmail: "ana@example.com", Team: "sdr-east", Rule: "demo-request", State: StateNotified, AssignedAt: assigned}
		if mod != nil {
			mod(l)
		}
		return l
	}
	firstTouch := func(now time.Time) Breach {
		return Breach{LeadID: 7, Kind: BreachFirstTouch, Rule: "demo-request", RepEmail: "ana@example.com", Team: "sdr-east", Due: due, At: now}
	}
	cadence := func(now time.Time) Breach {
		return Breach{LeadID: 7, Kind: BreachCadence, Rule: "demo-request", RepEmail: "ana@example.com", Team: "sdr-east", Due: cadenceDue, At: now}
	}
	later := at(t, ny, "2026-11-24 11:00")
	afterWindow := at(t, ny, "2026-12-10 12:00")
	tests := []struct {
		name    string
		lead    *Lead
		touches []time.Time
		now     time.Time
		want    []Breach
	}{
		{"no touch, a minute before the deadline: nothing yet", lead(nil), nil, due.Add(-time.Minute), nil},
		{"no touch at the deadline: first-touch breach", lead(nil), nil, due, []Breach{firstTouch(due)}},
		{"touched on time", lead(func(l *Lead) { l.FirstTouchAt = due.Add(-5 * time.Minute) }), nil, later, nil},
		{"touched at the deadline itself is on time", lead(func(l *Lead) { l.FirstTouchAt = due }), nil, later, nil},
		{"touched late", lead(func(l *Lead) { l.FirstTouchAt = due.Add(5 * time.Minute) }), nil, later, []Breach{firstTouch(later)}},
		{"a logged touch counts even before FirstTouchAt is set", lead(nil), []time.Time{due.Add(-3 * time.Minute)}, later, nil},
		{"a touch for the previous owner does not count", lead(nil), []time.Time{assigned.Add(-time.Hour)}, later, []Breach{firstTouch(later)}},
		{"the deadline the rep was told wins over the policy's",
			lead(func(l *Lead) { l.FirstTouchDue = due.Add(time.Hour) }), nil, later, nil},
		{"a snoozed lead still breaches", lead(func(l *Lead) { l.State = StateSnoozed; l.SnoozedUntil = afterWindow }), nil, later, []Breach{firstTouch(later)}},
		{"a won lead never breaches", lead(func(l *Lead) { l.State = StateWon }), nil, afterWindow, nil},
		{"a lead returned to Marketing never breaches", lead(func(l *Lead) { l.State = StateReturned }), nil, afterWindow, nil},
		{"too few touches when the window closes: cadence breach",
			lead(func(l *Lead) { l.FirstTouchAt = assigned.Add(time.Minute) }), eight(assigned.Add(time.Minute))[:3], afterWindow, []Breach{cadence(afterWindow)}},
		{"eight touches in fifteen days: no breach",
			lead(func(l *Lead) { l.FirstTouchAt = assigned.Add(time.Minute) }), eight(assigned.Add(time.Minute)), afterWindow, nil},
		{"never touched at all: both", lead(nil), nil, afterWindow, []Breach{firstTouch(afterWindow), cadence(afterWindow)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Breaches(demo, tt.lead, tt.touches, tt.now)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("breaches (-want +got):\n%s", diff)
			}
		})
	}
	if p.Breaches(nil, lead(nil), nil, afterWindow) != nil || p.Breaches(demo, nil, nil, afterWindow) != nil {
		t.Error("no rule or no lead: no breaches")
	}
}
