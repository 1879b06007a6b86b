package teams_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/slabot/slabot/engine"
)

// Card feedback and the leads list's return form on Teams. Contested
// rejections are the core's story (bot/reject_flow_test.go) and Slack's.

const contestPolicy = `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: default
    first_touch: 4h
quality:
  contest_within: 5d
  contesters: [mia@example.com]
`

const mia = "mia@example.com"

func TestTheCardAsksForFeedbackAfterTheFirstTouchOnTeams(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t, withPolicy(contestPolicy))
	l := e.handOff(demoLead("crm-feedback"))
	card := e.card(ana, l)
	if strings.Contains(text(card.Activity.Cards()[0]), "Did the card have what you needed?") {
		t.Fatal("the card asks for feedback before any touch")
	}
	res := e.click(ana, card, "lead.touch", map[string]any{"touch_kind": "call"})
	asked, _ := json.Marshal(res.Card)
	mustSay(t, "the card after the first touch", string(asked), "Did the card have what you needed?", "Yes, it did", "Something was missing")
	// The choice of what was missing has an id of its own row's.
	res = e.click(ana, card, "lead.feedback", map[string]any{"touch_kind@fb:" + strconv.FormatInt(l.ID, 10): "phone"})
	mustSay(t, "the card after the answer", text(res.Card), "Card feedback: missing: phone")
	if strings.Contains(text(res.Card), "Did the card have what you needed?") {
		t.Error("the card still asks after the answer")
	}
	if n := countEvents(e.events(l.ID), engine.EventCardFeedback); n != 1 {
		t.Errorf("%d answers recorded, want 1", n)
	}
	mustSay(t, "maria's /sla quality", text(e.typed(maria, "quality week")),
		"Card feedback:** 0 had what the rep needed · 1 card missing (phone 1)")
}

func TestTheLeadsListOffersUnableToReachOnlyAsTheCardDoes(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t, withPolicy(unreachablePolicy))
	l := e.handOff(demoLead("crm-list-unreachable"))
	e.card(ana, l)
	list := e.typed(ana, "leads")
	raw, _ := json.Marshal(list)
	if !strings.Contains(string(raw), "Return to marketing") {
		t.Fatalf("the list has no return form:\n%s", text(list))
	}
	if strings.Contains(string(raw), "unable_to_reach") {
		t.Error("the leads list's return form offers unable to reach before any touch")
	}
	mustSay(t, "the list's return form", string(raw), "log 2 more touches first")
}
