package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"

	"github.com/slabot/slabot/engine"
)

// reminderMetadataType tags reminders in Slack's message metadata, so a
// resend after a crash finds the reminder that already went out.
const reminderMetadataType = "slabot_reminder"

// timerMetrics measures the reminders the bot sends; what the timers
// decided is the engine's to report (api.TimerMetrics).
type timerMetrics struct {
	lateness prometheus.Histogram
}

func newTimerMetrics(reg prometheus.Registerer) *timerMetrics {
	m := &timerMetrics{
		lateness: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "slabot", Subsystem: "timers",
			Name: "reminder_lateness_seconds", Help: "How long after its planned time a reminder reached Slack.",
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
	if errors.Is(err, errNotInSlack) {
		return nil // the hand-off already told the team the owner is unreachable
	}
	if err != nil {
		return err
	}
	channel, err := b.openDM(ctx, owner.UserID)
	if err != nil {
		return err
	}
	meta := slack.SlackMetadata{EventType: reminderMetadataType, EventPayload: map[string]any{
		"lead_id": strconv.FormatInt(l.ID, 10), "key": job.UniqueKey}}
	// Recorded, so its buttons can be taken away once the lead moves on.
	record := func(channel, ts string) error {
		return b.store.SaveLeadMessage(ctx, &engine.MessageRef{Platform: engine.PlatformSlack, LeadID: l.ID, Kind: msgReminder, Recipient: owner.Email,
			Conversation: channel, MessageID: ts, AssignedAt: l.AssignedAt})
	}
	if job.Attempts > 1 {
		ts, err := b.findByKey(ctx, channel, meta)
		if err != nil {
			return err
		}
		if ts != "" {
			return record(channel, ts)
		}
	}
	now := b.service.Now()
	blocks, fallback := reminderMessage(cardData{Lead: l, Viewer: owner.Email, Loc: owner.Loc, Now: now})
	if err := b.pacer.wait(ctx, channel); err != nil {
		return err
	}
	postedTo, ts, err := b.api.PostMessageContext(ctx, channel, slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionText(fallback, false), slack.MsgOptionMetadata(meta))
	if err != nil {
		return b.slackError("chat.postMessage", err)
	}
	b.metrics.sent.WithLabelValues("reminder").Inc()
	if err := record(postedTo, ts); err != nil {
		return err
	}
	if planned := args.RemindAt; !planned.IsZero() {
		b.timers.lateness.Observe(max(0, b.service.Now().Sub(planned).Seconds()))
	}
	return nil
}

// reminderMessage says what is due and by when, who to contact, and
// offers the card's buttons.
func reminderMessage(d cardData) ([]slack.Block, string) {
	l := d.Lead
	head := fmt.Sprintf(":alarm_clock: *First touch due %s* (%s) for *%s*.", relative(l.FirstTouchDue, d.Now),
		clock(l.FirstTouchDue, d.Now, d.Loc), esc(l.DisplayName()))
	var reach []string
	if c := l.Contact; c.Name != "" {
		who := c.Name
		if c.Title != "" {
			who += ", " + c.Title
		}
		reach = append(reach, esc(who))
	}
	for _, s := range []string{l.Contact.Phone, l.Contact.Email} {
		if s != "" {
			reach = append(reach, esc(s))
		}
	}
	body := head
	if len(reach) > 0 {
		body += "\n" + strings.Join(reach, " · ")
	}
	body += "\nReach out now, then log the touch here or on the lead's card."
	blocks := []slack.Block{slack.NewSectionBlock(mrkdwn(clipBytes(body, maxSectionText)), nil, nil)}
	if actions, ok := cardActions(d); ok {
		blocks = append(blocks, slackActions(actions))
	}
	fallback := clipBytes(fmt.Sprintf("Reminder: first touch due %s for %s", relative(l.FirstTouchDue, d.Now), l.DisplayName()), maxFallback)
	return blocks, fallback
}

// msgReminder is the kind of a recorded reminder message.
const msgReminder = "reminder"

// movedOn reports whether the lead is no longer where message m left it:
// closed, or given to someone else since.
func movedOn(l *engine.Lead, m engine.MessageRef) bool {
	return !l.State.Open() || (!m.AssignedAt.IsZero() && !engine.SameInstant(m.AssignedAt, l.AssignedAt))
}

// goneForGood reports whether Slack refused an update for good: the
// message or its channel is gone, or the app may no longer edit it. There
// is nothing left to quiet, and retrying would hold up the redraws behind it.
func goneForGood(err error) bool {
	for _, code := range []string{"message_not_found", "cant_update_message", "channel_not_found", "is_archived", "not_in_channel"} {
		if strings.Contains(err.Error(), code) {
			return true
		}
	}
	return false
}

// quietReminder is a reminder whose lead moved on: what it was about and
// where the lead went, with no buttons.
func quietReminder(l *engine.Lead) ([]slack.Block, string) {
	where := fmt.Sprintf("It now belongs to %s.", esc(l.OwnerEmail))
	if !l.State.Open() {
		where = fmt.Sprintf("The lead is now %s.", l.State.Label())
	} else if l.OwnerEmail == "" {
		where = "It is waiting for a new owner."
	}
	text := fmt.Sprintf(":arrow_right: *Moved on: %s.* %s Nothing more to do here.", esc(l.DisplayName()), where)
	return []slack.Block{slack.NewSectionBlock(mrkdwn(clipBytes(text, maxSectionText)), nil, nil)},
		clipBytes("Moved on: "+l.DisplayName(), maxFallback)
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
		for _, m := range msgs {
			if !m.QuietAt.IsZero() || !movedOn(l, m) {
				continue
			}
			var blocks []slack.Block
			var fallback string
			if kind == msgReminder {
				blocks, fallback = quietReminder(l)
			} else {
				d, err := b.escalationData(ctx, l, m.EventID)
				if err != nil {
					return err
				}
				if d == nil {
					// An escalation of an older release, without its event:
					// it cannot be redrawn, so it is left as it is, once.
					if err := b.store.QuietLeadMessage(ctx, m.ID, now); err != nil {
						return err
					}
					continue
				}
				d.MovedOn = true
				blocks, fallback = escalationMessage(*d)
			}
			if _, _, _, err := b.api.UpdateMessageContext(ctx, m.Conversation, m.MessageID, slack.MsgOptionBlocks(blocks...),
				slack.MsgOptionText(fallback, false)); err != nil && !goneForGood(err) {
				return b.slackError("chat.update", err)
			}
			b.metrics.sent.WithLabelValues(kind + "_quiet").Inc()
			if err := b.store.QuietLeadMessage(ctx, m.ID, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// SyncDirectory checks every rep against Slack's directory: a rep whose
// Slack account was deactivated leaves the rotation, and their open leads
// are escalated to their team. Bot.Run calls it every DirectoryInterval;
// several replicas may run it at once, and each rep is handled once.
func (b *Bot) SyncDirectory(ctx context.Context) error {
	users, err := b.api.GetUsersContext(ctx)
	if err != nil {
		return b.slackError("users.list", err)
	}
	byID := make(map[string]slack.User, len(users))
	byEmail := make(map[string]slack.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
		if e := strings.ToLower(u.Profile.Email); e != "" {
			byEmail[e] = u
		}
	}
	reps, err := b.store.Reps(ctx)
	if err != nil {
		return err
	}
	for _, r := range reps {
		if r.Team == "" {
			continue
		}
		// By the stored id first: an email changed in Slack still finds them.
		var u slack.User
		ok := false
		if id, err := b.store.ChatIdentityByEmail(ctx, engine.PlatformSlack, r.Email); err == nil && id.UserID != "" {
			u, ok = byID[id.UserID]
		} else if err != nil && engine.ErrorCode(err) != engine.ENOTFOUND {
			return err
		}
		if !ok {
			u, ok = byEmail[r.Email]
		}
		if r.Status == engine.RepInactive {
			// Slack reactivated the account: the rep rejoins the rotation.
			if ok && !u.Deleted {
				back, err := b.store.ReactivateRep(ctx, r.Email)
				if err != nil {
					return err
				}
				if back {
					b.logger.Info("a rep's Slack account is active again: back in the rotation", "rep_id", r.ID)
				}
			}
			continue
		}
		// A rep missing from the directory may be a typo in the policy
		// file; the hand-off alert reports those. Only a deactivation is
		// proof the rep has left.
		if !ok || !u.Deleted {
			continue
		}
		n, err := b.service.RepGone(ctx, r.Email, "their Slack account was deactivated")
		if err != nil {
			return err
		}
		b.logger.Info("a rep's Slack account was deactivated: out of the rotation", "rep_id", r.ID, "open_leads_escalated", n)
	}
	return nil
}

// syncDirectoryLoop runs SyncDirectory every interval until ctx ends.
func (b *Bot) syncDirectoryLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := b.SyncDirectory(ctx); err != nil && ctx.Err() == nil {
				b.logger.Warn("checking the Slack directory failed; trying again later", "err", err)
			}
		}
	}
}
