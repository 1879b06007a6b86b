package teams_test

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/teams/teamsfake"
	"github.com/slabot/slabot/engine"
)

// The Slack end-to-end stories, on Teams.

func TestHandOffCardArrivesInTheOwnersChat(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	l := e.handOff(demoLead("crm-123"))
	post := e.card(ana, l)
	card := post.Activity.Cards()[0]
	mustSay(t, "the card", text(card),
		"New lead: Dana Ruiz (Acme Corp)", "VP Ops", "crm-123@acme.test", "+1 555 0100",
		"1,200 employees", "Manufacturing", "score 87", "$25,000", "7 visits", "/pricing",
		"First touch due in 15 min", "0/8 touches, 15 days left")
	if got := strings.Join(teamsfake.CardVerbs(card), " "); got != "lead.ack lead.touch lead.reject lead.snooze lead.return" {
		t.Errorf("the card's verbs are %q", got)
	}
	if v := card["version"]; v != "1.5" {
		t.Errorf("card version %v, want 1.5", v)
	}
	e.waitFor("the lead to be marked notified", func() bool { return e.lead(l.ID).State == engine.StateNotified })
	// The chat was opened once, for ana's Entra object id, in the tenant.
	var creates int
	for _, c := range e.fake.Calls() {
		if c.Method == "POST" && strings.HasSuffix(c.Path, "/v3/conversations") {
			creates++
		}
	}
	if creates != 1 {
		t.Errorf("%d 1:1 chats created, want 1", creates)
	}
}

// TestCardActions is the click story on Teams, with every kind of form
// on the card: each click is an Action.Execute invoke answered with the
// redrawn card, or with a refusal in plain text.
func TestCardActions(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	l := e.handOff(demoLead("crm-actions"))
	post := e.card(ana, l)
	e.waitFor("the lead to be marked notified", func() bool { return e.lead(l.ID).State == engine.StateNotified })

	t.Run("AStrangersClickChangesNothing", func(t *testing.T) {
		before := len(e.events(l.ID))
		// Teams shows a 1:1 chat to its person only; a stranger meets the
		// same card where it was shared with them, which the fake plays by
		// letting eve press the button of the card ana got, as eve.
		res := e.clickAs(stranger, post, "lead.ack")
		if res.Type != "application/vnd.microsoft.activity.message" || !strings.Contains(res.Message, ana) {
			t.Errorf("the stranger was answered %s %q; want a refusal naming the owner", res.Type, res.Message)
		}
		if strings.ContainsAny(res.Message, `\*`) {
			t.Errorf("the refusal shows Markdown, which Teams displays as it is: %q", res.Message)
		}
		if got := e.lead(l.ID); got.State == engine.StateAcknowledged {
			t.Error("a stranger acknowledged the lead")
		}
		if after := len(e.events(l.ID)); after != before {
			t.Errorf("a stranger's click appended %d events", after-before)
		}
	})

	t.Run("Acknowledge", func(t *testing.T) {
		res := e.click(ana, post, "lead.ack", nil)
		if res.Type != "application/vnd.microsoft.card.adaptive" {
			t.Fatalf("the click was answered with %s %q, want the redrawn card", res.Type, res.Message)
		}
		mustSay(t, "the redrawn card", text(res.Card), "Accepted by ana@example.com")
		if verbs := teamsfake.CardVerbs(res.Card); slices.Contains(verbs, "lead.ack") {
			t.Errorf("an accepted card still offers Accept: %v", verbs)
		}
		if got := e.lead(l.ID); got.State != engine.StateAcknowledged || got.AcknowledgedAt.IsZero() {
			t.Errorf("lead state %s, acknowledged at %v", got.State, got.AcknowledgedAt)
		}
		if ev := e.lastEvent(l.ID); ev.Kind != "acknowledged" || ev.Actor != ana {
			t.Errorf("last event %s by %s", ev.Kind, ev.Actor)
		}
	})

	t.Run("LogTouch", func(t *testing.T) {
		if strings.Contains(text(e.seen(ana, post)), "Did the card have what you needed?") {
			t.Error("the card asks for feedback before any touch")
		}
		res := e.click(ana, post, "lead.touch", map[string]any{"touch_kind": "call"})
		if res.Type != "application/vnd.microsoft.card.adaptive" {
			t.Fatalf("the touch was answered with %s %q", res.Type, res.Message)
		}
		mustSay(t, "the card after a touch", text(res.Card), "1 touch logged (call)", "First touch done", "1/8 touches")
		if got := e.lead(l.ID); got.State != engine.StateWorking || got.FirstTouchAt.IsZero() {
			t.Errorf("lead state %s, first touch %v", got.State, got.FirstTouchAt)
		}
		if ev := e.lastEvent(l.ID); ev.Kind != "touch" {
			t.Errorf("last event %s, want touch", ev.Kind)
		}
		asked, _ := json.Marshal(res.Card)
		mustSay(t, "the card after the first touch", string(asked), "Did the card have what you needed?", "Yes, it did", "Something was missing")
	})

	t.Run("SnoozeNeedsAReason", func(t *testing.T) {
		res := e.click(ana, post, "lead.snooze", map[string]any{"snooze_length": "2h", "snooze_reason": " "})
		if res.Type != "application/vnd.microsoft.activity.message" || !strings.Contains(res.Message, "Say why") {
			t.Errorf("a snooze without a reason was answered %s %q", res.Type, res.Message)
		}
		if e.lead(l.ID).State == engine.StateSnoozed {
			t.Fatal("a snooze without a reason was accepted")
		}
		res = e.click(ana, post, "lead.snooze", map[string]any{"snooze_length": "2h", "snooze_reason": "buyer at a trade fair"})
		mustSay(t, "the card after the snooze", text(res.Card), "Snoozed: buyer at a trade fair")
		if ev := e.lastEvent(l.ID); ev.Kind != "snoozed" || ev.Data["reason"] != "buyer at a trade fair" {
			t.Errorf("last event %s %v", ev.Kind, ev.Data)
		}
	})

	t.Run("ReturnToMarketingWithAReason", func(t *testing.T) {
		// The card's return form holds a date input, a quarter ahead by
		// default, from tomorrow to a year ahead.
		today := time.Now().UTC()
		raw, _ := json.Marshal(e.seen(ana, post))
		for _, want := range []string{`"type":"Input.Date"`, `"id":"return_revisit"`,
			`"value":"` + today.AddDate(0, 0, 90).Format(time.DateOnly) + `"`,
			`"min":"` + today.AddDate(0, 0, 1).Format(time.DateOnly) + `"`,
			`"max":"` + today.AddDate(0, 0, 365).Format(time.DateOnly) + `"`} {
			if !strings.Contains(string(raw), want) {
				t.Errorf("the return form lacks %s:\n%s", want, raw)
			}
		}
		// What a client may type in the date input that is not a date, and
		// a past date, are refused, saying what to enter.
		for _, bad := range []struct{ date, says string }{
			{"next spring", "That is not a date: choose one from tomorrow to a year ahead, written YYYY-MM-DD."},
			{today.AddDate(0, 0, -3).Format(time.DateOnly), "is not in the future: choose a date to revisit between"},
		} {
			res := e.click(ana, post, "lead.return", map[string]any{"return_code": "not_now", "return_revisit": bad.date})
			if res.Type != "application/vnd.microsoft.activity.message" || !strings.Contains(res.Message, bad.says) {
				t.Errorf("revisit %q was answered %s %q, want a refusal saying %q", bad.date, res.Type, res.Message, bad.says)
			}
		}
		res := e.click(ana, post, "lead.return", map[string]any{"return_code": "other"})
		if res.Type != "application/vnd.microsoft.activity.message" || !strings.Contains(res.Message, "Say why you return the lead") {
			t.Errorf("'other' without details was answered %s %q", res.Type, res.Message)
		}
		if e.lead(l.ID).State == engine.StateReturned {
			t.Fatal("the lead was returned without a reason, or with a bad revisit date")
		}
		res = e.click(ana, post, "lead.return", map[string]any{"return_code": "no_budget", "return_details": "next year"})
		mustSay(t, "the card after the return", text(res.Card), "Returned to Marketing")
		got := e.lead(l.ID)
		if got.State != engine.StateReturned || got.ReturnReason != "No budget or no project: next year" {
			t.Errorf("lead %s, reason %q", got.State, got.ReturnReason)
		}
	})

	t.Run("FeedbackFormOnTheCard", func(t *testing.T) {
		// The card still asks once the lead is returned. The choice of what
		// was missing has an id of its own row's.
		res := e.click(ana, post, "lead.feedback", map[string]any{"touch_kind@fb:" + strconv.FormatInt(l.ID, 10): "phone"})
		mustSay(t, "the card after the answer", text(res.Card), "Card feedback: missing: phone")
		if strings.Contains(text(res.Card), "Did the card have what you needed?") {
			t.Error("the card still asks after the answer")
		}
		if n := countEvents(e.events(l.ID), engine.EventCardFeedback); n != 1 {
			t.Errorf("%d answers recorded, want 1", n)
		}
	})

	// Once the question is answered its thanks sits below the card's
	// buttons; a click on them still answers with the lead's card, not
	// with the list of the rep's leads in its place.
	t.Run("AClickAfterTheFeedbackRedrawsTheCard", func(t *testing.T) {
		h := demoLead("crm-feedback-then-touch")
		h.Contact.Name = "Fay Feedback"
		f := e.handOff(h)
		card := e.card(ana, f)
		e.click(ana, card, "lead.touch", map[string]any{"touch_kind": "call"})
		res := e.click(ana, card, "lead.feedback", map[string]any{"fb:" + strconv.FormatInt(f.ID, 10): "yes"})
		mustSay(t, "the card after the answer", text(res.Card), "Card feedback: it had what you needed")
		res = e.click(ana, card, "lead.touch", map[string]any{"touch_kind": "email"})
		mustSay(t, "the card after the second touch", text(res.Card), "Fay Feedback", "2 touches logged", "Card feedback: it had what you needed")
		if strings.Contains(text(res.Card), "Your open leads") {
			t.Errorf("a click on the card was answered with the list of leads:\n%s", text(res.Card))
		}
	})

	t.Run("RejectForm", func(t *testing.T) {
		h := demoLead("crm-reject")
		h.Contact.Name = "Rhea Reject"
		r := e.handOff(h)
		card := e.card(ana, r)
		res := e.click(ana, card, "lead.reject", map[string]any{})
		if res.Type != "application/vnd.microsoft.activity.message" || !strings.Contains(res.Message, "Choose why") {
			t.Errorf("a rejection without a reason was answered %s %q", res.Type, res.Message)
		}
		if got := e.lead(r.ID); !got.State.Open() {
			t.Fatalf("a rejection without a reason left the lead %s", got.State)
		}
		res = e.click(ana, card, "lead.reject", map[string]any{"reject_reason": "bad_data:email", "reject_note": "bounces"})
		mustSay(t, "the redrawn card", text(res.Card), "Returned to Marketing", "Bad data: email (bounces)")
		if got := e.lead(r.ID); got.State != engine.StateReturned || got.ReturnReason != "Bad data: email (bounces)" {
			t.Errorf("the lead is %s, reason %q", got.State, got.ReturnReason)
		}
		var rejected []engine.Event
		for _, ev := range e.events(r.ID) {
			if ev.Kind == engine.EventRejected {
				rejected = append(rejected, ev)
			}
		}
		if len(rejected) != 1 || rejected[0].Data["category"] != "bad_data" || rejected[0].Data["detail"] != "email" || rejected[0].Data["note"] != "bounces" {
			t.Errorf("the rejection events: %+v", rejected)
		}
	})

	t.Run("TheTeamsSideIsMeasured", func(t *testing.T) {
		families, err := e.metrics.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, f := range families {
			for _, m := range f.GetMetric() {
				name := f.GetName()
				for _, label := range m.GetLabel() {
					name += "/" + label.GetValue()
				}
				switch {
				case m.GetCounter() != nil:
					got[name] = m.GetCounter().GetValue()
				case m.GetHistogram() != nil:
					got[name] = float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
		for _, want := range []string{"slabot_teams_activities_total/invoke", "slabot_teams_click_seconds", "slabot_teams_messages_total/card"} {
			if got[want] < 1 {
				t.Errorf("%s = %v after cards and clicks; want at least 1 (have %v)", want, got[want], got)
			}
		}
	})
}

func TestARedeliveredClickLogsOneTouch(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	l := e.handOff(demoLead("crm-twice"))
	post := e.card(ana, l)
	action := findExecute(post.Activity.Cards()[0], "lead.touch")
	a, err := e.fake.MessageActivity(ana, "")
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]any{}
	for k, v := range action["data"].(map[string]any) {
		data[k] = v
	}
	data["touch_kind"] = "call"
	value, _ := json.Marshal(map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "lead.touch", "data": data}})
	a.Type, a.Text, a.Name, a.ReplyToID, a.Value = "invoke", "", "adaptiveCard/action", post.Activity.ID, value
	// Teams sends an invoke again when the answer is slow to come.
	for range 2 {
		if resp, err := e.fake.Send(ctxTimeout(t, 10*time.Second), a); err != nil || resp.Status != 200 {
			t.Fatalf("the click: %v %+v", err, resp)
		}
	}
	if n := countEvents(e.events(l.ID), "touch"); n != 1 {
		t.Errorf("%d touches from one click sent twice, want 1", n)
	}
}

func TestARepWhoseSignInNameIsNotTheirMailGetsTheCardAndActs(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t, withPolicy(`
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [gus@example.com]
rules:
  - name: default
    first_touch: 4h
`))
	e.fake.AddPerson(teamsfake.Person{Email: "gus@example.com", UserPrincipalName: "gus.g@example.onmicrosoft.com", Name: "Gus", Installed: true})
	h := demoLead("crm-upn")
	h.OwnerEmail = "gus@example.com"
	l := e.handOff(h)
	post := e.card("gus@example.com", l)
	res := e.click("gus@example.com", post, "lead.ack", nil)
	if res.Type != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("gus was answered %s %q", res.Type, res.Message)
	}
	if got := e.lead(l.ID); got.State != engine.StateAcknowledged {
		t.Errorf("gus's click left the lead %s", got.State)
	}
}
