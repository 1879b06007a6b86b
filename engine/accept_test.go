package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const acceptTeams = "timezone: America/New_York\n" +
	"business_hours: {days: [mon, tue, wed, thu, fri], start: \"09:00\", end: \"17:00\"}\n" +
	"teams: [{name: a, manager: m@example.com, reps: [r@example.com]}]\n"

func TestAcceptWithinIsCheckedAsABusinessDurationNoLongerThanFirstTouch(t *testing.T) {
	tests := []struct {
		name, rule string
		want       time.Duration
		problem    string
	}{
		{"absent: no accept deadline", "{name: d, first_touch: 4h}", 0, ""},
		{"shorter than first_touch", "{name: d, first_touch: 4h, accept_within: 30m}", 30 * time.Minute, ""},
		{"as long as first_touch", "{name: d, first_touch: 4h, accept_within: 4h}", 4 * time.Hour, ""},
		{"longer than first_touch", "{name: d, first_touch: 1h, accept_within: 2h}", 0,
			"rules[0].accept_within: 2 hours is longer than first_touch (1 hour)"},
		{"not a duration", "{name: d, first_touch: 1h, accept_within: soon}", 0, "rules[0].accept_within"},
		{"zero", "{name: d, first_touch: 1h, accept_within: 0m}", 0, "rules[0].accept_within"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, probs := ParsePolicy([]byte(acceptTeams+"rules: ["+tt.rule+"]\n"), policyNow)
			if tt.problem != "" {
				if probs.Error() == "" || !strings.Contains(probs.Error(), tt.problem) {
					t.Fatalf("problems %q, want one about %q", probs.Error(), tt.problem)
				}
				return
			}
			if p == nil || probs.Error() != "" {
				t.Fatalf("problems: %v", probs)
			}
			if got := p.Rules[0].AcceptWithin; got != tt.want {
				t.Errorf("accept_within %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAcceptDeadlineCountsBusinessTimeWithItsOwnReminders(t *testing.T) {
	p, probs := ParsePolicy([]byte(acceptTeams+
		"rules: [{name: d, first_touch: 4h, accept_within: 30m, remind_before: [1h, 10m]}]\n"), policyNow)
	if p == nil {
		t.Fatal(probs)
	}
	ny := p.Location
	// Handed off at 16:50 on Friday: 10 business minutes on Friday, the
	// other 20 from Monday's opening.
	got := p.Deadlines(&p.Rules[0], "", at(t, ny, "2026-11-20 16:50"))
	want := Deadlines{
		FirstTouchDue: at(t, ny, "2026-11-23 12:50"),
		Reminders:     []time.Time{at(t, ny, "2026-11-23 11:50"), at(t, ny, "2026-11-23 12:40")},
		AcceptDue:     at(t, ny, "2026-11-23 09:20"),
		// 1h is not shorter than accept_within: only the 10m reminder.
		AcceptReminders: []time.Time{at(t, ny, "2026-11-23 09:10")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deadlines (-want +got):\n%s", diff)
	}
}

func TestAnAcceptBreachIsForALeadNeitherAcceptedNorTouchedInTime(t *testing.T) {
	p, probs := ParsePolicy([]byte(acceptTeams+"rules: [{name: d, first_touch: 4h, accept_within: 30m}]\n"), policyNow)
	if p == nil {
		t.Fatal(probs)
	}
	ny := p.Location
	r := &p.Rules[0]
	assigned := at(t, ny, "2026-11-24 10:00")
	due := at(t, ny, "2026-11-24 10:30")
	lead := func(mod func(*Lead)) *Lead {
		l := &Lead{ID: 3, OwnerEmail: "r@example.com", Team: "a", Rule: "d", State: StateNotified, AssignedAt: assigned,
			FirstTouchDue: at(t, ny, "2026-11-24 14:00")}
		if mod != nil {
			mod(l)
		}
		return l
	}
	accept := func(now time.Time) []Breach {
		return []Breach{{LeadID: 3, Kind: BreachAccept, Rule: "d", RepEmail: "r@example.com", Team: "a", Due: due, At: now}}
	}
	later := at(t, ny, "2026-11-24 11:00")
	tests := []struct {
		name    string
		lead    *Lead
		touches []time.Time
		now     time.Time
		want    []Breach
	}{
		{"a minute before the deadline: nothing yet", lead(nil), nil, due.Add(-time.Minute), nil},
		{"at the deadline, not accepted", lead(nil), nil, due, accept(due)},
		{"accepted in time", lead(func(l *Lead) { l.AcknowledgedAt = due.Add(-time.Minute) }), nil, later, nil},
		{"accepted at the deadline itself", lead(func(l *Lead) { l.AcknowledgedAt = due }), nil, later, nil},
		{"accepted late", lead(func(l *Lead) { l.AcknowledgedAt = due.Add(time.Minute) }), nil, later, accept(later)},
		{"touched in time without accepting", lead(func(l *Lead) { l.FirstTouchAt = due.Add(-time.Minute) }), nil, later, nil},
		{"a logged touch in time", lead(nil), []time.Time{assigned.Add(time.Minute)}, later, nil},
		{"a touch for an earlier owner does not accept", lead(nil), []time.Time{assigned.Add(-time.Minute)}, later, accept(later)},
		{"a closed lead never breaches", lead(func(l *Lead) { l.State = StateReturned }), nil, later, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, p.Breaches(r, tt.lead, tt.touches, tt.now)); diff != "" {
				t.Errorf("breaches (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTargetsAcceptedIsAShareTheSummaryStates(t *testing.T) {
	p, probs := ParsePolicy([]byte(acceptTeams+"targets: {accepted: 0.85}\nrules: [{name: d, first_touch: 4h, accept_within: 1h}]\n"), policyNow)
	if p == nil || probs.Error() != "" {
		t.Fatalf("problems: %v", probs)
	}
	if p.Targets.Accepted != 0.85 {
		t.Errorf("targets.accepted %v, want 0.85", p.Targets.Accepted)
	}
	sum := p.Summary()
	for _, want := range []string{"Sales aims to accept 85% of the leads it decides on.", "accepted within 1 business hour"} {
		if !strings.Contains(sum, want) {
			t.Errorf("the summary does not say %q:\n%s", want, sum)
		}
	}
	if strings.Contains(sum, "Targets per calendar month") {
		t.Errorf("a share to accept is no monthly target:\n%s", sum)
	}
	if _, probs := ParsePolicy([]byte(acceptTeams+"targets: {accepted: 1.5}\nrules: [{name: d, first_touch: 4h}]\n"), policyNow); !strings.Contains(probs.Error(), "targets.accepted") {
		t.Errorf("targets.accepted 1.5: problems %q, want one about it", probs.Error())
	}
}
