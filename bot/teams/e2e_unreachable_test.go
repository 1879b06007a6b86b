package teams_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

// unreachablePolicy asks for two touches within a day.
const unreachablePolicy = `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: cadence
    first_touch: 1h
    touches: {count: 2, within: 1d}
`

// TestUnableToReachIsRefusedBeforeTheTouchesAndAcceptedAfter: the return
// form on the card (and under the lead in the leads list) offers "unable
// to reach" once the touches are made, the card redrawn with it.
func TestUnableToReachIsRefusedBeforeTheTouchesAndAcceptedAfter(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t, withPolicy(unreachablePolicy))
	l := e.handOff(demoLead("crm-unreachable"))
	card := e.card(ana, l)
	// The window is a calendar day from the assignment, shown in the
	// policy's zone until Ana's own is known.
	opens := l.AssignedAt.Add(24 * time.Hour).UTC().Format("Mon Jan 2, 3:04 PM MST")

	raw, _ := json.Marshal(card.Activity.Cards()[0])
	if strings.Contains(string(raw), "unable_to_reach") {
		t.Error("the card's return form offers unable to reach before any touch")
	}
	mustSay(t, "the card", text(card.Activity.Cards()[0]), "log 2 more touches first, or wait until the touch window closes on "+opens)

	// The leads list's return form, under each row, offers it only as the
	// card does.
	list, _ := json.Marshal(e.typed(ana, "leads"))
	if !strings.Contains(string(list), "Return to marketing") {
		t.Fatalf("the list has no return form:\n%s", list)
	}
	if strings.Contains(string(list), "unable_to_reach") {
		t.Error("the leads list's return form offers unable to reach before any touch")
	}
	mustSay(t, "the list's return form", string(list), "log 2 more touches first")

	res, err := e.fake.Click(ctxTimeout(t, waitLimit), ana, card.ConversationID, card.Activity.ID, "lead.return",
		map[string]any{"return_code": "unable_to_reach"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Type != "application/vnd.microsoft.activity.message" || !strings.Contains(res.Message, "log 2 more touches first") {
		t.Errorf("unable to reach before the touches was answered %s %q", res.Type, res.Message)
	}
	if got := e.lead(l.ID); !got.State.Open() {
		t.Fatalf("the lead went back before the touches: %s", got.State)
	}

	e.click(ana, card, "lead.touch", map[string]any{"touch_kind": "call"})
	res = e.click(ana, card, "lead.touch", map[string]any{"touch_kind": "email"})
	raw, _ = json.Marshal(res.Card)
	if !strings.Contains(string(raw), "unable_to_reach") {
		t.Fatalf("after two touches the card's return form does not offer unable to reach:\n%s", text(res.Card))
	}
	res = e.click(ana, card, "lead.return", map[string]any{"return_code": "unable_to_reach", "return_details": "no answer"})
	mustSay(t, "the redrawn card", text(res.Card), "Returned to Marketing", "Unable to reach: no answer")
	if got := e.lead(l.ID); got.State != engine.StateReturned || got.ReturnReason != "Unable to reach: no answer" {
		t.Errorf("the lead is %s, reason %q", got.State, got.ReturnReason)
	}
}
