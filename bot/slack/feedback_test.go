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

func feedbackEvents(events []engine.Event) int {
	n := 0
	for _, ev := range events {
		if ev.Kind == engine.EventCardFeedback {
			n++
		}
	}
	return n
}

func TestTheCardAsksForFeedbackAfterTheFirstTouchAndCountsOneAnswerALead(t *testing.T) {
	e := newEnv(t, withPolicy(qualityPolicy))
	l := e.handOff(demoLead("fb-1"))
	card := e.card(ana, l)
	if strings.Contains(cardText(card), "Did the card have what you needed?") {
		t.Fatalf("the card asks for feedback before any touch:\n%s", cardText(card))
	}
	if _, err := e.fake.ClickButton(ctxTimeout(t, 10*time.Second), ana, card, "lead.touch", "call"); err != nil {
		t.Fatal(err)
	}
	asked := e.waitCard(card, "the feedback question", func(m slackfake.Message) bool {
		return strings.Contains(cardText(m), "Did the card have what you needed?") && strings.Contains(cardText(m), "[Yes, it did]")
	})
	// Someone else than the owner cannot answer for her.
	if _, err := e.fake.ClickButton(ctxTimeout(t, 10*time.Second), bo, asked, "lead.feedback", "phone"); err != nil {
		t.Fatal(err)
	}
	e.responseSays(bo, "Only ana@example.com")
	if _, err := e.fake.ClickButton(ctxTimeout(t, 10*time.Second), ana, asked, "lead.feedback", "budget"); err != nil {
		t.Fatal(err)
	}
	e.waitCard(card, "the answer in place of the question", func(m slackfake.Message) bool {
		return strings.Contains(cardText(m), "Card feedback: missing: budget") && !strings.Contains(cardText(m), "[Yes, it did]")
	})
	// A second press on the card as she still saw it: thanked, not counted.
	if _, err := e.fake.ClickButtonAsSeen(ctxTimeout(t, 10*time.Second), ana, asked, "lead.feedback", "yes"); err != nil {
		t.Fatal(err)
	}
	e.responseSays(ana, "you already told us about this card (missing: budget)")
	if n := feedbackEvents(e.events(l.ID)); n != 1 {
		t.Errorf("%d feedback answers recorded, want 1", n)
	}

	// A second lead from another source, answered yes.
	h := demoLead("fb-2")
	h.Source = "web"
	l2 := e.handOff(h)
	card2 := e.card(ana, l2)
	if _, err := e.fake.ClickButton(ctxTimeout(t, 10*time.Second), ana, card2, "lead.touch", "email"); err != nil {
		t.Fatal(err)
	}
	asked2 := e.waitCard(card2, "the feedback question", func(m slackfake.Message) bool { return strings.Contains(cardText(m), "[Yes, it did]") })
	if _, err := e.fake.ClickButton(ctxTimeout(t, 10*time.Second), ana, asked2, "lead.feedback", "yes"); err != nil {
		t.Fatal(err)
	}
	e.waitCard(card2, "the thanks", func(m slackfake.Message) bool {
		return strings.Contains(cardText(m), "Card feedback: it had what you needed")
	})

	text := answerText(e.sla(maria, "quality week by source").Body)
	for _, want := range []string{
		"Card feedback:* 1 had what the rep needed · 1 card missing (budget 1)",
		"Source: demo request",
		"Card feedback:* 0 had what the rep needed · 1 card missing (budget 1)",
		"Source: web",
		"Card feedback:* 1 had what the rep needed · 0 card missing",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/sla quality does not say %q:\n%s", want, text)
		}
	}
}

func TestMarketingContestsARejectionAndTheRepsManagerDecides(t *testing.T) {
	e := newEnv(t, withPolicy(contestPolicy))
	e.fake.AddUser(slackfake.User{ID: mia, Name: "mia", RealName: "Mia Marketing", Email: "mia@example.com", TZ: "UTC"})
	e.fake.AddChannel("C0MKT", "marketing")

	// reject hands off a lead to ana and has her reject it for a bad phone;
	// it returns the notice in #marketing.
	reject := func(id string) (*engine.Lead, slackfake.Message) {
		t.Helper()
		h := demoLead(id)
		h.Contact.Name = "Contact " + id
		l := e.handOff(h)
		card := e.card(ana, l)
		e.reject(card, map[string]string{"reject_reason": "bad_data:phone", "reject_note": "number is a fax"})
		notice := e.waitMessage("C0MKT", "the rejection notice", func(m slackfake.Message) bool {
			return strings.Contains(cardText(m), "Rejected: Contact "+id) && strings.Contains(cardText(m), "[Contest]")
		})
		if !strings.Contains(cardText(notice), "Bad data: phone") {
			t.Errorf("the notice does not say why:\n%s", cardText(notice))
		}
		return l, notice
	}
	l, notice := reject("ct-overturn")
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
	l2, notice2 := reject("ct-uphold")
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
