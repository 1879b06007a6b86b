package slack

import (
	"context"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/engine"
)

// SyncDirectory checks every rep against Slack's directory: a rep whose
// Slack account was deactivated leaves the rotation, and their open leads
// are escalated to their team. Bot.Run calls it every DirectoryInterval;
// several replicas may run it at once, and each rep is handled once.
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
	reps, err := a.store.Reps(ctx)
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
		if id, err := a.store.ChatIdentityByEmail(ctx, engine.PlatformSlack, r.Email); err == nil && id.UserID != "" {
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
				back, err := a.store.ReactivateRep(ctx, r.Email)
				if err != nil {
					return err
				}
				if back {
					a.logger.Info("a rep's Slack account is active again: back in the rotation", "rep_id", r.ID)
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
		n, err := a.service.RepGone(ctx, r.Email, "their Slack account was deactivated")
		if err != nil {
			return err
		}
		a.logger.Info("a rep's Slack account was deactivated: out of the rotation", "rep_id", r.ID, "open_leads_escalated", n)
	}
	return nil
}

// syncDirectoryLoop runs SyncDirectory every interval until ctx ends.
func (a *App) syncDirectoryLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := a.SyncDirectory(ctx); err != nil && ctx.Err() == nil {
				a.logger.Warn("checking the Slack directory failed; trying again later", "err", err)
			}
		}
	}
}
