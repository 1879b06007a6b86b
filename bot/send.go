package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// Message kinds recorded in lead_messages.
const (
	msgCard = "card"
)

// sendHandOff posts the hand-off card to the lead's owner, exactly once per
// assignment even if an earlier attempt died after the platform accepted it.
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
	if errors.Is(err, engine.ErrUnreachable) {
		return b.alertUnreachable(ctx, l, err, job.Attempts)
	}
	if err != nil {
		return err
	}
	key := engine.PostKey{Kind: msgCard, LeadID: l.ID, AssignedAt: l.AssignedAt}
	ref, err := b.postOnce(ctx, job, engine.Destination{Person: &owner.ChatIdentity}, key, func() (view.Message, error) {
		data, err := b.cardData(ctx, l, owner.Email, owner.Loc)
		return leadCard(data), err
	})
	if errors.Is(err, engine.ErrUnreachable) {
		// Found, but no chat can be opened with them: on Teams, the app is
		// not installed for them and may not be installed.
		return b.alertUnreachable(ctx, l, err, job.Attempts)
	}
	if err != nil {
		return err
	}
	if err := b.store.SaveLeadMessage(ctx, &ref); err != nil {
		return err
	}
	return b.service.MarkNotified(ctx, l.ID, ref)
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
	// Home views list the lead too: the owner's, a previous owner's (it
	// has left their list) and the team manager's. Each is a job of its
	// own, retried apart from the cards and shared by every change to that
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
	// The lead's history is read once; each card differs only in whose
	// chat it sits in.
	data, err := b.cardData(ctx, l, "", nil)
	if err != nil {
		return err
	}
	for _, c := range cards {
		data.Viewer, data.Loc = c.Recipient, b.zoneOf(ctx, c.Recipient)
		if err := b.redraw(ctx, c, leadCard(data)); err != nil {
			return err
		}
	}
	if err := b.redrawContestMessages(ctx, l); err != nil {
		return err
	}
	return b.quietStaleMessages(ctx, l)
}

// alertUnreachable tells ops that a lead's owner cannot be reached,
// instead of dropping the lead silently. attempts is the hand-off job's: a
// retry first looks for the alert an earlier attempt may have posted.
func (b *Bot) alertUnreachable(ctx context.Context, l *engine.Lead, cause error, attempts int) error {
	why := fmt.Sprintf(" was routed to %s, who cannot be reached in chat (%v). ", l.OwnerEmail, cause)
	fix := "Reassign it in your CRM or fix the team in the policy file."
	text := "Lead " + l.DisplayName() + why + fix
	m := view.Message{Summary: text, Blocks: []view.Block{view.Section{Lines: []view.Text{
		view.T(view.Warning, " Lead ", view.B(l.DisplayName()), why, fix)}}}}
	return b.postToTeamChannel(ctx, l.Team, m, engine.Job{Args: engine.OpsAlertArgs{Team: l.Team, Text: text},
		UniqueKey: fmt.Sprintf("unreachable:%d:%d", l.ID, l.AssignedAt.UnixMicro()), Attempts: attempts})
}

// sendOpsAlert posts a routing alert to the team's escalation channel.
func (b *Bot) sendOpsAlert(ctx context.Context, job engine.Job, args engine.OpsAlertArgs) error {
	if args.Text == "" {
		return nil
	}
	m := view.Message{Summary: args.Text, Blocks: []view.Block{view.Section{Lines: []view.Text{view.T(view.Warning, " "+args.Text)}}}}
	return b.postToTeamChannel(ctx, args.Team, m, job)
}

// msgOpsAlert is the kind of an ops alert's post.
const msgOpsAlert = "ops_alert"

// postToTeamChannel posts to a team's escalation channel, or to its manager
// when the team has none. On a retry of job it first looks for the alert it
// may already have posted.
func (b *Bot) postToTeamChannel(ctx context.Context, teamName string, m view.Message, job engine.Job) error {
	policy := b.service.Policy()
	team := policy.Team(teamName)
	if team == nil && len(policy.Teams) > 0 {
		team = &policy.Teams[0]
	}
	if team == nil {
		b.logger.Warn("an ops alert has no team to go to: the policy file has no teams")
		return nil
	}
	to := engine.Destination{Channel: team.EscalationChannel}
	if to.Channel == "" {
		mgr, err := b.personByEmail(ctx, team.Manager)
		if errors.Is(err, engine.ErrUnreachable) {
			b.logger.Error("an ops alert reached nobody: the team has no escalation channel and its manager cannot be reached in chat", "team", team.Name)
			return nil
		}
		if err != nil {
			return err
		}
		to.Person = &mgr.ChatIdentity
	}
	if job.UniqueKey == "" {
		job.Attempts = 1 // nothing to look for
	}
	_, err := b.postOnce(ctx, job, to, engine.PostKey{Kind: msgOpsAlert, Key: job.UniqueKey},
		func() (view.Message, error) { return m, nil })
	return err
}

// CardView is a lead's card as viewer (an email) sees it now, for a
// platform that answers a click with the redrawn card.
func (b *Bot) CardView(ctx context.Context, l *engine.Lead, viewer string) (view.Message, error) {
	data, err := b.cardData(ctx, l, viewer, b.zoneOf(ctx, viewer))
	if err != nil {
		return view.Message{}, err
	}
	return leadCard(data), nil
}
