package slackfake

import (
	"context"
	"fmt"
	"time"
)

// Messages typed in the app's DM (its Messages tab) reach the app as the
// message.im event, when the app subscribes to it and holds im:history:
// https://docs.slack.dev/reference/events/message.im/ (an events_api
// envelope around an event_callback whose event is {"type": "message",
// "channel": "D…", "user": "U…", "text", "ts", "event_ts",
// "channel_type": "im"}; the scope is named on the message event's page,
// https://docs.slack.dev/reference/events/message). Slack also delivers
// the app's own posts in that DM: they carry its bot_id and the bot user,
// with no subtype (a delivery shown in slackapi/bolt-js#580). An edit is a
// message with subtype "message_changed", hidden, holding the new message
// (https://docs.slack.dev/reference/events/message/message_changed/).

// WithEvents subscribes the app to these Events API events, as the
// manifest's settings.event_subscriptions.bot_events lists them.
// app_home_opened is always delivered; "message.im" makes the fake deliver
// messages in the app's DMs, the person's and the app's own (see above).
// Without it the fake behaves as an app not subscribed to them: typed
// messages are stored and nothing is sent.
func WithEvents(names ...string) Option {
	return func(c *config) {
		c.events = map[string]bool{}
		for _, n := range names {
			c.events[n] = true
		}
	}
}

// subscribedLocked reports whether the app receives event name: subscribed,
// and, for message.im, holding the im:history scope it requires.
func (s *Server) subscribedLocked(name string) bool {
	if !s.cfg.events[name] {
		return false
	}
	if name == "message.im" && s.cfg.scopes != nil && !s.cfg.scopes["im:history"] {
		return false
	}
	return true
}

// TypeInDM has userID type text to the app in their DM. The message is
// stored in the DM's history; when the app subscribes to message.im it is
// delivered and the result tells how the envelope went (else it is zero).
func (s *Server) TypeInDM(ctx context.Context, userID, text string) (EnvelopeResult, Message, error) {
	s.mu.Lock()
	if _, ok := s.users[userID]; !ok {
		s.mu.Unlock()
		return EnvelopeResult{}, Message{}, fmt.Errorf("slackfake: no user %q", userID)
	}
	ch := s.dmLocked(userID)
	now := s.now()
	m := &Message{Channel: ch, TS: s.nextTSLocked(), User: userID, Text: text, PostedAt: now, UpdatedAt: now, Via: "typed"}
	s.msgs = append(s.msgs, m)
	s.notifyLocked()
	subscribed := s.subscribedLocked("message.im")
	stored := *m
	s.mu.Unlock()
	if !subscribed {
		return EnvelopeResult{}, stored, nil
	}
	res, err := s.SendEvent(ctx, obj{"type": "message", "channel": ch, "user": userID, "text": text,
		"ts": stored.TS, "event_ts": stored.TS, "channel_type": "im"})
	return res, stored, err
}

// EditInDM has userID change the text of a message they typed in the DM:
// Slack sends message_changed (when the app subscribes to message.im).
func (s *Server) EditInDM(ctx context.Context, userID string, typed Message, text string) (EnvelopeResult, error) {
	s.mu.Lock()
	var m *Message
	for _, x := range s.msgs {
		if x.Channel == typed.Channel && x.TS == typed.TS && x.User == userID {
			m = x
		}
	}
	if m == nil {
		s.mu.Unlock()
		return EnvelopeResult{}, fmt.Errorf("slackfake: %s typed no message %s in %s", userID, typed.TS, typed.Channel)
	}
	now := s.now()
	m.Edits = append(m.Edits, Edit{ReplacedAt: now, ReplacedBy: "typed", Text: m.Text, Blocks: m.Blocks})
	prev := m.Text
	m.Text, m.Updates, m.UpdatedAt = text, m.Updates+1, now
	editTS := s.nextTSLocked()
	s.notifyLocked()
	subscribed := s.subscribedLocked("message.im")
	s.mu.Unlock()
	if !subscribed {
		return EnvelopeResult{}, nil
	}
	return s.SendEvent(ctx, obj{"type": "message", "subtype": "message_changed", "hidden": true,
		"channel": typed.Channel, "ts": editTS, "event_ts": editTS, "channel_type": "im",
		"message": obj{"type": "message", "user": userID, "text": text, "ts": typed.TS,
			"edited": obj{"user": userID, "ts": editTS}},
		"previous_message": obj{"type": "message", "user": userID, "text": prev, "ts": typed.TS}})
}

// echoBotMessageLocked delivers the app's own post in a DM back to it as
// message.im, as Slack does for a subscribed app, without holding up the
// post.
func (s *Server) echoBotMessageLocked(c *channel, m *Message) {
	if !s.subscribedLocked("message.im") {
		return
	}
	ev := obj{"type": "message", "channel": c.id, "user": BotUserID, "bot_id": BotID, "text": m.Text,
		"ts": m.TS, "event_ts": m.TS, "channel_type": "im"}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := s.SendEvent(ctx, ev); err != nil {
			s.logf("slackfake: the echo of the app's post in %s was not delivered: %v", c.id, err)
		}
	}()
}
