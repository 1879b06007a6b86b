package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/bottest"
	"github.com/slabot/slabot/engine"
)

// cardBody is what a demo lead's card shows under its status lines.
const cardBody = `| **Who** / **Dana Ruiz**, VP Ops / crm-1@acme.test / +1 555 0100
| **Company** / Acme Corp (acme.test) / 1,200 employees · Manufacturing · US
| **Why now** / demo request · enterprise / score 87 · value $25,000 / SLA: demo-request
| **What they did** / 7 visits / pages: /pricing, /case-studies/x / downloaded: ROI guide
**Form answers**
• Budget: $50k
• Timeline: Q1
`

const cardButtons = `[Accept](lead.ack=1) ` + workButtons

// workButtons are the card's buttons once the lead is accepted.
const workButtons = `{Log touch…: Call, Email, Meeting, LinkedIn, Other}(lead.touch) [Reject](lead.reject form=Reject lead) [Snooze](lead.snooze form=Snooze reminders) [Return to marketing](lead.return form=Return to Marketing) [Open in CRM](https://crm.example/leads/crm-1)
`

// feedbackQuestion is the question a card asks once the lead is touched.
const feedbackQuestion = `**Did the card have what you needed?** One tap tells Marketing what to capture.
[Yes, it did](lead.feedback=yes) {Something was missing…: Budget, Timeline, Their role, A phone number, Something else}(lead.feedback)
`

func TestTheHandOffCardArrivesInTheOwnersChatInTheirTimeZone(t *testing.T) {
	c := newCore(t, corePolicy)
	l := c.handOff(demoLead("crm-1"))

	card := c.card(ana, l)
	// 09:00 UTC is 4 a.m. in New York, Ana's zone.
	diff(t, "the card", lines(`# New lead: Dana Ruiz (Acme Corp)
**First touch due in 15 min** — 4:15 AM
Cadence: 0/8 touches, 15 days left: 8 more needed
`+cardBody+cardButtons), lines(bottest.Render(card.Last())))
	if card.Last().Summary == "" {
		t.Error("the card has no summary for notifications")
	}
	got := c.lead(l.ID)
	if got.State != engine.StateNotified {
		t.Errorf("after its card the lead is %s, want notified", got.State)
	}
	diff(t, "who got a post", []string{"@" + ana}, conversations(c.Chat.Posts("")))
}

func TestCardActions(t *testing.T) {
	c := newCore(t, corePolicy)
	l := c.handOff(demoLead("crm-1"))

	c.at(time.Minute)
	c.press("ana@example.com", c.card(ana, l).Last(), "Accept")
	diff(t, "the card after Accept", lines(`# Lead: Dana Ruiz (Acme Corp)
**First touch due in 14 min** — 4:15 AM
Cadence: 0/8 touches, 15 days left: 8 more needed
`+cardBody+`> Accepted by ana@example.com at 4:01 AM
`+workButtons), lines(bottest.Render(c.card(ana, l).Last())))

	c.at(5 * time.Minute)
	if refusal := c.pick("ana@example.com", c.card(ana, l).Last(), "Log touch…", "Call"); refusal != "" {
		t.Fatalf("the touch was refused: %s", refusal)
	}
	diff(t, "the card after a call", lines(`# Lead: Dana Ruiz (Acme Corp)
:done: First touch done 4:05 AM (on time)
Cadence: 1/8 touches, 15 days left: 7 more needed
`+cardBody+`> Accepted by ana@example.com at 4:01 AM · 1 touch logged (call)
`+workButtons+feedbackQuestion), lines(bottest.Render(c.card(ana, l).Last())))

	form, refusal := c.press("ana@example.com", c.card(ana, l).Last(), "Snooze")
	if refusal != "" {
		t.Fatalf("the snooze was refused: %s", refusal)
	}
	diff(t, "the snooze form", lines(`# Snooze reminders [Snooze]
**Dana Ruiz (Acme Corp)**
Snoozing silences reminders for a while. The SLA clock keeps running: the first-touch deadline does not move.
- For: 30m, 1h, 2h, 4h, 1d, 3d = 1h
- Why
`), lines(bottest.RenderForm(form)))
	diff(t, "a snooze without a reason", ":warning: Say why, so your manager knows the lead is in hand.",
		c.submit("ana@example.com", form, map[string]string{"snooze_length": "1h"}))
	diff(t, "a snooze", "", c.submit("ana@example.com", form, map[string]string{"snooze_length": "1h", "snooze_reason": "call back Monday"}))
	if got := c.lead(l.ID); got.State != engine.StateSnoozed || !got.SnoozedUntil.Equal(c.Clock.Now().Add(time.Hour)) {
		t.Errorf("after the snooze the lead is %s until %v", got.State, got.SnoozedUntil)
	}

	form, _ = c.press("ana@example.com", c.card(ana, l).Last(), "Return to marketing")
	diff(t, "the return form", lines(`# Return to Marketing [Return lead]
**Dana Ruiz (Acme Corp)** goes back to Marketing and leaves your queue. The reason is reported to both teams every week.
“Unable to reach” opens once the agreed touches are made: log 7 more touches first, or wait until the touch window closes on Tue Mar 19, 5:00 AM EDT.
- Reason: not_a_fit, no_budget, bad_contact, duplicate, not_a_buyer, not_now, other
- Details (optional)
- If not now: revisit on (optional): a date from 2030-03-05 to 2031-03-04 = 2030-06-02
`), lines(bottest.RenderForm(form)))
	diff(t, "a return without a reason", ":warning: Choose a reason: Marketing needs it to send better leads.",
		c.submit("ana@example.com", form, map[string]string{}))
	diff(t, "a return for another reason, unsaid", ":warning: Say why you return the lead.",
		c.submit("ana@example.com", form, map[string]string{"return_code": "other"}))
	diff(t, "not now, with a revisit date that is not a date", ":warning: That is not a date: choose one from tomorrow to a year ahead, written YYYY-MM-DD.",
		c.submit("ana@example.com", form, map[string]string{"return_code": "not_now", "return_revisit": "next spring"}))
	if got := c.lead(l.ID); !got.State.Open() {
		t.Fatalf("a refused return closed the lead: %s", got.State)
	}
	diff(t, "a return", "", c.submit("ana@example.com", form, map[string]string{"return_code": "no_budget", "return_details": "next year"}))
	got := c.lead(l.ID)
	if got.State != engine.StateReturned || got.ReturnReason != "No budget or no project: next year" {
		t.Errorf("after the return the lead is %s (%q)", got.State, got.ReturnReason)
	}
	diff(t, "the returned card", lines(`# Returned to Marketing: Dana Ruiz (Acme Corp)
**Returned to Marketing**: No budget or no project: next year
`+cardBody+`> Accepted by ana@example.com at 4:01 AM · 1 touch logged (call)
[Open in CRM](https://crm.example/leads/crm-1)
`+feedbackQuestion), lines(bottest.Render(c.card(ana, l).Last())))
	diff(t, "an action on a returned lead", ":warning: Dana Ruiz (Acme Corp) is already returned to Marketing.",
		c.refusal(pressErr(c, "ana@example.com", l.ID, "lead.snooze")))
}

func TestAStrangersClickChangesNothingAndTheManagerMayAct(t *testing.T) {
	c := newCore(t, corePolicy)
	l := c.handOff(demoLead("crm-1"))
	card := c.card(ana, l).Last()

	_, refusal := c.press("eve@example.com", card, "Accept")
	diff(t, "a stranger's Accept", ":refused: Only ana@example.com (the owner) or their manager can act on Dana Ruiz (Acme Corp).", refusal)
	_, refusal = c.press("eve@example.com", card, "Snooze")
	diff(t, "a stranger's Snooze", ":refused: Only ana@example.com (the owner) or their manager can act on Dana Ruiz (Acme Corp).", refusal)
	if got := c.lead(l.ID); got.State != engine.StateNotified {
		t.Errorf("after a stranger's clicks the lead is %s", got.State)
	}

	if _, refusal := c.press("maria@example.com", card, "Accept"); refusal != "" {
		t.Fatalf("the manager was refused: %s", refusal)
	}
	if got := c.lead(l.ID); got.State != engine.StateAcknowledged {
		t.Errorf("after the manager's Accept the lead is %s", got.State)
	}
	// Accepting a lead already being worked is recorded, not refused.
	c.pick("ana@example.com", c.card(ana, l).Last(), "Log touch…", "Email")
	if _, refusal := c.press("ana@example.com", card, "Accept"); refusal != "" {
		t.Errorf("accepting a lead being worked was refused: %s", refusal)
	}
	// So is accepting one touched first and never accepted: the acceptance
	// is recorded and the lead stays in work.
	touched := c.handOff(demoLead("crm-touched-first"))
	first := c.card(ana, touched).Last()
	c.pick("ana@example.com", first, "Log touch…", "Call")
	if got := c.lead(touched.ID); got.State != engine.StateWorking || !got.AcknowledgedAt.IsZero() {
		t.Fatalf("after a touch the lead is %s, accepted at %v", got.State, got.AcknowledgedAt)
	}
	if _, refusal := c.press("ana@example.com", first, "Accept"); refusal != "" {
		t.Errorf("accepting a lead touched first was refused: %s", refusal)
	}
	if got := c.lead(touched.ID); got.State != engine.StateWorking || got.AcknowledgedAt.IsZero() {
		t.Errorf("after a late Accept the lead is %s, accepted at %v; want working, and the acceptance recorded", got.State, got.AcknowledgedAt)
	}
}

// pressErr acts on a lead as a button of verb would, without its view.
func pressErr(c *core, email string, leadID int64, verb string) error {
	_, err := c.bot.FormFor(context.Background(), engine.Actor{Email: email}, leadID, verb)
	return err
}

func conversations(posts []bottest.Post) []string {
	var out []string
	for _, p := range posts {
		out = append(out, p.Ref.Conversation)
	}
	return out
}
