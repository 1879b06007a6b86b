package slack_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot/slack/slackfake"
	"github.com/slabot/slabot/engine"
)

// unreachablePolicy asks for two touches within a day.
const unreachablePolicy = `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: cadence
    first_touch: 1h
    touches: {count: 2, within: 1d}
`

func TestUnableToReachIsRefusedBeforeTheTouchesAndAcceptedAfter(t *testing.T) {
	e := newEnv(t, withPolicy(unreachablePolicy))
	l := e.handOff(demoLead("crm-unreachable"))
	card := e.card(ana, l)
	ctx := ctxTimeout(t, 30*time.Second)
	ny, _ := time.LoadLocation("America/New_York")
	// The window is a calendar day from the assignment.
	opens := l.AssignedAt.Add(24 * time.Hour).In(ny).Format("Mon Jan 2, 3:04 PM MST")

	if _, err := e.fake.ClickButton(ctx, ana, card, "lead.return", ""); err != nil {
		t.Fatal(err)
	}
	form := e.openedView(ana, "lead.return")
	raw, _ := json.Marshal(form)
	if strings.Contains(string(raw), "unable_to_reach") {
		t.Error("the return form offers unable to reach before any touch")
	}
	if !strings.Contains(string(raw), "log 2 more touches first, or wait until the touch window closes on "+opens) {
		t.Errorf("the return form does not say when unable to reach opens (%s):\n%s", opens, raw)
	}
	// A form kept open from before (or a crafted submission) is refused with the reason.
	if _, err := e.fake.SubmitView(ctx, ana, form, map[string]map[string]any{"return_code": {"value": "unable_to_reach"}}); err != nil {
		t.Fatal(err)
	}
	e.waitMessage(e.fake.DMChannel(ana), "the refusal", func(m slackfake.Message) bool {
		return m.Ephemeral && m.ContainsText("once the agreed touches are made") && m.ContainsText("log 2 more touches first")
	})
	if got := e.lead(l.ID); !got.State.Open() {
		t.Fatalf("the lead went back before the touches: %s", got.State)
	}

	for _, kind := range []string{"call", "email"} {
		if _, err := e.fake.ClickButton(ctx, ana, card, "lead.touch", kind); err != nil {
			t.Fatal(err)
		}
	}
	e.waitFor("two touches", func() bool {
		ts, err := e.db.Touches(ctx, l.ID)
		return err == nil && len(ts) == 2
	})
	if _, err := e.fake.ClickButton(ctx, ana, card, "lead.return", ""); err != nil {
		t.Fatal(err)
	}
	e.waitFor("a second return form", func() bool {
		views := e.fake.OpenViews(ana)
		raw, _ := json.Marshal(views)
		return strings.Contains(string(raw), "unable_to_reach")
	})
	var again slack.View
	for _, v := range e.fake.OpenViews(ana) {
		if raw, _ := json.Marshal(v); v.CallbackID == "lead.return" && strings.Contains(string(raw), "unable_to_reach") {
			again = v
		}
	}
	if _, err := e.fake.SubmitView(ctx, ana, again, map[string]map[string]any{
		"return_code": {"value": "unable_to_reach"}, "return_details": {"value": "no answer, voicemail full"}}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the return", func() bool { return e.lead(l.ID).State == engine.StateReturned })
	if got := e.lead(l.ID).ReturnReason; got != "Unable to reach: no answer, voicemail full" {
		t.Errorf("return reason %q", got)
	}
}
