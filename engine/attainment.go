package engine

import (
	"strings"
	"time"
)

// This file and the attainment_*.go files measure both sides of the
// agreement over a period: Sales' attainment (first touch on time, response
// times, cadence, breaches, outcomes) and Marketing's funnel against the
// monthly targets. It is pure computation over facts the storage layer
// loaded: no clock, no I/O, so the same numbers come out of a test, a slash
// command and the weekly report.

// LeadFacts is one lead with what happened to it, as loaded by storage.
type LeadFacts struct {
	Lead Lead
	// Touches are the times of the lead's touches, sorted, by whoever made them.
	Touches []time.Time
	// Breaches are every breach recorded on the lead, by any owner.
	Breaches []Breach
	// ReturnedReason is "" unless the lead went back to Marketing; "SLA
	// breached" when it went back automatically.
	ReturnedReason string
	// OpportunityAt is when the lead first became an opportunity, as the
	// CRM reported it; zero when it did not, or the date is unknown.
	OpportunityAt time.Time
}

// Attainment is how one scope did against the agreement over one period.
//
// Different numbers follow different clocks, each the one that makes the
// number final as soon as it can be:
//   - SQLs, first touch, response times and routing delay follow the leads
//     received in the period (a cohort), judged as of now.
//   - Cadence, breaches, returns and outcomes count what happened in the
//     period, whenever the lead came in.
//   - OpenLeads is a snapshot at the end of the period, or now if earlier.
//
// Shares are 0 when nothing was decided (0/0); the Has… flags tell "0%"
// from "nothing to measure". Maps are never nil.
type Attainment struct {
	Scope  Scope
	Period Period

	// SQLs counts leads received (ReceivedAt) in the period and in scope.
	SQLs int
	// The first-touch outcome of each SQL, for its current assignment
	// (FirstTouchOnTime + FirstTouchLate + FirstTouchPending +
	// FirstTouchClosed == SQLs):
	//   - on time: a touch at or before FirstTouchDue, and no first-touch
	//     breach recorded for this assignment;
	//   - late: a first-touch breach recorded for this assignment (it wins
	//     over a back-dated touch: the SLA was judged at the deadline), a
	//     first touch after the deadline, or no touch and the deadline passed;
	//   - pending: not touched and not yet due, or never assigned (no owner,
	//     so no clock; see Unrouted);
	//   - closed: closed (returned, disqualified, …) before the deadline
	//     without a touch. The rep disposed of the lead in time, which is
	//     neither a first touch nor a miss, so it is left out of the share.
	// A touch counts for the assignment when it is at or after AssignedAt,
	// or earlier when the lead was never reassigned (a rep who called before
	// the CRM's hand-off arrived answered in no time). A reassigned lead's
	// earlier touches belong to its previous owner.
	FirstTouchOnTime, FirstTouchLate, FirstTouchPending, FirstTouchClosed int
	// OnTimeShare is on time ÷ (on time + late); HasOnTimeData reports
	// whether that denominator is above 0. OnTimeTarget is the policy's
	// first_touch_on_time (DefaultFirstTouchOnTime when not set).
	OnTimeShare   float64
	HasOnTimeData bool
	OnTimeTarget  float64
	// Unrouted counts SQLs without an owner.
	Unrouted int

	// TimeToFirstTouchBusiness and TimeToFirstTouchWall are the rep's
	// delay, AssignedAt → first touch, over SQLs touched so far (on time
	// or late): in business time on the policy's calendar (24×7 without
	// one), and on the wall clock. A touch before the assignment is 0.
	TimeToFirstTouchBusiness, TimeToFirstTouchWall Stats
	// RoutingDelay is HandedOffAt → AssignedAt in wall time: the time the
	// lead spent reaching a rep, which is ops' part, kept apart from the
	// rep's. Reassigned leads are left out, since their AssignedAt is the
	// reassignment, not the routing.
	RoutingDelay Stats

	// Cadence: leads whose "N touches in D days" was decided in the
	// period: met at the moment of the N-th touch in the window, missed
	// when the window closed short while the lead was still with Sales
	// (a lead closed before its window ended owes no cadence). Running
	// counts windows still open, and not yet met, at the end of the period
	// (or now). CadenceShare is met ÷ (met + missed); HasCadenceData
	// reports whether that is above 0.
	CadenceMet, CadenceMissed, CadenceRunning int
	CadenceShare                              float64
	HasCadenceData                            bool

	// Breaches with At in the period, in scope by the breach's rep and
	// team; by rule name, kind and rep email (lower-cased).
	BreachesByRule map[string]int
	BreachesByKind map[BreachKind]int
	BreachesByRep  map[string]int
	// Breaches is the total of BreachesByKind.
	Breaches int

	// ReturnsByReason counts leads returned to Marketing with ClosedAt in
	// the period, by reason ("no reason given" when none was recorded).
	ReturnsByReason map[string]int
	// Returns is the total of ReturnsByReason.
	Returns int

	// Outcomes. Won, Lost and Disqualified count leads in that state with
	// ClosedAt in the period; WonAmount sums the won leads' Amount.
	// Opportunities counts leads now in the opportunity state: slabot keeps
	// no date for becoming one, so each is placed by ClosedAt when set, else
	// by ReceivedAt.
	Opportunities, Won, Lost, Disqualified int
	WonAmount                              float64

	// OpenLeads counts leads in scope that were open (with Sales and their
	// clocks running) at the end of the period, or now if that is earlier.
	OpenLeads int
}

// ruleOf is the policy rule of a lead: by the name recorded on it, else by
// matching, or nil.
func ruleOf(p *Policy, l *Lead) *Rule {
	if p == nil {
		return nil
	}
	if r := p.Rule(l.Rule); r != nil && l.Rule != "" {
		return r
	}
	return p.RuleFor(l.Source, l.Segment, l.Score)
}

// openAt reports whether the lead was open (with Sales, clocks running) at c.
func openAt(l *Lead, c time.Time) bool {
	if l.ReceivedAt.IsZero() || !l.ReceivedAt.Before(c) {
		return false
	}
	if l.State.Open() {
		return l.ClosedAt.IsZero() || !l.ClosedAt.Before(c)
	}
	return !l.ClosedAt.IsZero() && !l.ClosedAt.Before(c)
}

// share is num ÷ den, and whether den is above 0; 0 for 0/0, never NaN.
func share(num, den int) (float64, bool) {
	if den <= 0 {
		return 0, false
	}
	return float64(num) / float64(den), true
}

// cutoff is the end of the period, or now when that is earlier: what has
// not happened yet cannot be counted.
func cutoff(period Period, now time.Time) time.Time {
	if now.Before(period.End) {
		return now
	}
	return period.End
}

// ComputeAttainment measures scope over period as of now from facts (all
// leads; those outside the scope are skipped). p may be nil: no rules, a
// 24×7 clock and the default on-time target. See Attainment for what each
// number counts.
func ComputeAttainment(p *Policy, facts []LeadFacts, scope Scope, period Period, now time.Time) Attainment {
	a := Attainment{
		Scope: scope, Period: period, OnTimeTarget: DefaultFirstTouchOnTime,
		BreachesByRule: map[string]int{}, BreachesByKind: map[BreachKind]int{}, BreachesByRep: map[string]int{},
		ReturnsByReason: map[string]int{},
	}
	if p != nil {
		if p.Targets.FirstTouchOnTime > 0 {
			a.OnTimeTarget = p.Targets.FirstTouchOnTime
		}
	}
	end := cutoff(period, now)
	var business, wall, routing []time.Duration
	for i := range facts {
		f := &facts[i]
		l := &f.Lead

		for _, b := range f.Breaches {
			if period.Contains(b.At) && !b.At.After(now) && scope.hasBreach(p, b, l) {
				rule := b.Rule
				if rule == "" {
					rule = l.Rule
				}
				a.BreachesByRule[rule]++
				a.BreachesByKind[b.Kind]++
				a.BreachesByRep[breachRep(b, l)]++
				a.Breaches++
			}
		}
		if !scope.hasLead(p, l) {
			continue
		}

		if period.Contains(l.ReceivedAt) && !l.ReceivedAt.After(now) {
			a.SQLs++
			if l.OwnerEmail == "" {
				a.Unrouted++
			}
			switch judgeFirstTouch(p, f, now) {
			case ftOnTime:
				a.FirstTouchOnTime++
			case ftLate:
				a.FirstTouchLate++
			case ftClosed:
				a.FirstTouchClosed++
			default:
				a.FirstTouchPending++
			}
			if t, ok := firstTouch(f, now); ok {
				business = append(business, p.CalendarForLead(l).Between(l.AssignedAt, t))
				wall = append(wall, max(0, t.Sub(l.AssignedAt)))
			}
			if !l.HandedOffAt.IsZero() && !l.AssignedAt.IsZero() && !reassigned(f) {
				routing = append(routing, max(0, l.AssignedAt.Sub(l.HandedOffAt)))
			}
		}

		if cd := decideCadence(p, f, now); cd.applies {
			switch {
			case cd.decided && period.Contains(cd.at) && cd.met:
				a.CadenceMet++
			case cd.decided && period.Contains(cd.at):
				a.CadenceMissed++
			}
			// Running at the cut-off: assigned, window still open, not met
			// yet, and still with Sales.
			running := l.AssignedAt.Before(end) && end.Before(cd.end) && !end.Before(period.Start) &&
				(!cd.decided || !cd.at.Before(end)) && (cd.stopped.IsZero() || !cd.stopped.Before(end))
			if running {
				a.CadenceRunning++
			}
		}

		if (l.State == StateReturned || f.ReturnedReason != "") && period.Contains(l.ClosedAt) && !l.ClosedAt.After(now) {
			reason := strings.TrimSpace(f.ReturnedReason)
			if reason == "" {
				reason = strings.TrimSpace(l.ReturnReason)
			}
			if reason == "" {
				reason = "no reason given"
			}
			a.ReturnsByReason[reason]++
			a.Returns++
		}

		closedIn := period.Contains(l.ClosedAt) && !l.ClosedAt.After(now)
		switch l.State {
		case StateWon:
			if closedIn {
				a.Won++
				a.WonAmount += l.Amount
			}
		case StateLost:
			if closedIn {
				a.Lost++
			}
		case StateDisqualified:
			if closedIn {
				a.Disqualified++
			}
		case StateOpportunity:
			when := l.ClosedAt
			if when.IsZero() {
				when = l.ReceivedAt
			}
			if period.Contains(when) && !when.After(now) {
				a.Opportunities++
			}
		}

		if openAt(l, end) {
			a.OpenLeads++
		}
	}
	a.OnTimeShare, a.HasOnTimeData = share(a.FirstTouchOnTime, a.FirstTouchOnTime+a.FirstTouchLate)
	a.CadenceShare, a.HasCadenceData = share(a.CadenceMet, a.CadenceMet+a.CadenceMissed)
	a.TimeToFirstTouchBusiness = StatsOf(business)
	a.TimeToFirstTouchWall = StatsOf(wall)
	a.RoutingDelay = StatsOf(routing)
	return a
}
