package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/bottest"
	"github.com/slabot/slabot/engine"
)

// recyclePolicy sends returning contacts back to their previous owner. Bo
// comes first in the round robin, so a lead that reaches Ana without
// naming her went there because she had the contact before.
const recyclePolicy = `
timezone: UTC
report:
  channel: "#smarketing"
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [bo@example.com, ana@example.com]
rules:
  - name: default
    first_touch: 4h
recycle: {route_to: previous_owner, within: 180d}
`

func TestANotNowContactComesBackWithItsHistoryToItsPreviousOwner(t *testing.T) {
	c := newCore(t, recyclePolicy)
	first := c.handOff(demoLead("crm-nurture"))
	for i, kind := range []string{"Call", "Email", "Call"} {
		c.at(time.Duration(i+1) * time.Minute)
		c.pick("ana@example.com", c.card(ana, first).Last(), "Log touch…", kind)
	}

	form, _ := c.press("ana@example.com", c.card(ana, first).Last(), "Return to marketing")
	// A quarter ahead by default.
	diff(t, "the revisit input", "- If not now: revisit on (optional): a date from 2030-03-05 to 2031-03-04 = 2030-06-02",
		lines(bottest.RenderForm(form))[4])
	diff(t, "a revisit date in the past", ":warning: Sun Mar 3, 2030 is not in the future: choose a date to revisit between Tue Mar 5, 2030 (tomorrow) and Tue Mar 4, 2031.",
		c.submit("ana@example.com", form, map[string]string{"return_code": "not_now", "return_revisit": "2030-03-03"}))
	if got := c.lead(first.ID); !got.State.Open() {
		t.Fatalf("a past revisit date returned the lead: %s", got.State)
	}
	diff(t, "the return", "", c.submit("ana@example.com", form, map[string]string{
		"return_code": "not_now", "return_details": "budget opens in Q1", "return_revisit": "2030-04-06"}))
	diff(t, "the return reason", "Interested, but not now (nurture): budget opens in Q1", c.lead(first.ID).ReturnReason)

	// 2030-04-06 is a Saturday: the revisit comes due on the Monday after,
	// at 09:00 in the policy's zone.
	c.Clock.Set(time.Date(2030, time.April, 8, 8, 59, 0, 0, time.UTC))
	c.runDue()
	diff(t, "notices before the morning", 0, len(c.posts("#smarketing", "")))
	c.Clock.Set(time.Date(2030, time.April, 8, 9, 0, 0, 0, time.UTC))
	c.runDue()
	diff(t, "the revisit notice", []string{`:calendar: **Time to revisit Dana Ruiz (Acme Corp)**
Returned to Marketing by ana@example.com on Mar 4, 2030, to revisit on 2030-04-06: “Interested, but not now (nurture): budget opens in Q1”.
Sales made 2× call, 1× email; the last, call, on Mar 4, 2030.
When the contact is ready, hand them off again: the new card opens with this history.
[Open in CRM](https://crm.example/leads/crm-nurture)
`}, texts(c.posts("#smarketing", "")))

	// However often the revisit job runs, Marketing hears it once.
	jobs, err := c.DB.JobsOfLead(context.Background(), first.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.Kind == engine.JobRecycleDue {
			if err := c.DB.RetryJob(context.Background(), j.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	var reran []string
	for _, r := range c.runDue() {
		reran = append(reran, r.Kind)
	}
	diff(t, "jobs run again", []string{engine.JobRecycleDue}, reran)
	diff(t, "revisit notices after the job ran again", 1, len(c.posts("#smarketing", "")))
	n := 0
	for _, kind := range c.eventKinds(first.ID) {
		if kind == engine.EventRecycleDue {
			n++
		}
	}
	diff(t, "recycle_due events", 1, n)

	// Marketing hands the contact off again under a new id, naming nobody:
	// Bo's turn in the round robin, but the lead goes back to Ana.
	again := demoLead("crm-nurture-2")
	again.OwnerEmail = ""
	again.Contact.Email = strings.ToUpper(first.Contact.Email)
	res, err := c.Service.HandOff(context.Background(), again)
	if err != nil {
		t.Fatal(err)
	}
	if res.Lead.OwnerEmail != "ana@example.com" || res.Routing.Reason != engine.RoutedPreviousOwner {
		t.Fatalf("the returning contact went to %q (%s), want back to ana@example.com", res.Lead.OwnerEmail, res.Routing.Reason)
	}
	c.runDue()
	diff(t, "the new card", lines(`# New lead: Dana Ruiz (Acme Corp)
**First touch due in 4 h** — 9:00 AM
| **Who** / **Dana Ruiz**, VP Ops / crm-nurture@acme.test / +1 555 0100
| **Company** / Acme Corp (acme.test) / 1,200 employees · Manufacturing · US
| **Why now** / demo request · enterprise / score 87 · value $25,000 / SLA: default
| **What they did** / 7 visits / pages: /pricing, /case-studies/x / downloaded: ROI guide
**Form answers**
• Budget: $50k
• Timeline: Q1
**Seen before**: returned to Marketing by ana@example.com on Mar 4, 2030 — “Interested, but not now (nurture): budget opens in Q1” (revisit on 2030-04-06)
Touches then: 2× call, 1× email; last touch call on Mar 4, 2030 by ana@example.com
:next: Back with ana@example.com, who had it before (the agreement sends returning contacts to their previous owner).
[Accept](lead.ack=2) {Log touch…: Call, Email, Meeting, LinkedIn, Other}(lead.touch) [Reject](lead.reject form=Reject lead) [Snooze](lead.snooze form=Snooze reminders) [Return to marketing](lead.return form=Return to Marketing) [Open in CRM](https://crm.example/leads/crm-nurture-2)
`), lines(bottest.Render(c.card(ana, res.Lead).Last())))
}

func TestAReturningContactWhosePreviousOwnerIsAwayIsRoutedAsUsualAndTheCardSaysWhy(t *testing.T) {
	c := newCore(t, recyclePolicy)
	ctx := context.Background()
	first := c.handOff(demoLead("crm-away"))
	if _, err := c.Service.ReturnNotNow(ctx, first.ID, engine.Actor{Email: "ana@example.com"}, "2030-04-04", ""); err != nil {
		t.Fatal(err)
	}
	diff(t, "ana's away", lines(":away: You are away until Thursday, Mar 14. New leads go to the rest of the team meanwhile."), lines(c.answer(ana, "away until 2030-03-14")))
	again := demoLead("crm-away-2")
	again.OwnerEmail, again.Contact.Email = "", first.Contact.Email
	res, err := c.Service.HandOff(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	if res.Lead.OwnerEmail != "bo@example.com" {
		t.Fatalf("with Ana away the returning contact went to %q, want bo@example.com by the round robin", res.Lead.OwnerEmail)
	}
	c.runDue()
	diff(t, "bo's card", lines(`**Seen before**: returned to Marketing by ana@example.com on Mar 4, 2030 — “Interested, but not now (nurture)” (revisit on 2030-04-04)
No touches were logged then.
:next: Not sent back to its previous owner: ana@example.com is away until Mar 14, so it was routed as usual.`), lines(bottest.Render(c.card(bo, res.Lead).Last()))[9:12])
}

func TestUnableToReachIsRefusedBeforeTheTouchesAndAcceptedAfter(t *testing.T) {
	c := newCore(t, `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: default
    first_touch: 4h
    touches: {count: 2, within: 3d}
`)
	l := c.handOff(demoLead("crm-1"))
	diff(t, "unable to reach before the touches", ":warning: Dana Ruiz (Acme Corp) can go back as unable to reach once the agreed touches are made: log 2 more touches first, or wait until the touch window closes on Thu Mar 7, 4:00 AM EST.",
		c.submitReturn(l, map[string]string{"return_code": "unable_to_reach"}))
	c.pick("ana@example.com", c.card(ana, l).Last(), "Log touch…", "Call")
	c.at(time.Hour)
	c.pick("ana@example.com", c.card(ana, l).Last(), "Log touch…", "Email")
	form, _ := c.press("ana@example.com", c.card(ana, l).Last(), "Return to marketing")
	diff(t, "the return form once the touches are made", lines(`# Return to Marketing [Return lead]
**Dana Ruiz (Acme Corp)** goes back to Marketing and leaves your queue. The reason is reported to both teams every week.
- Reason: not_a_fit, no_budget, bad_contact, duplicate, not_a_buyer, not_now, unable_to_reach, other
- Details (optional)
- If not now: revisit on (optional): a date from 2030-03-05 to 2031-03-04 = 2030-06-02
`), lines(bottest.RenderForm(form)))
	diff(t, "unable to reach after the touches", "", c.submit("ana@example.com", form, map[string]string{"return_code": "unable_to_reach", "return_details": "voicemail twice"}))
	got := c.lead(l.ID)
	if got.State != engine.StateReturned {
		t.Errorf("the lead is %s", got.State)
	}
	diff(t, "the return reason", "Unable to reach: voicemail twice", got.ReturnReason)
}

// submitReturn submits the lead's return form, as ana, with inputs.
func (c *core) submitReturn(l *engine.Lead, inputs map[string]string) string {
	c.t.Helper()
	form, refusal := c.press("ana@example.com", c.card(ana, l).Last(), "Return to marketing")
	if refusal != "" {
		c.t.Fatalf("the return form was refused: %s", refusal)
	}
	return c.submit("ana@example.com", form, inputs)
}
