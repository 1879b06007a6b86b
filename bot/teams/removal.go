package teams

import (
	"context"
	"fmt"

	"github.com/slabot/slabot/engine"
)

// teamName is a team's name as the activity or the stored channels give it.
func teamName(team *TeamInfo, known []engine.ChatChannel) string {
	if team.Name != "" {
		return team.Name
	}
	for _, c := range known {
		if c.TeamName != "" {
			return c.TeamName
		}
	}
	return ""
}

// teamGone are the events of a conversationUpdate (channelData's
// eventType) after which a team is gone for slabot. Teams sends them to a
// bot in the team; removing the bot from a team sends a
// conversationUpdate with the bot in membersRemoved (eventType
// teamMemberRemoved) and an installationUpdate whose action is "remove"
// (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/conversations/subscribe-to-conversation-events).
var teamGone = map[string]bool{"teamDeleted": true, "teamHardDeleted": true}

// onRemoved forgets the channels of a team slabot was removed from (or
// that was deleted), and tells the managers when the policy names one of
// them. A personal uninstall changes nothing stored: the 1:1 chat stays
// where it was for the day the person adds slabot again, and a write to
// them meanwhile is refused by Teams as it would be for anyone without
// the app.
func (a *App) onRemoved(ctx context.Context, act *Activity) error {
	team := act.team()
	if team == nil {
		a.logger.Info("a person removed slabot from their Teams")
		return nil
	}
	known, err := a.store.ChatChannelsOfTeam(ctx, engine.PlatformTeams, team.ID)
	if err != nil {
		return err
	}
	ids := make([]string, len(known))
	for i, c := range known {
		ids[i] = c.ID
	}
	why := "slabot was removed from the team"
	if teamGone[act.eventType()] {
		why = "the team was deleted"
	}
	if name := teamName(team, known); name != "" {
		why = fmt.Sprintf("%s %q", why, name)
	}
	return a.channelsGone(ctx, ids, why)
}

// onChannelDeleted forgets a channel that was deleted.
func (a *App) onChannelDeleted(ctx context.Context, act *Activity) error {
	if act.ChannelData == nil || act.ChannelData.Channel == nil || act.ChannelData.Channel.ID == "" {
		return nil
	}
	ch := act.ChannelData.Channel
	why := "the channel was deleted"
	if ch.Name != "" {
		why = fmt.Sprintf("the channel %q was deleted", ch.Name)
	}
	return a.channelsGone(ctx, []string{ch.ID}, why)
}
