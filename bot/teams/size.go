package teams

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// Teams' limit on a bot's message (format-your-bot-messages): "The bot
// message size limit is 100 KB … it includes the message itself (text,
// image links, etc.), @-mentions, and reactions encoded as UTF-16. This
// 100 KB size limitation doesn't include base64 encoded image. … it's
// recommended to ensure that the size of the message itself is within
// 80 KB"; over the limit Teams answers 413 with the code MessageSizeTooBig
// (https://learn.microsoft.com/microsoftteams/platform/bots/how-to/format-your-bot-messages).
// slabot measures the activity it sends as JSON encoded in UTF-16 (two
// bytes a character, four beyond the Basic Multilingual Plane), without
// the base64 data of its pictures, and keeps it within the advice.
const MaxActivitySize = 80 * 1000

// UTF16Size is the size in bytes of UTF-8 text encoded as UTF-16.
func UTF16Size(text []byte) int {
	n := 0
	for len(text) > 0 {
		r, size := utf8.DecodeRune(text)
		text = text[size:]
		if r >= 0x10000 {
			n += 4
		} else {
			n += 2
		}
	}
	return n
}

// ActivitySize is an activity's size as Teams counts it: its JSON in
// UTF-16, pictures sent as base64 data: URLs left out.
func ActivitySize(a *Activity) int {
	if a == nil {
		return 0
	}
	measured := *a
	measured.Attachments = make([]Attachment, len(a.Attachments))
	for i, att := range a.Attachments {
		if strings.HasPrefix(att.ContentURL, "data:") {
			att.ContentURL = ""
		}
		measured.Attachments[i] = att
	}
	data, err := json.Marshal(&measured)
	if err != nil {
		return 0
	}
	return UTF16Size(data)
}

// messageActivity is a message as an activity of at most budget
// (ActivitySize): the card shed as fit does to what the activity around
// it leaves, else the minimal card (a budget of 0 asks for that at once).
func messageActivity(m view.Message, budget int) (*Activity, error) {
	images := ImageAttachments(m) // scaled once: it takes a while
	build := func(card Card) (*Activity, error) {
		a, err := CardMessage(card, m.Summary)
		if err != nil {
			return nil, err
		}
		a.Attachments = append(a.Attachments, images...)
		return a, nil
	}
	if budget > 0 {
		envelope, err := build(Card{FullWidth: true, FallbackText: m.Summary})
		if err != nil {
			return nil, err
		}
		card := renderWithin(m, budget-ActivitySize(envelope)+cardSize(Card{FullWidth: true, FallbackText: m.Summary}))
		a, err := build(card)
		if err == nil && ActivitySize(a) <= budget {
			return a, nil
		}
	}
	return build(minimalCard(m))
}

// minimalCard is a message cut to what says what it is about: its first
// line, a note that the rest did not fit, and its buttons (not its
// forms), for when Teams will not take more.
func minimalCard(m view.Message) Card {
	title := m.Summary
	for _, b := range m.Blocks {
		if h, ok := b.(view.Heading); ok {
			title = h.Text
			break
		}
	}
	if r := []rune(title); len(r) > 300 {
		title = string(r[:300]) + "…"
	}
	full := Render(m)
	var acts []Action
	for _, a := range full.Actions {
		switch a.(type) {
		case ActionExecute, ActionOpenURL:
			acts = append(acts, a)
		}
	}
	if len(acts) > 6 {
		acts = acts[:6]
	}
	return Card{FullWidth: true, FallbackText: title, Actions: acts, Body: []Element{
		TextBlock{Text: markdownEscaper.Replace(title), Wrap: true, Weight: "bolder", Size: "medium"},
		TextBlock{Text: "⚠️ This message is more than Teams takes, so it is shown short here. Type home or leads for your leads, or open the lead in your CRM.",
			Wrap: true, IsSubtle: true},
	}}
}

// writeShrinking makes a write (a post or an update) of the message's
// activity a, and when Teams refuses it as too large (413
// MessageSizeTooBig: "Reduce the payload size", never the same again),
// makes it again with the card shed to half the size, then with the
// minimal card; a minimal card refused as well gives the job up.
func (c *Chat) writeShrinking(m view.Message, a *Activity, write func(*Activity) (string, error)) (string, error) {
	id, err := write(a)
	for _, half := range []bool{true, false} {
		if !errors.Is(err, ErrMessageTooLarge) {
			return id, err
		}
		budget := 0 // the minimal card
		if half {
			budget = ActivitySize(a) / 2
		}
		smaller, serr := messageActivity(m, budget)
		if serr != nil {
			return "", serr
		}
		if ActivitySize(smaller) >= ActivitySize(a) {
			continue // not smaller: try the next step
		}
		c.logger.Warn("Teams refused a message as too large; sending it smaller", "size", ActivitySize(a), "smaller", ActivitySize(smaller))
		a = smaller
		id, err = write(a)
	}
	if errors.Is(err, ErrMessageTooLarge) {
		return "", engine.DropJob(fmt.Errorf("teams: Teams refused even the shortest form of the message as too large: %w", err))
	}
	return id, err
}
