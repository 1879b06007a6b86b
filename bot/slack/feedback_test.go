package slack_test

import (
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/slack/slackfake"
	"github.com/slabot/slabot/engine"
)

// contestPolicy lets Marketing (the #marketing channel and mia) contest a
// rejection within 5 days; maria manages the reps.
const contestPolicy = `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: default
    first_touch: 4h
quality:
  contest_within: 5d
  contesters: ["#marketing", mia@example.com]
`

const mia = "U0MIA"

// responseSays waits for a private answer to user containing want.
func (e *env) responseSays(user, want string) {
	e.t.Helper()
	e.waitFor("a private answer to "+user+" saying "+want, func() bool {
		for _, p := range e.fake.ResponseURLPosts() {
			if p.User == user && strings.Contains(p.Text+string(p.Body), want) {
				return true
			}
		}
		return false
	})
}

func TestMarketingContestsARejectionAndTheRepsManagerDecides(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withPolicy(contestPolicy))
	e.fake.AddUser(slackfake.User{ID: mia, Name: "mia", RealName: "Mia Marketing", Email: "mia@example.com", TZ: "UTC"})
	e.fake.AddChannel("C0MKT", "marketing")

	// reject hands off a lead to ana and has her reject it for a bad phone;
	// it returns the notice in #marketing. With refusedFirst, she first
	// submits the form without a reason, then as a duplicate of nothing:
	// Slack shows each error under its field, and the lead stays as it was.
	reject := func(id string, refusedFirst bool) (*engine.Lead, slackfake.Message) {
		t.Helper()
		h := demoLead(id)
		h.Contact.Name = "Contact " + id
		l := e.handOff(h)
		card := e.card(ana, l)
		form := e.openReject(card)
		if refusedFirst {
			if res := e.submitReject(form, map[string]string{}); !strings.Contains(string(res.Ack.Payload), "reject_reason") {
				t.Errorf("ack = %s, want an error under the reason", res.Ack.Payload)
			}
			if res := e.submitReject(form, map[string]string{"reject_reason": "duplicate"}); !strings.Contains(string(res.Ack.Payload), "reject_duplicate") {
				t.Errorf("ack = %s, want an error under the duplicate's id", res.Ack.Payload)
			}
			if got := e.lead(l.ID); got.State != engine.StateNotified && got.State != engine.StateNew {
				t.Fatalf("a refused rejection changed the lead: %s", got.State)
			}
		}
		e.submitReject(form, map[string]string{"reject_reason": "bad_data:phone", "reject_note": "number is a fax"})
		notice := e.waitMessage("C0MKT", "the rejection notice", func(m slackfake.Message) bool {
			return strings.Contains(cardText(m), "Rejected: Contact "+id) && strings.Contains(cardText(m), "[Contest]")
		})
		if !strings.Contains(cardText(notice), "Bad data: phone") {
			t.Errorf("the notice does not say why:\n%s", cardText(notice))
		}
		return l, notice
	}
	l, notice := reject("ct-overturn", true)
	e.waitMessage(e.fake.DMChannel(mia), "mia's copy of the notice", func(m slackfake.Message) bool {
		return strings.Contains(cardText(m), "Rejected: Contact ct-overturn")
	})

	// A rep is Sales, not Marketing: refused.
	if _, err := e.fake.ClickButton(ctxTimeout(t, 10*time.Second), bo, notice, "contest.open", ""); err != nil {
		t.Fatal(err)
	}
	e.responseSays(bo, "Only Marketing can contest a rejection")

	if _, err := e.fake.ClickButton(ctxTimeout(t, 10*time.Second), mia, notice, "contest.open", ""); err != nil {
		t.Fatal(err)
	}
	ask := e.waitMessage(e.fake.DMChannel(maria), "the manager's decision request", func(m slackfake.Message) bool {
		return strings.Contains(cardText(m), "Contested rejection: Contact ct-overturn") && strings.Contains(cardText(m), "[Overturn: back to the rep]")
	})
	e.waitCard(notice, "the notice to say it is contested", func(m slackfake.Message) bool {
		return strings.Contains(cardText(m), "Contested by mia@example.com") && !strings.Contains(cardText(m), "[Contest]")
	})
	// A second contest of the same rejection is answered, not recorded.
	if _, err := e.fake.ClickButtonAsSeen(ctxTimeout(t, 10*time.Second), mia, notice, "contest.open", ""); err != nil {
		t.Fatal(err)
	}
	e.responseSays(mia, "was contested already")

	// Only ana's manager decides.
	if _, err := e.fake.ClickButton(ctxTimeout(t, 10*time.Second), bo, ask, "contest.overturn", ""); err != nil {
		t.Fatal(err)
	}
	e.responseSays(bo, "Only maria@example.com")
	if got := e.lead(l.ID); got.State != engine.StateReturned {
		t.Fatalf("a refused decision moved the lead: %s", got.State)
	}
	if _, err := e.fake.ClickButton(ctxTimeout(t, 10*time.Second), maria, ask, "contest.overturn", ""); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the lead to go back to ana, accepted", func() bool {
		got := e.lead(l.ID)
		return got.State == engine.StateAcknowledged && got.OwnerEmail == "ana@example.com" && !got.AcknowledgedAt.IsZero()
	})
	e.waitMessage(e.fake.DMChannel(ana), "ana's new card", func(m slackfake.Message) bool {
		return strings.Contains(cardText(m), "Lead: Contact ct-overturn") && strings.Contains(cardText(m), "[Reject]") &&
			strings.Contains(cardText(m), "Your rejection (bad data: phone (“number is a fax”)) was contested by mia@example.com and overturned by maria@example.com")
	})
	e.waitCard(notice, "the notice to say it was overturned", func(m slackfake.Message) bool {
		return strings.Contains(cardText(m), "maria@example.com overturned the rejection")
	})

	// The second lead's rejection is upheld.
	l2, notice2 := reject("ct-uphold", false)
	if _, err := e.fake.ClickButton(ctxTimeout(t, 10*time.Second), mia, notice2, "contest.open", ""); err != nil {
		t.Fatal(err)
	}
	ask2 := e.waitMessage(e.fake.DMChannel(maria), "the second decision request", func(m slackfake.Message) bool {
		return strings.Contains(cardText(m), "Contested rejection: Contact ct-uphold") && strings.Contains(cardText(m), "[Uphold the rejection]")
	})
	if _, err := e.fake.ClickButton(ctxTimeout(t, 10*time.Second), maria, ask2, "contest.uphold", ""); err != nil {
		t.Fatal(err)
	}
	e.waitCard(notice2, "the notice to say it was upheld", func(m slackfake.Message) bool {
		return strings.Contains(cardText(m), "maria@example.com upheld the rejection")
	})
	if got := e.lead(l2.ID); got.State != engine.StateReturned {
		t.Errorf("an upheld rejection left the lead %s", got.State)
	}

	for _, who := range []string{maria, mia} {
		text := answerText(e.sla(who, "quality week").Body)
		for _, want := range []string{
			"Handed off:* 2 · 0 awaiting a decision · 0 closed before one",
			"Accepted: 50%* (1 of 2 decided)",
			"Rejected:* 1 — 1 bad data (mostly phone)",
			"Contested:* 2 — 1 upheld, 1 overturned, 0 awaiting the manager",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("/sla quality for %s does not say %q:\n%s", who, want, text)
			}
		}
	}
}
