package engine

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Recycling: a rep returns a lead to Marketing as "not now" with a date to
// revisit; on that date Marketing hears it (in the report channel and the
// lead.recycle_due webhook); and when Marketing hands the contact off
// again, the new lead arrives with the history of the returned one and,
// under recycle.route_to: previous_owner, goes back to the rep who knew it.

// ReturnReasonNotNow is the reason of a lead returned because the buyer is
// interested, but not now: Marketing nurtures it until the revisit date.
const ReturnReasonNotNow = "Interested, but not now (nurture)"

// Lead event kinds of recycling.
const (
	// EventRecycleDue is recorded on a returned lead on its revisit date.
	EventRecycleDue = "recycle_due"
	// EventRecycled is recorded on a new lead whose contact went back to
	// Marketing before: its data is the RecycleHistory.
	EventRecycled = "recycled"
)

// Bounds of a revisit date: from tomorrow to a year ahead, a quarter by
// default (a common nurture cycle).
const (
	RevisitDefaultDays = 90
	RevisitMaxDays     = 365
)

// RevisitBounds are the first and last dates a "not now" return may ask to
// revisit, and the date offered by default, for a lead returned at now:
// dates of the lead's team calendar.
func RevisitBounds(p *Policy, l *Lead, now time.Time) (first, last, def CalendarDate) {
	today := DateOf(now.In(p.CalendarForLead(l).Location()))
	return today.AddDays(1), today.AddDays(RevisitMaxDays), today.AddDays(RevisitDefaultDays)
}

// revisitMorning is when the revisit date comes due: the start of business
// on that date in the lead's team calendar, or on the next business day
// when the date is a weekend or holiday; 09:00 on a weekday in the
// calendar's zone for a team whose clock runs around the clock.
func revisitMorning(p *Policy, l *Lead, d CalendarDate) time.Time {
	cal := p.CalendarForLead(l)
	if cal.Always() {
		for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			d = d.AddDays(1)
		}
		return wallTime(d, HourMinute(9, 0), cal.Location())
	}
	for range cal.maxSearchDays() {
		if start, _, ok := cal.shift(d); ok {
			return start
		}
		d = d.AddDays(1)
	}
	return cal.NextOpen(d.In(cal.Location()))
}

// RevisitDueAt is when a lead returned "not now" with revisit date d comes
// due (see revisitMorning).
func RevisitDueAt(p *Policy, l *Lead, d CalendarDate) time.Time { return revisitMorning(p, l, d) }

// ReturnNotNow sends the lead back to Marketing as "not now", with the
// rep's details and a date to revisit (YYYY-MM-DD, in the lead's team
// calendar): from tomorrow to a year ahead. On that date's business
// morning Marketing is told.
func (s *Service) ReturnNotNow(ctx context.Context, leadID int64, a Actor, revisitOn, details string) (*Lead, error) {
	details = strings.TrimSpace(details)
	revisitOn = strings.TrimSpace(revisitOn)
	return s.actOnLead(ctx, leadID, a, func(tx Tx, l *Lead, now time.Time) error {
		if !l.State.Open() {
			return Errorf(EINVALID, "%s is already %s.", l.DisplayName(), l.State.Label())
		}
		policy := s.Policy()
		date, err := checkRevisitDate(policy, l, now, revisitOn)
		if err != nil {
			return err
		}
		reason := ReturnReasonNotNow
		if details != "" {
			reason += ": " + details
		}
		due := revisitMorning(policy, l, date)
		if err := s.returnLeadWith(ctx, tx, l, now, a, reason, false, map[string]any{
			"revisit_on": date.String(), "revisit_due": stamp(due)}); err != nil {
			return err
		}
		_, err = tx.Enqueue(ctx, Job{LeadID: l.ID, RunAt: due,
			UniqueKey: fmt.Sprintf("%s:%d:%s", JobRecycleDue, l.ID, date),
			Args:      RecycleDueArgs{RevisitOn: date.String(), Due: due, ReturnedAt: l.ClosedAt}})
		return err
	})
}

// checkRevisitDate reads a revisit date and checks it lies within the
// bounds, with a message that says what to enter when it does not.
func checkRevisitDate(p *Policy, l *Lead, now time.Time, s string) (CalendarDate, error) {
	first, last, _ := RevisitBounds(p, l, now)
	span := fmt.Sprintf("between %s (tomorrow) and %s", dateText(first), dateText(last))
	if s == "" {
		return CalendarDate{}, Errorf(EINVALID, "Choose when Marketing should revisit %s: a date %s.", l.DisplayName(), span)
	}
	d, err := ParseCalendarDate(s)
	if err != nil {
		return CalendarDate{}, Errorf(EINVALID, "%s is not a date: choose one %s, written YYYY-MM-DD like %s.", Quote(s), span, first)
	}
	if d.Before(first) {
		return CalendarDate{}, Errorf(EINVALID, "%s is not in the future: choose a date to revisit %s.", dateText(d), span)
	}
	if last.Before(d) {
		return CalendarDate{}, Errorf(EINVALID, "%s is more than a year away: choose a date to revisit %s.", dateText(d), span)
	}
	return d, nil
}

// dateText writes a date for people: "Mon Mar 8, 2027".
func dateText(d CalendarDate) string { return d.In(time.UTC).Format("Mon Jan 2, 2006") }

// FireRecycleDue runs a lead's revisit date: once, on the lead still
// returned, it records the lead.recycle_due event (published to CRMs like
// the others) and queues the notice to Marketing's channel. A contact
// already handed off again has nothing to revisit: the job does nothing.
// It reports whether it recorded the event.
func (s *Service) FireRecycleDue(ctx context.Context, job Job) (bool, error) {
	args, ok := job.Args.(RecycleDueArgs)
	if !ok {
		return false, DropJob(fmt.Errorf("a %s job without its arguments", JobRecycleDue))
	}
	fired := false
	err := s.store.InTx(ctx, func(tx Tx) error {
		fired = false
		l, err := tx.LockLead(ctx, job.LeadID)
		if ErrorCode(err) == ENOTFOUND {
			return nil
		}
		if err != nil {
			return err
		}
		if l.State != StateReturned || (!args.ReturnedAt.IsZero() && !SameInstant(args.ReturnedAt, l.ClosedAt)) {
			return nil
		}
		now := s.now()
		if !args.Due.IsZero() && now.Before(args.Due) {
			return RetryAfter(args.Due.Sub(now), fmt.Errorf("lead %d is to be revisited at %s", l.ID, stamp(args.Due)))
		}
		events, err := tx.Events(ctx, l.ID)
		if err != nil {
			return err
		}
		var returned *Event
		for i := range events {
			e := &events[i]
			switch {
			case e.Kind == EventRecycleDue && e.Data["revisit_on"] == args.RevisitOn:
				return nil // done on an earlier run
			case e.Kind == "returned":
				returned = e
			}
		}
		if email := strings.ToLower(strings.TrimSpace(l.Contact.Email)); email != "" {
			if _, err := tx.OpenLeadByContactEmail(ctx, email); err == nil {
				return nil // the contact is back with Sales already
			} else if ErrorCode(err) != ENOTFOUND {
				return err
			}
		}
		data := map[string]any{"revisit_on": args.RevisitOn, "reason": l.ReturnReason, "returned_at": stamp(l.ClosedAt)}
		if returned != nil {
			data["returned_by"], _ = actorFields(returned.Actor)
		}
		e := &Event{LeadID: l.ID, At: now.Truncate(time.Microsecond), Kind: EventRecycleDue, Actor: "slabot", Data: data}
		if err := tx.AppendEvent(ctx, e); err != nil {
			return err
		}
		// Due at once (a zero RunAt): the notice is for this morning.
		if _, err := tx.Enqueue(ctx, Job{LeadID: l.ID,
			UniqueKey: fmt.Sprintf("%s:%d:%s", JobRecycleNotice, l.ID, args.RevisitOn),
			Args:      RecycleNoticeArgs{EventID: e.ID, RevisitOn: args.RevisitOn}}); err != nil {
			return err
		}
		fired = true
		return nil
	})
	return fired, err
}

// RecycleHistory is what a new lead's card shows of the contact's last
// lead that went back to Marketing, and where the new lead was routed for
// it. It is recorded as the data of the new lead's EventRecycled.
type RecycleHistory struct {
	PreviousLeadID     int64
	PreviousExternalID string
	// PreviousOwner held the lead when it went back; ReturnedBy is who
	// sent it back (a person, or "" for slabot itself after a breach).
	PreviousOwner string
	ReturnedBy    string
	ReturnedAt    time.Time
	Reason        string
	// RevisitOn is the date asked for with a "not now" return, YYYY-MM-DD.
	RevisitOn string
	// Touches counts the returned lead's touches by kind.
	Touches map[TouchKind]int
	// LastTouch is its latest touch (zero Kind: none).
	LastTouch Touch
	// RoutedBack says the new lead went to PreviousOwner under
	// recycle.route_to: previous_owner; WhyNot says why it did not, when
	// the policy asks for it.
	RoutedBack bool
	WhyNot     string
}

// TouchCount is how many touches the returned lead had.
func (h RecycleHistory) TouchCount() int {
	n := 0
	for _, c := range h.Touches {
		n += c
	}
	return n
}

// data is the history as event data.
func (h RecycleHistory) data() map[string]any {
	touches := map[string]any{}
	for k, n := range h.Touches {
		touches[string(k)] = n
	}
	d := map[string]any{"previous_lead_id": h.PreviousLeadID, "previous_external_id": h.PreviousExternalID,
		"previous_owner": h.PreviousOwner, "returned_by": h.ReturnedBy, "returned_at": stamp(h.ReturnedAt),
		"reason": h.Reason, "revisit_on": h.RevisitOn, "touches": touches,
		"routed_back": h.RoutedBack, "why_not": h.WhyNot}
	if h.LastTouch.Kind != "" {
		d["last_touch"] = map[string]any{"kind": string(h.LastTouch.Kind), "at": stamp(h.LastTouch.At), "by": h.LastTouch.ByEmail}
	}
	return d
}

// RecycleHistoryOf reads the history back from a lead's EventRecycled;
// false for any other event.
func RecycleHistoryOf(e Event) (RecycleHistory, bool) {
	if e.Kind != EventRecycled {
		return RecycleHistory{}, false
	}
	str := func(m map[string]any, k string) string { s, _ := m[k].(string); return s }
	when := func(m map[string]any, k string) time.Time {
		t, _ := time.Parse(time.RFC3339Nano, str(m, k))
		return t
	}
	d := e.Data
	h := RecycleHistory{PreviousExternalID: str(d, "previous_external_id"), PreviousOwner: str(d, "previous_owner"),
		ReturnedBy: str(d, "returned_by"), ReturnedAt: when(d, "returned_at"), Reason: str(d, "reason"),
		RevisitOn: str(d, "revisit_on"), WhyNot: str(d, "why_not"), Touches: map[TouchKind]int{}}
	h.RoutedBack, _ = d["routed_back"].(bool)
	h.PreviousLeadID = int64(number(d["previous_lead_id"]))
	if t, ok := d["touches"].(map[string]any); ok {
		for k, v := range t {
			if n := int(number(v)); n > 0 {
				h.Touches[TouchKind(k)] = n
			}
		}
	}
	if t, ok := d["last_touch"].(map[string]any); ok {
		h.LastTouch = Touch{Kind: TouchKind(str(t, "kind")), At: when(t, "at"), ByEmail: str(t, "by")}
	}
	return h, true
}

// number reads a JSON number as stored (float64) or as written (int).
func number(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case int:
		return float64(n)
	case int64:
		return float64(n)
	}
	return 0
}

// recycleHistory is the history of the contact's last returned lead, or
// nil when they have none.
func recycleHistory(ctx context.Context, tx Tx, email string) (*RecycleHistory, error) {
	if email == "" {
		return nil, nil
	}
	prev, err := tx.LastReturnedLeadByContactEmail(ctx, email)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	h := &RecycleHistory{PreviousLeadID: prev.ID, PreviousExternalID: prev.ExternalID, PreviousOwner: prev.OwnerEmail,
		ReturnedAt: prev.ClosedAt, Reason: prev.ReturnReason, Touches: map[TouchKind]int{}}
	events, err := tx.Events(ctx, prev.ID)
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		if e.Kind == "returned" {
			h.ReturnedBy, _ = actorFields(e.Actor)
			h.RevisitOn, _ = e.Data["revisit_on"].(string)
		}
	}
	touches, err := tx.Touches(ctx, prev.ID)
	if err != nil {
		return nil, err
	}
	for _, t := range touches {
		h.Touches[t.Kind]++
		if h.LastTouch.Kind == "" || t.At.After(h.LastTouch.At) {
			h.LastTouch = t
		}
	}
	return h, nil
}

// RecycleRoute decides whether a returning contact goes back to the rep
// who held their last lead when it went back (prev, whose record is
// prevRep: nil when slabot has none; inAgreement says the rep is in a team
// of the policy). It returns whether to route to them and, when the
// policy asks for it but it cannot be, why not, in words for the card
// (dates in loc).
func RecycleRoute(cfg RecycleConfig, prevOwner string, returnedAt time.Time, prevRep *Rep, inAgreement bool, now time.Time, loc *time.Location) (bool, string) {
	if !cfg.ToPreviousOwner() {
		return false, ""
	}
	switch {
	case prevOwner == "":
		return false, "it had no owner when it went back to Marketing"
	case now.Sub(returnedAt) > cfg.Within:
		return false, fmt.Sprintf("it went back to Marketing more than %s ago (recycle.within)", FormatDuration(cfg.Within))
	case prevRep == nil || !inAgreement:
		return false, prevOwner + " is no longer a rep in the agreement"
	case prevRep.Status == RepInactive:
		return false, prevOwner + " is no longer active"
	case !prevRep.Available(now):
		why := prevOwner + " is away"
		if !prevRep.AwayUntil.IsZero() {
			why += " until " + prevRep.AwayUntil.In(loc).Format("Jan 2")
		}
		return false, why
	}
	return true, ""
}

// routeRecycled routes a returning contact's new lead: back to the
// previous owner when the policy says so and they can take it. The
// history is updated with the decision.
func (s *Service) routeRecycled(ctx context.Context, tx Tx, policy *Policy, h *RecycleHistory, now time.Time) (Routing, bool, error) {
	if h == nil || !policy.Recycle.ToPreviousOwner() {
		return Routing{}, false, nil
	}
	var rep *Rep
	if h.PreviousOwner != "" {
		r, err := tx.RepByEmail(ctx, h.PreviousOwner)
		switch {
		case err == nil:
			rep = r
		case ErrorCode(err) != ENOTFOUND:
			return Routing{}, false, err
		}
	}
	team := policy.TeamOf(h.PreviousOwner)
	loc := policy.Location
	if team != nil {
		loc = policy.CalendarFor(team.Name).Location()
	}
	ok, why := RecycleRoute(policy.Recycle, h.PreviousOwner, h.ReturnedAt, rep, team != nil, now, loc)
	h.RoutedBack, h.WhyNot = ok, why
	if !ok {
		return Routing{}, false, nil
	}
	return Routing{OwnerEmail: rep.Email, Team: team.Name, Reason: RoutedPreviousOwner, Cursor: -1}, true, nil
}
