package slack_test

import (
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/slack/slackfake"
	"github.com/slabot/slabot/engine"
)

// acceptPolicy gives the rep 5 s to accept a lead, with a reminder 3 s
// before that, and a first touch far enough away not to come due while a
// test runs.
const acceptPolicy = `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "#sales-ops"
    reps: [ana@example.com, bo@example.com]
rules:
  - name: fast
    first_touch: 10m
    accept_within: 5s
    remind_before: [3s]
    on_breach: [notify_manager]
`

func breachesOf(events []engine.Event, kind engine.BreachKind) int {
	n := 0
	for _, e := range events {
		if b, ok := engine.BreachFromEvent(e); ok && b.Kind == kind {
			n++
		}
	}
	return n
}

func TestALeadNotAcceptedInTimeIsRemindedThenBreached(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withPolicy(acceptPolicy))
	l := e.handOff(demoLead("crm-accept-late"))
	card := e.card(ana, l)
	due := l.AssignedAt.Add(5 * time.Second)

	e.waitFor("the reminder to accept", func() bool { return len(e.reminders(ana, l.ID)) > 0 })
	rem := e.reminders(ana, l.ID)[0]
	if !rem.PostedAt.Before(due) {
		t.Errorf("the reminder came at %v, after the accept deadline %v", rem.PostedAt, due)
	}
	text := cardText(rem)
	for _, want := range []string{"Accept Dana Ruiz (Acme Corp) by", "[Accept]"} {
		if !strings.Contains(text, want) {
			t.Errorf("the reminder does not show %q:\n%s", want, text)
		}
	}

	managerDM := e.fake.DMChannel(maria)
	e.waitFor("the escalation to the manager", func() bool { return len(e.escalations(managerDM, l.ID)) > 0 })
	esc := cardText(e.escalations(managerDM, l.ID)[0])
	for _, want := range []string{"SLA breach: Dana Ruiz (Acme Corp)", "ana@example.com", "has not accepted", "accepting was due"} {
		if !strings.Contains(esc, want) {
			t.Errorf("the manager's DM does not show %q:\n%s", want, esc)
		}
	}
	events := e.events(l.ID)
	if n := breachesOf(events, engine.BreachAccept); n != 1 {
		t.Errorf("%d accept breaches recorded, want 1", n)
	}
	if n := breachesOf(events, engine.BreachFirstTouch); n != 0 {
		t.Errorf("%d first-touch breaches before the first touch was due", n)
	}
	e.waitCard(card, "the overdue acceptance", func(m slackfake.Message) bool {
		return strings.Contains(cardText(m), "Accepting is overdue")
	})
	// Accepting late is still recorded, and the lead stays with its rep.
	if _, err := e.fake.ClickButton(ctxTimeout(t, 10*time.Second), ana, card, "lead.ack", ""); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the late acceptance", func() bool { return !e.lead(l.ID).AcknowledgedAt.IsZero() })
	if got := e.lead(l.ID); got.OwnerEmail != "ana@example.com" {
		t.Errorf("the lead moved to %s", got.OwnerEmail)
	}
}
