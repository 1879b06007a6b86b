package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// timerMetrics measures the reminders the bot sends; what the timers
// decided is the engine's to report (api.TimerMetrics).
type timerMetrics struct {
	lateness prometheus.Histogram
}

func newTimerMetrics(reg prometheus.Registerer) *timerMetrics {
	m := &timerMetrics{
		lateness: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "slabot", Subsystem: "timers",
			Name: "reminder_lateness_seconds", Help: "How long after its planned time a reminder reached the chat platform.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2, 5, 10, 30, 60, 300}}),
	}
	if reg != nil {
		reg.MustRegister(m.lateness)
	}
	return m
}

// sendReminder DMs the owner a reminder the engine decided to send, with
// the card's buttons so the rep can act on it where they read it.
func (b *Bot) sendReminder(ctx context.Context, job engine.Job, args engine.ReminderNoticeArgs) error {
	l, err := b.store.LeadByID(ctx, job.LeadID)
	if engine.ErrorCode(err) == engine.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	// The rep may have acted between the decision and now.
	assigned := args.AssignedAt
	if !l.State.Open() || !l.FirstTouchAt.IsZero() || !l.AcknowledgedAt.IsZero() || l.OwnerEmail == "" ||
		(!assigned.IsZero() && !engine.SameInstant(assigned, l.AssignedAt)) {
		return nil
	}
	owner, err := b.personByEmail(ctx, l.OwnerEmail)
	if errors.Is(err, engine.ErrUnreachable) {
		return nil // the hand-off already told the team the owner is unreachable
	}
	if err != nil {
		return err
	}
	key := engine.PostKey{Kind: msgReminder, LeadID: l.ID, AssignedAt: l.AssignedAt, Key: job.UniqueKey}
	ref, err := b.postOnce(ctx, job, engine.Destination{Person: &owner.ChatIdentity}, key, func() (view.Message, error) {
		d := cardData{Lead: l, Viewer: owner.Email, Loc: owner.Loc, Now: b.service.Now()}
		if args.Accept {
			return acceptReminderMessage(d, args.Due), nil
		}
		return reminderMessage(d), nil
	})
	if errors.Is(err, engine.ErrUnreachable) {
		// Found, but slabot cannot start a chat with them (Teams would not
		// install it): the breach escalates the lead in time anyway.
		b.logger.Warn("a reminder could not reach the lead's owner", "lead_id", l.ID, "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	// Recorded, so its buttons can be taken away once the lead moves on.
	if err := b.store.SaveLeadMessage(ctx, &ref); err != nil {
		return err
	}
	if planned := args.RemindAt; !planned.IsZero() {
		b.timers.lateness.Observe(max(0, b.service.Now().Sub(planned).Seconds()))
	}
	return nil
}

// reminderMessage says what is due and by when, who to contact, and
// offers the card's buttons.
func reminderMessage(d cardData) view.Message {
	l := d.Lead
	lines := []view.Text{view.T(view.Reminder, " ", view.B("First touch due "+relative(l.FirstTouchDue, d.Now)),
		" ("+clock(l.FirstTouchDue, d.Now, d.Loc)+") for ", view.B(l.DisplayName()), ".")}
	var reach []string
	if c := l.Contact; c.Name != "" {
		who := c.Name
		if c.Title != "" {
			who += ", " + c.Title
		}
		reach = append(reach, who)
	}
	for _, s := range []string{l.Contact.Phone, l.Contact.Email} {
		if s != "" {
			reach = append(reach, s)
		}
	}
	if len(reach) > 0 {
		lines = append(lines, view.T(strings.Join(reach, " · ")))
	}
	lines = append(lines, view.T("Reach out now, then log the touch here or on the lead's card."))
	blocks := []view.Block{view.Section{Lines: lines}}
	if actions, ok := cardActions(d); ok {
		blocks = append(blocks, actions)
	}
	return view.Message{Summary: fmt.Sprintf("Reminder: first touch due %s for %s", relative(l.FirstTouchDue, d.Now), l.DisplayName()),
		Blocks: blocks}
}

// acceptReminderMessage reminds the rep to accept the lead (or touch it)
// before its accept_within deadline due.
func acceptReminderMessage(d cardData, due time.Time) view.Message {
	l := d.Lead
	lines := []view.Text{
		view.T(view.Reminder, " ", view.B("Accept "+l.DisplayName()+" by "+clock(due, d.Now, d.Loc)), " ("+relative(due, d.Now)+")."),
		view.T("Accept it if it is yours to work; if it is not, return it so it reaches the right person quickly."),
	}
	blocks := []view.Block{view.Section{Lines: lines}}
	if actions, ok := cardActions(d); ok {
		blocks = append(blocks, actions)
	}
	return view.Message{Summary: fmt.Sprintf("Reminder: accept %s by %s", l.DisplayName(), clock(due, d.Now, d.Loc)), Blocks: blocks}
}

// msgReminder is the kind of a recorded reminder message.
const msgReminder = "reminder"

// movedOn reports whether the lead is no longer where message m left it:
// closed, or given to someone else since.
func movedOn(l *engine.Lead, m engine.MessageRef) bool {
	return !l.State.Open() || (!m.AssignedAt.IsZero() && !engine.SameInstant(m.AssignedAt, l.AssignedAt))
}

// quietReminder is a reminder whose lead moved on: what it was about and
// where the lead went, with no buttons.
func quietReminder(l *engine.Lead) view.Message {
	where := fmt.Sprintf("It now belongs to %s.", l.OwnerEmail)
	if !l.State.Open() {
		where = fmt.Sprintf("The lead is now %s.", l.State.Label())
	} else if l.OwnerEmail == "" {
		where = "It is waiting for a new owner."
	}
	return view.Message{Summary: "Moved on: " + l.DisplayName(), Blocks: []view.Block{view.Section{Lines: []view.Text{
		view.T(view.Next, " ", view.B("Moved on: "+l.DisplayName()+"."), " "+where+" Nothing more to do here.")}}}}
}

// quietStaleMessages takes the buttons away from the reminders and
// escalations of a lead that moved on since they were posted, saying where
// it went, so nobody acts on an old message. Each is redrawn once.
func (b *Bot) quietStaleMessages(ctx context.Context, l *engine.Lead) error {
	now := b.service.Now()
	for _, kind := range []string{msgReminder, msgEscalation} {
		msgs, err := b.store.LeadMessages(ctx, l.ID, kind)
		if err != nil {
			return err
		}
		for _, ref := range msgs {
			if !ref.QuietAt.IsZero() || !movedOn(l, ref) {
				continue
			}
			var m view.Message
			if kind == msgReminder {
				m = quietReminder(l)
			} else {
				d, err := b.escalationData(ctx, l, ref.EventID)
				if err != nil {
					return err
				}
				if d == nil {
					// An escalation of an older release, without its event:
					// it cannot be redrawn, so it is left as it is, once.
					if err := b.store.QuietLeadMessage(ctx, ref.ID, now); err != nil {
						return err
					}
					continue
				}
				d.MovedOn = true
				m = escalationMessage(*d)
			}
			if err := b.redraw(ctx, ref, m); err != nil {
				return err
			}
			if err := b.store.QuietLeadMessage(ctx, ref.ID, now); err != nil {
				return err
			}
		}
	}
	return nil
}
