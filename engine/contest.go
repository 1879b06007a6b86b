package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Contesting a rejection: Marketing (the people or channel the policy's
// quality.contesters names) may contest a rejection that sent a lead back,
// within quality.contest_within of it; the manager of the rep who rejected
// it decides. Upheld, the lead stays with Marketing; overturned, it goes
// back to that rep as accepted, with a fresh first-touch clock when it had
// no touch yet. Both outcomes are counted in /sla quality.

// The lead events of a contest.
const (
	// EventContested: data.rejection is the id of the rejected event.
	EventContested = "contested"
	// EventContestDecided: data.contest is the id of the contested event,
	// data.decision ContestUpheld or ContestOverturned.
	EventContestDecided = "contest_decided"
)

// The decisions on a contest; ContestPending is a contest not yet decided.
const (
	ContestPending    = "pending"
	ContestUpheld     = "upheld"
	ContestOverturned = "overturned"
)

// The notifications of a contest.
const (
	// JobRejectionNotice tells Marketing's contesters of a rejection they
	// may contest.
	JobRejectionNotice = "notify.rejection"
	// JobContestDecision asks the rep's manager to decide a contest.
	JobContestDecision = "notify.contest"
)

// RejectionNoticeArgs: tell the contesters about the rejected event EventID.
type RejectionNoticeArgs struct {
	EventID int64 `json:"event_id,string"`
}

func (RejectionNoticeArgs) Kind() string  { return JobRejectionNotice }
func (RejectionNoticeArgs) Queue() string { return QueueSend }

// ContestDecisionArgs: ask Manager to decide the contested event EventID.
type ContestDecisionArgs struct {
	EventID int64  `json:"event_id,string"`
	Manager string `json:"manager"`
}

func (ContestDecisionArgs) Kind() string  { return JobContestDecision }
func (ContestDecisionArgs) Queue() string { return QueueSend }

// ContestState is where one rejection stands with respect to contesting.
type ContestState struct {
	Rejection Event
	// Contest is the contested event (zero ID: not contested); Decided the
	// decision's (zero ID: not decided).
	Contest, Decided Event
	// Decision is ContestPending, ContestUpheld or ContestOverturned; ""
	// when the rejection was not contested.
	Decision string
}

// ContestOf finds, in a lead's history, the state of the rejection
// eventID (0: the lead's last rejection that sent it back); false when
// there is no such rejection.
func ContestOf(events []Event, eventID int64) (ContestState, bool) {
	var st ContestState
	found := false
	for _, e := range events {
		if e.Kind != EventRejected || e.Data["category"] == string(RejectWrongOwner) {
			continue
		}
		if eventID == 0 || e.ID == eventID {
			st, found = ContestState{Rejection: e}, true
		}
	}
	if !found {
		return st, false
	}
	for _, e := range events {
		switch e.Kind {
		case EventContested:
			if eventRef(e, "rejection") == st.Rejection.ID && st.Contest.ID == 0 {
				st.Contest, st.Decision = e, ContestPending
			}
		case EventContestDecided:
			if st.Contest.ID != 0 && eventRef(e, "contest") == st.Contest.ID && st.Decided.ID == 0 {
				st.Decided = e
				st.Decision, _ = e.Data["decision"].(string)
			}
		}
	}
	return st, true
}

// eventRef reads an event id stored in an event's data (JSON numbers come
// back as float64 from the database).
func eventRef(e Event, key string) int64 {
	switch v := e.Data[key].(type) {
	case int64:
		return v
	case int:
		return int64(v)
	case float64:
		return int64(v)
	case string:
		var id int64
		fmt.Sscan(v, &id)
		return id
	}
	return 0
}

// mayContest reports whether a may contest rejections under policy: a
// contester named by email, or, when the policy names a channel, anyone
// who is not in Sales (a rep or a manager of a team).
func mayContest(p *Policy, a Actor) error {
	if a.System != "" {
		return nil
	}
	email := strings.ToLower(strings.TrimSpace(a.Email))
	if email != "" && slices.Contains(p.Quality.Contesters, email) {
		return nil
	}
	inSales := p.TeamOf(email) != nil
	for _, t := range p.Teams {
		inSales = inSales || t.Manager == email
	}
	if p.Quality.ContestChannel != "" && email != "" && !inSales {
		return nil
	}
	var who []string
	if p.Quality.ContestChannel != "" {
		who = append(who, "Marketing in "+p.Quality.ContestChannel)
	}
	who = append(who, p.Quality.Contesters...)
	return Errorf(EFORBIDDEN, "Only Marketing can contest a rejection: %s.", AndList(who))
}

// Contest records that Marketing contests the rejection eventID (0: the
// lead's last one) of a lead, with an optional note, and asks the manager
// of the rep who rejected it to decide. One contest a rejection, within
// quality.contest_within of it.
func (s *Service) Contest(ctx context.Context, leadID int64, a Actor, eventID int64, note string) (*Lead, error) {
	policy := s.Policy()
	if !policy.Quality.Contesting() {
		return nil, Errorf(EINVALID, "Contesting rejections is off: the agreement names nobody who may contest (quality.contesters in the policy file).")
	}
	if err := mayContest(policy, a); err != nil {
		return nil, err
	}
	note = strings.TrimSpace(note)
	anyone := func(*Lead, Actor) error { return nil }
	return s.actOnLeadAs(ctx, leadID, a, anyone, func(tx Tx, l *Lead, now time.Time) error {
		now = now.Truncate(time.Microsecond)
		events, err := tx.Events(ctx, l.ID)
		if err != nil {
			return err
		}
		st, ok := ContestOf(events, eventID)
		if !ok {
			return Errorf(EINVALID, "%s has no rejection to contest.", l.DisplayName())
		}
		if last, _ := ContestOf(events, 0); last.Rejection.ID != st.Rejection.ID {
			return Errorf(EINVALID, "%s was rejected again since: contest its latest rejection.", l.DisplayName())
		}
		if st.Decision != "" {
			return Errorf(ECONFLICT, "%s's rejection was contested already, by %s on %s: %s.", l.DisplayName(),
				st.Contest.Actor, st.Contest.At.In(policy.Location).Format("Jan 2"), contestDecisionWords(st))
		}
		if l.State != StateReturned {
			return Errorf(EINVALID, "%s is %s now: there is no rejection left to contest.", l.DisplayName(), l.State.Label())
		}
		if closes := st.Rejection.At.Add(policy.Quality.ContestWithin); now.After(closes) {
			return Errorf(EINVALID, "The rejection of %s can no longer be contested: the agreement allows %s, and it was rejected on %s.",
				l.DisplayName(), FormatDuration(policy.Quality.ContestWithin), st.Rejection.At.In(policy.Location).Format("Jan 2"))
		}
		rep, _ := st.Rejection.Data["owner"].(string)
		if rep == "" {
			rep = st.Rejection.Actor
		}
		manager := ""
		if t := policy.Team(l.Team); t != nil {
			manager = t.Manager
		}
		data := map[string]any{"rejection": st.Rejection.ID, "category": st.Rejection.Data["category"],
			"detail": st.Rejection.Data["detail"], "rep": rep, "team": l.Team, "manager": manager, "decision": ContestPending}
		if note != "" {
			data["note"] = note
		}
		e := &Event{LeadID: l.ID, At: now, Kind: EventContested, Actor: a.String(), Data: data}
		if err := tx.AppendEvent(ctx, e); err != nil {
			return err
		}
		if manager != "" {
			if _, err := tx.Enqueue(ctx, Job{LeadID: l.ID, RunAt: now, UniqueKey: fmt.Sprintf("%s:%d", JobContestDecision, e.ID),
				Args: ContestDecisionArgs{EventID: e.ID, Manager: manager}}); err != nil {
				return err
			}
		}
		return enqueueCardUpdate(ctx, tx, l, now)
	})
}

// contestDecisionWords says where a contest stands: "upheld by …".
func contestDecisionWords(st ContestState) string {
	switch st.Decision {
	case ContestUpheld, ContestOverturned:
		return st.Decision + " by " + st.Decided.Actor
	}
	manager, _ := st.Contest.Data["manager"].(string)
	if manager == "" {
		manager = "the rep's manager"
	}
	return manager + " has yet to decide"
}

// DecideContest records the decision of the rep's manager on the contest
// eventID (0: the lead's open one): upheld, the rejection stands;
// overturned, the lead goes back to the rep who rejected it, accepted. Only
// that manager (or a system) decides, once.
func (s *Service) DecideContest(ctx context.Context, leadID int64, a Actor, eventID int64, overturn bool) (*Lead, error) {
	policy := s.Policy()
	var st ContestState
	decider := func(l *Lead, a Actor) error { return nil } // checked below, once the contest is read
	return s.actOnLeadAs(ctx, leadID, a, decider, func(tx Tx, l *Lead, now time.Time) error {
		now = now.Truncate(time.Microsecond)
		events, err := tx.Events(ctx, l.ID)
		if err != nil {
			return err
		}
		found := false
		for _, e := range events {
			if e.Kind == EventContested && (eventID == 0 || e.ID == eventID) {
				if c, ok := ContestOf(events, eventRef(e, "rejection")); ok {
					st, found = c, true
				}
			}
		}
		if !found || st.Contest.ID == 0 {
			return Errorf(EINVALID, "Nobody contested the rejection of %s: there is nothing to decide.", l.DisplayName())
		}
		manager, _ := st.Contest.Data["manager"].(string)
		if t := policy.Team(fmt.Sprint(st.Contest.Data["team"])); t != nil && t.Manager != "" {
			manager = t.Manager
		}
		if a.System == "" && (manager == "" || !strings.EqualFold(strings.TrimSpace(a.Email), manager)) {
			who := "the rep's manager"
			if manager != "" {
				who = manager + " (the manager of " + fmt.Sprint(st.Contest.Data["rep"]) + ")"
			}
			return Errorf(EFORBIDDEN, "Only %s can decide whether the rejection of %s stands.", who, l.DisplayName())
		}
		if st.Decision != ContestPending {
			return Errorf(ECONFLICT, "The contest on %s is decided already: %s.", l.DisplayName(), contestDecisionWords(st))
		}
		decision := ContestUpheld
		if overturn {
			decision = ContestOverturned
		}
		rep, _ := st.Contest.Data["rep"].(string)
		data := map[string]any{"contest": st.Contest.ID, "rejection": st.Rejection.ID, "decision": decision,
			"category": st.Contest.Data["category"], "detail": st.Contest.Data["detail"], "rep": rep,
			"contested_by": st.Contest.Actor}
		if !overturn {
			if err := tx.AppendEvent(ctx, &Event{LeadID: l.ID, At: now, Kind: EventContestDecided, Actor: a.String(), Data: data}); err != nil {
				return err
			}
			return enqueueCardUpdate(ctx, tx, l, now)
		}
		return s.overturn(ctx, tx, policy, l, rep, now, a, data)
	})
}

// overturn gives a rejected lead back to the rep who rejected it, as
// accepted: the rep's rejection did not stand, so the lead counts as
// accepted, and the rep owes it the rule's touches from now. The first
// touch is due afresh if none was made; a new card goes to the rep.
func (s *Service) overturn(ctx context.Context, tx Tx, policy *Policy, l *Lead, rep string, now time.Time, a Actor, data map[string]any) error {
	if l.State != StateReturned {
		return Errorf(EINVALID, "%s is %s now, so it cannot go back to %s: uphold the rejection, or reassign the lead in the CRM.",
			l.DisplayName(), l.State.Label(), rep)
	}
	team := policy.TeamOf(rep)
	if team == nil {
		return Errorf(EINVALID, "%s is no longer a rep in the agreement, so %s cannot go back to them: uphold the rejection, or reassign the lead in the CRM.",
			rep, l.DisplayName())
	}
	rule := ruleOf(policy, l)
	if rule == nil {
		return Errorf(EINVALID, "%s falls under the rule %q, which is no longer in the policy file: uphold the rejection, or reassign the lead in the CRM.", l.DisplayName(), l.Rule)
	}
	l.OwnerEmail, l.Team, l.State = rep, team.Name, StateAcknowledged
	l.ReturnReason, l.ClosedAt, l.SnoozedUntil = "", time.Time{}, time.Time{}
	l.AssignedAt = now
	if l.AcknowledgedAt.IsZero() {
		l.AcknowledgedAt = now
	}
	if l.FirstTouchAt.IsZero() {
		l.FirstTouchDue = policy.LeadDeadlines(rule, l, now).FirstTouchDue
	}
	if err := tx.UpdateLead(ctx, l); err != nil {
		return err
	}
	if err := tx.AppendEvent(ctx, &Event{LeadID: l.ID, At: now, Kind: EventContestDecided, Actor: a.String(), Data: data}); err != nil {
		return err
	}
	jobs := timerJobs(policy, rule, l)
	if !l.FirstTouchAt.IsZero() {
		// Only the cadence is still owed.
		jobs = slices.DeleteFunc(jobs, func(j Job) bool { return j.Kind() != JobCadenceDue })
	} else {
		jobs = slices.DeleteFunc(jobs, func(j Job) bool { return j.Kind() == JobAcceptDue })
	}
	jobs = append(jobs, Job{Args: HandOffArgs{}, LeadID: l.ID, RunAt: now, UniqueKey: JobHandOff + ":" + assignmentKey(l)})
	if err := tx.EnqueueAll(ctx, jobs); err != nil {
		return err
	}
	return enqueueCardUpdate(ctx, tx, l, now)
}
