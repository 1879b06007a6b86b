package teams

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slabot/slabot/engine"
)

// This file is what slabot does when Teams refuses its writes: a person
// who blocked slabot is not written to again until they write to it or
// add it again (Microsoft: "Stop attempting to post to conversations until
// interaction with bot is explicitly initiated by a user"), and a channel
// slabot is no longer in is reported to ops instead of being retried
// (BotNotInConversationRoster: "wait for an installationUpdate event").
// https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/conversation-messages#status-codes-from-bot-conversational-apis

// blockedReason is why a person is not written to, in words for the
// people an alert goes to.
func blockedReason(err error) string {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Code == CodeBotDisabledByAdmin {
		return "your Teams admin disabled slabot for them; slabot writes to them again once they message it"
	}
	return "they blocked slabot in Teams; slabot writes to them again once they message it or add it again"
}

// checkReachable answers engine.Unreachable for a person marked as
// having blocked slabot, without a call to Teams.
func (c *Chat) checkReachable(ctx context.Context, person engine.ChatIdentity) error {
	if person.UserID == "" {
		return nil
	}
	reason, err := c.store.UnreachableReason(ctx, engine.PlatformTeams, person.UserID)
	if err != nil {
		return err
	}
	if reason != "" {
		return engine.Unreachable("%s", reason)
	}
	return nil
}

// markBlocked records that a person blocked slabot (stored: a restart does
// not write to them again) and returns the engine.Unreachable that tells
// the team's escalation channel about their lead when a hand-off card was
// refused. For any other write (a reminder, a redraw, the home card),
// tell has the team's escalation channel told about their open leads.
func (c *Chat) markBlocked(ctx context.Context, person engine.ChatIdentity, cause error, tell bool) error {
	reason := blockedReason(cause)
	if person.UserID == "" {
		return engine.Unreachable("%s", reason)
	}
	marked, err := c.store.MarkUnreachable(ctx, engine.PlatformTeams, person.UserID, reason, c.now())
	if err != nil {
		return err
	}
	if marked {
		c.logger.Warn("a person blocked slabot in Teams; nothing more is written to them until they write to it or add it again",
			"user_id", person.UserID, "cause", causeCode(cause))
		if tell && c.personBlocked != nil {
			if err := c.personBlocked(ctx, person, reason); err != nil {
				c.logger.Error("could not tell the team that a person blocked slabot", "user_id", person.UserID, "err", err)
			}
		}
	}
	return engine.Unreachable("%s", reason)
}

// causeCode is the connector's code of a refusal, for logs.
func causeCode(err error) string {
	var apiErr *APIError
	if !errors.As(err, &apiErr) {
		return ""
	}
	return strings.TrimSpace(apiErr.Code + " " + apiErr.SubCode)
}

// refusedByPerson handles a refused write to a person's chat (or the
// opening of it), given the write, to make once more after an install
// (tell: as markBlocked's):
//   - ConversationBlockedByUser, BotDisabledByAdmin: blocked, marked;
//   - MessageWritesBlocked and other "not installed" answers: install
//     through Graph; if Graph says it is installed already (409), the
//     person blocked slabot and is marked; else the write is made once
//     more.
//
// Any other error is returned as it is.
func (c *Chat) refusedByPerson(ctx context.Context, person engine.ChatIdentity, err error, again func() (string, error), tell bool) (string, error) {
	switch {
	case errors.Is(err, ErrBlocked):
		return "", c.markBlocked(ctx, person, err, tell)
	case errors.Is(err, ErrNotInstalled):
		already, ierr := c.install(ctx, person)
		if ierr != nil {
			return "", ierr
		}
		if already {
			return "", c.markBlocked(ctx, person, err, tell)
		}
		id, err := again()
		if errors.Is(err, ErrBlocked) || errors.Is(err, ErrWritesBlocked) {
			// Installed just now and still refused: blocked.
			return "", c.markBlocked(ctx, person, err, tell)
		}
		return id, err
	}
	return "", err
}

// personOfChat is the person whose 1:1 chat a message is in (nil for a
// channel, or someone slabot does not know).
func (c *Chat) personOfChat(ctx context.Context, ref engine.MessageRef) (*engine.ChatIdentity, error) {
	if !strings.HasPrefix(ref.Conversation, "a:") || ref.Recipient == "" || strings.HasPrefix(ref.Recipient, "a:") {
		return nil, nil
	}
	id, err := c.store.ChatIdentityByEmail(ctx, engine.PlatformTeams, ref.Recipient)
	if engine.ErrorCode(err) == engine.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return id, nil
}

// channelRosterLost handles Teams saying slabot is not in a channel's
// conversation any more: ops are told, and the job is given up (no retry
// loop: only adding slabot to the team again helps).
func (c *Chat) channelRosterLost(ctx context.Context, channelID string, cause error) error {
	c.logger.Error("Teams says slabot is no longer in the team of a channel it posts to (BotNotInConversationRoster); "+
		"the managers are told and nothing is retried until slabot is added to the team again", "channel", channelID)
	if c.rosterLost != nil {
		if err := c.rosterLost(ctx, channelID); err != nil {
			return err // the job retries the post, and with it the report
		}
	}
	return engine.DropJob(fmt.Errorf("teams: slabot is not in the channel's team: %w", cause))
}

// Reachable lets slabot write to a person again who blocked it: called
// when they write to slabot or add it again.
func (c *Chat) Reachable(ctx context.Context, userID string) error {
	cleared, err := c.store.ClearUnreachable(ctx, engine.PlatformTeams, userID)
	if err != nil {
		return err
	}
	if cleared {
		c.logger.Info("a person who had blocked slabot in Teams wrote to it or added it again; slabot writes to them again", "user_id", userID)
	}
	return nil
}

// reachesOut reports whether an activity is the person turning to slabot
// (a message, a click, an install), which lifts a block.
func reachesOut(act *Activity) bool {
	switch {
	case act.Type == ActivityMessage, act.Type == ActivityInvoke:
		return true
	case act.Type == ActivityInstallationUpdate && act.Action == InstallationAdd:
		return true
	}
	return false
}

// rosterLost forgets the channels of the team slabot was removed from
// without hearing of it, and tells the managers when the policy names one
// of them (channelsGone).
func (a *App) rosterLost(ctx context.Context, channelID string) error {
	base := BaseConversationID(channelID)
	ids := []string{base}
	why := "slabot is no longer in the channel's team (Teams refused its post)"
	if ch, err := a.store.ChatChannelByID(ctx, engine.PlatformTeams, base); err == nil && ch.TeamID != "" {
		known, err := a.store.ChatChannelsOfTeam(ctx, engine.PlatformTeams, ch.TeamID)
		if err != nil {
			return err
		}
		for _, k := range known {
			if k.ID != base {
				ids = append(ids, k.ID)
			}
		}
		if ch.TeamName != "" {
			why = fmt.Sprintf("slabot is no longer in the team %q (Teams refused its post)", ch.TeamName)
		}
	} else if err != nil && engine.ErrorCode(err) != engine.ENOTFOUND {
		return err
	}
	return a.channelsGone(ctx, ids, why)
}

// personBlocked tells the escalation channel of a rep's team, through a
// durable ops alert, that the rep blocked slabot and which of their open
// leads slabot can no longer remind them of.
func (a *App) personBlocked(ctx context.Context, person engine.ChatIdentity, reason string) error {
	if person.Email == "" {
		return nil
	}
	rep, err := a.store.RepByEmail(ctx, person.Email)
	if engine.ErrorCode(err) == engine.ENOTFOUND {
		return nil // not a rep: no leads of theirs wait on them
	}
	if err != nil {
		return err
	}
	open, err := a.store.OpenLeadsOf(ctx, person.Email)
	if err != nil {
		return err
	}
	if len(open) == 0 || rep.Team == "" {
		return nil
	}
	const shown = 10
	var names []string
	for i, f := range open {
		if i == shown {
			names = append(names, fmt.Sprintf("and %d more", len(open)-shown))
			break
		}
		names = append(names, f.Lead.DisplayName())
	}
	text := fmt.Sprintf("%s cannot be reached in chat (%s), so slabot cannot remind them of their %d open %s: %s. "+
		"Reassign what cannot wait in your CRM.", person.Email, reason, len(open), plural(len(open), "lead", "leads"), strings.Join(names, ", "))
	job := engine.Job{Args: engine.OpsAlertArgs{Team: rep.Team, Text: text},
		UniqueKey: fmt.Sprintf("teams-blocked:%s:%d", person.UserID, a.chat.now().Unix())}
	return a.store.InTx(ctx, func(tx engine.Tx) error {
		_, err := tx.Enqueue(ctx, job)
		return err
	})
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
