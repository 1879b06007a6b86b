package engine

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestAMovedDeadlineIsPlannedAsTheFirstOne holds the one timer planner to
// its word: the first-touch timers of an assignment and those of a
// deadline a manager moved are the same jobs but for their keys, each
// naming the deadline it is for.
func TestAMovedDeadlineIsPlannedAsTheFirstOne(t *testing.T) {
	p := &Policy{}
	r := &Rule{Name: "demo", FirstTouch: time.Hour, RemindBefore: []time.Duration{30 * time.Minute, 10 * time.Minute},
		AcceptWithin: 2 * time.Hour}
	l := &Lead{ID: 7, AssignedAt: time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)}
	d := p.LeadDeadlines(r, l, l.AssignedAt)

	var assignment []Job
	for _, j := range timerJobs(p, r, l) {
		switch a := j.Args.(type) {
		case ReminderArgs:
			if !a.Accept {
				assignment = append(assignment, j)
			}
		case FirstTouchDueArgs:
			assignment = append(assignment, j)
		}
	}
	if len(assignment) != 3 {
		t.Fatalf("the assignment plans %d first-touch timers, want two reminders and a check", len(assignment))
	}
	for _, j := range assignment {
		var due time.Time
		switch a := j.Args.(type) {
		case ReminderArgs:
			due = a.Due
		case FirstTouchDueArgs:
			due = a.Due
		}
		if !due.Equal(d.FirstTouchDue) {
			t.Errorf("%s names the deadline %v, want %v", j.UniqueKey, due, d.FirstTouchDue)
		}
	}
	// Moved by nothing, the extension plans the same jobs under other keys.
	if diff := cmp.Diff(assignment, extensionTimers(d, l), cmpopts.IgnoreFields(Job{}, "UniqueKey")); diff != "" {
		t.Errorf("an extension plans other timers than the assignment (-assignment +extension):\n%s", diff)
	}
}
