package teams_test

import (
	"strings"
	"testing"

	"github.com/slabot/slabot/engine"
)

// Rejecting leads on Teams: the Reject form on the card, a rejection back
// to Marketing, and one refused. A wrong owner re-routed with a fresh
// clock is the core's story (bot/reject_flow_test.go) and Slack's.

func TestABadDataRejectionGoesBackToMarketing(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	l := e.handOff(demoLead("crm-bad-data"))
	card := e.card(ana, l)
	res := e.click(ana, card, "lead.reject", map[string]any{"reject_reason": "bad_data:email", "reject_note": "bounces"})
	mustSay(t, "the redrawn card", text(res.Card), "Returned to Marketing", "Bad data: email (bounces)")
	if got := e.lead(l.ID); got.State != engine.StateReturned || got.ReturnReason != "Bad data: email (bounces)" {
		t.Errorf("the lead is %s, reason %q", got.State, got.ReturnReason)
	}
	ev := e.lastEvent(l.ID)
	for _, e := range e.events(l.ID) {
		if e.Kind == engine.EventRejected {
			ev = e
		}
	}
	if ev.Kind != engine.EventRejected || ev.Data["category"] != "bad_data" || ev.Data["detail"] != "email" || ev.Data["note"] != "bounces" {
		t.Errorf("the rejection event: %+v", ev)
	}
}

func TestARejectionWithoutAReasonIsRefusedOnTeams(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	l := e.handOff(demoLead("crm-no-reason"))
	card := e.card(ana, l)
	res := e.click(ana, card, "lead.reject", map[string]any{})
	if res.Type != "application/vnd.microsoft.activity.message" || !strings.Contains(res.Message, "Choose why") {
		t.Errorf("a rejection without a reason was answered %s %q", res.Type, res.Message)
	}
	if got := e.lead(l.ID); !got.State.Open() {
		t.Errorf("the lead is %s", got.State)
	}
}
