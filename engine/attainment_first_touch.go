package engine

import (
	"slices"
	"time"
)

// Which touch answers a lead's assignment, and whether it came on time.

// firstTouchDue is the lead's first-touch deadline: the one the rep was
// told, else worked out from the rule; zero when there is no assignment
// or rule.
func firstTouchDue(p *Policy, l *Lead) time.Time {
	if !l.FirstTouchDue.IsZero() || l.AssignedAt.IsZero() {
		return l.FirstTouchDue
	}
	if r := ruleOf(p, l); r != nil {
		return p.LeadDeadlines(r, l, l.AssignedAt).FirstTouchDue
	}
	return time.Time{}
}

// reassigned reports whether the lead's current assignment is not its
// first: counted re-routings, or a breach due before the assignment (the
// previous owner's).
func reassigned(f *LeadFacts) bool {
	if f.Lead.Reassignments > 0 || f.Lead.State == StateReassigned {
		return true
	}
	return slices.ContainsFunc(f.Breaches, func(b Breach) bool { return b.Due.Before(f.Lead.AssignedAt) })
}

// firstTouch is the first touch that answers the current assignment, as
// of now (see Attainment.FirstTouchOnTime).
func firstTouch(f *LeadFacts, now time.Time) (time.Time, bool) {
	l := &f.Lead
	if l.AssignedAt.IsZero() {
		return time.Time{}, false
	}
	early := !reassigned(f)
	var first time.Time
	consider := func(t time.Time) {
		if t.IsZero() || t.After(now) || (!early && t.Before(l.AssignedAt)) {
			return
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	consider(l.FirstTouchAt)
	for _, t := range f.Touches {
		consider(t)
	}
	return first, !first.IsZero()
}

// firstTouchOutcome sorts a lead into on time, late, pending or closed.
type firstTouchOutcome int

const (
	ftPending firstTouchOutcome = iota
	ftOnTime
	ftLate
	ftClosed
)

func judgeFirstTouch(p *Policy, f *LeadFacts, now time.Time) firstTouchOutcome {
	l := &f.Lead
	if l.AssignedAt.IsZero() {
		return ftPending
	}
	for _, b := range f.Breaches {
		if b.Kind == BreachFirstTouch && !b.Due.Before(l.AssignedAt) {
			return ftLate
		}
	}
	due := firstTouchDue(p, l)
	touch, touched := firstTouch(f, now)
	switch {
	case touched && (due.IsZero() || !touch.After(due)):
		return ftOnTime
	case touched:
		return ftLate
	case due.IsZero():
		return ftPending
	case !l.State.Open() && (l.ClosedAt.IsZero() || !l.ClosedAt.After(due)):
		// Closed untouched before the deadline: disposed of in time. An
		// opportunity has no ClosedAt; it came about somehow, so it is not
		// held against the rep either.
		return ftClosed
	case !now.Before(due):
		return ftLate
	}
	return ftPending
}
