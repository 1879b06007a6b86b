package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Notification jobs that timers and breach actions cause. Like the
// hand-off, they are rendered by the chat adapter when sent.
const (
	// JobReminderNotice sends one reminder to the lead's owner.
	JobReminderNotice = "notify.reminder"
	// JobEscalation tells a team's manager (by DM) or its escalation
	// channel about a breached lead, or a lead whose owner left.
	JobEscalation = "notify.escalation"
)

// Where a JobEscalation goes (its payload's "target").
const (
	EscalateToManager = "manager"
	EscalateToChannel = "channel"
)

// Lead events the timers add to a lead's history.
const (
	EventReminded        = "reminded"
	EventReassigned      = "reassigned"
	EventDeadlineMoved   = "deadline_extended"
	EventOwnerGone       = "owner_gone"
	EventBreachActionOff = "breach_action_skipped"
)

// ReturnReasonBreached is the reason a lead sent back to Marketing because
// of a breach carries, so reports count those returns together.
const ReturnReasonBreached = "SLA breached"

// Why a reminder was sent, deferred or dropped.
const (
	ReminderSend          = "send"
	ReminderClosed        = "closed"
	ReminderMoved         = "reassigned"
	ReminderDeadlineMoved = "deadline_moved"
	ReminderTouched       = "touched"
	ReminderAcknowledged  = "acknowledged"
	ReminderPastDue       = "past_due"
	ReminderSnoozed       = "snoozed"
	ReminderOffHours      = "off_hours"
)

// ReminderDecision is what to do with a reminder whose time has come.
type ReminderDecision struct {
	Send bool
	// At, when set, is when to try again: the end of a snooze or the
	// start of the rep's next working hours, still before the deadline.
	At time.Time
	// Reason names why (one of the Reminder… constants).
	Reason string
}

// DecideReminder decides a reminder planned for the assignment that began
// at assignedAt, before the first-touch deadline due, as of now. workHours
// is the policy's calendar in the rep's time zone (nil: any hour).
//
// A reminder is for a rep who has not yet reacted: it is dropped once the
// lead is touched, acknowledged (the rep has seen it and said so: the
// deadline still applies, and so does its breach), closed or given to
// someone else, or once its deadline moved (the new deadline has reminders
// of its own). A snooze holds it until the snooze ends, and a rep's night
// or weekend until their next working hour, as long as that is still
// before the deadline; a reminder after the deadline helps nobody.
func DecideReminder(l *Lead, assignedAt, due, now time.Time, workHours *Calendar) ReminderDecision {
	drop := func(reason string) ReminderDecision { return ReminderDecision{Reason: reason} }
	switch {
	case !l.State.Open():
		return drop(ReminderClosed)
	case !assignedAt.IsZero() && !SameInstant(assignedAt, l.AssignedAt):
		return drop(ReminderMoved)
	case !due.IsZero() && !l.FirstTouchDue.IsZero() && !SameInstant(due, l.FirstTouchDue):
		return drop(ReminderDeadlineMoved)
	case !l.FirstTouchAt.IsZero():
		return drop(ReminderTouched)
	case !l.AcknowledgedAt.IsZero():
		return drop(ReminderAcknowledged)
	}
	if due.IsZero() {
		due = l.FirstTouchDue
	}
	if !now.Before(due) {
		return drop(ReminderPastDue)
	}
	at, reason := now, ReminderOffHours
	if l.State == StateSnoozed && l.SnoozedUntil.After(now) {
		at, reason = l.SnoozedUntil, ReminderSnoozed
	}
	at = workHours.NextOpen(at)
	switch {
	case !at.After(now):
		return ReminderDecision{Send: true, Reason: ReminderSend}
	case at.Before(due):
		return ReminderDecision{At: at, Reason: reason}
	}
	return drop(reason)
}

// SameInstant reports whether a and b are the same moment to the
// microsecond, the precision the database keeps.
func SameInstant(a, b time.Time) bool {
	return a.Sub(b).Abs() < time.Microsecond
}

// decisionTime is the instant a timer decides as of: its due time when
// the replica's clock still reads earlier. A job due within a few seconds
// is fetched when the database's clock reaches its time, which may run a
// few milliseconds ahead of this replica's; deciding "as of now" would
// then find nothing due yet, complete the job without acting, and the
// deadline would never be enforced. The queue never runs a job before
// its time by the clock that woke it, so the due time is a time that has
// come.
func decisionTime(now, due time.Time) time.Time {
	if due.After(now) {
		return due
	}
	return now
}

// assignedAtOf is the assignment a deadline timer belongs to; zero when
// the job does not say.
func assignedAtOf(args JobArgs) time.Time {
	switch a := args.(type) {
	case FirstTouchDueArgs:
		return a.AssignedAt
	case CadenceDueArgs:
		return a.AssignedAt
	case AcceptDueArgs:
		return a.AssignedAt
	}
	return time.Time{}
}

func stamp(t time.Time) string { return t.Format(time.RFC3339Nano) }

// FireReminder runs a JobReminder: it decides, with the lead locked, whether
// to send the reminder now, later or not at all, and queues the message or
// the later attempt in the same transaction. Unique keys make a second run
// of the same job (another replica, a lease taken over) add nothing.
func (s *Service) FireReminder(ctx context.Context, job Job) (ReminderDecision, error) {
	var dec ReminderDecision
	err := s.store.InTx(ctx, func(tx Tx) error {
		now := decisionTime(s.now(), job.RunAt)
		l, err := tx.LockLead(ctx, job.LeadID)
		if ErrorCode(err) == ENOTFOUND {
			dec = ReminderDecision{Reason: ReminderClosed}
			return nil
		}
		if err != nil {
			return err
		}
		loc, err := s.repLocation(ctx, tx, l.OwnerEmail)
		if err != nil {
			return err
		}
		args, _ := job.Args.(ReminderArgs)
		due := args.Due
		if args.Accept {
			// Decided as a first-touch reminder whose deadline is the
			// accept deadline: a manager moving the first touch does not
			// move it, and accepting or touching drops it all the same.
			asIf := *l
			asIf.FirstTouchDue = due
			dec = DecideReminder(&asIf, args.AssignedAt, due, now, s.Policy().CalendarForLead(l).In(loc))
		} else {
			dec = DecideReminder(l, args.AssignedAt, due, now, s.Policy().CalendarForLead(l).In(loc))
		}
		if due.IsZero() {
			due = l.FirstTouchDue
		}
		remindAt := args.RemindAt
		if remindAt.IsZero() {
			remindAt = job.RunAt
		}
		switch {
		case dec.Send:
			if _, err := tx.Enqueue(ctx, Job{LeadID: l.ID, RunAt: now,
				UniqueKey: JobReminderNotice + ":" + job.UniqueKey,
				Args:      ReminderNoticeArgs{ReminderArgs{Due: due, AssignedAt: l.AssignedAt, RemindAt: remindAt, Accept: args.Accept}}}); err != nil {
				return err
			}
			return tx.AppendEvent(ctx, &Event{LeadID: l.ID, At: now, Kind: EventReminded, Actor: "slabot",
				Data: map[string]any{"owner": l.OwnerEmail, "due": stamp(due), "planned": stamp(remindAt)}})
		case !dec.At.IsZero():
			// Keyed by the new time, not the old reminder: two reminders held
			// by one snooze become one reminder when it ends.
			_, err := tx.Enqueue(ctx, Job{LeadID: l.ID, RunAt: dec.At,
				UniqueKey: fmt.Sprintf("%s:%s:at:%d", JobReminder, assignmentKey(l), dec.At.UnixMicro()),
				Args:      ReminderArgs{Due: due, AssignedAt: l.AssignedAt, RemindAt: dec.At, Accept: args.Accept}})
			return err
		}
		return nil
	})
	return dec, err
}

// repLocation is the rep's own time zone, else Policy.RepZone.
func (s *Service) repLocation(ctx context.Context, tx Tx, email string) (*time.Location, error) {
	loc := s.Policy().RepZone(email)
	if loc == nil {
		loc = time.UTC
	}
	if email == "" {
		return loc, nil
	}
	rep, err := tx.RepByEmail(ctx, email)
	if ErrorCode(err) == ENOTFOUND {
		return loc, nil
	}
	if err != nil {
		return nil, err
	}
	if rep.TimeZone != "" {
		if l, err := time.LoadLocation(rep.TimeZone); err == nil {
			loc = l
		}
	}
	return loc, nil
}

// ActionTaken says how one breach action went.
type ActionTaken struct {
	Action BreachAction
	// Done is false when the action was skipped; Note says why, or what
	// was done ("reassigned to bo@example.com").
	Done bool
	Note string
}

// BreachOutcome is what a deadline timer found and did.
type BreachOutcome struct {
	Breach  Breach
	Actions []ActionTaken
}

// FireFirstTouchDue runs a JobFirstTouchDue.
func (s *Service) FireFirstTouchDue(ctx context.Context, job Job) (*BreachOutcome, error) {
	return s.fireBreach(ctx, job, BreachFirstTouch)
}

// FireAcceptDue runs a JobAcceptDue.
func (s *Service) FireAcceptDue(ctx context.Context, job Job) (*BreachOutcome, error) {
	return s.fireBreach(ctx, job, BreachAccept)
}

// FireCadenceDue runs a JobCadenceDue.
func (s *Service) FireCadenceDue(ctx context.Context, job Job) (*BreachOutcome, error) {
	return s.fireBreach(ctx, job, BreachCadence)
}

// fireBreach checks a lead for a breach of the given kind and, when there
// is one not acted on before, records it and takes the rule's actions,
// all in one transaction with the lead locked. It returns nil when there
// was nothing to do.
func (s *Service) fireBreach(ctx context.Context, job Job, kind BreachKind) (*BreachOutcome, error) {
	var out *BreachOutcome
	err := s.store.InTx(ctx, func(tx Tx) error {
		out = nil
		now := decisionTime(s.now(), job.RunAt).Truncate(time.Microsecond)
		l, err := tx.LockLead(ctx, job.LeadID)
		if ErrorCode(err) == ENOTFOUND {
			return nil
		}
		if err != nil {
			return err
		}
		if !l.State.Open() {
			return nil
		}
		if at := assignedAtOf(job.Args); !at.IsZero() && !SameInstant(at, l.AssignedAt) {
			return nil // a timer of an earlier owner: theirs was cancelled, this one slipped through
		}
		policy := s.Policy()
		rule := ruleOf(policy, l)
		if rule == nil {
			s.logger.Warn("a lead's rule is no longer in the policy; its deadline is not enforced", "lead_id", l.ID, "rule", l.Rule)
			return nil
		}
		touches, err := tx.Touches(ctx, l.ID)
		if err != nil {
			return err
		}
		var b *Breach
		for _, x := range policy.Breaches(rule, l, TouchTimes(touches), now) {
			if x.Kind == kind {
				b = &x
			}
		}
		if b == nil {
			return nil
		}
		// The lead lock serialises replicas; this check makes a second run
		// of the job (or a retry after a crash) take no action twice.
		seen, err := tx.HasBreach(ctx, l.ID, string(kind), b.Due)
		if err != nil || seen {
			return err
		}
		ev := BreachEvent(*b)
		ev.Data["assigned_at"] = stamp(l.AssignedAt)
		if err := tx.AppendEvent(ctx, ev); err != nil {
			return err
		}
		out = &BreachOutcome{Breach: *b}
		out.Actions, err = s.breachActions(ctx, tx, policy, rule, l, ev, now)
		return err
	})
	return out, err
}

// breachActions applies the rule's on_breach in order. reassign and
// return_to_marketing both move the lead, so once one has, the other is
// skipped: "[reassign, return_to_marketing]" reads "reassign, or when that
// is not possible, send it back". A lead is reassigned automatically once
// at most; after that only its manager reassigns it.
func (s *Service) breachActions(ctx context.Context, tx Tx, policy *Policy, rule *Rule, l *Lead, ev *Event, now time.Time) ([]ActionTaken, error) {
	var (
		taken  []ActionTaken
		moved  bool
		notify bool
	)
	owner := l.OwnerEmail
	for _, a := range rule.OnBreach {
		switch a {
		case ActionNotifyManager:
			notify = true
			taken = append(taken, ActionTaken{Action: a, Done: true})
		case ActionReassign:
			switch {
			case moved:
				taken = append(taken, ActionTaken{Action: a, Note: "the lead had already moved"})
			case l.Reassignments >= 1:
				taken = append(taken, ActionTaken{Action: a, Note: "it was reassigned automatically once already, so it stays with " + ownerOrNobody(l) + " until the manager decides"})
			default:
				to, err := s.reassign(ctx, tx, policy, rule, l, now, Actor{System: "slabot"}, true, "SLA breached: "+breachLabel(BreachKind(ev.Data["kind"].(string))))
				if err != nil {
					return nil, err
				}
				if to == "" {
					taken = append(taken, ActionTaken{Action: a, Note: "nobody else in " + l.Team + " is available to take it"})
					continue
				}
				moved = true
				taken = append(taken, ActionTaken{Action: a, Done: true, Note: "reassigned to " + to + ", next in " + l.Team + "'s round robin"})
			}
		case ActionReturnToMarketing:
			if moved {
				taken = append(taken, ActionTaken{Action: a, Note: "the lead had already moved"})
				continue
			}
			if err := s.returnLead(ctx, tx, l, now, Actor{System: "slabot"}, ReturnReasonBreached, true); err != nil {
				return nil, err
			}
			moved = true
			taken = append(taken, ActionTaken{Action: a, Done: true, Note: "returned to Marketing (" + ReturnReasonBreached + ")"})
		}
	}
	for _, t := range taken {
		if !t.Done {
			if err := tx.AppendEvent(ctx, &Event{LeadID: l.ID, At: now, Kind: EventBreachActionOff, Actor: "slabot",
				Data: map[string]any{"action": string(t.Action), "why": t.Note}}); err != nil {
				return nil, err
			}
		}
	}
	var notes []string
	for _, t := range taken {
		switch {
		case t.Action == ActionNotifyManager:
		case t.Done:
			notes = append(notes, t.Note)
		case t.Action == ActionReassign:
			notes = append(notes, "did not reassign it: "+t.Note)
		default:
			notes = append(notes, "did not return it: "+t.Note)
		}
	}
	if !notify && !moved && slices.ContainsFunc(taken, func(t ActionTaken) bool { return t.Action == ActionReassign }) {
		// Nobody would hear that the lead is stuck: tell the team anyway.
		notify = true
	}
	if notify {
		if err := enqueueEscalation(ctx, tx, l, ev, owner, strings.Join(notes, "; "), now); err != nil {
			return nil, err
		}
	}
	if !moved {
		// The card now says the deadline passed.
		if err := enqueueCardUpdate(ctx, tx, l, now); err != nil {
			return nil, err
		}
	}
	return taken, nil
}

func breachLabel(k BreachKind) string {
	switch k {
	case BreachCadence:
		return "touch cadence missed"
	case BreachAccept:
		return "not accepted in time"
	}
	return "no first touch in time"
}

// enqueueEscalation queues the manager's DM and the escalation channel's
// post about ev (a breach or an owner who left). rep is who held the lead
// when it happened; outcome says what slabot did about it.
func enqueueEscalation(ctx context.Context, tx Tx, l *Lead, ev *Event, rep, outcome string, now time.Time) error {
	for _, target := range []string{EscalateToManager, EscalateToChannel} {
		if _, err := tx.Enqueue(ctx, Job{LeadID: l.ID, RunAt: now,
			UniqueKey: fmt.Sprintf("%s:%s:%d:%d", JobEscalation, target, l.ID, ev.ID),
			Args:      EscalationArgs{Target: target, EventID: ev.ID, Rep: rep, Team: l.Team, Outcome: outcome}}); err != nil {
			return err
		}
	}
	return nil
}

// reassign gives the lead to the next available rep of its team in the
// round robin, other than its owner, with a fresh first-touch clock, fresh
// timers and a fresh hand-off card. It returns the new owner, or "" when
// nobody is available (the lead is then left as it was).
func (s *Service) reassign(ctx context.Context, tx Tx, policy *Policy, rule *Rule, l *Lead, now time.Time, a Actor, automatic bool, why string) (string, error) {
	team := l.Team
	if team == "" {
		team = rule.Team
	}
	if team == "" && len(policy.Teams) > 0 {
		team = policy.Teams[0].Name
	}
	if team == "" {
		return "", nil
	}
	return s.reassignInTeam(ctx, tx, policy, rule, l, team, now, a, automatic, why, nil)
}

// reassignInTeam gives the lead to the next available rep of team in its
// round robin, other than its owner (see reassign); extra is added to the
// reassignment's event.
func (s *Service) reassignInTeam(ctx context.Context, tx Tx, policy *Policy, rule *Rule, l *Lead, team string, now time.Time, a Actor, automatic bool, why string, extra map[string]any) (string, error) {
	cursor, err := tx.LockTeamCursor(ctx, team)
	if err != nil {
		return "", err
	}
	reps, err := tx.TeamReps(ctx, team)
	if err != nil {
		return "", err
	}
	// The owner sits out this turn: the lead needs someone new. The cursor
	// is carried over to the shorter list so the rotation stays fair.
	var others []Rep
	var pos []int
	from := -1
	for i, r := range reps {
		if r.Email == l.OwnerEmail {
			continue
		}
		if i <= cursor {
			from = len(others)
		}
		others = append(others, r)
		pos = append(pos, i)
	}
	idx := NextInRotation(others, from, now)
	if idx < 0 {
		return "", nil
	}
	next := others[idx]
	if err := tx.SetTeamCursor(ctx, team, pos[idx]); err != nil {
		return "", err
	}
	return next.Email, s.moveLead(ctx, tx, policy, rule, l, next.Email, team, now, a, automatic, why, extra)
}

// moveLead gives the lead to the rep to, of team, with a fresh
// first-touch clock, fresh timers and a fresh hand-off card.
func (s *Service) moveLead(ctx context.Context, tx Tx, policy *Policy, rule *Rule, l *Lead, to, team string, now time.Time, a Actor, automatic bool, why string, extra map[string]any) error {
	if _, err := tx.CancelJobs(ctx, l.ID, TimerJobs...); err != nil {
		return err
	}
	prev := l.OwnerEmail
	l.OwnerEmail, l.Team, l.State = to, team, StateReassigned
	// What belonged to the previous owner's turn starts again.
	l.AssignedAt = now.Truncate(time.Microsecond)
	l.FirstTouchDue = policy.LeadDeadlines(rule, l, l.AssignedAt).FirstTouchDue
	l.FirstTouchAt, l.AcknowledgedAt, l.SnoozedUntil = time.Time{}, time.Time{}, time.Time{}
	if automatic {
		l.Reassignments++
	}
	if err := tx.UpdateLead(ctx, l); err != nil {
		return err
	}
	data := map[string]any{"from": prev, "to": to, "team": team, "automatic": automatic, "why": why}
	for k, v := range extra {
		data[k] = v
	}
	if err := tx.AppendEvent(ctx, &Event{LeadID: l.ID, At: now, Kind: EventReassigned, Actor: a.String(), Data: data}); err != nil {
		return err
	}
	jobs := append(timerJobs(policy, rule, l),
		Job{Args: HandOffArgs{}, LeadID: l.ID, RunAt: now, UniqueKey: JobHandOff + ":" + assignmentKey(l)})
	if err := tx.EnqueueAll(ctx, jobs); err != nil {
		return err
	}
	// The previous owner's card says the lead moved on.
	return enqueueCardUpdate(ctx, tx, l, now)
}

// returnLead sends the lead back to Marketing with reason and stops its timers.
func (s *Service) returnLead(ctx context.Context, tx Tx, l *Lead, now time.Time, a Actor, reason string, automatic bool) error {
	return s.returnLeadWith(ctx, tx, l, now, a, reason, automatic, nil)
}

// returnLeadWith is returnLead with more data on the returned event (a
// "not now" return's revisit date).
func (s *Service) returnLeadWith(ctx context.Context, tx Tx, l *Lead, now time.Time, a Actor, reason string, automatic bool, extra map[string]any) error {
	if err := Transition(l.State, StateReturned); err != nil {
		return err
	}
	l.State, l.ReturnReason, l.ClosedAt = StateReturned, reason, now
	if err := tx.UpdateLead(ctx, l); err != nil {
		return err
	}
	data := map[string]any{"reason": reason, "automatic": automatic}
	for k, v := range extra {
		data[k] = v
	}
	if err := tx.AppendEvent(ctx, &Event{LeadID: l.ID, At: now, Kind: "returned", Actor: a.String(),
		Data: data}); err != nil {
		return err
	}
	if _, err := tx.CancelJobs(ctx, l.ID, TimerJobs...); err != nil {
		return err
	}
	return enqueueCardUpdate(ctx, tx, l, now)
}

// authorizeManager lets only the lead's team manager (or a system) take
// the decisions an escalation offers.
func (s *Service) authorizeManager(l *Lead, a Actor) error {
	if a.System != "" {
		return nil
	}
	t := s.Policy().Team(l.Team)
	if t != nil && t.Manager != "" && strings.EqualFold(strings.TrimSpace(a.Email), t.Manager) {
		return nil
	}
	who := "the team's manager"
	if t != nil && t.Manager != "" {
		who = t.Manager + " (" + t.Name + "'s manager)"
	}
	return Errorf(EFORBIDDEN, "Only %s can decide what happens to %s after a breach.", who, l.DisplayName())
}

// managerAction runs a manager's decision on an escalated lead. assignedAt
// is the assignment the escalation was about (zero: any); when the lead has
// moved on since, the decision is refused, so a double click or a stale
// message never reassigns twice.
func (s *Service) managerAction(ctx context.Context, leadID int64, a Actor, assignedAt time.Time,
	do func(tx Tx, policy *Policy, rule *Rule, l *Lead, now time.Time) error) (*Lead, error) {
	return s.actOnLeadAs(ctx, leadID, a, s.authorizeManager, func(tx Tx, l *Lead, now time.Time) error {
		now = now.Truncate(time.Microsecond)
		if !l.State.Open() {
			return Errorf(EINVALID, "%s is already %s: nothing more to decide.", l.DisplayName(), l.State.Label())
		}
		if !assignedAt.IsZero() && !SameInstant(assignedAt, l.AssignedAt) {
			return Errorf(ECONFLICT, "%s has moved on since this message: it now belongs to %s.", l.DisplayName(), ownerOrNobody(l))
		}
		policy := s.Policy()
		rule := ruleOf(policy, l)
		if rule == nil {
			return Errorf(EINVALID, "%s falls under the rule %q, which is no longer in the policy file.", l.DisplayName(), l.Rule)
		}
		return do(tx, policy, rule, l, now)
	})
}

// ManagerReassign gives an escalated lead to the next available rep in the
// team's round robin. A manager may do so as often as they like.
func (s *Service) ManagerReassign(ctx context.Context, leadID int64, a Actor, assignedAt time.Time) (*Lead, error) {
	return s.managerAction(ctx, leadID, a, assignedAt, func(tx Tx, policy *Policy, rule *Rule, l *Lead, now time.Time) error {
		to, err := s.reassign(ctx, tx, policy, rule, l, now, a, false, "reassigned by the manager")
		if err == nil && to == "" {
			return Errorf(EINVALID, "Nobody else in %s is available to take %s right now.", l.Team, l.DisplayName())
		}
		return err
	})
}

// ManagerReturn sends an escalated lead back to Marketing as breached.
func (s *Service) ManagerReturn(ctx context.Context, leadID int64, a Actor, assignedAt time.Time) (*Lead, error) {
	return s.managerAction(ctx, leadID, a, assignedAt, func(tx Tx, _ *Policy, _ *Rule, l *Lead, now time.Time) error {
		return s.returnLead(ctx, tx, l, now, a, ReturnReasonBreached, false)
	})
}

// GiveMoreTime gives the owner a fresh first-touch window from now, with
// its reminders, keeping the lead with them. A lead already touched has no
// first-touch deadline left to move.
func (s *Service) GiveMoreTime(ctx context.Context, leadID int64, a Actor, assignedAt time.Time) (*Lead, error) {
	return s.managerAction(ctx, leadID, a, assignedAt, func(tx Tx, policy *Policy, rule *Rule, l *Lead, now time.Time) error {
		if !l.FirstTouchAt.IsZero() {
			return Errorf(EINVALID, "%s already had its first touch: there is no first-touch deadline to move.", l.DisplayName())
		}
		if l.FirstTouchDue.After(now) {
			return nil // given more time a moment ago: a double click
		}
		prev := l.FirstTouchDue
		d := policy.LeadDeadlines(rule, l, now)
		l.FirstTouchDue = d.FirstTouchDue
		if err := tx.UpdateLead(ctx, l); err != nil {
			return err
		}
		if err := tx.AppendEvent(ctx, &Event{LeadID: l.ID, At: now, Kind: EventDeadlineMoved, Actor: a.String(),
			Data: map[string]any{"from": stamp(prev), "to": stamp(d.FirstTouchDue)}}); err != nil {
			return err
		}
		if _, err := tx.CancelJobs(ctx, l.ID, firstTouchTimers...); err != nil {
			return err
		}
		for _, j := range extensionTimers(d, l) {
			if _, err := tx.Enqueue(ctx, j); err != nil {
				return err
			}
		}
		return enqueueCardUpdate(ctx, tx, l, now)
	})
}

// RepGone records that a rep's chat account was deactivated: the rep
// leaves the rotation, and each open lead they hold is escalated to their
// team so someone picks it up. It reports how many leads were escalated;
// when the rep was marked inactive before (by another replica, say), it
// does nothing.
func (s *Service) RepGone(ctx context.Context, email, why string) (int, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var n int
	err := s.store.InTx(ctx, func(tx Tx) error {
		n = 0
		now := s.now()
		changed, err := tx.DeactivateRep(ctx, email, now)
		if err != nil || !changed {
			return err
		}
		ids, err := tx.OpenLeadIDsOfRep(ctx, email)
		if err != nil {
			return err
		}
		if err := enqueueRepGoneAlert(ctx, tx, email, why, len(ids), now); err != nil {
			return err
		}
		for _, id := range ids {
			l, err := tx.LockLead(ctx, id)
			if err != nil {
				return err
			}
			if !l.State.Open() || l.OwnerEmail != email {
				continue
			}
			ev := &Event{LeadID: l.ID, At: now, Kind: EventOwnerGone, Actor: "slabot", Data: map[string]any{"owner": email, "why": why}}
			if err := tx.AppendEvent(ctx, ev); err != nil {
				return err
			}
			if err := enqueueEscalation(ctx, tx, l, ev, email, "", now); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// enqueueRepGoneAlert tells the rep's team that the rep left the rotation.
func enqueueRepGoneAlert(ctx context.Context, tx Tx, email, why string, open int, now time.Time) error {
	rep, err := tx.RepByEmail(ctx, email)
	if err != nil {
		return err
	}
	text := fmt.Sprintf("%s no longer receives leads: %s.", email, why)
	switch open {
	case 0:
		text += " They held no open leads."
	case 1:
		text += " Their open lead follows, for the manager to give to someone else."
	default:
		text += fmt.Sprintf(" Their %d open leads follow, for the manager to give to someone else.", open)
	}
	_, err = tx.Enqueue(ctx, Job{RunAt: now,
		UniqueKey: fmt.Sprintf("%s:gone:%s:%d", JobOpsAlert, email, now.UnixMicro()),
		Args:      OpsAlertArgs{Team: rep.Team, Text: text}})
	return err
}
