package engine

import (
	"testing"
	"time"
)

func TestDecideReminder(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	// Mon–Fri 09:00–17:00 in New York, as a rep there works.
	cal, err := NewCalendar(ny, []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
		HourMinute(9, 0), HourMinute(17, 0), nil)
	if err != nil {
		t.Fatal(err)
	}
	assigned := time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC) // Monday 09:00 in New York
	due := assigned.Add(4 * time.Hour)
	lead := func(edit func(*Lead)) *Lead {
		l := &Lead{ID: 1, State: StateNotified, AssignedAt: assigned, FirstTouchDue: due}
		if edit != nil {
			edit(l)
		}
		return l
	}
	at := func(h, m int) time.Time {
		return assigned.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
	}
	tests := []struct {
		name     string
		lead     *Lead
		assigned time.Time
		due      time.Time
		now      time.Time
		cal      *Calendar
		send     bool
		retry    time.Time
		reason   string
	}{
		{"SendsWhenNothingHappened", lead(nil), assigned, due, at(3, 0), nil, true, time.Time{}, ReminderSend},
		{"SendsDuringWorkingHours", lead(nil), assigned, due, at(3, 0), cal, true, time.Time{}, ReminderSend},
		{"DropsWhenTouched", lead(func(l *Lead) { l.FirstTouchAt = at(1, 0); l.State = StateWorking }), assigned, due, at(3, 0), nil, false, time.Time{}, ReminderTouched},
		{"DropsWhenAcknowledged", lead(func(l *Lead) { l.AcknowledgedAt = at(1, 0); l.State = StateAcknowledged }), assigned, due, at(3, 0), nil, false, time.Time{}, ReminderAcknowledged},
		{"DropsWhenClosed", lead(func(l *Lead) { l.State = StateReturned }), assigned, due, at(3, 0), nil, false, time.Time{}, ReminderClosed},
		{"DropsWhenReassigned", lead(func(l *Lead) { l.AssignedAt = at(2, 0) }), assigned, due, at(3, 0), nil, false, time.Time{}, ReminderMoved},
		{"DropsWhenTheDeadlineMoved", lead(func(l *Lead) { l.FirstTouchDue = due.Add(time.Hour) }), assigned, due, at(3, 0), nil, false, time.Time{}, ReminderDeadlineMoved},
		{"DropsAfterTheDeadline", lead(nil), assigned, due, due, nil, false, time.Time{}, ReminderPastDue},
		{"IgnoresMicrosecondRounding", lead(func(l *Lead) { l.AssignedAt = assigned.Add(500 * time.Nanosecond) }), assigned, due, at(3, 0), nil, true, time.Time{}, ReminderSend},
		{"SnoozeHoldsItUntilTheSnoozeEnds",
			lead(func(l *Lead) { l.State = StateSnoozed; l.SnoozedUntil = at(3, 30) }), assigned, due, at(3, 0), nil, false, at(3, 30), ReminderSnoozed},
		{"SnoozePastTheDeadlineDropsIt",
			lead(func(l *Lead) { l.State = StateSnoozed; l.SnoozedUntil = due.Add(time.Minute) }), assigned, due, at(3, 0), nil, false, time.Time{}, ReminderSnoozed},
		{"AnEndedSnoozeNoLongerHolds",
			lead(func(l *Lead) { l.State = StateSnoozed; l.SnoozedUntil = at(2, 0) }), assigned, due, at(3, 0), nil, true, time.Time{}, ReminderSend},
		{"NoThreeAMDMs: waits for the rep's morning",
			lead(func(l *Lead) { l.FirstTouchDue = at(26, 0) }), assigned, at(26, 0), at(13, 0) /* 3 a.m. Tuesday in New York */, cal,
			false, at(24, 0) /* 09:00 Tuesday in New York */, ReminderOffHours},
		{"NoThreeAMDMs: drops it when the morning is too late",
			lead(func(l *Lead) { l.FirstTouchDue = at(17, 0) }), assigned, at(17, 0), at(13, 0), cal, false, time.Time{}, ReminderOffHours},
		{"SnoozeEndingAtNightWaitsForTheMorning",
			lead(func(l *Lead) { l.State = StateSnoozed; l.SnoozedUntil = at(12, 0); l.FirstTouchDue = at(26, 0) }), assigned, at(26, 0), at(3, 0), cal,
			false, at(24, 0), ReminderSnoozed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DecideReminder(tt.lead, tt.assigned, tt.due, tt.now, tt.cal)
			if got.Send != tt.send || !got.At.Equal(tt.retry) || got.Reason != tt.reason {
				t.Errorf("DecideReminder = %+v, want send %v, retry at %v, reason %s", got, tt.send, tt.retry, tt.reason)
			}
		})
	}
}

func TestExtensionTimersDoNotCollideWithTheAssignmentsOwn(t *testing.T) {
	p := &Policy{}
	r := &Rule{Name: "demo", FirstTouch: 15 * time.Minute, RemindBefore: []time.Duration{10 * time.Minute}}
	l := &Lead{ID: 7, AssignedAt: time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)}
	keys := map[string]bool{}
	for _, j := range timerJobs(p, r, l) {
		keys[j.UniqueKey] = true
	}
	ext := extensionTimers(p.LeadDeadlines(r, l, l.AssignedAt.Add(20*time.Minute)), l)
	if len(ext) != 2 {
		t.Fatalf("extension planned %d timers, want a reminder and a deadline", len(ext))
	}
	for _, j := range ext {
		if keys[j.UniqueKey] {
			t.Errorf("extension timer %s reuses a key of the assignment's timers", j.UniqueKey)
		}
		var assigned time.Time
		switch a := j.Args.(type) {
		case ReminderArgs:
			assigned = a.AssignedAt
		case FirstTouchDueArgs:
			assigned = a.AssignedAt
		}
		if !SameInstant(assigned, l.AssignedAt) {
			t.Errorf("extension timer %s does not name the assignment", j.UniqueKey)
		}
	}
}
