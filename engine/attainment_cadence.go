package engine

import (
	"time"
)

// Whether a lead's "N touches in D days" was met, missed or is still running.

// cadenceDecision is when and how a lead's cadence was decided.
type cadenceDecision struct {
	applies bool      // the lead owes a cadence for this assignment
	decided bool      // met or missed, at `at`
	met     bool      // met (else missed)
	at      time.Time // the N-th touch in the window, or the window's end
	end     time.Time // the window's end
	stopped time.Time // when the lead left Sales; zero while open
}

func decideCadence(p *Policy, f *LeadFacts, now time.Time) cadenceDecision {
	l := &f.Lead
	r := ruleOf(p, l)
	if r == nil || r.Touches.Count <= 0 || r.Touches.Within <= 0 || l.AssignedAt.IsZero() {
		return cadenceDecision{}
	}
	d := cadenceDecision{applies: true, end: r.cadenceEnd(l.AssignedAt, p.leadZone(l))}
	n := 0
	for _, t := range f.Touches {
		if !t.Before(l.AssignedAt) && t.Before(d.end) && !t.After(now) {
			n++
			if n == r.Touches.Count {
				d.decided, d.met, d.at = true, true, t
				return d
			}
		}
	}
	if !l.State.Open() {
		if l.ClosedAt.IsZero() || l.ClosedAt.Before(d.end) {
			// Left Sales before the window closed (or at an unknown time, an
			// opportunity): no cadence is owed any more.
			return cadenceDecision{}
		}
		d.stopped = l.ClosedAt
	}
	if !now.Before(d.end) {
		d.decided, d.at = true, d.end
	}
	return d
}
