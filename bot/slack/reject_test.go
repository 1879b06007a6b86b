package slack_test

import (
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/slack/slackfake"
	"github.com/slabot/slabot/engine"
)

// rejectPolicy: the first touch is due 8 s after the hand-off, so a lead
// left with the wrong rep would breach while the test runs, and the
// rejection (a click and a form) lands well before that on a busy machine.
const rejectPolicy = `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "#sales-ops"
    reps: [ana@example.com, bo@example.com]
rules:
  - name: fast
    first_touch: 8s
    on_breach: [notify_manager]
`

// reject presses Reject on a card and submits the form with these answers.
func (e *env) reject(card slackfake.Message, answers map[string]string) {
	e.t.Helper()
	if _, err := e.fake.ClickButton(ctxTimeout(e.t, 10*time.Second), ana, card, "lead.reject", ""); err != nil {
		e.t.Fatal(err)
	}
	v := e.openedView(ana, "lead.reject")
	values := map[string]map[string]any{}
	for k, s := range answers {
		values[k] = map[string]any{"value": s}
	}
	if _, err := e.fake.SubmitView(ctxTimeout(e.t, 10*time.Second), ana, v, values); err != nil {
		e.t.Fatal(err)
	}
}

func TestAWrongOwnerRejectionReroutesWithAFreshClockAndNoBreachForTheFirstRep(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withPolicy(rejectPolicy))
	l := e.handOff(demoLead("crm-wrong-owner"))
	card := e.card(ana, l)
	if text := cardText(card); !strings.Contains(text, "[Reject]") {
		t.Fatalf("the card has no Reject button:\n%s", text)
	}
	before := answerText(e.sla(maria, "status <@"+ana+"|ana>").Body)
	if !strings.Contains(before, "Open leads:* 1") {
		t.Fatalf("before the rejection /sla status @ana does not count ana's lead:\n%s", before)
	}

	e.reject(card, map[string]string{"reject_reason": "wrong_owner", "reject_owner": "bo@example.com", "reject_note": "Bo covers Acme"})
	e.waitFor("the lead to move to bo", func() bool { return e.lead(l.ID).OwnerEmail == "bo@example.com" })
	got := e.lead(l.ID)
	if !got.AssignedAt.After(l.AssignedAt) || !got.FirstTouchDue.After(l.FirstTouchDue) {
		t.Errorf("no fresh clock: assigned %v (was %v), due %v (was %v)", got.AssignedAt, l.AssignedAt, got.FirstTouchDue, l.FirstTouchDue)
	}
	if got.Reassignments != 0 {
		t.Errorf("a re-route counted as an automatic reassignment (%d)", got.Reassignments)
	}
	boCard := e.card(bo, l)
	if text := cardText(boCard); !strings.Contains(text, "[Accept]") {
		t.Errorf("bo's card:\n%s", text)
	}
	e.waitCard(card, "ana's card to say the lead moved on", func(m slackfake.Message) bool {
		return strings.Contains(cardText(m), "Moved on") && strings.Contains(cardText(m), "bo@example.com")
	})
	e.waitMessage("C0OPS", "the misroute alert", func(m slackfake.Message) bool {
		return strings.Contains(cardText(m), "Misrouted lead") && strings.Contains(cardText(m), "ana@example.com") &&
			strings.Contains(cardText(m), `rule "fast"`)
	})
	var rejected *engine.Event
	for _, ev := range e.events(l.ID) {
		if ev.Kind == engine.EventRejected {
			rejected = &ev
		}
	}
	if rejected == nil || rejected.Data["category"] != "wrong_owner" || rejected.Data["detail"] != "bo@example.com" || rejected.Actor != "ana@example.com" {
		t.Fatalf("the rejection event: %+v", rejected)
	}

	// Past ana's old deadline: she breached nothing.
	settle(l.FirstTouchDue.Add(1500 * time.Millisecond))
	for _, ev := range e.events(l.ID) {
		if b, ok := engine.BreachFromEvent(ev); ok && b.RepEmail == "ana@example.com" {
			t.Errorf("ana was breached on a lead she passed on: %+v", b)
		}
	}
	after := answerText(e.sla(maria, "status <@"+ana+"|ana>").Body)
	for _, want := range []string{"Open leads:* 0", "Breaches:* 0"} {
		if !strings.Contains(after, want) {
			t.Errorf("after the re-route /sla status @ana does not say %q:\n%s", want, after)
		}
	}
}

func TestARejectionWithoutAReasonOrWithAnUnknownLeadIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	l := e.handOff(demoLead("crm-refused"))
	card := e.card(ana, l)
	if _, err := e.fake.ClickButton(ctxTimeout(t, 10*time.Second), ana, card, "lead.reject", ""); err != nil {
		t.Fatal(err)
	}
	v := e.openedView(ana, "lead.reject")
	res, err := e.fake.SubmitView(ctxTimeout(t, 10*time.Second), ana, v, map[string]map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.Ack.Payload), "reject_reason") {
		t.Errorf("ack = %s, want an error under the reason", res.Ack.Payload)
	}
	res, err = e.fake.SubmitView(ctxTimeout(t, 10*time.Second), ana, v, map[string]map[string]any{"reject_reason": {"value": "duplicate"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(res.Ack.Payload), "reject_duplicate") {
		t.Errorf("ack = %s, want an error under the duplicate's id", res.Ack.Payload)
	}
	if got := e.lead(l.ID); got.State != engine.StateNotified && got.State != engine.StateNew {
		t.Errorf("a refused rejection changed the lead: %s", got.State)
	}
}
