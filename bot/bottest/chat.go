package bottest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// Chat is a chat platform in memory, for the core's tests: it implements
// bot.Chat by remembering every post, every redraw and every home view as
// the neutral view the core built, and answers as a platform would when a
// test tells it to (a person it cannot reach, a message gone for good, a
// request to slow down). It is safe for concurrent use.
type Chat struct {
	platform string

	mu          sync.Mutex
	people      []engine.ChatIdentity
	unreachable map[string]string // email → why
	gone        map[string]bool   // message id → gone for good
	slowDown    []time.Duration   // RetryAfter answers still to give, oldest first
	posts       []*Post
	homes       map[string][]view.Message // user id → each home view published
}

// Post is one message the core posted: where, under which key, and each
// version of it, the first as posted and then each redraw.
type Post struct {
	Ref      engine.MessageRef
	Key      engine.PostKey
	Versions []view.Message
}

// Last is the post as it reads now.
func (p Post) Last() view.Message { return p.Versions[len(p.Versions)-1] }

// NewChat returns an empty Chat that calls itself platform (as
// engine.PlatformSlack does) and knows the people given.
func NewChat(platform string, people ...engine.ChatIdentity) *Chat {
	c := &Chat{platform: platform, unreachable: map[string]string{}, gone: map[string]bool{}, homes: map[string][]view.Message{}}
	for _, p := range people {
		c.AddPerson(p)
	}
	return c
}

// AddPerson makes a person known to the platform.
func (c *Chat) AddPerson(p engine.ChatIdentity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p.Platform, p.Email = c.platform, strings.ToLower(p.Email)
	c.people = append(c.people, p)
}

// Unreachable makes the platform answer engine.ErrUnreachable, with why,
// for the person with email, from now on.
func (c *Chat) Unreachable(email, why string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.unreachable[strings.ToLower(email)] = why
}

// Gone makes a posted message gone for good: a redraw of it answers
// engine.ErrMessageGone.
func (c *Chat) Gone(ref engine.MessageRef) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gone[ref.MessageID] = true
}

// SlowDown makes the next call that posts, redraws or publishes answer
// engine.RetryAfter(d) instead; several calls queue several answers.
func (c *Chat) SlowDown(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slowDown = append(c.slowDown, d)
}

// Platform implements bot.Chat.
func (c *Chat) Platform() string { return c.platform }

// ImagesInline implements bot.Chat: a message carries its pictures.
func (c *Chat) ImagesInline() bool { return true }

// FindPerson implements bot.Chat.
func (c *Chat) FindPerson(_ context.Context, email string) (engine.ChatIdentity, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	email = strings.ToLower(email)
	if why, ok := c.unreachable[email]; ok {
		return engine.ChatIdentity{}, engine.Unreachable("%s", why)
	}
	for _, p := range c.people {
		if p.Email == email {
			return p, nil
		}
	}
	return engine.ChatIdentity{}, engine.Unreachable("no account on the platform has that email")
}

// FindPersonByID implements bot.Chat.
func (c *Chat) FindPersonByID(_ context.Context, userID string) (engine.ChatIdentity, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.people {
		if p.UserID == userID {
			return p, nil
		}
	}
	return engine.ChatIdentity{}, engine.Errorf(engine.ENOTFOUND, "I can't find that person.")
}

// Post implements bot.Chat. A person's posts land in the conversation
// "@" and their user id; a channel's in the channel as named.
func (c *Chat) Post(_ context.Context, to engine.Destination, m view.Message, key engine.PostKey) (engine.MessageRef, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.answerSlowDown(); err != nil {
		return engine.MessageRef{}, err
	}
	conversation, recipient, err := c.conversation(to)
	if err != nil {
		return engine.MessageRef{}, err
	}
	ref := engine.MessageRef{Platform: c.platform, LeadID: key.LeadID, Kind: key.Kind, Recipient: recipient,
		Conversation: conversation, MessageID: fmt.Sprintf("m%d", len(c.posts)+1), AssignedAt: key.AssignedAt}
	c.posts = append(c.posts, &Post{Ref: ref, Key: key, Versions: []view.Message{m}})
	return ref, nil
}

// FindPosted implements bot.Chat: the earlier post with key at to.
func (c *Chat) FindPosted(_ context.Context, to engine.Destination, key engine.PostKey) (engine.MessageRef, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	conversation, _, err := c.conversation(to)
	if err != nil {
		return engine.MessageRef{}, false, err
	}
	for _, p := range c.posts {
		if p.Ref.Conversation == conversation && p.Key.Kind == key.Kind && p.Key.LeadID == key.LeadID &&
			p.Key.AssignedAt.Equal(key.AssignedAt) && p.Key.Key == key.Key {
			return p.Ref, true, nil
		}
	}
	return engine.MessageRef{}, false, nil
}

// Update implements bot.Chat: the post gets a new version.
func (c *Chat) Update(_ context.Context, ref engine.MessageRef, m view.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.answerSlowDown(); err != nil {
		return err
	}
	if c.gone[ref.MessageID] {
		return fmt.Errorf("redraw %s: %w", ref.MessageID, engine.ErrMessageGone)
	}
	for _, p := range c.posts {
		if p.Ref.MessageID == ref.MessageID {
			p.Versions = append(p.Versions, m)
			return nil
		}
	}
	return fmt.Errorf("redraw %s: no such message", ref.MessageID)
}

// PublishHome implements bot.Chat.
func (c *Chat) PublishHome(_ context.Context, person engine.ChatIdentity, m view.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.answerSlowDown(); err != nil {
		return err
	}
	c.homes[person.UserID] = append(c.homes[person.UserID], m)
	return nil
}

func (c *Chat) answerSlowDown() error {
	if len(c.slowDown) == 0 {
		return nil
	}
	d := c.slowDown[0]
	c.slowDown = c.slowDown[1:]
	return engine.RetryAfter(d, fmt.Errorf("the platform asked to slow down for %s", d))
}

// conversation is where a destination's posts land, and the recipient a
// MessageRef names (the person's email, or the channel).
func (c *Chat) conversation(to engine.Destination) (conversation, recipient string, err error) {
	if to.Person == nil {
		if to.Channel == "" {
			return "", "", fmt.Errorf("a post with no destination")
		}
		return to.Channel, to.Channel, nil
	}
	if why, ok := c.unreachable[strings.ToLower(to.Person.Email)]; ok {
		return "", "", engine.Unreachable("%s", why)
	}
	return "@" + to.Person.UserID, to.Person.Email, nil
}

// Posts are the posts in a conversation ("@" and a user id, or a
// channel as named), oldest first; every post when conversation is "".
func (c *Chat) Posts(conversation string) []Post {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Post
	for _, p := range c.posts {
		if conversation == "" || p.Ref.Conversation == conversation {
			out = append(out, Post{Ref: p.Ref, Key: p.Key, Versions: append([]view.Message(nil), p.Versions...)})
		}
	}
	return out
}

// Homes are the home views published to a person, oldest first.
func (c *Chat) Homes(userID string) []view.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]view.Message(nil), c.homes[userID]...)
}
