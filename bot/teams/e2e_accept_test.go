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

// acceptPolicy gives the rep 30 minutes to accept a lead, with a reminder
// 20 minutes before that, and a first touch that does not come due
// before the test's clock has passed the accept deadline.
const acceptPolicy = `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "Sales/Escalations"
    reps: [ana@example.com, bo@example.com]
rules:
  - name: fast
    first_touch: 4h
    accept_within: 30m
    remind_before: [20m]
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
	t.Parallel()
	// The test's clock starts at the next noon (UTC), so the deadline is
	// on the day of the hand-off and the card names no day.
	clk := &movingClock{}
	now := time.Now().UTC()
	clk.Advance(time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, time.UTC).AddDate(0, 0, 1).Sub(now) % (24 * time.Hour))
	e := newTeamsEnv(t, withPolicy(acceptPolicy), withClock(clk))
	l := e.handOff(demoLead("crm-accept-ok"))
	card := e.card(ana, l)
	// The calendar runs 24×7, so the deadline is 30 minutes after the
	// assignment; the card shows it in the policy's zone until Ana's own
	// is known.
	due := l.AssignedAt.Add(30 * time.Minute)
	if now := clk.Now().UTC(); now.YearDay() != due.UTC().YearDay() {
		t.Fatalf("the test's clock is too near midnight (%v): the card would name the day", now)
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
	// The reminder's and the deadline's timers run, and find the lead
	// accepted.
	e.advance(clk, due.Sub(clk.Now())+time.Minute)
	if n := acceptBreaches(e.events(l.ID), engine.BreachAccept); n != 0 {
		t.Errorf("%d accept breaches on a lead accepted in time", n)
	}
	if n := len(e.posts(e.personal(maria), summaryEscalation, l)); n != 0 {
		t.Errorf("the manager heard of a lead accepted in time (%d messages)", n)
	}
}
