package slack_test

import (
	"time"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot/slack/slackfake"
)

// openReject presses Reject on a card, as Ana, and returns the form Slack
// opened.
func (e *env) openReject(card slackfake.Message) slack.View {
	e.t.Helper()
	if _, err := e.fake.ClickButton(ctxTimeout(e.t, 10*time.Second), ana, card, "lead.reject", ""); err != nil {
		e.t.Fatal(err)
	}
	return e.openedView(ana, "lead.reject")
}

// submitReject submits the reject form v with these answers, returning
// Slack's envelope (its ack carries the form's errors, if any).
func (e *env) submitReject(v slack.View, answers map[string]string) slackfake.EnvelopeResult {
	e.t.Helper()
	values := map[string]map[string]any{}
	for k, s := range answers {
		values[k] = map[string]any{"value": s}
	}
	res, err := e.fake.SubmitView(ctxTimeout(e.t, 10*time.Second), ana, v, values)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}
