package benchgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slabot/slabot/engine"
)

// How a lead's life ends, when nothing (a breach) ends it first.
type fate int

const (
	fateOpen         fate = iota // no outcome ever reported
	fateReturned                 // the rep sends it back to Marketing
	fateDisqualified             // the CRM reports it disqualified
	fateLost                     // lost, sometimes after becoming an opportunity
	fateWon                      // won, after becoming an opportunity
	fateOpportunity              // becomes an opportunity and stays one
)

// What a breach did to the lead.
const (
	moveNone = iota
	moveReassigned
	moveReturned
)

// effect is a change of the lead's row, replayed in time order for its
// final state.
type effect struct {
	at    time.Time
	kind  effectKind
	state engine.LeadState
}

type effectKind uint8

const (
	effNotified effectKind = iota
	effAck
	effTouch
	effSnooze
	effReassigned
	effClose
	effTouchOnly // a change that leaves the state (an update, a link)
)

// leadSim lives through one lead.
type leadSim struct {
	g        *gen
	rng      *rand.Rand
	id       int64
	rule     *engine.Rule
	received time.Time
	// The outcome the lead is headed for: it leaves the open states at
	// leave (an opportunity, or closed) and is closed at closeAt; zero
	// when that is not in the history.
	fate           fate
	leave, closeAt time.Time
	// The current assignment.
	owner                                         int
	assignedAt, due, ackAt, firstTouch, snoozedTo time.Time
	reassignments                                 int
	returnedAt                                    time.Time // by a breach
	keys                                          int       // CRM touch keys given
	items                                         []*item
	effects                                       []effect
	quietable                                     []*item
}

func (g *gen) lead(ctx context.Context, id int64, received time.Time) error {
	rng := rand.New(rand.NewPCG(g.cfg.Seed, uint64(id)))
	ls := &leadSim{g: g, rng: rng, id: id, received: received}
	source, segment := pick(rng, sources), pick(rng, segments)
	score := 40 + rng.IntN(61)
	ls.rule = g.policy.RuleFor(source, segment, score)
	handedOff := received.Add(-time.Duration(500+rng.IntN(90_000)) * time.Millisecond)

	named := g.pickRep(rng)
	ls.owner = named
	reason := engine.RoutedNamedOwner
	if nr := &g.reps[named]; !nr.available(received) {
		reason = engine.RoutedOwnerAway
		if !nr.inactiveFrom.IsZero() && !received.Before(nr.inactiveFrom) {
			reason = engine.RoutedOwnerGone
		}
		if next := g.nextAvailable(named, received); next >= 0 {
			ls.owner = next
		} else {
			reason = engine.RoutedNamedOwner // nobody else: the named owner keeps it
		}
	}
	ls.planFate()
	if g.history != nil {
		ls.historyFate()
	}

	owner := &g.reps[ls.owner]
	ls.event(received, "handed_off", "intake", jsonObject("source", source, "segment", segment, "score", score,
		"rule", ls.rule.Name, "handed_off_at", handedOff))
	ls.event(received, "routed", "slabot", jsonObject("owner", owner.email, "team", g.teamName(owner.team),
		"reason", reason, "named_owner", g.reps[named].email))

	at := received
	for {
		move, moveAt, to := ls.assignment(at)
		if move != moveReassigned {
			break
		}
		ls.owner, at = to, moveAt
	}
	ls.sideEvents()
	ls.outcome()
	row := ls.row(source, segment, score, handedOff)
	if err := g.w.leads.add(ctx, row...); err != nil {
		return err
	}
	for _, it := range ls.items {
		g.w.push(it)
	}
	return nil
}

// planFate draws the outcome the lead is headed for and when.
func (ls *leadSim) planFate() {
	rng := ls.rng
	days := func(d float64) time.Duration { return time.Duration(d * 24 * float64(time.Hour)) }
	u := rng.Float64()
	switch {
	case u < 0.08:
		ls.fate = fateOpen
	case u < 0.16:
		ls.fate = fateReturned
		ls.closeAt = ls.received.Add(time.Hour + days(5*rng.Float64()))
	case u < 0.22:
		ls.fate = fateDisqualified
		ls.closeAt = ls.received.Add(days(1 + 14*rng.Float64()))
	case u < 0.72:
		ls.fate = fateLost
		ls.closeAt = ls.received.Add(days(3 + 25*rng.ExpFloat64()))
		if rng.Float64() < 0.3 {
			ls.leave = ls.received.Add(time.Duration(float64(ls.closeAt.Sub(ls.received)) * (0.3 + 0.4*rng.Float64())))
		}
	case u < 0.92:
		ls.fate = fateWon
		ls.closeAt = ls.received.Add(days(10 + 35*rng.ExpFloat64()))
		ls.leave = ls.received.Add(time.Duration(float64(ls.closeAt.Sub(ls.received)) * (0.3 + 0.4*rng.Float64())))
	default:
		ls.fate = fateOpportunity
		ls.leave = ls.received.Add(days(5 + 15*rng.ExpFloat64()))
	}
	if ls.leave.IsZero() {
		ls.leave = ls.closeAt
	}
	ls.closeAt, ls.leave = ls.closeAt.Truncate(time.Microsecond), ls.leave.Truncate(time.Microsecond)
}

// openAt reports whether the lead is still in an open state at t, as far
// as its planned outcome goes, and t is in the history.
func (ls *leadSim) openAt(t time.Time) bool {
	return (ls.leave.IsZero() || t.Before(ls.leave)) && t.Before(ls.g.now)
}

// activeUntil is when work on the lead stops: closed, or now.
func (ls *leadSim) activeUntil() time.Time {
	if !ls.closeAt.IsZero() && ls.closeAt.Before(ls.g.now) {
		return ls.closeAt
	}
	return ls.g.now
}

func lateness(rng *rand.Rand) time.Duration {
	return time.Duration(200+rng.IntN(2800)) * time.Millisecond
}

// assignment lives through one owner's turn with the lead, from at: the
// card, acknowledgement, touches, reminders, a snooze, and the breaches of
// the first-touch deadline and the cadence with their actions. It reports
// whether a breach moved the lead on, when, and to whom.
func (ls *leadSim) assignment(at time.Time) (move int, moveAt time.Time, to int) {
	g, rng := ls.g, ls.rng
	r := &g.reps[ls.owner]
	at = at.Truncate(time.Microsecond)
	ls.assignedAt = at
	dl := g.policy.Deadlines(ls.rule, TeamName(r.team), at)
	ls.due = dl.FirstTouchDue
	ls.ackAt, ls.firstTouch, ls.snoozedTo = time.Time{}, time.Time{}, time.Time{}
	stop := ls.activeUntil()

	notified := at.Add(time.Duration(800+rng.IntN(3200)) * time.Millisecond)
	if notified.Before(stop) && ls.openAt(notified) {
		dm := "D" + r.userID
		card := ls.message(notified.Add(-150*time.Millisecond), "card", r.email, dm, at, nil)
		ls.event(notified, "notified", "slabot", jsonObject("owner", r.email, "platform", "slack", "conversation", dm,
			"message_id", card.s4))
		ls.effects = append(ls.effects, effect{at: notified, kind: effNotified})
	}
	touches := ls.planTouches(r, at, ls.due)

	move = moveNone
	if touchedBy := len(touches) > 0 && !touches[0].After(ls.due); !touchedBy {
		if bAt := ls.due.Add(lateness(rng)); ls.openAt(bAt) && bAt.Before(stop) {
			move, moveAt, to = ls.breach(engine.BreachFirstTouch, ls.due, bAt)
		}
	}
	if move == moveNone && ls.rule.Touches.Count > 0 && !dl.CadenceDue.IsZero() {
		if cAt := dl.CadenceDue.Add(lateness(rng)); ls.openAt(cAt) && cAt.Before(stop) {
			n := 0
			for _, t := range touches {
				if !t.Before(at) && t.Before(dl.CadenceDue) {
					n++
				}
			}
			if n < ls.rule.Touches.Count {
				move, moveAt, to = ls.breach(engine.BreachCadence, dl.CadenceDue, cAt)
			}
		}
	}
	end := stop
	if move != moveNone && moveAt.Before(end) {
		end = moveAt
	}

	for i, t := range touches {
		if !t.Before(end) {
			break
		}
		ls.touch(r, t, i == 0, end)
	}
	if rng.Float64() < 0.45 {
		ackAt := notified.Add(5*time.Second + time.Duration(rng.ExpFloat64()*float64(20*time.Minute))).Truncate(time.Microsecond)
		if ackAt.Before(end) && ls.openAt(ackAt) {
			ls.event(ackAt, "acknowledged", r.email, []byte("{}"))
			ls.effects = append(ls.effects, effect{at: ackAt, kind: effAck})
			ls.ackAt = ackAt
		}
	}
	for _, rem := range dl.Reminders {
		rAt := rem.Add(lateness(rng))
		if !rAt.Before(end) || !ls.openAt(rAt) ||
			(!ls.firstTouch.IsZero() && ls.firstTouch.Before(rem)) || (!ls.ackAt.IsZero() && ls.ackAt.Before(rem)) {
			continue
		}
		ls.event(rAt, engine.EventReminded, "slabot", jsonObject("owner", r.email, "due", ls.due, "planned", rem))
		ls.message(rAt.Add(time.Second), "reminder", r.email, "D"+r.userID, at, nil)
	}
	if rng.Float64() < 0.10 {
		sAt := notified.Add(10*time.Minute + time.Duration(rng.Float64()*float64(72*time.Hour))).Truncate(time.Microsecond)
		if sAt.Before(end) && ls.openAt(sAt) {
			until := sAt.Add(4*time.Hour + time.Duration(rng.Float64()*float64(96*time.Hour)))
			ls.event(sAt, "snoozed", r.email, jsonObject("until", until, "reason", pickString(rng, snoozeReasons)))
			ls.effects = append(ls.effects, effect{at: sAt, kind: effSnooze})
			ls.snoozedTo = until
		}
	}
	if gone := r.inactiveFrom; !gone.IsZero() && !gone.Before(at) && gone.Before(end) && ls.openAt(gone) {
		gAt := gone.Add(time.Duration(rng.IntN(15*60)) * time.Second)
		ev := ls.event(gAt, engine.EventOwnerGone, "slabot", jsonObject("owner", r.email, "why", "deactivated in Slack"))
		ls.escalate(gAt, at, ev)
	}
	return move, moveAt, to
}

// planTouches draws the owner's touches for an assignment from at: the
// first on time or late, then a cadence kept or not, as the rep tends to.
// Touches after the rep's account was deactivated do not happen.
func (ls *leadSim) planTouches(r *rep, at, due time.Time) []time.Time {
	g, rng, rule := ls.g, ls.rng, ls.rule
	if g.history != nil {
		return ls.historyTouches(r, at, due)
	}

	if rng.Float64() >= 0.95 {
		return nil
	}
	// The rep works their team's hours (the policy's, unless the team has
	// a calendar of its own).
	cal := g.policy.CalendarFor(TeamName(r.team))
	var first time.Time
	if rng.Float64() < r.onTime {
		f := rng.Float64()
		first = cal.Add(at, time.Duration((0.02+0.98*f*f)*float64(rule.FirstTouch)))
		if first.After(due) {
			first = due
		}
	} else {
		first = due.Add(time.Minute + time.Duration(rng.ExpFloat64()*float64(3*time.Hour)))
	}
	count, within := rule.Touches.Count, rule.Touches.Within
	n, spread := 1+rng.IntN(max(1, count-1)), 1.3
	if rng.Float64() < r.cadence {
		n, spread = count+rng.IntN(2), 0.9
	}
	out := []time.Time{first.Truncate(time.Microsecond)}
	for range n - 1 {
		t := first.Add(time.Duration(rng.Float64() * spread * float64(within)))
		if !cal.IsOpen(t) && rng.Float64() < 0.85 {
			t = cal.NextOpen(t).Add(time.Duration(rng.IntN(3*3600*1_000_000)) * time.Microsecond)
		}
		out = append(out, t.Truncate(time.Microsecond))
	}
	slices.SortFunc(out, time.Time.Compare)
	if gone := r.inactiveFrom; !gone.IsZero() {
		out = slices.DeleteFunc(out, func(t time.Time) bool { return !t.Before(gone) })
	}
	return out
}

// touch records one touch by the owner, logged from Slack at once or
// from the CRM a little later.
func (ls *leadSim) touch(r *rep, t time.Time, first bool, end time.Time) {
	g, rng := ls.g, ls.rng
	kind := pickString(rng, touchKinds)
	origin, logged, key := "slack", t, ""
	if rng.Float64() < 0.4 {
		origin = "crm"
		if l := t.Add(time.Minute + time.Duration(rng.IntN(20*60))*time.Second); l.Before(end) {
			logged = l
		}
		ls.keys++
		key = "crm-" + strconv.FormatInt(ls.id, 10) + "-" + strconv.Itoa(ls.keys)
	}
	note := ""
	if rng.Float64() < 0.15 {
		note = pickString(rng, touchNotes)
	}
	actor := r.email
	if origin == "crm" {
		actor = "crm"
	}
	it := g.w.newItem()
	*it = item{at: logged.UnixMicro(), kind: itemTouch, lead: ls.id, s1: kind, s2: r.email, s3: origin, s4: note, key: key,
		t1: t.UnixMicro(), actor: actor, data: jsonObject("kind", kind, "at", t, "by", r.email, "origin", origin, "first", first)}
	ls.items = append(ls.items, it)
	ls.effects = append(ls.effects, effect{at: logged, kind: effTouch})
	if first {
		ls.firstTouch = t
		if t.After(ls.due) {
			g.stats.LateFirstTouches++
		} else {
			g.stats.OnTimeFirstTouches++
		}
	}
}

// breach records a breach at `at` and takes the rule's on_breach actions
// as the engine does (engine.Service.fireBreach and breachActions).
func (ls *leadSim) breach(kind engine.BreachKind, due, at time.Time) (int, time.Time, int) {
	g := ls.g
	at = at.Truncate(time.Microsecond)
	r := &g.reps[ls.owner]
	team := g.teamName(r.team)
	ev := ls.event(at, engine.EventBreach, "slabot", jsonObject("kind", string(kind), "rule", ls.rule.Name, "rep", r.email,
		"team", team, "due", due, "assigned_at", ls.assignedAt))
	g.stats.Breaches[string(kind)]++
	move, to := moveNone, -1
	notify, hasReassign := false, false
	var skipped [][2]string
	for _, a := range ls.rule.OnBreach {
		switch a {
		case engine.ActionNotifyManager:
			notify = true
		case engine.ActionReassign:
			hasReassign = true
			switch {
			case move != moveNone:
				skipped = append(skipped, [2]string{string(a), "the lead had already moved"})
			case ls.reassignments >= 1:
				skipped = append(skipped, [2]string{string(a), "it was reassigned automatically once already, so it stays with " + r.email + " until the manager decides"})
			default:
				if to = g.nextAvailable(ls.owner, at); to < 0 {
					skipped = append(skipped, [2]string{string(a), "nobody else in " + team + " is available to take it"})
					continue
				}
				move = moveReassigned
			}
		case engine.ActionReturnToMarketing:
			if move != moveNone {
				skipped = append(skipped, [2]string{string(a), "the lead had already moved"})
				continue
			}
			move = moveReturned
		}
	}
	assigned := ls.assignedAt
	switch move {
	case moveReassigned:
		why := "SLA breached: no first touch in time"
		if kind == engine.BreachCadence {
			why = "SLA breached: touch cadence missed"
		}
		ls.event(at, engine.EventReassigned, "slabot", jsonObject("from", r.email, "to", g.reps[to].email, "team", team,
			"automatic", true, "why", why))
		ls.effects = append(ls.effects, effect{at: at, kind: effReassigned})
		ls.reassignments++
		g.stats.Reassigned++
		assigned = at
		ls.quietAll(at)
	case moveReturned:
		ls.event(at, "returned", "slabot", jsonObject("reason", engine.ReturnReasonBreached, "automatic", true))
		ls.effects = append(ls.effects, effect{at: at, kind: effClose, state: engine.StateReturned})
		ls.returnedAt = at
		g.stats.ReturnedBreached++
		ls.quietAll(at)
	}
	for _, s := range skipped {
		ls.event(at, engine.EventBreachActionOff, "slabot", jsonObject("action", s[0], "why", s[1]))
	}
	if !notify && move == moveNone && hasReassign {
		notify = true
	}
	if notify {
		ls.escalate(at, assigned, ev)
	}
	return move, at, to
}

// escalate posts about ev to the team's manager and escalation channel.
func (ls *leadSim) escalate(at, assigned time.Time, ev *item) {
	t := ls.g.reps[ls.owner].team
	manager, managerDM, channel, channelID := ls.g.escalationTo(t)
	ls.message(at.Add(time.Second), "escalation", manager, managerDM, assigned, ev)
	ls.message(at.Add(2*time.Second), "escalation", channel, channelID, assigned, ev)
}

// sideEvents adds what happens to some leads besides their SLA: a repeat
// hand-off under another CRM id (linked) or with changed fields (updated).
func (ls *leadSim) sideEvents() {
	rng := ls.rng
	end := ls.activeUntil()
	if !ls.returnedAt.IsZero() && ls.returnedAt.Before(end) {
		end = ls.returnedAt
	}
	if rng.Float64() < 0.02 {
		at := ls.received.Add(24*time.Hour + time.Duration(rng.Float64()*float64(20*24*time.Hour))).Truncate(time.Microsecond)
		if at.Before(end) && ls.openAt(at) {
			ext := fmt.Sprintf("hs-%08d", ls.id)
			ls.items = append(ls.items, &item{at: at.UnixMicro(), kind: itemAlias, lead: ls.id, s1: ext})
			ls.event(at, "linked", "intake", jsonObject("external_id", ext))
		}
	}
	if rng.Float64() < 0.03 {
		at := ls.received.Add(time.Hour + time.Duration(rng.Float64()*float64(10*24*time.Hour))).Truncate(time.Microsecond)
		if at.Before(end) {
			ls.event(at, "updated", "intake", jsonObject("fields", []string{"score"}, "external_id", externalID(ls.id)))
			ls.effects = append(ls.effects, effect{at: at, kind: effTouchOnly})
		}
	}
}

// outcome records how the lead ended, unless a breach returned it.
func (ls *leadSim) outcome() {
	if !ls.returnedAt.IsZero() {
		return
	}
	now := ls.g.now
	r := &ls.g.reps[ls.owner]
	amount := 0.0
	if ls.fate == fateWon {
		amount = ls.value() * (0.6 + 0.8*ls.rng.Float64())
	}
	if ls.leave.Before(ls.closeAt) && ls.leave.Before(now) && (ls.fate == fateWon || ls.fate == fateLost || ls.fate == fateOpportunity) {
		ls.event(ls.leave, "opportunity", "crm", jsonObject("amount", 0, "at", ls.leave))
		ls.effects = append(ls.effects, effect{at: ls.leave, kind: effClose, state: engine.StateOpportunity})
		ls.quietAll(ls.leave)
	}
	if ls.fate == fateOpportunity && ls.leave.Before(now) {
		ls.event(ls.leave, "opportunity", "crm", jsonObject("amount", 0, "at", ls.leave))
		ls.effects = append(ls.effects, effect{at: ls.leave, kind: effClose, state: engine.StateOpportunity})
		ls.quietAll(ls.leave)
	}
	if ls.closeAt.IsZero() || !ls.closeAt.Before(now) {
		return
	}
	at := ls.closeAt
	switch ls.fate {
	case fateReturned:
		ls.event(at, "returned", r.email, jsonObject("reason", pickString(ls.rng, returnReasons)))
		ls.effects = append(ls.effects, effect{at: at, kind: effClose, state: engine.StateReturned})
	case fateDisqualified:
		ls.event(at, "disqualified", "crm", jsonObject("amount", 0, "at", at))
		ls.effects = append(ls.effects, effect{at: at, kind: effClose, state: engine.StateDisqualified})
	case fateLost:
		ls.event(at, "lost", "crm", jsonObject("amount", 0, "at", at))
		ls.effects = append(ls.effects, effect{at: at, kind: effClose, state: engine.StateLost})
	case fateWon:
		ls.event(at, "won", "crm", jsonObject("amount", amount, "at", at))
		ls.effects = append(ls.effects, effect{at: at, kind: effClose, state: engine.StateWon})
	}
	ls.quietAll(at)
}

// row is the lead's row as the engine would have left it.
func (ls *leadSim) row(source, segment string, score int, handedOff time.Time) []any {
	g := ls.g
	slices.SortStableFunc(ls.effects, func(a, b effect) int { return a.at.Compare(b.at) })
	state, updated := engine.StateNew, ls.received
	var closed time.Time
	returnReason := ""
	for _, e := range ls.effects {
		updated = e.at
		switch e.kind {
		case effNotified:
			if state == engine.StateNew || state == engine.StateReassigned {
				state = engine.StateNotified
			}
		case effAck:
			if state == engine.StateNew || state == engine.StateNotified || state == engine.StateReassigned {
				state = engine.StateAcknowledged
			}
		case effTouch:
			if state.Open() {
				state = engine.StateWorking
			}
		case effSnooze:
			if state.Open() {
				state = engine.StateSnoozed
			}
		case effReassigned:
			if state.Open() {
				state = engine.StateReassigned
			}
		case effClose:
			state = e.state
			if e.state != engine.StateOpportunity {
				closed = e.at
			}
		}
	}
	amount := 0.0
	switch state {
	case engine.StateReturned:
		returnReason = engine.ReturnReasonBreached
		if ls.returnedAt.IsZero() {
			returnReason = "" // set from the event below
			for i := len(ls.items) - 1; i >= 0; i-- {
				if it := ls.items[i]; it.kind == itemEvent && it.s1 == "returned" {
					returnReason = returnReasonOf(it.data)
					break
				}
			}
		}
	case engine.StateWon:
		for i := len(ls.items) - 1; i >= 0; i-- {
			if it := ls.items[i]; it.kind == itemEvent && it.s1 == "won" {
				amount = amountOf(it.data)
				break
			}
		}
	}
	g.stats.ByState[string(state)]++
	if state.Open() {
		g.stats.Open++
	}
	contact, company, leadCtx := ls.profile(segment)
	r := &g.reps[ls.owner]
	return []any{ls.id, externalID(ls.id), source, segment, score, contact, company, leadCtx,
		"https://crm.bench.test/leads/" + externalID(ls.id), ls.value(), r.email, g.teamName(r.team), ls.rule.Name,
		string(state), handedOff, ls.received, ls.assignedAt, nullTime(ls.due), nullTime(ls.ackAt), nullTime(ls.firstTouch),
		nullTime(ls.snoozedTo), nullTime(closed), ls.reassignments, returnReason, amount, ls.received, updated}
}

func externalID(id int64) string { return fmt.Sprintf("sf-%08d", id) }

// value is the lead's estimated deal value, by segment; the same on
// every call for one lead.
func (ls *leadSim) value() float64 {
	r := rand.New(rand.NewPCG(ls.g.cfg.Seed^0x5eed, uint64(ls.id)))
	v := 5000 + 20000*r.Float64()
	if r.Float64() < 0.2 {
		v *= 4
	}
	return float64(int(v/500) * 500)
}

func (ls *leadSim) event(at time.Time, kind, actor string, data []byte) *item {
	it := ls.g.w.newItem()
	*it = item{at: at.UnixMicro(), kind: itemEvent, lead: ls.id, s1: kind, s2: actor, data: data}
	ls.items = append(ls.items, it)
	return it
}

func (ls *leadSim) message(at time.Time, kind, recipient, conversation string, assignedAt time.Time, about *item) *item {
	ls.g.msgSeq++
	it := ls.g.w.newItem()
	*it = item{at: at.UnixMicro(), kind: itemMessage, lead: ls.id, s1: kind, s2: recipient, s3: conversation,
		s4: fmt.Sprintf("%d.%06d", at.Unix(), ls.g.msgSeq%1_000_000), t1: assignedAt.UnixMicro(), about: about}
	if about != nil {
		about.referred = true
	}
	ls.items = append(ls.items, it)
	if kind != "card" {
		ls.quietable = append(ls.quietable, it)
	}
	return it
}

// quietAll records that the lead's reminders and escalations so far lost
// their buttons at `at`, when it moved on.
func (ls *leadSim) quietAll(at time.Time) {
	u := at.UnixMicro()
	kept := ls.quietable[:0]
	for _, m := range ls.quietable {
		switch {
		case m.at <= u:
			if m.quiet == 0 {
				m.quiet = u + 1500_000
			}
		default:
			kept = append(kept, m)
		}
	}
	ls.quietable = kept
}

// profile is the lead's contact, company and context JSON.
func (ls *leadSim) profile(segment string) (contact, company, leadCtx []byte) {
	rng := ls.rng
	first, last := pickString(rng, firstNames), pickString(rng, lastNames)
	ci := rng.IntN(40_000)
	cname := companyPrefixes[ci%len(companyPrefixes)] + " " + companySuffixes[(ci/len(companyPrefixes))%len(companySuffixes)]
	domain := strings.ToLower(strings.ReplaceAll(cname, " ", "")) + strconv.Itoa(ci) + ".test"
	email := strings.ToLower(first) + "." + strings.ToLower(last) + strconv.FormatInt(ls.id, 10) + "@" + domain
	contact = jsonObject("name", first+" "+last, "email", email, "title", pickString(rng, titles),
		"phone", fmt.Sprintf("+1 555 %04d", rng.IntN(10_000)))
	employees := 10 + rng.IntN(190)
	switch segment {
	case "mid_market":
		employees = 200 + rng.IntN(1800)
	case "enterprise":
		employees = 2000 + rng.IntN(48_000)
	}
	company = jsonObject("name", cname, "domain", domain, "employees", employees, "industry", pickString(rng, industries),
		"country", pickString(rng, countries))
	form := []any{"Budget", pickString(rng, budgets), "Timeline", pickString(rng, timelines), "Use case", pickString(rng, useCases)}
	if rng.Float64() < 0.6 {
		form = append(form, "Team size", strconv.Itoa(5+rng.IntN(200)))
	}
	if rng.Float64() < 0.4 {
		form = append(form, "Current tool", pickString(rng, tools))
	}
	pages := make([]string, 1+rng.IntN(6))
	for i := range pages {
		pages[i] = pickString(rng, sitePages)
	}
	var downloads []string
	for range rng.IntN(3) {
		downloads = append(downloads, pickString(rng, assets))
	}
	activity := []any{"visits", 1 + rng.IntN(30), "pages", pages}
	if len(downloads) > 0 {
		activity = append(activity, "downloads", downloads)
	}
	leadCtx = jsonObject("form", rawJSON(jsonObject(form...)), "activity", rawJSON(jsonObject(activity...)))
	return contact, company, leadCtx
}

func pickString(rng *rand.Rand, xs []string) string { return xs[rng.IntN(len(xs))] }

// returnReasonOf and amountOf read back what this package wrote.
func returnReasonOf(data []byte) string {
	s := string(data)
	const k = `"reason":`
	i := strings.Index(s, k)
	if i < 0 {
		return ""
	}
	v, err := strconv.QuotedPrefix(s[i+len(k):])
	if err != nil {
		return ""
	}
	u, _ := strconv.Unquote(v)
	return u
}

func amountOf(data []byte) float64 {
	s := string(data)
	const k = `"amount":`
	i := strings.Index(s, k)
	if i < 0 {
		return 0
	}
	s = s[i+len(k):]
	if j := strings.IndexAny(s, ",}"); j >= 0 {
		s = s[:j]
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

var (
	touchKinds      = []string{"call", "call", "call", "call", "email", "email", "email", "meeting", "linkedin", "linkedin", "other"}
	touchNotes      = []string{"Left a voicemail", "Sent pricing", "Booked a demo for next week", "Asked for the decision maker", "Follow-up on the trial"}
	snoozeReasons   = []string{"buyer asked to call back Monday", "waiting for the buyer's budget approval", "on a trade show this week", "buyer out of office"}
	returnReasons   = []string{"No budget", "Not a decision maker", "Bad contact data", "Duplicate", "Student, not a company", "Competitor", "Timing: next year"}
	titles          = []string{"VP Operations", "Head of Sales", "CTO", "IT Manager", "Marketing Director", "CFO", "Procurement Lead", "Founder", "Engineering Manager"}
	industries      = []string{"Manufacturing", "Software", "Retail", "Healthcare", "Financial Services", "Logistics", "Education", "Energy"}
	countries       = []string{"US", "US", "US", "US", "CA", "GB", "DE", "FR", "NL", "AU"}
	budgets         = []string{"< $10k", "$10k–$50k", "$50k–$100k", "> $100k", "Not sure yet"}
	timelines       = []string{"This quarter", "Next quarter", "Q1", "Within 6 months", "Just researching"}
	useCases        = []string{"Replace spreadsheets", "Consolidate tools", "Scale the sales team", "Compliance reporting", "Automate hand-offs"}
	tools           = []string{"Spreadsheets", "HubSpot", "Salesforce", "Pipedrive", "In-house"}
	sitePages       = []string{"/pricing", "/product", "/case-studies/acme", "/case-studies/globex", "/integrations", "/security", "/blog/sla-basics", "/demo", "/customers"}
	assets          = []string{"ROI guide", "Buyer's checklist", "Security whitepaper", "Analyst report"}
	companyPrefixes = []string{"Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Soylent", "Tyrell",
		"Cyberdyne", "Wonka", "Gringotts", "Oscorp", "Aperture", "Massive", "Dunder", "Prestige", "Sterling", "Monarch"}
	companySuffixes = []string{"Corp", "Industries", "Labs", "Systems", "Group", "Logistics", "Health", "Partners", "Foods", "Analytics"}
)
