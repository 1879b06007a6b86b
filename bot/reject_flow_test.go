package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/bottest"
	"github.com/slabot/slabot/engine"
)

// contestPolicy lets Marketing (the #marketing channel and mia) contest a
// rejection within 5 days; maria manages the reps.
const contestPolicy = `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "#sales-ops"
    reps: [ana@example.com, bo@example.com]
rules:
  - name: default
    first_touch: 15m
    on_breach: [notify_manager]
quality:
  contest_within: 5d
  contesters: ["#marketing", mia@example.com]
`

const mia = "U0MIA"

func newContestCore(t *testing.T) *core {
	c := newCore(t, contestPolicy)
	c.Chat.AddPerson(engine.ChatIdentity{UserID: mia, Email: "mia@example.com", Name: "Mia Marketing", TimeZone: "UTC"})
	return c
}

// reject presses Reject on the lead's card in ana's chat and submits the
// form with answers, returning the refusal she reads ("" for none).
func (c *core) reject(l *engine.Lead, answers map[string]string) string {
	c.t.Helper()
	form, refusal := c.press("ana@example.com", c.card(ana, l).Last(), "Reject")
	if refusal != "" {
		c.t.Fatalf("the reject form was refused: %s", refusal)
	}
	return c.submit("ana@example.com", form, answers)
}

func TestAWrongOwnerRejectionReroutesWithAFreshClockAndNoBreachForTheFirstRep(t *testing.T) {
	c := newContestCore(t)
	l := c.handOff(demoLead("crm-1"))
	form, _ := c.press("ana@example.com", c.card(ana, l).Last(), "Reject")
	diff(t, "the reject form", lines(`# Reject lead [Reject lead]
**Dana Ruiz (Acme Corp)** is not yours to work? Say why. A lead for someone else goes straight to them with a fresh clock, and does not count against you; any other reason sends it back to Marketing.
- Why: wrong_owner, bad_data:phone, bad_data:email, bad_data:company, bad_data:other, not_our_buyer:size, not_our_buyer:industry, not_our_buyer:region, not_our_buyer:role, not_our_buyer:student, not_our_buyer:competitor, not_our_buyer:job_seeker, not_our_buyer:other, duplicate
- Whose is it (optional)
- Duplicate of (optional)
- Note (optional)
`), lines(bottest.RenderForm(form)))

	c.at(time.Minute)
	if status := c.answer(maria, "status ana@example.com"); !strings.Contains(status, "**Open leads:** 1") {
		t.Fatalf("before the rejection ana's status does not count her lead:\n%s", status)
	}
	c.at(5 * time.Minute)
	// A team: its round robin without ana is bo.
	diff(t, "the rejection", "", c.reject(l, map[string]string{"reject_reason": "wrong_owner", "reject_owner": "sdr-east", "reject_note": "Bo covers Acme"}))
	got := c.lead(l.ID)
	if got.OwnerEmail != "bo@example.com" || !got.AssignedAt.After(l.AssignedAt) || !got.FirstTouchDue.After(l.FirstTouchDue) || got.Reassignments != 0 {
		t.Errorf("after the re-route the lead is %s's, assigned %v, due %v, %d reassignments", got.OwnerEmail, got.AssignedAt, got.FirstTouchDue, got.Reassignments)
	}
	diff(t, "bo's card", "# New lead: Dana Ruiz (Acme Corp)", lines(bottest.Render(c.card(bo, l).Last()))[0])
	diff(t, "ana's card", "# Moved on: Dana Ruiz (Acme Corp)", lines(bottest.Render(c.card(ana, l).Last()))[0])
	diff(t, "the misroute alert", []string{":warning: Misrouted lead: Dana Ruiz (Acme Corp) went to ana@example.com (team sdr-east, rule \"default\"), who says it is not theirs. slabot re-routed it to bo@example.com (sdr-east) with a fresh clock.\n"}, texts(c.posts("#sales-ops", "")))

	var rejected bool
	for _, ev := range c.events(l.ID) {
		rejected = rejected || ev.Kind == engine.EventRejected && ev.Data["category"] == "wrong_owner" && ev.Data["detail"] == "sdr-east" && ev.Actor == "ana@example.com"
	}
	if !rejected {
		t.Errorf("no wrong_owner rejection by ana among %v", c.eventKinds(l.ID))
	}

	c.at(16 * time.Minute) // past ana's old deadline
	for _, ev := range c.events(l.ID) {
		if b, ok := engine.BreachFromEvent(ev); ok && b.RepEmail == "ana@example.com" {
			t.Errorf("ana was breached on a lead she passed on: %+v", b)
		}
	}
	if status := c.answer(maria, "status ana@example.com"); !strings.Contains(status, "**Open leads:** 0") || !strings.Contains(status, "**Breaches:** 0") {
		t.Errorf("after the re-route ana's status:\n%s", status)
	}
}

func TestRejectionsOtherThanWrongOwnerGoBackToMarketing(t *testing.T) {
	c := newContestCore(t)
	original := c.handOff(demoLead("crm-original"))
	for _, tt := range []struct {
		id       string
		answers  map[string]string
		category string
		detail   string
		reason   string
	}{
		{"crm-bad-data", map[string]string{"reject_reason": "bad_data:phone"}, "bad_data", "phone", "Bad data: phone"},
		{"crm-not-buyer", map[string]string{"reject_reason": "not_our_buyer:job_seeker", "reject_note": "asked about jobs"},
			"not_our_buyer", "job_seeker", "Not our buyer: job seeker (asked about jobs)"},
		{"crm-duplicate", map[string]string{"reject_reason": "duplicate", "reject_duplicate": "crm-original"},
			"duplicate", "crm-original", "Duplicate: crm-original"},
	} {
		h := demoLead(tt.id)
		h.Contact.Name = "Contact " + tt.id
		l := c.handOff(h)
		if refusal := c.reject(l, tt.answers); refusal != "" {
			t.Fatalf("%s: refused: %s", tt.id, refusal)
		}
		got := c.lead(l.ID)
		if got.State != engine.StateReturned || got.ReturnReason != tt.reason {
			t.Errorf("%s: the lead is %s with reason %q, want returned with %q", tt.id, got.State, got.ReturnReason, tt.reason)
		}
		diff(t, tt.id+"'s card", lines(`# Returned to Marketing: Contact `+tt.id+` (Acme Corp)
**Returned to Marketing**: `+tt.reason), lines(bottest.Render(c.card(ana, l).Last()))[:2])
		var found bool
		for _, ev := range c.events(l.ID) {
			found = found || ev.Kind == engine.EventRejected && ev.Data["category"] == tt.category && ev.Data["detail"] == tt.detail
		}
		if !found {
			t.Errorf("%s: no rejection event %s/%s", tt.id, tt.category, tt.detail)
		}
	}
	if kinds := c.eventKinds(original.ID); !strings.Contains(strings.Join(kinds, " "), engine.EventDuplicateLinked) {
		t.Errorf("the original lead was not linked to its duplicate: %v", kinds)
	}
}

func TestARejectionWithoutAReasonIsRefused(t *testing.T) {
	c := newContestCore(t)
	l := c.handOff(demoLead("crm-1"))
	diff(t, "no reason", ":warning: Choose why: Marketing needs it to send better leads.", c.reject(l, map[string]string{}))
	diff(t, "a duplicate of nothing", ":warning: Name the lead this one repeats, by its CRM id.", c.reject(l, map[string]string{"reject_reason": "duplicate"}))
	if got := c.lead(l.ID); got.State != engine.StateNotified {
		t.Errorf("a refused rejection changed the lead: %s", got.State)
	}
}

func TestMarketingContestsARejectionAndTheRepsManagerDecides(t *testing.T) {
	c := newContestCore(t)
	reject := func(id string) (*engine.Lead, bottest.Post) {
		t.Helper()
		h := demoLead(id)
		h.Contact.Name = "Contact " + id
		l := c.handOff(h)
		c.reject(l, map[string]string{"reject_reason": "bad_data:phone", "reject_note": "number is a fax"})
		notices := c.posts("#marketing", "")
		return l, notices[len(notices)-1]
	}
	l, notice := reject("ct-overturn")
	diff(t, "the rejection notice", lines(`# Rejected: Contact ct-overturn (Acme Corp)
:warning: **ana@example.com** rejected **Contact ct-overturn (Acme Corp)**: Bad data: phone (“number is a fax”).
Think it was a good lead? Contest it by Sat 9:00 AM and the rep's manager decides whether the rejection stands.
> source demo request · CRM id ct-overturn
[Contest](contest.open=1)
`), lines(bottest.Render(notice.Last())))
	diff(t, "mia's copy", 1, len(c.posts("@"+mia, "")))

	_, refusal := c.press("bo@example.com", notice.Last(), "Contest")
	diff(t, "a rep's contest", ":refused: Only Marketing can contest a rejection: Marketing in #marketing and mia@example.com.", refusal)
	_, refusal = c.press("mia@example.com", notice.Last(), "Contest")
	diff(t, "mia's contest", "", refusal)
	asks := c.posts("@"+maria, "")
	if len(asks) != 1 {
		t.Fatalf("%d messages to the manager; want the decision request", len(asks))
	}
	ask := asks[0]
	diff(t, "the decision request", lines(`# Contested rejection: Contact ct-overturn (Acme Corp)
:unsure: **mia@example.com** (Marketing) contests **ana@example.com**'s rejection of **Contact ct-overturn (Acme Corp)**: Bad data: phone (“number is a fax”).
Uphold the rejection, and the lead stays with Marketing; overturn it, and it goes back to ana@example.com as accepted.
> source demo request · CRM id ct-overturn · only maria@example.com (ana@example.com's manager) can decide
[Uphold the rejection](contest.uphold=1) [Overturn: back to the rep](contest.overturn=1)
`), lines(bottest.Render(ask.Last())))
	diff(t, "the contested notice", lines(`# Rejected: Contact ct-overturn (Acme Corp)
:warning: **ana@example.com** rejected **Contact ct-overturn (Acme Corp)**: Bad data: phone (“number is a fax”).
:pending: Contested by mia@example.com now; maria@example.com decides.
> source demo request · CRM id ct-overturn
`), lines(bottest.Render(c.posts("#marketing", "")[0].Last())))
	_, refusal = c.press("mia@example.com", notice.Last(), "Contest")
	diff(t, "a second contest", ":done: Contact ct-overturn (Acme Corp)'s rejection was contested already, by mia@example.com on Mar 4: maria@example.com has yet to decide.", refusal)

	_, refusal = c.press("bo@example.com", ask.Last(), "Overturn: back to the rep")
	diff(t, "a rep's decision", ":refused: Only maria@example.com (the manager of ana@example.com) can decide whether the rejection of Contact ct-overturn (Acme Corp) stands.", refusal)
	if got := c.lead(l.ID); got.State != engine.StateReturned {
		t.Fatalf("a refused decision moved the lead: %s", got.State)
	}
	c.press("maria@example.com", ask.Last(), "Overturn: back to the rep")
	got := c.lead(l.ID)
	if got.State != engine.StateAcknowledged || got.OwnerEmail != "ana@example.com" || got.AcknowledgedAt.IsZero() {
		t.Errorf("after the overturn the lead is %s, %s's", got.State, got.OwnerEmail)
	}
	cards := c.posts("@"+ana, "card")
	diff(t, "ana's new card", lines(`# Lead: Contact ct-overturn (Acme Corp)
**First touch due in 15 min** — 4:15 AM
| **Who** / **Contact ct-overturn**, VP Ops / ct-overturn@acme.test / +1 555 0100
| **Company** / Acme Corp (acme.test) / 1,200 employees · Manufacturing · US
| **Why now** / demo request · enterprise / score 87 · value $25,000 / SLA: default
| **What they did** / 7 visits / pages: /pricing, /case-studies/x / downloaded: ROI guide
**Form answers**
• Budget: $50k
• Timeline: Q1
> Accepted by the rep at 4:00 AM · Your rejection (bad data: phone (“number is a fax”)) was contested by mia@example.com and overturned by maria@example.com: the lead is yours again
{Log touch…: Call, Email, Meeting, LinkedIn, Other}(lead.touch) [Reject](lead.reject form=Reject lead) [Snooze](lead.snooze form=Snooze reminders) [Return to marketing](lead.return form=Return to Marketing) [Open in CRM](https://crm.example/leads/ct-overturn)
`), lines(bottest.Render(cards[len(cards)-1].Last())))
	diff(t, "the overturned notice", lines(`# Rejected: Contact ct-overturn (Acme Corp)
:warning: **ana@example.com** rejected **Contact ct-overturn (Acme Corp)**: Bad data: phone (“number is a fax”).
:done: Contested by mia@example.com; maria@example.com overturned the rejection now: the lead is back with ana@example.com, accepted.
> source demo request · CRM id ct-overturn
`), lines(bottest.Render(c.posts("#marketing", "")[0].Last())))

	l2, notice2 := reject("ct-uphold")
	c.press("mia@example.com", notice2.Last(), "Contest")
	asks = c.posts("@"+maria, "")
	c.press("maria@example.com", asks[len(asks)-1].Last(), "Uphold the rejection")
	diff(t, "the upheld notice", lines(`# Rejected: Contact ct-uphold (Acme Corp)
:warning: **ana@example.com** rejected **Contact ct-uphold (Acme Corp)**: Bad data: phone (“number is a fax”).
:done: Contested by mia@example.com; maria@example.com upheld the rejection now: the lead stays with Marketing.
> source demo request · CRM id ct-uphold
`), lines(bottest.Render(c.posts("#marketing", "")[1].Last())))
	if got := c.lead(l2.ID); got.State != engine.StateReturned {
		t.Errorf("an upheld rejection left the lead %s", got.State)
	}
	for _, who := range []string{maria, mia} {
		diff(t, "/sla quality week for "+who, lines(`# Lead quality: week 10 (Mar 4–10)
**Handed off:** 2 · 0 awaiting a decision · 0 closed before one
:warning: **Accepted: 50%** (1 of 2 decided) · target 90%
**Rejected:** 1 — 1 bad data (mostly phone)
**Unable to reach:** 0
**Misroutes:** 0
**Contested:** 2 — 1 upheld, 1 overturned, 0 awaiting the manager
**Card feedback:** 0 had what the rep needed · 0 card missing
`), lines(c.answer(who, "quality week")))
	}
}

func TestTheCardAsksForFeedbackAfterTheFirstTouchAndCountsOneAnswerALead(t *testing.T) {
	c := newContestCore(t)
	l := c.handOff(demoLead("crm-1"))
	if got := bottest.Render(c.card(ana, l).Last()); strings.Contains(got, "Did the card have") {
		t.Fatalf("the card asks for feedback before any touch:\n%s", got)
	}
	c.pick("ana@example.com", c.card(ana, l).Last(), "Log touch…", "Call")
	asked := c.card(ana, l).Last()
	// Someone else than the owner cannot answer for her.
	diff(t, "bo's answer", ":refused: Only ana@example.com, who holds Dana Ruiz (Acme Corp), can say whether its card had what they needed.", c.pick("bo@example.com", asked, "Something was missing…", "A phone number"))
	c.pick("ana@example.com", asked, "Something was missing…", "Budget")
	diff(t, "the card after the answer", lines(`# Lead: Dana Ruiz (Acme Corp)
:done: First touch done 4:00 AM (on time)
| **Who** / **Dana Ruiz**, VP Ops / crm-1@acme.test / +1 555 0100
| **Company** / Acme Corp (acme.test) / 1,200 employees · Manufacturing · US
| **Why now** / demo request · enterprise / score 87 · value $25,000 / SLA: default
| **What they did** / 7 visits / pages: /pricing, /case-studies/x / downloaded: ROI guide
**Form answers**
• Budget: $50k
• Timeline: Q1
> 1 touch logged (call)
`+cardButtons+`> Card feedback: missing: budget. Thank you.
`), lines(bottest.Render(c.card(ana, l).Last())))
	diff(t, "a second answer", ":done: Thanks, you already told us about this card (missing: budget). One answer a lead is counted, so this one was not.", c.pick("ana@example.com", asked, "Something was missing…", "Timeline"))
	n := 0
	for _, ev := range c.events(l.ID) {
		if ev.Kind == engine.EventCardFeedback {
			n++
		}
	}
	diff(t, "feedback events", 1, n)

	// A second lead from another source, answered yes.
	h := demoLead("crm-2")
	h.Source = "web"
	l2 := c.handOff(h)
	c.pick("ana@example.com", c.card(ana, l2).Last(), "Log touch…", "Email")
	c.press("ana@example.com", c.card(ana, l2).Last(), "Yes, it did")
	diff(t, "the thanks", []string{"> Card feedback: it had what you needed. Thank you."}, lines(bottest.Render(c.card(ana, l2).Last()))[11:])
	diff(t, "/sla quality week by source", lines(`# Lead quality: week 10 (Mar 4–10)
**Handed off:** 2 · 0 awaiting a decision · 0 closed before one
:done: **Accepted: 100%** (2 of 2 decided) · target 90%
**Rejected:** 0
**Unable to reach:** 0
**Misroutes:** 0
**Contested:** 0
**Card feedback:** 1 had what the rep needed · 1 card missing (budget 1)
**Source: demo request**
**Handed off:** 1 · 0 awaiting a decision · 0 closed before one
:done: **Accepted: 100%** (1 of 1 decided) · target 90%
**Rejected:** 0
**Unable to reach:** 0
**Misroutes:** 0
**Contested:** 0
**Card feedback:** 0 had what the rep needed · 1 card missing (budget 1)
**Source: web**
**Handed off:** 1 · 0 awaiting a decision · 0 closed before one
:done: **Accepted: 100%** (1 of 1 decided) · target 90%
**Rejected:** 0
**Unable to reach:** 0
**Misroutes:** 0
**Contested:** 0
**Card feedback:** 1 had what the rep needed · 0 card missing
`), lines(c.answer(maria, "quality week by source")))
}
