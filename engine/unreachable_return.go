package engine

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// ReturnReasonUnreachable is the reason of a lead returned because the rep
// could not reach the buyer after the agreed touches.
const ReturnReasonUnreachable = "Unable to reach"

// UnreachableGate says whether a lead may go back to Marketing as
// "unable to reach": only once its rule's touches are logged or its touch
// window has closed. Open is when the window closes (zero when the rule has
// no cadence); Left is how many touches are still needed.
type UnreachableGate struct {
	Allowed bool
	Left    int
	Opens   time.Time
}

// UnreachableStatus is the gate of lead under rule r at now, given the
// times of its touches. A rule without a cadence asks for no touches, so
// the gate is open.
func UnreachableStatus(r *Rule, lead *Lead, touches []time.Time, now time.Time) UnreachableGate {
	if r == nil {
		return UnreachableGate{Allowed: true}
	}
	cp := CadenceStatus(r, lead.AssignedAt, now, touches)
	return UnreachableGate{Allowed: cp.Met || cp.Breached, Left: cp.Left, Opens: cp.Due}
}

// Why is the gate, closed, in words for the rep: "Log 3 more touches
// first, or wait until the touch window closes on Dec 22, 10:00 AM."
func (g UnreachableGate) Why(loc *time.Location) string {
	touches := "touches"
	if g.Left == 1 {
		touches = "touch"
	}
	return fmt.Sprintf("log %d more %s first, or wait until the touch window closes on %s", g.Left, touches,
		g.Opens.In(loc).Format("Mon Jan 2, 3:04 PM MST"))
}

// ReturnUnreachable sends the lead back to Marketing as "unable to reach",
// with the rep's note, once the gate is open; before, it refuses and says
// how many touches are left and when it opens.
func (s *Service) ReturnUnreachable(ctx context.Context, leadID int64, a Actor, note string) (*Lead, error) {
	note = strings.TrimSpace(note)
	return s.actOnLead(ctx, leadID, a, func(tx Tx, l *Lead, now time.Time) error {
		if !l.State.Open() {
			return Errorf(EINVALID, "%s is already %s.", l.DisplayName(), l.State.Label())
		}
		touches, err := tx.Touches(ctx, l.ID)
		if err != nil {
			return err
		}
		if g := UnreachableStatus(ruleOf(s.Policy(), l), l, TouchTimes(touches), now); !g.Allowed {
			loc, err := s.repLocation(ctx, tx, l.OwnerEmail)
			if err != nil {
				return err
			}
			return Errorf(EINVALID, "%s can go back as unable to reach once the agreed touches are made: %s.", l.DisplayName(), g.Why(loc))
		}
		reason := ReturnReasonUnreachable
		if note != "" {
			reason += ": " + note
		}
		return s.returnLead(ctx, tx, l, now, a, reason, false)
	})
}
