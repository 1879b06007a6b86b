package slack_test

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot"
	"github.com/slabot/slabot/bot/bottest"
	slackui "github.com/slabot/slabot/bot/slack"
)

// checkBlockKit checks the limits Slack enforces on a message's blocks.
func checkBlockKit(t *testing.T, blocks []slack.Block) {
	t.Helper()
	raw, err := json.Marshal(blocks)
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) > 50 {
		t.Errorf("%d blocks; a message takes 50", len(list))
	}
	text := func(v any) string {
		m, _ := v.(map[string]any)
		s, _ := m["text"].(string)
		if !utf8.ValidString(s) {
			t.Errorf("text is not valid UTF-8: %q", s)
		}
		return s
	}
	for i, b := range list {
		switch b["type"] {
		case "header":
			if n := utf8.RuneCountInString(text(b["text"])); n > 150 {
				t.Errorf("block %d: header of %d characters; at most 150", i, n)
			}
		case "section":
			if n := utf8.RuneCountInString(text(b["text"])); n > 3000 {
				t.Errorf("block %d: section text of %d characters; at most 3000", i, n)
			}
			fields, _ := b["fields"].([]any)
			if len(fields) > 10 {
				t.Errorf("block %d: %d fields; at most 10", i, len(fields))
			}
			for j, f := range fields {
				if n := utf8.RuneCountInString(text(f)); n > 2000 {
					t.Errorf("block %d field %d: %d characters; at most 2000", i, j, n)
				}
			}
		case "context":
			for _, e := range b["elements"].([]any) {
				if n := utf8.RuneCountInString(text(e)); n > 3000 {
					t.Errorf("block %d: context text of %d characters", i, n)
				}
			}
		case "actions":
			for _, e := range b["elements"].([]any) {
				el := e.(map[string]any)
				if n := utf8.RuneCountInString(text(el["text"])); el["type"] == "button" && n > 75 {
					t.Errorf("block %d: button text of %d characters; at most 75", i, n)
				}
				if u, _ := el["url"].(string); len(u) > 3000 {
					t.Errorf("block %d: button url of %d characters; at most 3000", i, len(u))
				}
			}
		}
	}
}

func TestTheCardOfAHugeLeadStaysWithinSlacksLimits(t *testing.T) {
	t.Parallel()
	l := bottest.HugeLead()
	blocks, fallback := slackui.Blocks(bot.LeadCard(l, l.OwnerEmail, l.AssignedAt.Location(), l.AssignedAt))
	checkBlockKit(t, blocks)
	if n := utf8.RuneCountInString(fallback); n > slackui.MaxFallback || !utf8.ValidString(fallback) {
		t.Errorf("fallback text of %d characters, valid UTF-8 %v", n, utf8.ValidString(fallback))
	}
}
