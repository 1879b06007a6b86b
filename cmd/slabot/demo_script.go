package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slabot/slabot/engine"
)

// demoLead is one hand-off of the demo, as a CRM would send it.
type demoLead struct {
	id, source, owner, name, title, email, company string
	employees, score                               int
	value                                          float64
}

func (l demoLead) json() string {
	owner := ""
	if l.owner != "" {
		owner = fmt.Sprintf(`"owner_email": %q,`, l.owner)
	}
	return fmt.Sprintf(`{"external_id": %q, "source": %q, "segment": "mid_market", "score": %d, %s
 "contact": {"name": %q, "email": %q, "title": %q, "phone": "+1 555 0100"},
 "company": {"name": %q, "employees": %d, "industry": "Manufacturing", "country": "US"},
 "context": {"form": {"Budget": "$40k", "Timeline": "This quarter"}, "activity": {"visits": 6, "pages": ["/pricing", "/demo"]}},
 "crm_url": "https://crm.example/leads/%s", "value": %g}`,
		l.id, l.source, l.score, owner, l.name, l.email, l.title, l.company, l.employees, l.id, l.value)
}

// script is the demo's hour: hand-offs from several sources, reps who act,
// snooze, return or ignore, and what slabot does about each.
func (d *demo) script(ctx context.Context) error {
	leads := []demoLead{
		{id: "crm-1001", source: "demo_request", owner: "ana@example.com", name: "Dana Ruiz", title: "VP Operations", email: "dana@acme.test", company: "Acme Corp", employees: 1200, score: 87, value: 25000},
		{id: "crm-1002", source: "webinar", name: "Lee Park", title: "IT Manager", email: "lee@globex.test", company: "Globex", employees: 300, score: 64, value: 8000},
		{id: "crm-1003", source: "demo_request", owner: "dee@example.com", name: "Sam Okafor", title: "Head of Procurement", email: "sam@initech.test", company: "Initech", employees: 850, score: 91, value: 40000},
		{id: "crm-1004", source: "content_download", owner: "ana@example.com", name: "Kim Weber", title: "Student", email: "kim@uni.test", company: "State University", employees: 20000, score: 22, value: 0},
		{id: "crm-1005", source: "webinar", owner: "bo@example.com", name: "Ravi Shah", title: "CFO", email: "ravi@umbrella.test", company: "Umbrella Ltd", employees: 600, score: 70, value: 12000},
		{id: "crm-1006", source: "trial_signup", owner: "ana@example.com", name: "Rae Lin", title: "COO", email: "rae@hooli.test", company: "Hooli", employees: 400, score: 70, value: 12000},
	}
	steps := []struct {
		at float64
		do func(context.Context) error
	}{
		{1, func(ctx context.Context) error {
			return d.send(ctx, leads[0], "a demo request from Acme Corp, for Ana")
		}},
		{4, func(ctx context.Context) error {
			return d.click(ctx, "U0ANA", leads[0].id, "lead.ack", "", "Ana taps Accept")
		}},
		{5, func(ctx context.Context) error {
			return d.send(ctx, leads[1], "a webinar lead with no owner: the round robin picks")
		}},
		{7, func(ctx context.Context) error {
			return d.click(ctx, "U0ANA", leads[0].id, "lead.touch", "call", "Ana calls Dana and logs the call")
		}},
		{8, func(ctx context.Context) error {
			return d.send(ctx, leads[2], "a demo request for Dee, who is away: it goes to the next rep and ops hear of it")
		}},
		{9, func(ctx context.Context) error {
			return d.send(ctx, leads[4], "a webinar lead for Bo, though Umbrella is Chen's account")
		}},
		{11, func(ctx context.Context) error {
			return d.snooze(ctx, leads[1].id, "Lee asked for a call back after lunch")
		}},
		{12, func(ctx context.Context) error {
			return d.rejectWrongOwner(ctx, "U0BO", leads[4].id, "chen@example.com", "Chen owns Umbrella")
		}},
		{13, func(ctx context.Context) error { return d.send(ctx, leads[3], "a content download, for Ana") }},
		{16, func(ctx context.Context) error {
			return d.returnLead(ctx, "U0ANA", leads[3].id, "not_a_buyer", "a student writing a thesis")
		}},
		{18, func(ctx context.Context) error {
			d.say("%s sends Acme Corp again (a workflow re-fired):", d.style.Bold("The CRM"))
			code, body, err := d.handOff(ctx, leads[0].json())
			if err == nil {
				d.say("  intake answers %d: %s", code, shorten(body, 160))
			}
			return err
		}},
		{19, func(ctx context.Context) error {
			return d.click(ctx, "U0ANA", leads[0].id, "lead.feedback", "yes", "Ana answers the card's question: it had what she needed")
		}},
		{20, func(ctx context.Context) error {
			return d.click(ctx, "U0ANA", leads[0].id, "lead.touch", "email", "Ana follows up by email")
		}},
		{22, func(ctx context.Context) error {
			return d.click(ctx, "U0BO", leads[0].id, "lead.snooze", "", "Bo taps Snooze on Ana's lead, by mistake")
		}},
		{24, func(ctx context.Context) error {
			d.say("%s", d.style.Bold("Sam Okafor's first-touch deadline passes untouched: slabot escalates and reassigns"))
			return nil
		}},
		{32, func(ctx context.Context) error { return d.newOwnerActs(ctx, leads[2].id) }},
		{42, func(ctx context.Context) error {
			return d.command(ctx, "U0MARIA", "status team", "Maria checks the team in the pipeline meeting")
		}},
		{43, func(ctx context.Context) error {
			return d.command(ctx, "U0MARIA", "sources last 90d", "Maria asks which sources turned into pipeline this quarter")
		}},
		{44, func(ctx context.Context) error {
			return d.command(ctx, "U0MARIA", "speed last 90d", "…and whether answering faster paid")
		}},
		{46, func(ctx context.Context) error { return d.report(ctx) }},
		// Recycling comes last: its waits (a form worked after it is
		// acknowledged, a card through the paced send queue) then hold up
		// no other part of the story on a busy machine.
		{47, func(ctx context.Context) error { return d.send(ctx, leads[5], "a trial sign-up from Hooli, for Ana") }},
		{48, func(ctx context.Context) error {
			return d.returnNotNow(ctx, leads[5], "budget opens next quarter")
		}},
		{49, func(ctx context.Context) error {
			again := leads[5]
			again.id, again.owner = "crm-1006-r", ""
			if err := d.send(ctx, again, "Rae Lin again, naming no owner (on the revisit date, say): the card opens with the history and goes back to Ana"); err != nil {
				return err
			}
			return d.waitNotified(ctx, again.id)
		}},
	}
	for _, s := range steps {
		wait := s.at - time.Since(d.start).Seconds()*d.speed
		if wait > 0 {
			if err := d.pause(ctx, wait); err != nil {
				return err
			}
		}
		if err := s.do(ctx); err != nil {
			return err
		}
	}
	return nil
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func (d *demo) send(ctx context.Context, l demoLead, what string) error {
	d.say("%s hands off %s", d.style.Bold("Marketing"), what)
	code, body, err := d.handOff(ctx, l.json())
	if err != nil {
		return err
	}
	d.say("  intake answers %d: %s", code, shorten(body, 160))
	return nil
}

// person is the demo's person with a chat id.
func person(id string) demoPerson {
	for _, p := range demoPeople {
		if p.ID == id {
			return p
		}
	}
	return demoPerson{ID: id, Name: id}
}

// leadID is the id slabot gave a lead the demo handed off.
func (d *demo) leadID(ctx context.Context, externalID string) (int64, error) {
	l, err := d.app.Service.LeadByExternalID(ctx, externalID)
	if err != nil {
		return 0, err
	}
	return l.ID, nil
}

func (d *demo) click(ctx context.Context, userID, externalID, action, value, what string) error {
	id, err := d.leadID(ctx, externalID)
	if err != nil {
		return err
	}
	owner := person(d.ownerID(ctx, externalID))
	if owner.ID == "" {
		owner = person(userID)
	}
	d.say("%s", d.style.Bold(what))
	if err := d.chat.press(ctx, person(userID), owner, id, action, value); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func (d *demo) ownerID(ctx context.Context, externalID string) string {
	l, err := d.app.Service.LeadByExternalID(ctx, externalID)
	if err != nil {
		return ""
	}
	for _, p := range demoPeople {
		if p.Email == l.OwnerEmail {
			return p.ID
		}
	}
	return ""
}

func (d *demo) snooze(ctx context.Context, externalID, reason string) error {
	owner := person(d.ownerID(ctx, externalID))
	id, err := d.leadID(ctx, externalID)
	if err != nil {
		return err
	}
	d.say("%s", d.style.Bold(owner.Name+" taps Snooze"))
	d.say("  …and snoozes for 2 hours: %q", reason)
	return d.chat.fill(ctx, owner, id, "lead.snooze", map[string]string{"snooze_length": "2h", "snooze_reason": reason})
}

func (d *demo) returnLead(ctx context.Context, userID, externalID, code, details string) error {
	who := person(userID)
	id, err := d.leadID(ctx, externalID)
	if err != nil {
		return err
	}
	d.say("%s", d.style.Bold(who.Name+" taps Return to marketing"))
	d.say("  …and first submits without a reason, then with one: %q", details)
	return d.chat.fill(ctx, who, id, "lead.return", map[string]string{}, map[string]string{"return_code": code, "return_details": details})
}

// rejectWrongOwner has a rep reject a lead as someone else's: slabot
// re-routes it at once, with a fresh clock, and tells ops of the misroute.
func (d *demo) rejectWrongOwner(ctx context.Context, userID, externalID, owner, note string) error {
	who := person(userID)
	id, err := d.leadID(ctx, externalID)
	if err != nil {
		return err
	}
	// The card must be in the rep's chat before they can press on it.
	if err := d.waitNotified(ctx, externalID); err != nil {
		return err
	}
	d.say("%s", d.style.Bold(who.Name+" taps Reject: wrong owner, it is "+owner+"'s"))
	return d.chat.fill(ctx, who, id, "lead.reject", map[string]string{"reject_reason": "wrong_owner", "reject_owner": owner, "reject_note": note})
}

// waitNotified waits until the lead's card has reached its owner, so the
// story shows it before it moves on, however busy the machine.
func (d *demo) waitNotified(ctx context.Context, externalID string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		l, err := d.app.Service.LeadByExternalID(ctx, externalID)
		if err != nil {
			return err
		}
		if l.State != engine.StateNew {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the card of %s never reached its owner", externalID)
		}
		if err := d.pause(ctx, 0.1*d.speed); err != nil {
			return err
		}
	}
}

// returnNotNow has the lead's owner return it as "not now", to revisit
// in a month.
func (d *demo) returnNotNow(ctx context.Context, l demoLead, details string) error {
	externalID := l.id
	owner := person(d.ownerID(ctx, externalID))
	id, err := d.leadID(ctx, externalID)
	if err != nil {
		return err
	}
	revisit := d.app.Service.Now().AddDate(0, 1, 0).Format(time.DateOnly)
	d.say("%s", d.style.Bold(owner.Name+" returns "+l.name+" as \"not now\", to revisit on "+revisit))
	d.say("  …on that date's business morning slabot tells the report channel and fires lead.recycle_due")
	if err := d.chat.fill(ctx, owner, id, "lead.return",
		map[string]string{"return_code": "not_now", "return_details": details, "return_revisit": revisit}); err != nil {
		return err
	}
	// The form is worked after it is acknowledged: wait for the return,
	// so the contact handed off next is a returning one.
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, err := d.app.Service.LeadByExternalID(ctx, externalID)
		if err != nil {
			return err
		}
		if l.State == engine.StateReturned {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s was not returned as not now", externalID)
		}
		if err := d.pause(ctx, 0.1*d.speed); err != nil {
			return err
		}
	}
}

func (d *demo) command(ctx context.Context, userID, text, what string) error {
	d.say("%s: /sla %s", d.style.Bold(what), text)
	return d.chat.command(ctx, person(userID), text)
}

// newOwnerActs waits for the reassigned lead's new owner and has them
// acknowledge it and call.
func (d *demo) newOwnerActs(ctx context.Context, externalID string) error {
	first := d.ownerID(ctx, externalID)
	deadline := time.Now().Add(20 * time.Second)
	owner := first
	for {
		l, err := d.app.Service.LeadByExternalID(ctx, externalID)
		if err != nil {
			return err
		}
		if l.Reassignments > 0 {
			owner = d.ownerID(ctx, externalID)
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s was never reassigned after its breach", externalID)
		}
		if err := d.pause(ctx, 0.2*d.speed); err != nil {
			return err
		}
	}
	name := person(owner).Name
	if err := d.click(ctx, owner, externalID, "lead.ack", "", name+", the lead's new owner, taps Accept"); err != nil {
		return err
	}
	return d.click(ctx, owner, externalID, "lead.touch", "call", name+" calls Sam and logs it")
}

func (d *demo) report(ctx context.Context) error {
	report, _ := d.chat.channels()
	d.say("%s", d.style.Bold("Monday 9:00: the weekly smarketing report goes to "+report))
	policy := d.app.Service.Policy()
	week, err := engine.PeriodContaining("week", d.app.Service.Now(), policy.Location)
	if err != nil {
		return err
	}
	return d.app.Bot.PostWeeklyReport(ctx, week)
}
