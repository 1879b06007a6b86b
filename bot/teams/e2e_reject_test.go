package teams_test

import (
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

// Rejecting leads on Teams: the Reject form on the card, a wrong owner
// re-routed with a fresh clock, the other categories back to Marketing.

// rejectPolicy: the first touch is due 3 s after the hand-off, so a lead
// left with the wrong rep would breach while the test runs.
const rejectPolicy = `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "Sales/Escalations"
    reps: [ana@example.com, bo@example.com]
rules:
  - name: fast
    first_touch: 3s
    on_breach: [notify_manager]
`

func TestAWrongOwnerRejectionReroutesWithAFreshClockAndNoBreachForTheFirstRep(t *testing.T) {
	e := newTeamsEnv(t, withPolicy(rejectPolicy))
	sales := e.addBotToSales()
	l := e.handOff(demoLead("crm-wrong-owner"))
	card := e.card(ana, l)
	mustSay(t, "ana's status before", text(e.typed(ana, "status")), "Open leads:** 1")

	e.click(ana, card, "lead.reject", map[string]any{"reject_reason": "wrong_owner", "reject_owner": "sdr-east"})
	got := e.lead(l.ID)
	// sdr-east's round robin without ana is bo.
	if got.OwnerEmail != bo || !got.AssignedAt.After(l.AssignedAt) || !got.FirstTouchDue.After(l.FirstTouchDue) || got.Reassignments != 0 {
		t.Fatalf("after the rejection the lead is %s's, assigned %v (was %v), due %v, %d automatic reassignments",
			got.OwnerEmail, got.AssignedAt, l.AssignedAt, got.FirstTouchDue, got.Reassignments)
	}
	boCard := e.card(bo, l)
	mustSay(t, "bo's card", text(boCard.Activity.Cards()[0]), "New lead: Dana Ruiz (Acme Corp)")
	if err := e.fake.WaitFor(ctxTimeout(t, 15*time.Second), func() bool {
		return strings.Contains(text(e.seen(ana, card)), "Moved on")
	}); err != nil {
		t.Errorf("ana's card never said the lead moved on:\n%s", text(e.seen(ana, card)))
	}
	escalations := sales.ChannelID("Escalations")
	if err := e.fake.WaitFor(ctxTimeout(t, 15*time.Second), func() bool {
		for _, r := range e.fake.Activities(escalations) {
			if strings.HasPrefix(r.Activity.Summary, "Misrouted lead: Dana Ruiz (Acme Corp) went to ana@example.com") {
				return true
			}
		}
		return false
	}); err != nil {
		t.Errorf("ops were not told of the misroute: %v", err)
	}
	var rejected bool
	for _, ev := range e.events(l.ID) {
		if ev.Kind == engine.EventRejected && ev.Data["category"] == "wrong_owner" && ev.Data["detail"] == "sdr-east" {
			rejected = true
		}
	}
	if !rejected {
		t.Errorf("no wrong_owner rejection among %+v", e.events(l.ID))
	}

	settle(l.FirstTouchDue.Add(1500 * time.Millisecond))
	for _, ev := range e.events(l.ID) {
		if b, ok := engine.BreachFromEvent(ev); ok && b.RepEmail == ana {
			t.Errorf("ana was breached on a lead she passed on: %+v", b)
		}
	}
	mustSay(t, "ana's status after", text(e.typed(ana, "status")), "Open leads:** 0", "Breaches:** 0")
}

func TestABadDataRejectionGoesBackToMarketing(t *testing.T) {
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
