package teams_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/teams/teamsfake"
	"github.com/slabot/slabot/engine"
)

// Accepting leads on Teams: the Accept button and accept_within's deadline
// on the card, accepted in time. Not accepted in time (the reminder, the
// breach) is the core's story (bot/timers_flow_test.go) and Slack's.

// acceptPolicy gives the rep 5 s to accept a lead, with a reminder 3 s
// before that, and a first touch far enough away not to come due while a
// test runs.
const acceptPolicy = `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "Sales/Escalations"
    reps: [ana@example.com, bo@example.com]
rules:
  - name: fast
    first_touch: 10m
    accept_within: 5s
    remind_before: [3s]
    on_breach: [notify_manager]
`

func acceptBreaches(events []engine.Event, kind engine.BreachKind) int {
	n := 0
	for _, e := range events {
		if b, ok := engine.BreachFromEvent(e); ok && b.Kind == kind {
			n++
		}
	}
	return n
}

func TestALeadAcceptedInTimeHasNoAcceptBreach(t *testing.T) {
	e := newTeamsEnv(t, withPolicy(acceptPolicy))
	l := e.handOff(demoLead("crm-accept-ok"))
	card := e.card(ana, l)
	// The calendar runs 24×7, so the deadline is 5 s after the assignment;
	// the card shows it in the policy's zone until Ana's own is known.
	due := l.AssignedAt.Add(5 * time.Second)
	if now := time.Now().UTC(); now.YearDay() != due.UTC().YearDay() {
		t.Fatalf("the test runs across midnight (%v): the card would name the day", now)
	}
	cardJSON := card.Activity.Cards()[0]
	mustSay(t, "the card", text(cardJSON), "Accept by "+due.UTC().Format("3:04 PM"))
	if verbs := teamsfake.CardVerbs(cardJSON); !slices.Contains(verbs, "lead.ack") {
		t.Fatalf("the card's buttons: %v", verbs)
	}
	res := e.click(ana, card, "lead.ack", nil)
	mustSay(t, "the redrawn card", text(res.Card), "Accepted by ana@example.com")
	if s := text(res.Card); strings.Contains(s, "Accept by") {
		t.Errorf("an accepted card still asks to accept:\n%s", s)
	}
	if verbs := teamsfake.CardVerbs(res.Card); slices.Contains(verbs, "lead.ack") {
		t.Errorf("an accepted card still offers Accept: %v", verbs)
	}
	if got := e.lead(l.ID); got.State != engine.StateAcknowledged || got.AcknowledgedAt.After(due) {
		t.Fatalf("the lead is %s, accepted at %v (due %v)", got.State, got.AcknowledgedAt, due)
	}
	settle(due.Add(1500 * time.Millisecond))
	if n := acceptBreaches(e.events(l.ID), engine.BreachAccept); n != 0 {
		t.Errorf("%d accept breaches on a lead accepted in time", n)
	}
	if n := len(e.posts(e.personal(maria), summaryEscalation, l)); n != 0 {
		t.Errorf("the manager heard of a lead accepted in time (%d messages)", n)
	}
}
