package teams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/slabot/slabot/bot"
	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// Store is what the Teams side keeps in slabot's database: who people are
// and where their 1:1 chat is, the posts recorded around their send (Teams
// has no history a bot may read), and the channels of the teams slabot was
// added to.
type Store interface {
	// Who people are on Teams, with their 1:1 chat.
	bot.IdentityStore
	// WithLock: one home view redrawn at a time per person.
	bot.JobStore
	// The policy's channel names, pinned to one channel each (channels.go).
	ChannelStore
	IntendPost(ctx context.Context, platform, key, conversation string) (*engine.ChatPost, error)
	PostSent(ctx context.Context, platform, key, conversation, messageID string, at time.Time) error
	ChatPostByKey(ctx context.Context, platform, key string) (*engine.ChatPost, error)
	ConversationServiceURL(ctx context.Context, platform, conversation string) (string, error)
	// People who blocked slabot (blocked.go): not written to until they
	// write to it or add it again.
	MarkUnreachable(ctx context.Context, platform, userID, reason string, at time.Time) (bool, error)
	UnreachableReason(ctx context.Context, platform, userID string) (string, error)
	ClearUnreachable(ctx context.Context, platform, userID string) (bool, error)
}

// Chat is slabot's way of talking on Teams: it finds people in the
// directory, opens their 1:1 chat (installing the app for them when Teams
// says it is missing), posts and redraws cards, and posts in the channels
// the policy names.
//
// Exactly once, as far as Teams allows: a post is recorded as intended
// before it is sent and with its activity id once Teams accepted it. A
// retry of a post with an activity id sends nothing; only a crash in the
// moment between Teams' answer and that record sends a post twice.
type Chat struct {
	tr      *Transport
	store   Store
	logger  *slog.Logger
	now     func() time.Time
	metrics *metrics // nil counts nothing
	// rosterLost is told when Teams says slabot is not in a channel's
	// conversation any more (nil: nobody is told but the log).
	rosterLost func(ctx context.Context, channelID string) error
	// personBlocked is told when a person is found to have blocked slabot
	// other than by their hand-off card (nil: nobody is told but the log).
	personBlocked func(ctx context.Context, person engine.ChatIdentity, reason string) error
}

// NewChat returns the Teams side of the chat port.
func NewChat(tr *Transport, store Store, logger *slog.Logger) *Chat {
	return &Chat{tr: tr, store: store, logger: loggerOrDiscard(logger), now: time.Now}
}

// Platform is engine.PlatformTeams.
func (c *Chat) Platform() string { return engine.PlatformTeams }

// FindPerson looks a person up in the Microsoft 365 directory by email: an
// unknown or disabled account is engine.ErrUnreachable.
func (c *Chat) FindPerson(ctx context.Context, email string) (engine.ChatIdentity, error) {
	u, err := c.tr.Graph.UserByEmail(ctx, email)
	if errors.Is(err, ErrUnknownPerson) {
		return engine.ChatIdentity{}, engine.Unreachable("nobody in the Microsoft 365 directory has that email")
	}
	if err != nil {
		return engine.ChatIdentity{}, err
	}
	if !u.AccountEnabled {
		return engine.ChatIdentity{}, engine.Unreachable("no active Microsoft 365 account: it is disabled")
	}
	return engine.ChatIdentity{Platform: engine.PlatformTeams, Email: email, UserID: u.ID, Name: u.DisplayName,
		TenantID: c.tr.Config.TenantID}, nil
}

// Post sends a message (its card, and its pictures beside it) and returns
// where it landed.
func (c *Chat) Post(ctx context.Context, to engine.Destination, m view.Message, key engine.PostKey) (engine.MessageRef, error) {
	// A refused hand-off card tells the team about its lead itself
	// (engine.ErrUnreachable); any other refused post about the person.
	tell := key.Kind != "card"
	conv, err := c.conversation(ctx, to, tell)
	if err != nil {
		return engine.MessageRef{}, err
	}
	k := PostKey(key)
	intent, err := c.store.IntendPost(ctx, engine.PlatformTeams, k, conv.id)
	if err != nil {
		return engine.MessageRef{}, err
	}
	if !intent.SentAt.IsZero() {
		return key.Ref(engine.PlatformTeams, to, intent.Conversation, intent.MessageID), nil
	}
	activity, err := MessageActivity(m)
	if err != nil {
		return engine.MessageRef{}, err
	}
	send := func() (string, error) {
		return c.writeShrinking(m, activity, func(a *Activity) (string, error) {
			return c.tr.Connector.SendActivity(ctx, conv.serviceURL, conv.id, a)
		})
	}
	id, err := send()
	switch {
	case err == nil:
	case conv.person != nil:
		// Uninstalled since the chat was opened (install again, once), or
		// blocked (nothing more is written to them).
		id, err = c.refusedByPerson(ctx, *conv.person, err, send, tell)
	case errors.Is(err, ErrNotInRoster):
		err = c.channelRosterLost(ctx, conv.id, err)
	}
	c.metrics.sendResult(key.Kind, err)
	if errors.Is(err, engine.ErrUnreachable) || engine.IsDropped(err) {
		return engine.MessageRef{}, err // its words go to the people an alert tells
	}
	if err != nil {
		return engine.MessageRef{}, fmt.Errorf("teams: post %s: %w", key.Kind, err)
	}
	if err := c.store.PostSent(ctx, engine.PlatformTeams, k, conv.id, id, c.now()); err != nil {
		return engine.MessageRef{}, err
	}
	return key.Ref(engine.PlatformTeams, to, conv.id, id), nil
}

// FindPosted reports a post recorded as sent. A post only intended may or
// may not have gone out; it is sent again.
func (c *Chat) FindPosted(ctx context.Context, to engine.Destination, key engine.PostKey) (engine.MessageRef, bool, error) {
	p, err := c.store.ChatPostByKey(ctx, engine.PlatformTeams, PostKey(key))
	if engine.ErrorCode(err) == engine.ENOTFOUND {
		return engine.MessageRef{}, false, nil
	}
	if err != nil || p.SentAt.IsZero() {
		return engine.MessageRef{}, false, err
	}
	return key.Ref(engine.PlatformTeams, to, p.Conversation, p.MessageID), true, nil
}

// Update redraws a message in place: engine.ErrMessageGone when its chat
// is gone or slabot was removed from it.
func (c *Chat) Update(ctx context.Context, ref engine.MessageRef, m view.Message) error {
	activity, err := MessageActivity(m)
	if err != nil {
		return err
	}
	person, err := c.personOfChat(ctx, ref)
	if err != nil {
		return err
	}
	if person != nil {
		if err := c.checkReachable(ctx, *person); err != nil {
			// They blocked slabot: their chat is not written to, not even
			// to redraw what is there.
			return fmt.Errorf("teams: update %s: %w: %w", ref.Kind, engine.ErrMessageGone, err)
		}
	}
	svc, err := c.store.ConversationServiceURL(ctx, engine.PlatformTeams, ref.Conversation)
	if err != nil {
		return err
	}
	_, err = c.writeShrinking(m, activity, func(a *Activity) (string, error) {
		return "", c.tr.Connector.UpdateActivity(ctx, svc, ref.Conversation, ref.MessageID, a)
	})
	c.metrics.sendResult(ref.Kind+"_update", err)
	if errors.Is(err, ErrBlocked) && person != nil {
		err = c.markBlocked(ctx, *person, err, true)
	}
	if errors.Is(err, ErrConversationNotFound) || errors.Is(err, ErrNotInstalled) || errors.Is(err, engine.ErrUnreachable) {
		return fmt.Errorf("teams: update %s: %w: %w", ref.Kind, engine.ErrMessageGone, err)
	}
	return err
}

// PostKey names a post in chat_posts.
func PostKey(k engine.PostKey) string {
	return fmt.Sprintf("%s:%d:%d:%s", k.Kind, k.LeadID, k.AssignedAt.UnixMicro(), k.Key)
}

// MessageActivity is a message as a Teams activity: the card, and its pictures
// as image attachments beside it, within MaxActivitySize as Teams counts
// it (ActivitySize).
func MessageActivity(m view.Message) (*Activity, error) {
	return messageActivity(m, MaxActivitySize)
}

type conversation struct {
	id, serviceURL string
	// person is whose 1:1 chat it is (nil for a channel).
	person *engine.ChatIdentity
}

// conversation finds where a destination is: a person's 1:1 chat (opened,
// and the app installed for them, when slabot has none yet), or a channel
// by its id or as "Team name/Channel name".
func (c *Chat) conversation(ctx context.Context, to engine.Destination, tell bool) (conversation, error) {
	if to.Person == nil {
		return c.channel(ctx, to.Channel)
	}
	person := *to.Person
	if person.ConversationID == "" {
		if known, err := c.store.ChatIdentityByEmail(ctx, engine.PlatformTeams, person.Email); err == nil {
			person = *known
		} else if engine.ErrorCode(err) != engine.ENOTFOUND {
			return conversation{}, err
		}
	}
	if err := c.checkReachable(ctx, person); err != nil {
		return conversation{}, err
	}
	if person.ConversationID != "" {
		return conversation{id: person.ConversationID, serviceURL: person.ServiceURL, person: &person}, nil
	}
	if person.UserID == "" {
		return conversation{}, engine.Unreachable("slabot does not know them in Teams yet")
	}
	create := func() (string, error) {
		return c.tr.Connector.CreateConversation(ctx, person.ServiceURL, person.UserID)
	}
	id, err := create()
	if err != nil {
		id, err = c.refusedByPerson(ctx, person, err, create, tell)
	}
	if err != nil {
		return conversation{}, err
	}
	person.Platform, person.ConversationID = engine.PlatformTeams, id
	if person.TenantID == "" {
		person.TenantID = c.tr.Config.TenantID
	}
	if err := c.store.SaveChatIdentity(ctx, &person); err != nil {
		return conversation{}, err
	}
	return conversation{id: id, serviceURL: person.ServiceURL, person: &person}, nil
}

// install adds slabot to a person's Teams through Graph: already is true
// when Graph says it was installed (409). A person it cannot be installed
// for is unreachable.
func (c *Chat) install(ctx context.Context, person engine.ChatIdentity) (already bool, err error) {
	already, err = c.tr.Graph.Install(ctx, person.UserID)
	switch {
	case err == nil && already:
		return true, nil
	case err == nil:
		c.logger.Info("installed slabot in Teams for a person who did not have it")
		return false, nil
	case errors.Is(err, ErrUnknownPerson), errors.Is(err, ErrAppNotInCatalog):
		return false, engine.Unreachable("slabot is not installed in Teams for them and could not be installed (%v)", err)
	case IsRetryable(err):
		return false, err
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == 403 {
		return false, engine.Unreachable("slabot is not installed in Teams for them and may not install itself: grant it the Graph application permissions TeamsAppInstallation.ReadWriteSelfForUser.All and AppCatalog.Read.All")
	}
	return false, err
}

// channel finds a channel the policy names.
func (c *Chat) channel(ctx context.Context, name string) (conversation, error) {
	name = strings.TrimSpace(name)
	var ch *engine.ChatChannel
	var err error
	if strings.HasPrefix(name, "a:") {
		// A 1:1 chat by its id: where someone slabot does not know wrote.
		svc, err := c.store.ConversationServiceURL(ctx, engine.PlatformTeams, name)
		return conversation{id: name, serviceURL: svc}, err
	}
	res := ResolveChannel(ctx, c.store, c.tr.Config.TenantID, name, true)
	switch {
	case res.Fault != nil:
		err = res.Fault
	case res.ByID && res.Channel == nil && res.Err == nil:
		return conversation{id: name}, nil // not learnt yet: served where Teams serves by default
	case res.Err != nil:
		return conversation{}, engine.DropJob(res.Err)
	default:
		ch = res.Channel
	}
	if err != nil {
		return conversation{}, err
	}
	return conversation{id: ch.ID, serviceURL: ch.ServiceURL}, nil
}

// FindPersonByID looks a person up in the directory by their Entra object
// id (Graph takes it where it takes an email).
func (c *Chat) FindPersonByID(ctx context.Context, userID string) (engine.ChatIdentity, error) {
	if !IsGUID(userID) {
		// Graph's users/{id} also takes a sign-in name: only an Entra
		// object id identifies the person who wrote.
		return engine.ChatIdentity{}, engine.Errorf(engine.ENOTFOUND, "slabot cannot find that account in your organisation's Microsoft 365 directory; ask your Teams admin to check it.")
	}
	u, err := c.tr.Graph.UserByEmail(ctx, userID)
	if errors.Is(err, ErrUnknownPerson) {
		return engine.ChatIdentity{}, engine.Errorf(engine.ENOTFOUND, "slabot cannot find that account in your organisation's Microsoft 365 directory; ask your Teams admin to check it.")
	}
	if err != nil {
		return engine.ChatIdentity{}, err
	}
	email := u.Mail
	if email == "" {
		email = u.UserPrincipalName
	}
	return engine.ChatIdentity{Platform: engine.PlatformTeams, Email: strings.ToLower(email), UserID: u.ID, Name: u.DisplayName,
		TenantID: c.tr.Config.TenantID}, nil
}

// Terms are Teams' words for the core's sentences about it.
func (c *Chat) Terms() bot.Terms {
	return bot.Terms{Name: "Teams", PickPerson: "pick the person from the list Teams shows as you type @, so they are mentioned",
		Channel: "Sales/Smarketing"}
}

// ImagesInline is true: a Teams message carries its pictures as
// attachments beside its card.
func (c *Chat) ImagesInline() bool { return true }

// PublishHome keeps a person's home card in their 1:1 chat: posted once,
// then updated in place (posted again if it was deleted).
func (c *Chat) PublishHome(ctx context.Context, person engine.ChatIdentity, m view.Message) error {
	// Installing slabot sends two activities at once, each asking for the
	// home card: one posts it, the other updates it.
	return c.store.WithLock(ctx, "teams-home:"+person.Email, func(ctx context.Context) error {
		return c.publishHome(ctx, person, m)
	})
}

func (c *Chat) publishHome(ctx context.Context, person engine.ChatIdentity, m view.Message) error {
	key := engine.PostKey{Kind: "home", Key: person.Email}
	p, err := c.store.ChatPostByKey(ctx, engine.PlatformTeams, PostKey(key))
	switch {
	case err == nil && !p.SentAt.IsZero():
		ref := engine.MessageRef{Platform: engine.PlatformTeams, Kind: "home", Recipient: person.Email,
			Conversation: p.Conversation, MessageID: p.MessageID}
		err := c.Update(ctx, ref, m)
		if errors.Is(err, ErrNotInstalled) || errors.Is(err, engine.ErrUnreachable) {
			// They removed or blocked slabot: a new card would be refused
			// too. Their next install or message shows it again.
			return nil
		}
		if !errors.Is(err, engine.ErrMessageGone) {
			return err
		}
	case err != nil && engine.ErrorCode(err) != engine.ENOTFOUND:
		return err
	}
	conv, err := c.conversation(ctx, engine.Destination{Person: &person}, true)
	if errors.Is(err, engine.ErrUnreachable) {
		return nil // blocked, or never reachable: nothing to show them
	}
	if err != nil {
		return err
	}
	activity, err := MessageActivity(m)
	if err != nil {
		return err
	}
	id, err := c.writeShrinking(m, activity, func(a *Activity) (string, error) {
		return c.tr.Connector.SendActivity(ctx, conv.serviceURL, conv.id, a)
	})
	if errors.Is(err, ErrBlocked) && conv.person != nil {
		_ = c.markBlocked(ctx, *conv.person, err, true)
		return nil
	}
	if errors.Is(err, ErrNotInstalled) {
		// They removed slabot: installing it again only to show a home
		// card would undo their choice. Their next install posts it.
		c.logger.Info("a person removed slabot from Teams; their home card waits for them to add it again")
		return nil
	}
	if err != nil {
		return fmt.Errorf("teams: post the home card: %w", err)
	}
	return c.store.PostSent(ctx, engine.PlatformTeams, PostKey(key), conv.id, id, c.now())
}
