package engine

import (
	"slices"
	"strings"
	"time"
)

// Policy replay: what a period's real hand-offs would have looked like
// under another agreement. The replay keeps what people and the CRM did
// (the owner the CRM named, every touch, acknowledgement and snooze at
// its time, the outcomes the CRM reported, manual reassignments, who was
// away) and lets the agreement decide again what the agreement decides:
// who gets each lead, which rule it falls under, its deadlines on the
// calendar, its reminders, its breaches and what each breach does
// (reassign, return to Marketing).
//
// It is a replay, never a forecast: under other deadlines people may have
// worked differently, and the replay cannot know how. A lead that the
// record sent back to Marketing on a breach, and the replayed agreement
// keeps with Sales, has no touches after its return.
//
// Every decision is the engine's own: Policy.RuleFor, Policy.Deadlines
// (on the calendar of the team the replayed assignment is in),
// Policy.Breaches, DecideReminder, NextInRotation; the figures are
// ComputeAttainment's. Only the order in which the runtime applies them
// (the timers of one assignment, the on_breach actions) is written out
// here, because the runtime applies them inside transactions. Nothing
// here reads a clock or does I/O.

// LeadHistory is one lead's record, as the replay reads it.
type LeadHistory struct {
	// Facts are the lead as recorded: its row, every touch, every breach.
	Facts LeadFacts
	// Routed is the lead's first assignment (its "routed" event); a zero
	// At when the record has none. NamedOwner is the owner the CRM asked
	// for ("" for none).
	Routed     Move
	NamedOwner string
	// Moves are the reassignments that followed, in time order.
	Moves []Move
	// Acks are the times the lead was acknowledged, in time order.
	Acks []time.Time
	// Snoozes are the lead's snoozes, in time order.
	Snoozes []Snooze
	// OpportunityAt is when the CRM reported the lead an opportunity
	// (it then leaves the open states); zero when it never did.
	OpportunityAt time.Time
	// ReturnedByBreach: the record sent the lead back to Marketing
	// automatically, as a breach action (not a person's decision).
	ReturnedByBreach bool
}

// Move is one assignment of a lead: from At, to the rep To of Team.
type Move struct {
	At        time.Time
	To, Team  string
	Automatic bool
}

// Snooze is a snooze made At, until Until.
type Snooze struct {
	At, Until time.Time
}

// ReplayedLead is one lead as the replayed agreement would have left it.
type ReplayedLead struct {
	// Facts are what the record would hold: the rule, the last
	// assignment, its deadline, the breaches, the closing.
	Facts LeadFacts
	// Reminders are when reminders would have gone out.
	Reminders []time.Time
	// Reassigned are when the lead would have been reassigned on a breach.
	Reassigned []time.Time
	// Held are the lead's assignments, while it was open with a rep.
	Held []Holding
}

// Holding is a rep holding an open lead from From until To (zero: still
// open as of the replay's Now).
type Holding struct {
	Rep      string
	From, To time.Time
}

// Replay replays leads under one policy, as of Now (what happened after
// Now is not history yet).
type Replay struct {
	// Policy decides; each replayed assignment's deadlines and reminders
	// count on the calendar of the team it is in (Policy.CalendarFor), so
	// a team given a calendar of its own is replayed in its own hours.
	Policy *Policy
	Now    time.Time
	// Available reports whether the rep (lower-case email) could take a
	// lead at t, from the reps' history; nil means everyone always could.
	Available func(email string, t time.Time) bool
	// RepZone is the rep's own time zone, in which their reminders wait
	// for working hours; nil (or a nil answer) means Policy.RepZone.
	RepZone func(email string) *time.Location

	// cursors are the teams' round robins (lower-case team name → the
	// index of the rep who had the last lead), replayed in the order the
	// leads are given: give them in arrival order.
	cursors map[string]int
}

func (r *Replay) available(email string, t time.Time) bool {
	return r.Available == nil || r.Available(strings.ToLower(email), t)
}

// replayState is where a lead stands while it is replayed.
type replayState struct {
	owner, team string
	at          time.Time // the assignment's start
	first       bool      // the lead's first assignment (earlier touches count)
	automatic   int       // automatic reassignments so far
	moved       bool      // reassigned at least once, by anyone
}

// timerCheck is a deadline timer of one assignment.
type timerCheck struct {
	kind BreachKind
	due  time.Time
}

// Lead replays one lead's history.
func (r *Replay) Lead(h *LeadHistory) ReplayedLead {
	rec := &h.Facts.Lead
	p := r.Policy
	out := ReplayedLead{Facts: LeadFacts{Lead: *rec, Touches: h.Facts.Touches}}
	l := &out.Facts.Lead
	l.Contact, l.Company, l.Context = Contact{}, Company{}, LeadContext{}
	rule := p.RuleFor(rec.Source, rec.Segment, rec.Score)
	l.Rule = ""
	if rule != nil {
		l.Rule = rule.Name
	}

	// When people or the CRM took the lead out of Sales' open states.
	stop := time.Time{}
	if !rec.State.Open() && !h.ReturnedByBreach {
		stop = rec.ClosedAt
	}
	if !h.OpportunityAt.IsZero() && (stop.IsZero() || h.OpportunityAt.Before(stop)) {
		stop = h.OpportunityAt
	}
	openAt := func(t time.Time) bool { return !t.After(r.Now) && (stop.IsZero() || t.Before(stop)) }

	st := replayState{owner: rec.OwnerEmail, team: rec.Team, at: rec.AssignedAt, first: true}
	var manual []Move
	for _, m := range h.Moves {
		if !m.Automatic {
			manual = append(manual, m)
		}
	}
	if !h.Routed.At.IsZero() {
		st.at = h.Routed.At
		if rule != nil {
			st.owner, st.team = r.route(p, h, rule)
		} else {
			st.owner, st.team = h.Routed.To, h.Routed.Team
		}
	} else if len(h.Moves) > 0 {
		st.at = rec.ReceivedAt
	}
	if st.at.IsZero() || rule == nil {
		// Never given a clock, or no rule to set one: nothing to decide.
		if rule == nil {
			l.FirstTouchDue = time.Time{}
		}
		out.Facts.Breaches = nil
		return out
	}

	var breaches []Breach
	returnedAt := time.Time{}
	for {
		d := p.Deadlines(rule, st.team, st.at)
		// The assignment lasts until a person moves the lead on.
		end := time.Time{}
		var next *Move
		for i := range manual {
			if manual[i].At.After(st.at) {
				next, end = &manual[i], manual[i].At
				break
			}
		}
		within := func(t time.Time) bool { return openAt(t) && (end.IsZero() || t.Before(end)) }

		out.Reminders = append(out.Reminders, r.reminders(p, h, st, d, within)...)

		moved := false
		// The deadline timers of the assignment, in the order they fire.
		checks := []timerCheck{{BreachFirstTouch, d.FirstTouchDue}}
		if !d.CadenceDue.IsZero() {
			checks = append(checks, timerCheck{BreachCadence, d.CadenceDue})
		}
		if !d.AcceptDue.IsZero() {
			checks = append(checks, timerCheck{BreachAccept, d.AcceptDue})
		}
		slices.SortStableFunc(checks, func(a, b timerCheck) int { return a.due.Compare(b.due) })
		for _, c := range checks {
			if moved || !returnedAt.IsZero() {
				break
			}
			b, ok := r.breach(p, h, rule, st, d, c.kind, c.due)
			if !ok || !within(b.At) {
				continue
			}
			breaches = append(breaches, b)
			to, team, act := r.breachAction(p, h, rule, st, b.At)
			switch act {
			case ActionReassign:
				out.Reassigned = append(out.Reassigned, b.At)
				out.Held = appendHolding(out.Held, st.owner, st.at, b.At)
				st = replayState{owner: to, team: team, at: b.At, automatic: st.automatic + 1, moved: true}
				moved = true
			case ActionReturnToMarketing:
				returnedAt = b.At
			}
		}
		if moved {
			continue
		}
		if !returnedAt.IsZero() || next == nil || !openAt(next.At) {
			break
		}
		out.Held = appendHolding(out.Held, st.owner, st.at, next.At)
		st = replayState{owner: next.To, team: next.Team, at: next.At, automatic: st.automatic, moved: true}
	}
	switch {
	case !returnedAt.IsZero():
		out.Held = appendHolding(out.Held, st.owner, st.at, returnedAt)
	case !stop.IsZero() && !stop.After(r.Now):
		out.Held = appendHolding(out.Held, st.owner, st.at, stop)
	default:
		out.Held = appendHolding(out.Held, st.owner, st.at, time.Time{})
	}

	// What the record would hold.
	l.OwnerEmail, l.Team, l.AssignedAt = st.owner, st.team, st.at
	l.FirstTouchDue = p.Deadlines(rule, st.team, st.at).FirstTouchDue
	l.Reassignments = st.automatic
	l.FirstTouchAt, l.AcknowledgedAt = time.Time{}, time.Time{}
	for _, t := range h.Facts.Touches {
		if (st.first || !t.Before(st.at)) && !t.After(r.Now) {
			l.FirstTouchAt = t
			break
		}
	}
	for _, t := range h.Acks {
		if !t.Before(st.at) && !t.After(r.Now) {
			l.AcknowledgedAt = t
			break
		}
	}
	out.Facts.Breaches = breaches
	out.Facts.ReturnedReason = ""
	switch {
	case !returnedAt.IsZero():
		l.State, l.ClosedAt, l.ReturnReason = StateReturned, returnedAt, ReturnReasonBreached
		out.Facts.ReturnedReason = ReturnReasonBreached
	case !rec.State.Open() && !h.ReturnedByBreach:
		// Closed as recorded.
		if rec.State == StateReturned {
			out.Facts.ReturnedReason = h.Facts.ReturnedReason
		}
	case rec.State == StateOpportunity:
	default:
		// Still with Sales: in its recorded state when the replay ends in
		// the recorded assignment, else in the state the replayed one
		// reached.
		l.ClosedAt, l.ReturnReason = time.Time{}, ""
		switch {
		case rec.State.Open() && SameInstant(st.at, rec.AssignedAt):
		case !l.FirstTouchAt.IsZero() && (st.first || !l.FirstTouchAt.Before(st.at)):
			l.State = StateWorking
		case st.moved:
			l.State = StateReassigned
		case !l.AcknowledgedAt.IsZero():
			l.State = StateAcknowledged
		default:
			l.State = StateNotified
		}
	}
	return out
}

func appendHolding(held []Holding, rep string, from, to time.Time) []Holding {
	if rep == "" || (!to.IsZero() && !to.After(from)) {
		return held
	}
	return append(held, Holding{Rep: strings.ToLower(rep), From: from, To: to})
}

// route is the lead's first owner and team: Route's decision over the
// policy's teams and the reps' availability when the lead arrived, the
// named owner when they are in a team and there, else the team's round
// robin. The round robin is the record's pick when the record, too, went
// round the same team and that rep is there (the record knows whose turn
// it was); otherwise it is replayed from the team's cursor.
func (r *Replay) route(p *Policy, h *LeadHistory, rule *Rule) (string, string) {
	at := h.Routed.At
	named := strings.ToLower(strings.TrimSpace(h.NamedOwner))
	var namedTeam *Team
	if named != "" {
		namedTeam = p.TeamOf(named)
	}
	team := rule.Team
	if team == "" && namedTeam != nil {
		team = namedTeam.Name
	}
	if team == "" && len(p.Teams) > 0 {
		team = p.Teams[0].Name
	}
	if namedTeam != nil && r.available(named, at) {
		return named, namedTeam.Name
	}
	t := p.Team(team)
	if t == nil {
		return "", team
	}
	reps := make([]Rep, len(t.Reps))
	for i, email := range t.Reps {
		reps[i] = Rep{Email: strings.ToLower(email), Team: t.Name, Status: RepActive}
		if !r.available(email, at) {
			reps[i].Status = RepInactive
		}
	}
	if r.cursors == nil {
		r.cursors = map[string]int{}
	}
	key := strings.ToLower(t.Name)
	recorded := strings.ToLower(h.Routed.To)
	if recorded != "" && recorded != named && strings.EqualFold(h.Routed.Team, t.Name) {
		for i := range reps {
			if reps[i].Email == recorded && reps[i].Available(at) {
				r.cursors[key] = i
				return recorded, t.Name
			}
		}
	}
	cursor, ok := r.cursors[key]
	if !ok {
		cursor = -1
	}
	idx := NextInRotation(reps, cursor, at)
	if idx < 0 {
		return "", t.Name
	}
	r.cursors[key] = idx
	return reps[idx].Email, t.Name
}

// breach decides the breach of kind due at due for the assignment st, as
// the deadline's timer would have: Policy.Breaches on the lead as it stood
// then. It runs when it was recorded to have run, when the record has the
// same breach, else at the deadline.
func (r *Replay) breach(p *Policy, h *LeadHistory, rule *Rule, st replayState, d Deadlines, kind BreachKind, due time.Time) (Breach, bool) {
	at := due
	var recorded *Breach
	for i := range h.Facts.Breaches {
		if b := &h.Facts.Breaches[i]; b.Kind == kind && SameInstant(b.Due, due) {
			recorded, at = b, b.At
			break
		}
	}
	if at.After(r.Now) {
		return Breach{}, false
	}
	snap := r.snapshot(h, st, d, at)
	for _, b := range p.Breaches(rule, &snap, h.Facts.Touches, at) {
		if b.Kind == kind && SameInstant(b.Due, due) {
			if recorded != nil {
				b.RepEmail, b.Team = recorded.RepEmail, recorded.Team
			}
			return b, true
		}
	}
	return Breach{}, false
}

// snapshot is the lead as it stood at t in assignment st: open, with the
// first touch and acknowledgement made by then.
func (r *Replay) snapshot(h *LeadHistory, st replayState, d Deadlines, t time.Time) Lead {
	l := h.Facts.Lead
	l.OwnerEmail, l.Team, l.AssignedAt, l.FirstTouchDue = st.owner, st.team, st.at, d.FirstTouchDue
	l.State, l.ClosedAt, l.FirstTouchAt, l.AcknowledgedAt, l.SnoozedUntil = StateNotified, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if st.moved {
		l.State = StateReassigned
	}
	for _, x := range h.Facts.Touches {
		if x.After(t) {
			break
		}
		if st.first || !x.Before(st.at) {
			l.FirstTouchAt = x
			break
		}
	}
	for _, x := range h.Acks {
		if !x.Before(st.at) && !x.After(t) {
			l.AcknowledgedAt = x
			break
		}
	}
	for _, s := range h.Snoozes {
		if !s.At.Before(st.at) && !s.At.After(t) {
			l.SnoozedUntil = s.Until
		}
	}
	if l.SnoozedUntil.After(t) {
		l.State = StateSnoozed
	}
	return l
}

// breachAction is what the rule's on_breach does to the lead at at, in
// the order the runtime applies it: the first of reassign (once
// automatically at most, to the next available rep of the team) and
// return_to_marketing that can be done. It returns the new owner and team
// for a reassignment; "" when the lead stays.
func (r *Replay) breachAction(p *Policy, h *LeadHistory, rule *Rule, st replayState, at time.Time) (string, string, BreachAction) {
	for _, a := range rule.OnBreach {
		switch a {
		case ActionReassign:
			if st.automatic >= 1 {
				continue
			}
			if to, team, ok := r.reassignTo(p, h, rule, st, at); ok {
				return to, team, ActionReassign
			}
		case ActionReturnToMarketing:
			return "", "", ActionReturnToMarketing
		}
	}
	return "", "", ActionNotifyManager
}

// reassignTo is who takes the lead from st's owner at at: the rep the
// record says took it then, when the record reassigned it at that moment;
// else the next available rep of the team after the owner. ok is false
// when nobody else is available.
func (r *Replay) reassignTo(p *Policy, h *LeadHistory, rule *Rule, st replayState, at time.Time) (string, string, bool) {
	for _, m := range h.Moves {
		if m.Automatic && SameInstant(m.At, at) && m.To != "" {
			return m.To, m.Team, true
		}
	}
	team := st.team
	if team == "" {
		team = rule.Team
	}
	if team == "" && len(p.Teams) > 0 {
		team = p.Teams[0].Name
	}
	t := p.Team(team)
	if t == nil {
		return "", "", false
	}
	var others []Rep
	from := -1
	for _, email := range t.Reps {
		if strings.EqualFold(email, st.owner) {
			from = len(others) - 1
			continue
		}
		status := RepActive
		if !r.available(email, at) {
			status = RepInactive
		}
		others = append(others, Rep{Email: strings.ToLower(email), Team: t.Name, Status: status})
	}
	idx := NextInRotation(others, from, at)
	if idx < 0 {
		return "", "", false
	}
	return others[idx].Email, t.Name, true
}

// reminders are the reminders assignment st would have sent, each
// decided by DecideReminder when its time came (and again when it was
// held for a snooze or the rep's night).
func (r *Replay) reminders(p *Policy, h *LeadHistory, st replayState, d Deadlines, within func(time.Time) bool) []time.Time {
	if len(d.Reminders) == 0 {
		return nil
	}
	loc := p.RepZone(st.owner)
	if r.RepZone != nil {
		if z := r.RepZone(strings.ToLower(st.owner)); z != nil {
			loc = z
		}
	}
	hours := p.CalendarFor(st.team).In(orUTC(loc))
	var sent []time.Time
	for _, at := range d.Reminders {
		for tries := 0; tries < 8 && within(at); tries++ {
			snap := r.snapshot(h, st, d, at)
			dec := DecideReminder(&snap, st.at, d.FirstTouchDue, at, hours)
			if dec.Send {
				if !slices.ContainsFunc(sent, func(t time.Time) bool { return SameInstant(t, at) }) {
					sent = append(sent, at)
				}
				break
			}
			if dec.At.IsZero() {
				break
			}
			at = dec.At
		}
	}
	return sent
}

// AvailabilityFrom answers Replay.Available from the reps' absences
// (RepAbsences): a rep is available at t unless an absence holds t.
func AvailabilityFrom(absences []Absence) func(email string, t time.Time) bool {
	byRep := map[string][]Absence{}
	for _, a := range absences {
		e := strings.ToLower(a.Email)
		byRep[e] = append(byRep[e], a)
	}
	return func(email string, t time.Time) bool {
		for _, a := range byRep[strings.ToLower(email)] {
			if !t.Before(a.From) && (a.To.IsZero() || t.Before(a.To)) {
				return false
			}
		}
		return true
	}
}
