package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"
)

// Service applies the agreement: it decides what happens to leads and
// commits each decision, with the messages and timers it causes, in one
// transaction of the Store.
type Service struct {
	store  ServiceStore
	policy atomic.Pointer[Policy]
	now    func() time.Time
	logger *slog.Logger
	crm    crmSwitch
}

// ServiceStore is what the Service needs of storage: transactions, plus the
// advisory locks that serialise work on one lead or one contact.
type ServiceStore interface {
	InTx(ctx context.Context, fn func(Tx) error) error
}

// NewService returns a Service. now is the clock (time.Now in production).
func NewService(store ServiceStore, policy *Policy, now func() time.Time, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{now: now, logger: logger}
	s.store = crmPublishingStore{ServiceStore: store, s: s}
	s.policy.Store(policy)
	return s
}

// Policy is the agreement in force.
func (s *Service) Policy() *Policy { return s.policy.Load() }

// SetPolicy replaces the agreement; leads keep the deadlines they have.
func (s *Service) SetPolicy(p *Policy) { s.policy.Store(p) }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Outcomes of a hand-off.
const (
	HandOffCreated  = "created"
	HandOffRepeated = "repeated"
	HandOffLinked   = "linked"
)

// HandOffResult says what a hand-off did.
type HandOffResult struct {
	Lead    *Lead
	Outcome string
	// Changed lists the fields a repeat updated.
	Changed []string
	// Routing is the routing decision of a new lead.
	Routing Routing
	// Message explains the outcome to the caller.
	Message string
}

// HandOff records a hand-off from Marketing. A new lead is routed, stored
// and its hand-off message and timers queued, all in one transaction. A
// repeat of the same external id, or a new id for a contact whose lead is
// still open, keeps that lead's owner and clock.
func (s *Service) HandOff(ctx context.Context, h HandOff) (*HandOffResult, error) {
	if errs := h.Validate(); len(errs) > 0 {
		return nil, &Error{Code: EINVALID, Message: "the hand-off has problems", Err: errs}
	}
	policy := s.Policy()
	var res *HandOffResult
	err := s.store.InTx(ctx, func(tx Tx) error {
		res = nil
		now := s.now()
		extID := strings.TrimSpace(h.ExternalID)
		email := strings.ToLower(strings.TrimSpace(h.Contact.Email))
		// Serialise hand-offs of one id and of one contact, so a burst of
		// retries, or two CRMs racing, still make exactly one lead.
		if err := tx.LockKey(ctx, "handoff:"+extID); err != nil {
			return err
		}
		if email != "" {
			if err := tx.LockKey(ctx, "contact:"+email); err != nil {
				return err
			}
		}
		existing, err := tx.LeadByExternalID(ctx, extID)
		if err == nil {
			// Lock the row before merging: an acknowledgement, a touch or a
			// reassignment racing this repeat must not be written over.
			if existing, err = tx.LockLead(ctx, existing.ID); err != nil {
				return err
			}
			res, err = s.repeat(ctx, tx, existing, h, now)
			return err
		} else if ErrorCode(err) != ENOTFOUND {
			return err
		}
		if email != "" {
			open, err := tx.OpenLeadByContactEmail(ctx, email)
			if err == nil {
				res, err = s.link(ctx, tx, open, extID, now)
				return err
			} else if ErrorCode(err) != ENOTFOUND {
				return err
			}
		}
		res, err = s.create(ctx, tx, policy, h, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (s *Service) repeat(ctx context.Context, tx Tx, l *Lead, h HandOff, now time.Time) (*HandOffResult, error) {
	changed := h.mergeInto(l)
	clock := "its SLA clock keeps running"
	if !l.State.Open() {
		clock = "it is already " + l.State.Label()
	}
	res := &HandOffResult{Lead: l, Outcome: HandOffRepeated, Changed: changed,
		Message: "This lead was handed off before; it stays with " + ownerOrNobody(l) + " and " + clock + "."}
	if len(changed) == 0 {
		return res, nil
	}
	if err := tx.UpdateLead(ctx, l); err != nil {
		return nil, err
	}
	if err := tx.AppendEvent(ctx, &Event{LeadID: l.ID, At: now, Kind: "updated", Actor: "intake",
		Data: map[string]any{"fields": changed, "external_id": h.ExternalID}}); err != nil {
		return nil, err
	}
	if l.State.Open() {
		if err := enqueueCardUpdate(ctx, tx, l, now); err != nil {
			return nil, err
		}
	}
	res.Message = fmt.Sprintf("This lead was handed off before; %s updated. It stays with %s and %s.",
		strings.Join(changed, ", "), ownerOrNobody(l), clock)
	return res, nil
}

func (s *Service) link(ctx context.Context, tx Tx, open *Lead, extID string, now time.Time) (*HandOffResult, error) {
	if _, err := tx.LinkExternalID(ctx, extID, open.ID); err != nil {
		return nil, err
	}
	if err := tx.AppendEvent(ctx, &Event{LeadID: open.ID, At: now, Kind: "linked", Actor: "intake",
		Data: map[string]any{"external_id": extID}}); err != nil {
		return nil, err
	}
	return &HandOffResult{Lead: open, Outcome: HandOffLinked,
		Message: fmt.Sprintf("%s is already an open lead (%s) with %s: this hand-off was linked to it, with no second SLA.",
			open.Contact.Email, open.ExternalID, ownerOrNobody(open))}, nil
}

func (s *Service) create(ctx context.Context, tx Tx, policy *Policy, h HandOff, now time.Time) (*HandOffResult, error) {
	l := h.newLead(now)
	rule := policy.RuleFor(l.Source, l.Segment, l.Score)
	l.Rule = rule.Name

	named := strings.ToLower(strings.TrimSpace(h.OwnerEmail))
	// A contact who went back to Marketing before brings that history,
	// and may go back to the rep who had them.
	history, err := recycleHistory(ctx, tx, l.Contact.Email)
	if err != nil {
		return nil, err
	}
	routing, back, err := s.routeRecycled(ctx, tx, policy, history, now)
	if err != nil {
		return nil, err
	}
	if !back {
		if routing, err = s.route(ctx, tx, policy, rule, named, now); err != nil {
			return nil, err
		}
	}
	l.OwnerEmail, l.Team = routing.OwnerEmail, routing.Team
	// The first-touch clock starts when the lead reaches slabot, whether or
	// not a rep could take it: the buyer is waiting either way.
	l.AssignedAt = now
	l.FirstTouchDue = policy.LeadDeadlines(rule, l, now).FirstTouchDue
	if err := tx.CreateLead(ctx, l); err != nil {
		return nil, err
	}
	if routing.Cursor >= 0 {
		if err := tx.SetTeamCursor(ctx, routing.Team, routing.Cursor); err != nil {
			return nil, err
		}
	}
	events := []*Event{
		{LeadID: l.ID, At: now, Kind: "handed_off", Actor: "intake", Data: map[string]any{
			"source": l.Source, "segment": l.Segment, "score": l.Score, "rule": l.Rule,
			"handed_off_at": l.HandedOffAt.Format(time.RFC3339Nano)}},
		{LeadID: l.ID, At: now, Kind: "routed", Actor: "slabot", Data: map[string]any{
			"owner": l.OwnerEmail, "team": l.Team, "reason": routing.Reason, "named_owner": named}},
	}
	if history != nil {
		events = append(events, &Event{LeadID: l.ID, At: now, Kind: EventRecycled, Actor: "slabot", Data: history.data()})
	}
	for _, e := range events {
		if err := tx.AppendEvent(ctx, e); err != nil {
			return nil, err
		}
	}
	jobs := timerJobs(policy, rule, l)
	if l.OwnerEmail != "" {
		jobs = append(jobs, Job{Args: HandOffArgs{}, LeadID: l.ID, RunAt: now, UniqueKey: JobHandOff + ":" + assignmentKey(l)})
	}
	if routing.TellOps {
		jobs = append(jobs, Job{LeadID: l.ID, RunAt: now, UniqueKey: JobOpsAlert + ":routing:" + assignmentKey(l),
			Args: OpsAlertArgs{Team: routing.Team, Reason: routing.Reason, NamedOwner: named,
				Text: "Lead " + l.DisplayName() + ": " + RoutingExplanation(routing, named) + "."}})
	}
	if err := tx.EnqueueAll(ctx, jobs); err != nil {
		return nil, err
	}
	msg := "New lead handed to " + ownerOrNobody(l) + "."
	switch {
	case back:
		msg = "The contact came back after a return to Marketing: the new lead went back to " + l.OwnerEmail + ", who had it before."
	case routing.Reason != RoutedNamedOwner && routing.Reason != RoutedRoundRobin:
		msg = "New lead: " + RoutingExplanation(routing, named) + "; ops have been told."
	}
	return &HandOffResult{Lead: l, Outcome: HandOffCreated, Routing: routing, Message: msg}, nil
}

// route decides the owner of a new lead and locks the team's rotation.
func (s *Service) route(ctx context.Context, tx Tx, policy *Policy, rule *Rule, named string, now time.Time) (Routing, error) {
	var namedRep *Rep
	if named != "" {
		r, err := tx.RepByEmail(ctx, named)
		switch {
		case err == nil:
			namedRep = r
		case ErrorCode(err) != ENOTFOUND:
			return Routing{}, err
		}
	}
	team := rule.Team
	if team == "" && namedRep != nil {
		team = namedRep.Team
	}
	if team == "" && len(policy.Teams) > 0 {
		team = policy.Teams[0].Name
	}
	if team == "" {
		return Routing{Reason: RoutedNobody, Cursor: -1, TellOps: true}, nil
	}
	if namedRep != nil && namedRep.Team != "" && namedRep.Available(now) {
		return Route(named, namedRep, team, nil, -1, now), nil
	}
	cursor, err := tx.LockTeamCursor(ctx, team)
	if err != nil {
		return Routing{}, err
	}
	reps, err := tx.TeamReps(ctx, team)
	if err != nil {
		return Routing{}, err
	}
	return Route(named, namedRep, team, reps, cursor, now), nil
}

func ownerOrNobody(l *Lead) string {
	if l.OwnerEmail == "" {
		return "nobody yet"
	}
	return l.OwnerEmail
}

// enqueueCardUpdate queues a redraw of the lead's messages. Redraws have
// no unique key: each change gets its own, and each draws the lead as it
// is when it runs, so two changes in one instant still end in the newest
// picture.
func enqueueCardUpdate(ctx context.Context, tx Tx, l *Lead, now time.Time) error {
	_, err := tx.Enqueue(ctx, Job{Args: CardUpdateArgs{}, LeadID: l.ID, RunAt: now})
	return err
}

// Actor is who asks for a change: a person (by email) or a system.
type Actor struct {
	Email string
	// System is set for the CRM and slabot itself, which may act on any lead.
	System string
}

func (a Actor) String() string {
	if a.System != "" {
		return a.System
	}
	return a.Email
}

// authorize lets the lead's owner, their manager, and systems act on a lead.
func (s *Service) authorize(l *Lead, a Actor) error {
	if a.System != "" {
		return nil
	}
	email := strings.ToLower(a.Email)
	if email != "" && email == l.OwnerEmail {
		return nil
	}
	if t := s.Policy().Team(l.Team); t != nil && email != "" && email == t.Manager {
		return nil
	}
	return Errorf(EFORBIDDEN, "Only %s (the owner) or their manager can act on %s.", ownerOrNobody(l), l.DisplayName())
}

// TouchInput is a follow-up attempt to log.
type TouchInput struct {
	Kind TouchKind
	At   time.Time
	Note string
	// ByEmail is who made the touch (defaults to the actor's email).
	ByEmail string
	Origin  string
	// Key makes the call idempotent; empty for none.
	Key string
}

// LogTouch records a touch on a lead. The first touch stops the first-touch
// clock and its reminders. It reports false when the key was seen before.
func (s *Service) LogTouch(ctx context.Context, leadID int64, a Actor, in TouchInput) (*Lead, bool, error) {
	if !in.Kind.Valid() {
		return nil, false, Errorf(EINVALID, "%q is not a kind of touch: use call, email, meeting, linkedin or other", in.Kind)
	}
	var added bool
	lead, err := s.actOnLead(ctx, leadID, a, func(tx Tx, l *Lead, now time.Time) error {
		at := in.At
		if at.IsZero() {
			at = now
		}
		by := in.ByEmail
		if by == "" {
			by = a.Email
		}
		t := &Touch{LeadID: l.ID, Kind: in.Kind, At: at, ByEmail: strings.ToLower(by), Note: in.Note, Origin: in.Origin, Key: in.Key}
		var err error
		added, err = tx.AddTouch(ctx, t)
		if err != nil || !added {
			return err
		}
		first := l.FirstTouchAt.IsZero() || at.Before(l.FirstTouchAt)
		if first {
			l.FirstTouchAt = at
		}
		if l.State.Open() && l.State != StateWorking {
			l.State = StateWorking
		}
		if err := tx.UpdateLead(ctx, l); err != nil {
			return err
		}
		if err := tx.AppendEvent(ctx, &Event{LeadID: l.ID, At: now, Kind: "touch", Actor: a.String(),
			Data: map[string]any{"kind": string(in.Kind), "at": at.Format(time.RFC3339Nano), "by": t.ByEmail, "origin": in.Origin, "first": first}}); err != nil {
			return err
		}
		if first {
			if _, err := tx.CancelJobs(ctx, l.ID, firstTouchTimers...); err != nil {
				return err
			}
		}
		return enqueueCardUpdate(ctx, tx, l, now)
	})
	return lead, added, err
}

// actOnLead is the one way a person or system changes a lead: in one
// transaction, with the lead locked (concurrent actions on it apply one
// after the other) and the actor authorised, fn makes the change and
// queues what it causes. It returns the lead as fn left it.
func (s *Service) actOnLead(ctx context.Context, leadID int64, a Actor, fn func(tx Tx, l *Lead, now time.Time) error) (*Lead, error) {
	return s.actOnLeadAs(ctx, leadID, a, s.authorize, fn)
}

// actOnLeadAs is actOnLead with another rule of who may act (a manager's
// decision after a breach, say).
func (s *Service) actOnLeadAs(ctx context.Context, leadID int64, a Actor, authorize func(*Lead, Actor) error,
	fn func(tx Tx, l *Lead, now time.Time) error) (*Lead, error) {
	var lead *Lead
	err := s.store.InTx(ctx, func(tx Tx) error {
		lead = nil
		l, err := tx.LockLead(ctx, leadID)
		if err != nil {
			return err
		}
		if err := authorize(l, a); err != nil {
			return err
		}
		lead = l
		return fn(tx, l, s.now())
	})
	return lead, err
}

// change applies one state change to a lead on behalf of a, with an event.
// apply edits the lead; it returns the event's data.
func (s *Service) change(ctx context.Context, leadID int64, a Actor, to LeadState, kind string,
	apply func(l *Lead, now time.Time) map[string]any) (*Lead, error) {
	return s.actOnLead(ctx, leadID, a, func(tx Tx, l *Lead, now time.Time) error {
		if l.State == to && to != StateSnoozed {
			return nil // a double click or a retried webhook: nothing to do
		}
		if err := Transition(l.State, to); err != nil {
			return err
		}
		l.State = to
		data := apply(l, now)
		if err := tx.UpdateLead(ctx, l); err != nil {
			return err
		}
		if err := tx.AppendEvent(ctx, &Event{LeadID: l.ID, At: now, Kind: kind, Actor: a.String(), Data: data}); err != nil {
			return err
		}
		if !to.Open() {
			if _, err := tx.CancelJobs(ctx, l.ID, TimerJobs...); err != nil {
				return err
			}
		}
		return enqueueCardUpdate(ctx, tx, l, now)
	})
}

// Acknowledge records that the owner has seen the lead and will work it.
// It does not count as a touch: only contact with the buyer does.
func (s *Service) Acknowledge(ctx context.Context, leadID int64, a Actor) (*Lead, error) {
	return s.actOnLead(ctx, leadID, a, func(tx Tx, l *Lead, now time.Time) error {
		if !l.AcknowledgedAt.IsZero() {
			return nil // a double tap
		}
		if !l.State.Open() {
			return Transition(l.State, StateAcknowledged)
		}
		l.AcknowledgedAt = now
		// A lead already being worked, or snoozed, keeps its state: the
		// acknowledgement is recorded all the same.
		switch l.State {
		case StateNew, StateNotified, StateReassigned:
			l.State = StateAcknowledged
		}
		if err := tx.UpdateLead(ctx, l); err != nil {
			return err
		}
		if err := tx.AppendEvent(ctx, &Event{LeadID: l.ID, At: now, Kind: "acknowledged", Actor: a.String(), Data: map[string]any{}}); err != nil {
			return err
		}
		// The rep has seen the lead: no more nagging. The deadline and its
		// breach still stand, since acknowledging is not a touch.
		if _, err := tx.CancelJobs(ctx, l.ID, JobReminder); err != nil {
			return err
		}
		return enqueueCardUpdate(ctx, tx, l, now)
	})
}

// Snooze silences reminders on the lead until the given time. The SLA
// clock keeps running: a snooze is for the rep's attention, not the buyer's.
func (s *Service) Snooze(ctx context.Context, leadID int64, a Actor, d time.Duration, reason string) (*Lead, error) {
	reason = strings.TrimSpace(reason)
	if d <= 0 || d > 30*24*time.Hour {
		return nil, Errorf(EINVALID, "a snooze lasts between a minute and 30 days")
	}
	if reason == "" {
		return nil, Errorf(EINVALID, "say why you snooze the lead, e.g. \"buyer asked to call back Monday\"")
	}
	return s.change(ctx, leadID, a, StateSnoozed, "snoozed", func(l *Lead, now time.Time) map[string]any {
		l.SnoozedUntil = now.Add(d)
		return map[string]any{"until": l.SnoozedUntil.Format(time.RFC3339Nano), "reason": reason}
	})
}

// ReturnToMarketing sends the lead back, with a reason that is reported.
func (s *Service) ReturnToMarketing(ctx context.Context, leadID int64, a Actor, reason string) (*Lead, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, Errorf(EINVALID, "a lead goes back to Marketing only with a reason, so Marketing can learn from it")
	}
	return s.change(ctx, leadID, a, StateReturned, "returned", func(l *Lead, now time.Time) map[string]any {
		l.ReturnReason = reason
		l.ClosedAt = now
		return map[string]any{"reason": reason}
	})
}

// Outcome names a sales result reported by the CRM.
var outcomes = map[string]LeadState{
	"opportunity": StateOpportunity, "won": StateWon, "lost": StateLost, "disqualified": StateDisqualified,
}

// SetOutcome records a sales result: opportunity, won, lost or disqualified.
func (s *Service) SetOutcome(ctx context.Context, leadID int64, a Actor, outcome string, amount float64, at time.Time) (*Lead, error) {
	to, ok := outcomes[outcome]
	if !ok {
		return nil, Errorf(EINVALID, "%q is not an outcome: use opportunity, won, lost or disqualified", outcome)
	}
	if amount < 0 {
		return nil, Errorf(EINVALID, "amount is negative")
	}
	return s.change(ctx, leadID, a, to, outcome, func(l *Lead, now time.Time) map[string]any {
		if amount > 0 {
			l.Amount = amount
		}
		when := at
		if when.IsZero() {
			when = now
		}
		if !to.Open() && to != StateOpportunity {
			l.ClosedAt = when
		}
		return map[string]any{"amount": amount, "at": when.Format(time.RFC3339Nano)}
	})
}

// AddMQL records a marketing-qualified lead for the funnel; false when it
// was recorded before.
func (s *Service) AddMQL(ctx context.Context, m MQL) (bool, error) {
	if strings.TrimSpace(m.ExternalID) == "" {
		return false, &Error{Code: EINVALID, Message: "the MQL has problems", Err: FieldErrors{{Field: "external_id", Message: "is required"}}}
	}
	if m.At.IsZero() {
		m.At = s.now()
	}
	m.Source, m.Segment = strings.ToLower(m.Source), strings.ToLower(m.Segment)
	var added bool
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		added, err = tx.AddMQL(ctx, &m)
		return err
	})
	return added, err
}

// LeadByExternalID finds a lead by a CRM id, its own or a linked one.
func (s *Service) LeadByExternalID(ctx context.Context, externalID string) (*Lead, error) {
	var l *Lead
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		l, err = tx.LeadByExternalID(ctx, externalID)
		return err
	})
	if ErrorCode(err) == ENOTFOUND {
		return nil, Errorf(ENOTFOUND, "no lead with external id %q: hand it off first with POST /v1/handoffs", externalID)
	}
	return l, err
}

// IsFieldErrors returns the field errors inside err, if any.
func IsFieldErrors(err error) (FieldErrors, bool) {
	var fe FieldErrors
	ok := errors.As(err, &fe)
	return fe, ok
}

// MarkNotified records that the owner's hand-off message went out. It is a
// no-op for a lead that has moved on meanwhile.
func (s *Service) MarkNotified(ctx context.Context, leadID int64, ref MessageRef) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		l, err := tx.LockLead(ctx, leadID)
		if err != nil {
			return err
		}
		now := s.now()
		if err := tx.AppendEvent(ctx, &Event{LeadID: l.ID, At: now, Kind: "notified", Actor: "slabot",
			Data: map[string]any{"owner": l.OwnerEmail, "platform": ref.Platform, "conversation": ref.Conversation,
				"message_id": ref.MessageID}}); err != nil {
			return err
		}
		if l.State != StateNew && l.State != StateReassigned {
			return nil
		}
		l.State = StateNotified
		return tx.UpdateLead(ctx, l)
	})
}

// Authorize reports whether a may act on the lead: its owner, their
// manager, or a system. The error names the owner for the person refused.
func (s *Service) Authorize(l *Lead, a Actor) error { return s.authorize(l, a) }
