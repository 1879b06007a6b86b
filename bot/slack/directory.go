package slack

import (
	"context"
	"strings"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot"
	"github.com/slabot/slabot/engine"
)

// SyncDirectory checks every rep against Slack's directory (bot.Bot's
// SyncDirectory decides): a rep whose Slack account was deactivated
// leaves the rotation, and their open leads are escalated to their team;
// one whose account is active again rejoins it. Run calls it every
// DirectoryInterval.
func (a *App) SyncDirectory(ctx context.Context) error {
	users, err := a.api.GetUsersContext(ctx)
	if err != nil {
		return a.chat.Error("users.list", err)
	}
	byID := make(map[string]slack.User, len(users))
	byEmail := make(map[string]slack.User, len(users))
	for _, u := range users {
		byID[u.ID] = u
		if e := strings.ToLower(u.Profile.Email); e != "" {
			byEmail[e] = u
		}
	}
	return a.Bot.SyncDirectory(ctx, bot.Directory{Name: "Slack", LeftBecause: "their Slack account was deactivated",
		Account: func(ctx context.Context, r engine.Rep) (bot.Account, error) {
			// By the stored id first: an email changed in Slack still finds them.
			var u slack.User
			ok := false
			if id, err := a.store.ChatIdentityByEmail(ctx, engine.PlatformSlack, r.Email); err == nil && id.UserID != "" {
				u, ok = byID[id.UserID]
			} else if err != nil && engine.ErrorCode(err) != engine.ENOTFOUND {
				return bot.AccountUnknown, err
			}
			if !ok {
				u, ok = byEmail[r.Email]
			}
			switch {
			case !ok:
				return bot.AccountUnknown, nil
			case u.Deleted:
				return bot.AccountDisabled, nil
			}
			return bot.AccountActive, nil
		}})
}
