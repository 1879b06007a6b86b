package engine

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// maxAway is the furthest ahead a return date may be set: anything longer
// is a rep leaving, which belongs in the policy file.
const maxAway = 366 * 24 * time.Hour

// Availability is the outcome of SetAvailability.
type Availability struct {
	Rep *Rep
	// Changed is false when the rep was already in the requested state
	// with the same return date.
	Changed bool
	// OpenLeads counts the leads the rep still holds.
	OpenLeads int
	// TeamTold reports whether the team was alerted about those leads.
	TeamTold bool
}

// SetAvailability marks a rep away (until a time, or until they are back
// when until is zero) or back. Reps set their own; the manager of the rep's
// team may set it for them; systems may too. Away reps receive no new
// leads, but the leads they hold keep their SLA clocks: when a rep goes
// away holding open leads, their team is told so someone covers them.
func (s *Service) SetAvailability(ctx context.Context, a Actor, repEmail string, away bool, until time.Time) (*Availability, error) {
	email := strings.ToLower(strings.TrimSpace(repEmail))
	if email == "" {
		return nil, Errorf(EINVALID, "say whose availability to set")
	}
	if !away {
		until = time.Time{}
	}
	var res *Availability
	err := s.store.InTx(ctx, func(tx Tx) error {
		res = nil
		now := s.now()
		rep, err := tx.LockRep(ctx, email)
		if ErrorCode(err) == ENOTFOUND {
			return Errorf(ENOTFOUND, "%s is not a rep in any team of the agreement, so slabot routes them no leads.", email)
		}
		if err != nil {
			return err
		}
		policy := s.Policy()
		if err := authorizeRep(policy, rep, a); err != nil {
			return err
		}
		if rep.Status == RepInactive {
			return Errorf(EINVALID, "%s is marked inactive (their chat account is deactivated or gone), so slabot routes them no leads. Reactivate the chat account first.", email)
		}
		if away && !until.IsZero() {
			if !until.After(now) {
				return Errorf(EINVALID, "the return date has already passed: give a date in the future.")
			}
			if until.Sub(now) > maxAway {
				return Errorf(EINVALID, "that return date is more than a year away: for a rep who leaves, take them out of their team in the policy file.")
			}
		}
		status := RepActive
		if away {
			status = RepAway
		}
		wasAway := rep.Status == RepAway && !rep.Available(now)
		res = &Availability{Rep: rep}
		if rep.Status == status && rep.AwayUntil.Equal(until) {
			return nil
		}
		if err := tx.SetRepAvailability(ctx, rep.Email, status, until); err != nil {
			return err
		}
		ev := &RepEvent{RepEmail: rep.Email, Kind: RepEventBack, Actor: actorName(a), At: now}
		if away {
			ev.Kind, ev.Until = RepEventAway, until
		}
		if err := tx.AppendRepEvent(ctx, ev); err != nil {
			return err
		}
		rep.Status, rep.AwayUntil = status, until
		res.Changed = true
		s.logger.Info("rep availability changed", "rep_id", rep.ID, "status", status, "until", until)
		if !away || wasAway {
			return nil
		}
		n, err := tx.CountOpenLeads(ctx, rep.Email)
		if err != nil {
			return err
		}
		res.OpenLeads = n
		if n == 0 {
			return nil
		}
		team := rep.Team
		if team == "" {
			if t := policy.TeamOf(rep.Email); t != nil {
				team = t.Name
			}
		}
		_, err = tx.Enqueue(ctx, Job{RunAt: now,
			UniqueKey: fmt.Sprintf("%s:away:%s:%d", JobOpsAlert, rep.Email, now.UnixNano()),
			Args:      OpsAlertArgs{Team: team, Text: awayAlert(rep, n, until, a, policy)}})
		res.TeamTold = err == nil
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// authorizeRep lets a rep, the manager of their team, and systems change
// the rep's availability.
func authorizeRep(p *Policy, rep *Rep, a Actor) error {
	if a.System != "" {
		return nil
	}
	who := strings.ToLower(strings.TrimSpace(a.Email))
	if who != "" && who == rep.Email {
		return nil
	}
	manager := repManager(p, rep)
	if who != "" && manager != "" && who == manager {
		return nil
	}
	if manager == "" {
		return Errorf(EFORBIDDEN, "Only %s can set their own availability.", rep.Email)
	}
	return Errorf(EFORBIDDEN, "Only %s or their manager (%s) can set %s's availability.", rep.Email, manager, rep.Email)
}

// repManager is the manager of the rep's team, or "".
func repManager(p *Policy, rep *Rep) string {
	if p == nil {
		return ""
	}
	t := p.Team(rep.Team)
	if t == nil || rep.Team == "" {
		t = p.TeamOf(rep.Email)
	}
	if t == nil {
		return ""
	}
	return t.Manager
}

// awayAlert tells the team that a rep's open leads keep their clocks.
func awayAlert(rep *Rep, open int, until time.Time, a Actor, p *Policy) string {
	name := rep.Email
	if rep.Name != "" {
		name = rep.Name + " (" + rep.Email + ")"
	}
	when := "until further notice"
	if !until.IsZero() {
		// The date is the rep's: "until monday" is their Monday, as the
		// answer to the command says it.
		loc := time.UTC
		if p != nil && p.Location != nil {
			loc = p.Location
		}
		if z, err := time.LoadLocation(rep.TimeZone); rep.TimeZone != "" && err == nil {
			loc = z
		}
		when = "until " + until.In(loc).Format("Mon Jan 2")
	}
	leads := fmt.Sprintf("%d open leads", open)
	if open == 1 {
		leads = "1 open lead"
	}
	by := ""
	if a.Email != "" && !strings.EqualFold(a.Email, rep.Email) {
		by = " (set by " + strings.ToLower(a.Email) + ")"
	}
	return fmt.Sprintf("%s is away %s%s and holds %s. Their SLA clocks keep running: "+
		"reassign them in the CRM or have a teammate cover. New leads go to the rest of the team.", name, when, by, leads)
}

// actorName is how the reps' history names who made a change: a system's
// name, or a person's email in lower case.
func actorName(a Actor) string {
	if a.System != "" {
		return a.System
	}
	return strings.ToLower(strings.TrimSpace(a.Email))
}

// RepEventKind is what changed in a rep's availability.
type RepEventKind string

// Kinds of change in a rep's availability.
const (
	// RepEventAway: the rep went away, or changed the return date of an
	// absence.
	RepEventAway RepEventKind = "away"
	// RepEventBack: the rep came back before their return date (or had
	// none).
	RepEventBack RepEventKind = "back"
	// RepEventDeactivated: the rep left the rotation, their account on
	// the chat platform deactivated.
	RepEventDeactivated RepEventKind = "deactivated"
	// RepEventReactivated: the rep's account on the chat platform came
	// back, and so did they.
	RepEventReactivated RepEventKind = "reactivated"
)

// RepEvent is one entry of the reps' append-only availability history.
type RepEvent struct {
	ID       int64
	RepEmail string
	Kind     RepEventKind
	// Actor made the change: a person's email, or a system's name
	// ("directory" for the sync with the chat platform's directory, on
	// every platform); "" when nobody said.
	Actor string
	At    time.Time
	// Until is an absence's return date: zero for one until further
	// notice, and for the other kinds.
	Until time.Time
	Note  string
}

// Absence is a stretch of time in which a rep could receive no new leads:
// away, or inactive.
type Absence struct {
	Email string
	// Status is RepAway or RepInactive.
	Status RepStatus
	// From is when the absence began. To is when it ended: the rep came
	// back, was reactivated, or reached their return date; zero while it
	// lasts.
	From, To time.Time
	// Until is the return date of an absence that lasts, when the rep gave
	// one.
	Until time.Time
}

// RepAbsences works out, from the reps' history (see Tx.RepEvents), the
// absences that overlap period as of now, by email and then start. An away
// rep is back at their return date (Rep.Available), or earlier when they
// say so; a rep who is deactivated while away is away until then and
// inactive from then on. Events after now are not yet history.
func RepAbsences(history []RepEvent, period Period, now time.Time) []Absence {
	events := slices.Clone(history)
	slices.SortStableFunc(events, func(a, b RepEvent) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.RepEmail), strings.ToLower(b.RepEmail)), a.At.Compare(b.At))
	})
	var out []Absence
	keep := func(ab Absence) {
		if !ab.To.IsZero() && !ab.To.After(ab.From) {
			return // over before it began: a return date in the past
		}
		if ab.From.Before(period.End) && (ab.To.IsZero() || ab.To.After(period.Start)) {
			out = append(out, ab)
		}
	}
	var cur *Absence
	email := ""
	for _, e := range events {
		if e.At.After(now) {
			continue
		}
		if e.RepEmail = strings.ToLower(e.RepEmail); e.RepEmail != email {
			if cur != nil {
				keep(finish(*cur, now))
			}
			cur, email = nil, e.RepEmail
		}
		// An absence whose return date came before this event is over.
		if cur != nil && cur.Status == RepAway && !cur.Until.IsZero() && !e.At.Before(cur.Until) {
			cur.To, cur.Until = cur.Until, time.Time{}
			keep(*cur)
			cur = nil
		}
		switch e.Kind {
		case RepEventAway:
			if cur != nil && cur.Status == RepAway {
				cur.Until = e.Until // a new return date for the same absence
				continue
			}
			if cur != nil {
				cur.To = e.At
				keep(*cur)
			}
			cur = &Absence{Email: e.RepEmail, Status: RepAway, From: e.At, Until: e.Until}
		case RepEventDeactivated:
			if cur != nil && cur.Status == RepInactive {
				continue
			}
			if cur != nil {
				cur.To, cur.Until = e.At, time.Time{}
				keep(*cur)
			}
			cur = &Absence{Email: e.RepEmail, Status: RepInactive, From: e.At}
		case RepEventBack, RepEventReactivated:
			if cur != nil {
				cur.To, cur.Until = e.At, time.Time{}
				keep(*cur)
				cur = nil
			}
		}
	}
	if cur != nil {
		keep(finish(*cur, now))
	}
	return out
}

// finish closes an absence, last in its rep's history, whose return date
// came by now.
func finish(ab Absence, now time.Time) Absence {
	if ab.Status == RepAway && !ab.Until.IsZero() && !now.Before(ab.Until) {
		ab.To, ab.Until = ab.Until, time.Time{}
	}
	return ab
}
