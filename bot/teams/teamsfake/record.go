package teamsfake

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Activities returns what the bot has posted in the conversation, oldest
// first, as it stands now (updates applied).
func (s *Server) Activities(conversationID string) []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.conversation[conversationID]
	if c == nil {
		return nil
	}
	out := make([]Recorded, 0, len(c.activities))
	for _, r := range c.activities {
		cp := *r
		cp.Updates = slices.Clone(r.Updates)
		out = append(out, cp)
	}
	return out
}

// WaitActivities waits until the conversation holds at least n activities
// from the bot and returns them.
func (s *Server) WaitActivities(ctx context.Context, conversationID string, n int) ([]Recorded, error) {
	for {
		s.mu.Lock()
		changed := s.changed
		count := 0
		if c := s.conversation[conversationID]; c != nil {
			count = len(c.activities)
		}
		s.mu.Unlock()
		if count >= n {
			return s.Activities(conversationID), nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("teamsfake: %d of %d activities in %q: %w", count, n, conversationID, ctx.Err())
		}
	}
}

// WaitFor waits until cond holds, evaluating it after every change the
// fake sees and after every answer of the bot to an activity.
func (s *Server) WaitFor(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		changed := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("teamsfake: condition not met: %w", ctx.Err())
		}
	}
}

// LastCard returns the newest card in the person's 1:1 chat with the bot
// and its activity.
func (s *Server) LastCard(email string) (Card, Recorded, bool) {
	recs := s.Activities(s.PersonalConversation(email))
	for i := len(recs) - 1; i >= 0; i-- {
		if cards := recs[i].Activity.Cards(); len(cards) > 0 {
			return cards[0], recs[i], true
		}
	}
	return nil, Recorded{}, false
}

// Calls returns every connector and Graph request the bot made.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Writes returns when the bot posted or updated a message in the
// conversation, in order.
func (s *Server) Writes(conversationID string) []time.Time {
	var at []time.Time
	for _, r := range s.Activities(conversationID) {
		at = append(at, r.At)
		at = append(at, r.Updates...)
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	return at
}

// MinGap returns the shortest time between two successive writes to the
// conversation (a large value when there are fewer than two).
func (s *Server) MinGap(conversationID string) time.Duration {
	at := s.Writes(conversationID)
	gap := time.Duration(1<<63 - 1)
	for i := 1; i < len(at); i++ {
		gap = min(gap, at[i].Sub(at[i-1]))
	}
	return gap
}

// Conversations returns the ids of every conversation with activities.
func (s *Server) Conversations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, c := range s.conversation {
		if len(c.activities) > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// CardTexts returns every TextBlock text and FactSet title/value in the
// card, in order, for assertions.
func CardTexts(card Card) []string {
	var out []string
	var walk func(any)
	walk = func(node any) {
		switch v := node.(type) {
		case map[string]any:
			switch v["type"] {
			case "TextBlock":
				if t, ok := v["text"].(string); ok {
					out = append(out, t)
				}
			case "FactSet":
				facts, _ := v["facts"].([]any)
				for _, f := range facts {
					if fm, ok := f.(map[string]any); ok {
						out = append(out, fmt.Sprintf("%v: %v", fm["title"], fm["value"]))
					}
				}
				return
			}
			for _, k := range cardChildKeys {
				if child, ok := v[k]; ok {
					walk(child)
				}
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(card)
	return out
}

// CardVerbs returns the verbs of every Action.Execute in the card,
// including those in show-card forms.
func CardVerbs(card Card) []string {
	var out []string
	var walk func(any)
	walk = func(node any) {
		switch v := node.(type) {
		case map[string]any:
			if v["type"] == "Action.Execute" {
				if verb, ok := v["verb"].(string); ok {
					out = append(out, verb)
				}
			}
			for _, k := range cardChildKeys {
				if child, ok := v[k]; ok {
					walk(child)
				}
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(card)
	return out
}

// cardChildKeys are the members of card nodes that hold other nodes, in
// the order they render.
var cardChildKeys = []string{"body", "items", "columns", "rows", "cells", "actions", "card"}
