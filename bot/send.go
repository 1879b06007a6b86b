package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/engine"
)

// Message kinds recorded in lead_messages.
const (
	msgCard = "card"
)

// cardMetadataType tags hand-off cards in Slack's message metadata, so a
// resend after a crash finds the card that already went out.
const cardMetadataType = "slabot_lead_card"

func cardMetadata(l *engine.Lead) slack.SlackMetadata {
	return slack.SlackMetadata{EventType: cardMetadataType, EventPayload: map[string]any{
		"lead_id":     strconv.FormatInt(l.ID, 10),
		"assigned_at": strconv.FormatInt(l.AssignedAt.UnixMicro(), 10),
	}}
}

// sendHandOff posts the hand-off card to the lead's owner, exactly once per
// assignment even if an earlier attempt died after Slack accepted it.
func (b *Bot) sendHandOff(ctx context.Context, job engine.Job) error {
	l, err := b.store.LeadByID(ctx, job.LeadID)
	if err != nil {
		return err
	}
	if l.OwnerEmail == "" || !l.State.Open() {
		return nil
	}
	cards, err := b.store.LeadMessages(ctx, l.ID, msgCard)
	if err != nil {
		return err
	}
	for _, c := range cards {
		if c.Recipient == l.OwnerEmail && c.AssignedAt.Equal(l.AssignedAt) {
			// This assignment's card went out already; an earlier attempt
			// may have died before marking the lead notified.
			if l.State == engine.StateNew || l.State == engine.StateReassigned {
				return b.service.MarkNotified(ctx, l.ID, c)
			}
			return nil
		}
	}
	owner, err := b.personByEmail(ctx, l.OwnerEmail)
	if errors.Is(err, errNotInSlack) {
		return b.alertUnreachable(ctx, l, err, job.Attempts)
	}
	if err != nil {
		return err
	}
	channel, err := b.openDM(ctx, owner.UserID)
	if err != nil {
		return err
	}
	meta := cardMetadata(l)
	if job.Attempts > 1 {
		ts, err := b.findSent(ctx, channel, meta)
		if err != nil {
			return err
		}
		if ts != "" {
			return b.recordCard(ctx, l, owner.Email, channel, ts)
		}
	}
	data, err := b.cardData(ctx, l, owner.Email, owner.Loc)
	if err != nil {
		return err
	}
	blocks, fallback := slackMessage(leadCard(data))
	if err := b.pacer.wait(ctx, channel); err != nil {
		return err
	}
	_, ts, err := b.api.PostMessageContext(ctx, channel, slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionText(fallback, false), slack.MsgOptionMetadata(meta))
	if err != nil {
		return b.slackError("chat.postMessage", err)
	}
	b.metrics.sent.WithLabelValues("handoff").Inc()
	if hook := afterPostHook; hook != nil {
		hook(l.ID)
	}
	return b.recordCard(ctx, l, owner.Email, channel, ts)
}

// afterPostHook lets a test stop the process between posting a card and
// recording it, the moment a crash would cause a duplicate.
var afterPostHook func(leadID int64)

func (b *Bot) recordCard(ctx context.Context, l *engine.Lead, recipient, channel, ts string) error {
	ref := engine.MessageRef{Platform: engine.PlatformSlack, LeadID: l.ID, Kind: msgCard, Recipient: recipient,
		Conversation: channel, MessageID: ts, AssignedAt: l.AssignedAt}
	if err := b.store.SaveLeadMessage(ctx, &ref); err != nil {
		return err
	}
	return b.service.MarkNotified(ctx, l.ID, ref)
}

// findSent looks through the DM's history for the hand-off card of this
// assignment (by its metadata), returning its ts, or "" when there is none.
func (b *Bot) findSent(ctx context.Context, channel string, meta slack.SlackMetadata) (string, error) {
	return b.findPosted(ctx, channel, func(m slack.Message) bool {
		return m.Metadata.EventType == meta.EventType &&
			fmt.Sprint(m.Metadata.EventPayload["lead_id"]) == meta.EventPayload["lead_id"] &&
			fmt.Sprint(m.Metadata.EventPayload["assigned_at"]) == meta.EventPayload["assigned_at"]
	})
}

// findByKey looks through a conversation's history for a message whose
// metadata carries the same type and key, returning its ts or "".
func (b *Bot) findByKey(ctx context.Context, channel string, meta slack.SlackMetadata) (string, error) {
	return b.findPosted(ctx, channel, func(m slack.Message) bool {
		return m.Metadata.EventType == meta.EventType &&
			fmt.Sprint(m.Metadata.EventPayload["key"]) == fmt.Sprint(meta.EventPayload["key"])
	})
}

// historyPages bounds how far back a resend looks for an earlier post:
// five pages of 100 messages, far more than a retry's few minutes produce.
const historyPages = 5

// findPosted is the one check before a resend: it pages through a
// conversation's recent history for a message that match accepts. Only an
// app that may not read the conversation (a missing scope: installed from
// an older manifest, or a channel it may post to but not read) posts
// without the check, since a rare duplicate beats a message never sent;
// any other failure (a 5xx, a timeout) is retried, as posting then could
// double a message that went out before a crash.
func (b *Bot) findPosted(ctx context.Context, channel string, match func(slack.Message) bool) (string, error) {
	cursor := ""
	for range historyPages {
		hist, err := b.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: channel, Limit: 100, Cursor: cursor, IncludeAllMetadata: true})
		if err != nil {
			if cannotRead(err) {
				b.logger.Warn("cannot read a conversation to check for an earlier post; posting", "channel", channel, "err", err)
				return "", nil
			}
			return "", b.slackError("conversations.history", err)
		}
		for _, m := range hist.Messages {
			if match(m) {
				return m.Timestamp, nil
			}
		}
		if !hist.HasMore || hist.ResponseMetaData.NextCursor == "" {
			break
		}
		cursor = hist.ResponseMetaData.NextCursor
	}
	return "", nil
}

// cannotRead reports whether Slack refused a history read for good: the
// app lacks the scope, or may not read that conversation at all.
func cannotRead(err error) bool {
	for _, code := range []string{"missing_scope", "not_allowed_token_type", "not_in_channel", "channel_not_found"} {
		if strings.Contains(err.Error(), code) {
			return true
		}
	}
	return false
}

// cardData gathers what a card shows for one viewer.
func (b *Bot) cardData(ctx context.Context, l *engine.Lead, viewer string, loc *time.Location) (cardData, error) {
	touches, err := b.store.Touches(ctx, l.ID)
	if err != nil {
		return cardData{}, err
	}
	events, err := b.store.Events(ctx, l.ID)
	if err != nil {
		return cardData{}, err
	}
	policy := b.service.Policy()
	return cardData{Lead: l, Touches: touches, Events: events, Rule: policy.Rule(l.Rule), Policy: policy,
		Viewer: viewer, Loc: loc, Now: b.service.Now()}, nil
}

// updateCards redraws every card of a lead in place. Redraws of one lead
// take turns, and each reads the lead once it has its turn, so a slower
// redraw of an older state never lands after a newer one.
func (b *Bot) updateCards(ctx context.Context, job engine.Job) error {
	return b.store.WithLock(ctx, fmt.Sprintf("cards:%d", job.LeadID), func(ctx context.Context) error {
		return b.redrawCards(ctx, job)
	})
}

func (b *Bot) redrawCards(ctx context.Context, job engine.Job) error {
	l, err := b.store.LeadByID(ctx, job.LeadID)
	if err != nil {
		return err
	}
	cards, err := b.store.LeadMessages(ctx, l.ID, msgCard)
	if err != nil {
		return err
	}
	// Home tabs list the lead too: the owner's, a previous owner's (it has
	// left their list) and the team manager's. Each is a job of its own,
	// retried apart from the cards and shared by every change to that
	// person's leads within a second.
	homes := []string{l.OwnerEmail}
	for _, c := range cards {
		homes = append(homes, c.Recipient)
	}
	if t := b.service.Policy().Team(l.Team); t != nil {
		homes = append(homes, t.Manager)
	}
	slices.Sort(homes)
	homes = slices.DeleteFunc(slices.Compact(homes), func(email string) bool { return email == "" })
	if err := b.queueHomeRefreshes(ctx, homes); err != nil {
		return err
	}
	for _, c := range cards {
		loc := b.zone("")
		if rep, err := b.store.RepByEmail(ctx, c.Recipient); err == nil {
			loc = b.zone(rep.TimeZone)
		}
		data, err := b.cardData(ctx, l, c.Recipient, loc)
		if err != nil {
			return err
		}
		blocks, fallback := slackMessage(leadCard(data))
		if _, _, _, err := b.api.UpdateMessageContext(ctx, c.Conversation, c.MessageID, slack.MsgOptionBlocks(blocks...),
			slack.MsgOptionText(fallback, false)); err != nil {
			if goneForGood(err) {
				continue // deleted, or its DM closed to the app: nothing to redraw
			}
			return b.slackError("chat.update", err)
		}
		b.metrics.sent.WithLabelValues("card_update").Inc()
	}
	return b.quietStaleMessages(ctx, l)
}

// alertUnreachable tells ops that a lead's owner cannot be reached in Slack,
// instead of dropping the lead silently. attempts is the hand-off job's: a
// retry first looks for the alert an earlier attempt may have posted.
func (b *Bot) alertUnreachable(ctx context.Context, l *engine.Lead, cause error, attempts int) error {
	text := fmt.Sprintf(":warning: Lead *%s* was routed to %s, who has no active Slack account (%v). "+
		"Reassign it in your CRM or fix the team in the policy file.", esc(l.DisplayName()), esc(l.OwnerEmail), errors.Unwrap(cause))
	return b.postToTeamChannel(ctx, l.Team, text, "ops_alert", engine.Job{Args: engine.OpsAlertArgs{Team: l.Team, Text: text},
		UniqueKey: fmt.Sprintf("unreachable:%d:%d", l.ID, l.AssignedAt.UnixMicro()), Attempts: attempts})
}

// sendOpsAlert posts a routing alert to the team's escalation channel.
func (b *Bot) sendOpsAlert(ctx context.Context, job engine.Job, args engine.OpsAlertArgs) error {
	text, team := args.Text, args.Team
	if text == "" {
		return nil
	}
	return b.postToTeamChannel(ctx, team, ":warning: "+esc(text), "ops_alert", job)
}

// alertMetadataType tags ops alerts, so a retried alert finds the one that
// went out before a crash.
const alertMetadataType = "slabot_alert"

// postToTeamChannel posts to a team's escalation channel, or to its manager
// when the team has none. On a retry of job it first looks for the alert it
// may already have posted.
func (b *Bot) postToTeamChannel(ctx context.Context, teamName, text, kind string, job engine.Job) error {
	policy := b.service.Policy()
	team := policy.Team(teamName)
	if team == nil && len(policy.Teams) > 0 {
		team = &policy.Teams[0]
	}
	if team == nil {
		b.logger.Warn("an ops alert has no team to go to: the policy file has no teams")
		return nil
	}
	channel := team.EscalationChannel
	if channel == "" {
		mgr, err := b.personByEmail(ctx, team.Manager)
		if err != nil {
			if errors.Is(err, errNotInSlack) {
				b.logger.Error("an ops alert reached nobody: the team has no escalation channel and its manager is not in Slack", "team", team.Name)
				return nil
			}
			return err
		}
		if channel, err = b.openDM(ctx, mgr.UserID); err != nil {
			return err
		}
	}
	meta := slack.SlackMetadata{EventType: alertMetadataType, EventPayload: map[string]any{"key": job.UniqueKey}}
	if job.Attempts > 1 && job.UniqueKey != "" {
		id, err := b.channelID(ctx, channel)
		if err != nil {
			return err
		}
		if id != "" {
			if ts, err := b.findByKey(ctx, id, meta); err != nil || ts != "" {
				return err
			}
		}
	}
	if err := b.pacer.wait(ctx, channel); err != nil {
		return err
	}
	if _, _, err := b.api.PostMessageContext(ctx, channel, slack.MsgOptionText(text, false), slack.MsgOptionMetadata(meta)); err != nil {
		return b.slackError("chat.postMessage", err)
	}
	b.metrics.sent.WithLabelValues(kind).Inc()
	return nil
}
