package engine

import (
	"fmt"
	"slices"
	"time"
)

// Deadlines are the moments a rule sets for one assignment of a lead.
type Deadlines struct {
	// FirstTouchDue is when the first touch is due: FirstTouch of business
	// time after the assignment. A lead assigned while the calendar is
	// closed starts its clock at the next opening.
	FirstTouchDue time.Time
	// Reminders are when to remind the rep, in ascending order, each
	// RemindBefore of business time before FirstTouchDue; only those after
	// the assignment are kept.
	Reminders []time.Time
	// AcceptDue is when the lead must be accepted: AcceptWithin of
	// business time after the assignment; zero when the rule sets none.
	AcceptDue time.Time
	// AcceptReminders are when to remind the rep to accept, each
	// RemindBefore of business time before AcceptDue (only reminders
	// shorter than AcceptWithin), ascending.
	AcceptReminders []time.Time
	// CadenceDue is the end of the touch cadence window, Within of
	// calendar time after the assignment; zero when the rule has no cadence.
	CadenceDue time.Time
}

// Deadlines works out the deadlines of rule r for a lead of team assigned
// at assignedAt. The first touch and the reminders count business time on
// the team's calendar (CalendarFor: the team's own, else the policy's;
// 24×7 without one); the cadence window counts calendar time from
// assignedAt itself, because "8 touches in 15 days" means days on the
// calendar, weekends included (whole days in the zone of the team's
// calendar).
//
// Like the calendar, a deadline is always an open instant: a first touch
// due exactly at closing time is due at the next opening instead, which
// gives the rep the same business time.
func (p *Policy) Deadlines(r *Rule, team string, assignedAt time.Time) Deadlines {
	return deadlinesOn(p.CalendarFor(team), p.teamZone(team), r, assignedAt) // a nil policy, like a nil calendar, runs 24×7
}

// LeadDeadlines is Deadlines for lead l's team (CalendarForLead: the team
// recorded on the lead, else its owner's) from assignedAt.
func (p *Policy) LeadDeadlines(r *Rule, l *Lead, assignedAt time.Time) Deadlines {
	return deadlinesOn(p.CalendarForLead(l), p.leadZone(l), r, assignedAt)
}

// deadlinesOn is Deadlines on the calendar cal, with the cadence's whole
// days counted in zone (nil: the rule's, the policy's zone).
func deadlinesOn(cal *Calendar, zone *time.Location, r *Rule, assignedAt time.Time) Deadlines {
	d := Deadlines{FirstTouchDue: cal.Add(assignedAt, r.FirstTouch)}
	for _, before := range r.RemindBefore {
		if before <= 0 || before >= r.FirstTouch {
			continue // a reminder at or before the hand-off helps nobody
		}
		at := cal.Add(assignedAt, r.FirstTouch-before)
		if at.After(assignedAt) && !slices.ContainsFunc(d.Reminders, at.Equal) {
			d.Reminders = append(d.Reminders, at)
		}
	}
	slices.SortFunc(d.Reminders, time.Time.Compare)
	if r.AcceptWithin > 0 {
		d.AcceptDue = cal.Add(assignedAt, r.AcceptWithin)
		for _, before := range r.RemindBefore {
			if before <= 0 || before >= r.AcceptWithin {
				continue
			}
			at := cal.Add(assignedAt, r.AcceptWithin-before)
			if at.After(assignedAt) && !slices.ContainsFunc(d.AcceptReminders, at.Equal) {
				d.AcceptReminders = append(d.AcceptReminders, at)
			}
		}
		slices.SortFunc(d.AcceptReminders, time.Time.Compare)
	}
	if r.Touches.Count > 0 && r.Touches.Within > 0 {
		d.CadenceDue = r.cadenceEnd(assignedAt, zone)
	}
	return d
}

// CadenceProgress is how a lead stands against its rule's touch cadence.
type CadenceProgress struct {
	// Done counts touches in the window so far; Required is the rule's
	// count; Left is how many more are needed (0 once met).
	Done, Required, Left int
	// Due is the end of the window; TimeLeft the time until then (0 once
	// it has passed).
	Due      time.Time
	TimeLeft time.Duration
	// Met: enough touches. Achievable: met, or the window is still open.
	// Breached: the window is over and the cadence was not met.
	Met, Achievable, Breached bool
}

// CadenceStatus counts the touches of a lead against rule r's cadence as of
// now. Only touches at or after assignedAt, before the window's end and not
// after now count: touches for an earlier owner do not, nor do late ones. A
// rule without a cadence is always met. The window's whole days are counted
// in the policy's zone; for a lead, whose team may have a calendar in
// another zone, use Policy.LeadCadence.
func CadenceStatus(r *Rule, assignedAt, now time.Time, touches []time.Time) CadenceProgress {
	return cadenceStatus(r, nil, assignedAt, now, touches)
}

// LeadCadence is CadenceStatus for lead l, whose cadence window counts
// whole days in the zone of its team's calendar.
func (p *Policy) LeadCadence(r *Rule, l *Lead, assignedAt, now time.Time, touches []time.Time) CadenceProgress {
	return cadenceStatus(r, p.leadZone(l), assignedAt, now, touches)
}

func cadenceStatus(r *Rule, zone *time.Location, assignedAt, now time.Time, touches []time.Time) CadenceProgress {
	cp := CadenceProgress{Required: r.Touches.Count}
	if r.Touches.Count <= 0 || r.Touches.Within <= 0 {
		cp.Required, cp.Met, cp.Achievable = 0, true, true
		return cp
	}
	cp.Due = r.cadenceEnd(assignedAt, zone)
	for _, t := range touches {
		if !t.Before(assignedAt) && t.Before(cp.Due) && !t.After(now) {
			cp.Done++
		}
	}
	cp.Left = max(0, cp.Required-cp.Done)
	cp.TimeLeft = max(0, cp.Due.Sub(now))
	cp.Met = cp.Left == 0
	open := now.Before(cp.Due)
	cp.Achievable = cp.Met || open
	cp.Breached = !cp.Met && !open
	return cp
}

// String says where the lead stands for a rep: "3/8 touches, 4 days left:
// 5 more needed", "8/8 touches: cadence met", "3/8 touches: the window
// closed 5 short".
func (cp CadenceProgress) String() string {
	switch {
	case cp.Required == 0:
		return "no touch cadence required"
	case cp.Met:
		return fmt.Sprintf("%d/%d touches: cadence met", cp.Done, cp.Required)
	case cp.Breached:
		return fmt.Sprintf("%d/%d touches: the window closed %d short", cp.Done, cp.Required, cp.Left)
	}
	return fmt.Sprintf("%d/%d touches, %s left: %d more needed", cp.Done, cp.Required, roughDuration(cp.TimeLeft), cp.Left)
}

// Breaches lists the commitments rule r says lead has missed as of now:
//
//   - first_touch when the first touch is due and no touch came by then.
//     The deadline is lead.FirstTouchDue when set (the one the rep was
//     told), else worked out from lead.AssignedAt. A touch counts when
//     lead.FirstTouchAt, or any of touches at or after the assignment, is
//     at or before the deadline.
//   - accept when the rule sets accept_within and, by its deadline, the
//     lead was neither accepted (lead.AcknowledgedAt) nor touched.
//   - cadence when the cadence window is over and too few touches fell in it.
//
// A lead that is no longer open (won, lost, returned to Marketing …) has no
// breaches. Each breach's At is now. Snoozing does not stop these clocks.
// The caller keeps track of which breaches it has already acted on.
func (p *Policy) Breaches(r *Rule, lead *Lead, touches []time.Time, now time.Time) []Breach {
	if r == nil || lead == nil || !lead.State.Open() {
		return nil
	}
	mk := func(kind BreachKind, due time.Time) Breach {
		return Breach{LeadID: lead.ID, Kind: kind, Rule: r.Name, RepEmail: lead.OwnerEmail, Team: lead.Team, Due: due, At: now}
	}
	var out []Breach
	due := lead.FirstTouchDue
	if due.IsZero() {
		due = p.LeadDeadlines(r, lead, lead.AssignedAt).FirstTouchDue
	}
	if !now.Before(due) {
		touched := !lead.FirstTouchAt.IsZero() && !lead.FirstTouchAt.After(due)
		for _, t := range touches {
			if !t.Before(lead.AssignedAt) && !t.After(due) {
				touched = true
			}
		}
		if !touched {
			out = append(out, mk(BreachFirstTouch, due))
		}
	}
	if r.AcceptWithin > 0 {
		if due := p.LeadDeadlines(r, lead, lead.AssignedAt).AcceptDue; !now.Before(due) && !AcceptedBy(lead, touches, due) {
			out = append(out, mk(BreachAccept, due))
		}
	}
	if cp := p.LeadCadence(r, lead, lead.AssignedAt, now, touches); cp.Breached {
		out = append(out, mk(BreachCadence, cp.Due))
	}
	return out
}

// cadenceEnd is the end of the cadence window of a lead assigned at
// assignedAt. Whole days are calendar days in zone (nil: the policy's), so
// "15d" ends at the same time of day even across a daylight-saving change.
func (r *Rule) cadenceEnd(assignedAt time.Time, zone *time.Location) time.Time {
	w := r.Touches.Within
	if w%(24*time.Hour) != 0 {
		return assignedAt.Add(w)
	}
	loc := zone
	if loc == nil {
		loc = r.loc
	}
	if loc == nil {
		loc = assignedAt.Location()
	}
	return assignedAt.In(loc).AddDate(0, 0, int(w/(24*time.Hour)))
}

// AcceptedBy reports whether lead's current owner accepted it at or before
// due: pressed Accept, or touched the lead, which accepts it too.
func AcceptedBy(lead *Lead, touches []time.Time, due time.Time) bool {
	if !lead.AcknowledgedAt.IsZero() && !lead.AcknowledgedAt.After(due) {
		return true
	}
	if !lead.FirstTouchAt.IsZero() && !lead.FirstTouchAt.After(due) {
		return true
	}
	for _, t := range touches {
		if !t.Before(lead.AssignedAt) && !t.After(due) {
			return true
		}
	}
	return false
}
