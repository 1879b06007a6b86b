package slack_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot/slack/slackfake"
	"github.com/slabot/slabot/engine"
)

func TestHandOffCardArrivesInTheOwnersDM(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	l := e.handOff(demoLead("crm-123"))
	msg := e.card(ana, l)
	text := cardText(msg)
	for _, want := range []string{
		"New lead: Dana Ruiz (Acme Corp)", "VP Ops", "crm-123@acme.test", "+1 555 0100", // who
		"Acme Corp", "1,200 employees", "Manufacturing", "US", // company
		"demo request", "enterprise", "score 87", "$25,000", // why now
		"7 visits", "/pricing", "ROI guide", "Budget: $50k", "Timeline: Q1", // what they did
		"First touch due in 15 min", "0/8 touches, 15 days left", // deadline and cadence
		"[Accept]", "[Log touch…]", "[Reject]", "[Snooze]", "[Return to marketing]", "[Open in CRM]",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("card does not show %q:\n%s", want, text)
		}
	}
	if msg.Metadata == nil || msg.Metadata.EventType != "slabot_lead_card" {
		t.Errorf("card metadata = %+v, want the lead card tag", msg.Metadata)
	}
	e.waitFor("the lead to be marked notified", func() bool { return e.lead(l.ID).State == engine.StateNotified })
}

func TestCardActions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	l := e.handOff(demoLead("crm-actions"))
	msg := e.card(ana, l)
	e.waitFor("the lead to be marked notified", func() bool { return e.lead(l.ID).State == engine.StateNotified })
	ctx := ctxTimeout(t, 30*time.Second)

	// Someone neither the owner nor their manager is told why, privately,
	// and the lead is as it was.
	t.Run("AStrangersClickChangesNothing", func(t *testing.T) {
		before := len(e.events(l.ID))
		if _, err := e.fake.ClickButton(ctx, stranger, msg, "lead.ack", ""); err != nil {
			t.Fatal(err)
		}
		var explanation string
		e.waitFor("the stranger's explanation", func() bool {
			for _, p := range e.fake.ResponseURLPosts() {
				if p.User == stranger {
					explanation = p.Text
					return true
				}
			}
			return false
		})
		if !strings.Contains(explanation, "ana@example.com") {
			t.Errorf("explanation %q does not name the owner", explanation)
		}
		if got := e.lead(l.ID); got.State == engine.StateAcknowledged {
			t.Error("a stranger acknowledged the lead")
		}
		if after := len(e.events(l.ID)); after != before {
			t.Errorf("a stranger's click appended %d events", after-before)
		}
	})

	t.Run("Acknowledge", func(t *testing.T) {
		if _, err := e.fake.ClickButton(ctx, ana, msg, "lead.ack", ""); err != nil {
			t.Fatal(err)
		}
		e.waitCard(msg, "who acknowledged", func(m slackfake.Message) bool {
			return strings.Contains(cardText(m), "Accepted by ana@example.com")
		})
		if got := e.lead(l.ID); got.State != engine.StateAcknowledged || got.AcknowledgedAt.IsZero() {
			t.Errorf("lead state %s, acknowledged at %v", got.State, got.AcknowledgedAt)
		}
		if ev := e.lastEvent(l.ID); ev.Kind != "acknowledged" || ev.Actor != "ana@example.com" {
			t.Errorf("last event %s by %s", ev.Kind, ev.Actor)
		}
	})

	t.Run("LogTouch", func(t *testing.T) {
		if _, err := e.fake.ClickButton(ctx, ana, msg, "lead.touch", "call"); err != nil {
			t.Fatal(err)
		}
		card := e.waitCard(msg, "the touch", func(m slackfake.Message) bool { return strings.Contains(cardText(m), "1 touch logged (call)") })
		if text := cardText(card); !strings.Contains(text, "First touch done") || !strings.Contains(text, "1/8 touches") {
			t.Errorf("card after a touch:\n%s", text)
		}
		if got := e.lead(l.ID); got.State != engine.StateWorking || got.FirstTouchAt.IsZero() {
			t.Errorf("lead state %s, first touch %v", got.State, got.FirstTouchAt)
		}
		if ev := e.lastEvent(l.ID); ev.Kind != "touch" {
			t.Errorf("last event %s, want touch", ev.Kind)
		}
	})

	t.Run("SnoozeNeedsAReasonThenSilencesReminders", func(t *testing.T) {
		if _, err := e.fake.ClickButton(ctx, ana, msg, "lead.snooze", ""); err != nil {
			t.Fatal(err)
		}
		view := e.openedView(ana, "lead.snooze")
		res, err := e.fake.SubmitView(ctx, ana, view, map[string]map[string]any{"snooze_length": {"value": "2h"}, "snooze_reason": {"value": ""}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(res.Ack.Payload), "errors") || e.lead(l.ID).State == engine.StateSnoozed {
			t.Fatalf("a snooze without a reason was accepted: ack %s", res.Ack.Payload)
		}
		if _, err := e.fake.SubmitView(ctx, ana, view, map[string]map[string]any{"snooze_length": {"value": "2h"}, "snooze_reason": {"value": "buyer at a trade fair"}}); err != nil {
			t.Fatal(err)
		}
		e.waitCard(msg, "the snooze", func(m slackfake.Message) bool { return strings.Contains(cardText(m), "Snoozed: buyer at a trade fair") })
		if ev := e.lastEvent(l.ID); ev.Kind != "snoozed" || ev.Data["reason"] != "buyer at a trade fair" {
			t.Errorf("last event %s %v", ev.Kind, ev.Data)
		}
	})

	t.Run("ReturnToMarketingWithoutAReasonIsRefused", func(t *testing.T) {
		if _, err := e.fake.ClickButton(ctx, ana, msg, "lead.return", ""); err != nil {
			t.Fatal(err)
		}
		view := e.openedView(ana, "lead.return")
		res, err := e.fake.SubmitView(ctx, ana, view, map[string]map[string]any{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(res.Ack.Payload), "return_code") {
			t.Errorf("ack = %s, want an error under the reason", res.Ack.Payload)
		}
		res, err = e.fake.SubmitView(ctx, ana, view, map[string]map[string]any{"return_code": {"value": "other"}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(res.Ack.Payload), "return_details") {
			t.Errorf("ack = %s, want 'other' to ask for details", res.Ack.Payload)
		}
		if got := e.lead(l.ID).State; got == engine.StateReturned {
			t.Fatal("the lead was returned without a reason")
		}
	})

	t.Run("ReturnToMarketingWithAReason", func(t *testing.T) {
		view := e.openedView(ana, "lead.return")
		if _, err := e.fake.SubmitView(ctx, ana, view, map[string]map[string]any{"return_code": {"value": "no_budget"}, "return_details": {"value": "frozen until Q3"}}); err != nil {
			t.Fatal(err)
		}
		card := e.waitCard(msg, "the return", func(m slackfake.Message) bool { return strings.Contains(cardText(m), "Returned to Marketing") })
		if text := cardText(card); strings.Contains(text, "[Accept]") || strings.Contains(text, "[Snooze]") {
			t.Errorf("a returned lead's card still has action buttons:\n%s", text)
		}
		got := e.lead(l.ID)
		if got.State != engine.StateReturned || got.ReturnReason != "No budget or no project: frozen until Q3" {
			t.Errorf("lead state %s, reason %q", got.State, got.ReturnReason)
		}
	})
}

// openedView waits for the modal the bot opened for a user.
func (e *env) openedView(userID, callbackID string) (view slack.View) {
	e.t.Helper()
	e.waitFor("the "+callbackID+" modal", func() bool {
		for _, v := range e.fake.OpenViews(userID) {
			if v.CallbackID == callbackID {
				view = v
				return true
			}
		}
		return false
	})
	return view
}

func TestACardWithHugeFieldsStaysWithinSlacksLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	long := strings.Repeat("Ü", 1000)
	h := demoLead("crm-huge")
	h.Contact.Name, h.Contact.Title, h.Company.Name, h.Company.Industry, h.Source = long, long, long, long, long
	h.Context.Form = map[string]string{}
	for i := range 60 {
		h.Context.Form[fmt.Sprintf("Question %02d %s", i, strings.Repeat("?", 200))] = strings.Repeat("answer ", 140)
	}
	h.Context.Activity.Pages = nil
	for i := range 200 {
		h.Context.Activity.Pages = append(h.Context.Activity.Pages, fmt.Sprintf("/a/very/long/page/path/number/%d", i))
	}
	l := e.handOff(h)
	if len(l.Context.Form) != engine.MaxFormAnswers || l.Context.Omitted.FormAnswers != 10 || l.Context.Omitted.Pages != 150 {
		t.Errorf("the lead keeps %d answers (%d left in the CRM) and %d pages (%d left); want 50 (10) and 50 (150)",
			len(l.Context.Form), l.Context.Omitted.FormAnswers, len(l.Context.Activity.Pages), l.Context.Omitted.Pages)
	}
	msg := e.card(ana, l) // the fake refuses a message that breaks a Block Kit limit
	text := cardText(msg)
	if !strings.Contains(text, "…") {
		t.Error("nothing on the card was shortened")
	}
	for _, want := range []*regexp.Regexp{regexp.MustCompile(`\+\d+ more answers in the CRM`), regexp.MustCompile(`\+\d+ more pages in the CRM`)} {
		if !want.MatchString(text) {
			t.Errorf("the card does not say how much more is in the CRM (%s):\n%s", want, text)
		}
	}
	if _, err := e.fake.ClickButton(ctxTimeout(t, 10*time.Second), ana, msg, "lead.ack", ""); err != nil {
		t.Fatal(err)
	}
	e.waitCard(msg, "the acknowledgement", func(m slackfake.Message) bool { return m.Updates > 0 })
}
