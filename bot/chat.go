package bot

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// Chat is the one thing a chat platform does for slabot's notifications:
// find a person, post a view to a person or a channel, find a post an
// earlier attempt made, and redraw a post in place. bot/slack implements
// it; a platform answers engine.RetryAfter when it asks slabot to slow
// down, engine.ErrUnreachable for a person it cannot reach and
// engine.ErrMessageGone for a message that is gone for good.
type Chat interface {
	Platform() string
	// Terms are the platform's own words for the few sentences of the
	// core that speak of it.
	Terms() Terms
	// FindPerson finds who has an email on the platform; FindPersonByID
	// who a platform user id is (their email may be empty).
	FindPerson(ctx context.Context, email string) (engine.ChatIdentity, error)
	FindPersonByID(ctx context.Context, userID string) (engine.ChatIdentity, error)
	Post(ctx context.Context, to engine.Destination, m view.Message, key engine.PostKey) (engine.MessageRef, error)
	// FindPosted reports the earlier post with key at to, if any; a
	// platform that cannot look answers false.
	FindPosted(ctx context.Context, to engine.Destination, key engine.PostKey) (engine.MessageRef, bool, error)
	Update(ctx context.Context, ref engine.MessageRef, m view.Message) error
	// PublishHome shows a person their home view (Slack's App Home tab, a
	// card kept up to date in their Teams chat).
	PublishHome(ctx context.Context, person engine.ChatIdentity, m view.Message) error
	// ImagesInline reports whether a message carries its pictures; if
	// not, each picture is posted after it as a message of its own.
	ImagesInline() bool
}

// Terms are what the core says of a platform, in the adapter's words, so
// that no platform is named or described in the core.
type Terms struct {
	// Name is the platform's name as its people know it: "Slack".
	Name string
	// PickPerson tells someone how to name a person in a command so that
	// the platform says who they are, as the end of a sentence: "pick the
	// person from the list Slack shows as you type @, so the name becomes
	// a link".
	PickPerson string
	// Channel is a channel as the policy file names one on the platform:
	// "#smarketing".
	Channel string
}

// contact is a person slabot can message: who they are on the platform,
// and the time zone to tell them times in.
type contact struct {
	engine.ChatIdentity
	Loc *time.Location
}

// personByEmail finds a rep or manager on the platform. Who they are there
// is stored, so later messages skip the lookup; an inactive rep is looked
// up again, in case their account came back.
func (b *Bot) personByEmail(ctx context.Context, email string) (contact, error) {
	email = strings.ToLower(email)
	rep, err := b.store.RepByEmail(ctx, email)
	if err != nil && engine.ErrorCode(err) != engine.ENOTFOUND {
		return contact{}, err
	}
	platform := b.chat.Platform()
	if rep == nil || rep.Status != engine.RepInactive {
		id, err := b.store.ChatIdentityByEmail(ctx, platform, email)
		switch {
		case err == nil && id.UserID != "":
			zone := id.TimeZone
			if rep != nil && rep.TimeZone != "" {
				zone = rep.TimeZone
			}
			return contact{ChatIdentity: *id, Loc: b.zone(zone)}, nil
		case err != nil && engine.ErrorCode(err) != engine.ENOTFOUND:
			return contact{}, err
		}
	}
	id, err := b.chat.FindPerson(ctx, email)
	if err != nil {
		return contact{}, err
	}
	id.Platform, id.Email = platform, email
	if err := b.store.SaveChatIdentity(ctx, &id); err != nil {
		return contact{}, err
	}
	return contact{ChatIdentity: id, Loc: b.zone(id.TimeZone)}, nil
}

// postOnce is the one way a notification goes out: on a retry it first
// looks for the post an earlier attempt may have made before it died, and
// only then renders and posts. The caller records the reference.
func (b *Bot) postOnce(ctx context.Context, job engine.Job, to engine.Destination, key engine.PostKey,
	render func() (view.Message, error)) (engine.MessageRef, error) {
	if job.Attempts > 1 {
		ref, found, err := b.chat.FindPosted(ctx, to, key)
		if err != nil || found {
			return ref, err
		}
	}
	m, err := render()
	if err != nil {
		return engine.MessageRef{}, err
	}
	ref, err := b.chat.Post(ctx, to, m, key)
	if err != nil {
		return engine.MessageRef{}, err
	}
	return ref, nil
}

// redraw updates a posted message in place; a message gone for good is
// nothing to redraw.
func (b *Bot) redraw(ctx context.Context, ref engine.MessageRef, m view.Message) error {
	if err := b.chat.Update(ctx, ref, m); !errors.Is(err, engine.ErrMessageGone) {
		return err
	}
	return nil
}

// EmailOf finds who a platform user is, by email, for authorising what
// they do: from what slabot stored, else from the platform (and stored).
func (b *Bot) EmailOf(ctx context.Context, userID string) (string, error) {
	platform := b.chat.Platform()
	id, err := b.store.ChatIdentityByUserID(ctx, platform, userID)
	if err == nil {
		return id.Email, nil
	}
	if engine.ErrorCode(err) != engine.ENOTFOUND {
		return "", err
	}
	if v, ok := b.users.Load(userID); ok {
		return v.(string), nil
	}
	found, err := b.chat.FindPersonByID(ctx, userID)
	if err != nil {
		return "", err
	}
	email := strings.ToLower(found.Email)
	b.users.Store(userID, email)
	if email != "" {
		// Only who they are: a name is learnt where slabot looks a rep up
		// by their email, as the agreement names them.
		found.Platform, found.Email, found.Name = platform, email, ""
		if err := b.store.SaveChatIdentity(ctx, &found); err != nil {
			b.logger.Warn("could not store who a person is on the chat platform", "err", err)
		}
	}
	return email, nil
}
