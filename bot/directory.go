package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/engine"
)

// errNotInSlack means a person has no active Slack account: unknown to the
// workspace or deactivated.
var errNotInSlack = errors.New("no active Slack account")

// slackPerson is a person as Slack knows them.
type slackPerson struct {
	UserID string
	Email  string
	Loc    *time.Location
}

// personByEmail finds a rep or manager in Slack. Who they are in Slack
// (user id, time zone) is stored, so later messages skip the lookup; an
// inactive rep is looked up again, in case their account came back.
func (b *Bot) personByEmail(ctx context.Context, email string) (slackPerson, error) {
	email = strings.ToLower(email)
	rep, err := b.store.RepByEmail(ctx, email)
	if err != nil && engine.ErrorCode(err) != engine.ENOTFOUND {
		return slackPerson{}, err
	}
	if rep == nil || rep.Status != engine.RepInactive {
		id, err := b.store.ChatIdentityByEmail(ctx, engine.PlatformSlack, email)
		switch {
		case err == nil && id.UserID != "":
			zone := id.TimeZone
			if rep != nil && rep.TimeZone != "" {
				zone = rep.TimeZone
			}
			return slackPerson{UserID: id.UserID, Email: email, Loc: b.zone(zone)}, nil
		case err != nil && engine.ErrorCode(err) != engine.ENOTFOUND:
			return slackPerson{}, err
		}
	}
	u, err := b.api.GetUserByEmailContext(ctx, email)
	if err != nil {
		if strings.Contains(err.Error(), "users_not_found") {
			return slackPerson{}, fmt.Errorf("%s: %w", email, errNotInSlack)
		}
		return slackPerson{}, b.slackError("users.lookupByEmail", err)
	}
	if u.Deleted {
		return slackPerson{}, fmt.Errorf("%s is deactivated: %w", email, errNotInSlack)
	}
	if err := b.store.SaveChatIdentity(ctx, &engine.ChatIdentity{Platform: engine.PlatformSlack, Email: email,
		UserID: u.ID, TimeZone: u.TZ, Name: u.RealName}); err != nil {
		return slackPerson{}, err
	}
	b.users.Store(u.ID, email)
	return slackPerson{UserID: u.ID, Email: email, Loc: b.zone(u.TZ)}, nil
}

// emailOf finds who a Slack user is, by email, for authorising actions.
func (b *Bot) emailOf(ctx context.Context, userID string) (string, error) {
	id, err := b.store.ChatIdentityByUserID(ctx, engine.PlatformSlack, userID)
	if err == nil {
		return id.Email, nil
	}
	if engine.ErrorCode(err) != engine.ENOTFOUND {
		return "", err
	}
	if v, ok := b.users.Load(userID); ok {
		return v.(string), nil
	}
	u, err := b.api.GetUserInfoContext(ctx, userID)
	if err != nil {
		return "", b.slackError("users.info", err)
	}
	email := strings.ToLower(u.Profile.Email)
	b.users.Store(userID, email)
	if email != "" {
		if err := b.store.SaveChatIdentity(ctx, &engine.ChatIdentity{Platform: engine.PlatformSlack, Email: email,
			UserID: u.ID, TimeZone: u.TZ}); err != nil {
			b.logger.Warn("could not store a person's Slack id", "err", err)
		}
	}
	return email, nil
}

// zone loads a Slack time zone name, falling back to the policy's zone.
func (b *Bot) zone(name string) *time.Location {
	if name != "" {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
	}
	if p := b.service.Policy(); p != nil && p.Location != nil {
		return p.Location
	}
	return time.UTC
}

// openDM returns the id of the DM channel with a user.
func (b *Bot) openDM(ctx context.Context, userID string) (string, error) {
	ch, _, _, err := b.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{userID}, ReturnIM: true})
	if err != nil {
		return "", b.slackError("conversations.open", err)
	}
	return ch.ID, nil
}
