package slack

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot"
	"github.com/slabot/slabot/engine"
)

// This file reads Slack's clicks and modal submissions into the bot's
// Actions, opens its forms as modals, and tells people privately when
// what they did was refused.

// onInteraction handles a button press, a menu choice or a modal submission.
func (a *App) onInteraction(ctx context.Context, cb slack.InteractionCallback) error {
	email, err := a.EmailOf(ctx, cb.User.ID)
	if err != nil {
		return err
	}
	actor := engine.Actor{Email: email}
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		for _, ba := range cb.ActionCallback.BlockActions {
			if err := a.onAction(ctx, cb, ba, actor); err != nil {
				return err
			}
		}
	case slack.InteractionTypeViewSubmission:
		return a.onViewSubmission(ctx, cb, actor)
	}
	return nil
}

func (a *App) onAction(ctx context.Context, cb slack.InteractionCallback, ba *slack.BlockAction, actor engine.Actor) error {
	value := ba.Value
	if ba.SelectedOption.Value != "" {
		value = ba.SelectedOption.Value
	}
	act, ok := bot.ActionOn(actor, ba.BlockID, ba.ActionID, value)
	if !ok {
		return nil
	}
	if bot.NeedsForm(act.Verb) {
		return a.explain(ctx, cb, a.openForm(ctx, cb, act))
	}
	// The action's timestamp makes a redelivered click log one touch.
	act.Key = fmt.Sprintf("slack:%s:%s:%s", cb.User.ID, ba.ActionTs, act.Value)
	l, err := a.Act(ctx, act)
	if err != nil || act.EventID == 0 {
		return a.explain(ctx, cb, err)
	}
	return a.redrawEscalation(ctx, cb, l, act.EventID)
}

// redrawEscalation shows the manager's decision where they pressed the
// button; the decision is made and recorded either way.
func (a *App) redrawEscalation(ctx context.Context, cb slack.InteractionCallback, l *engine.Lead, eventID int64) error {
	if cb.ResponseURL == "" || l == nil {
		return nil
	}
	m, ok, err := a.EscalationView(ctx, l, eventID)
	if err != nil || !ok {
		return err
	}
	blocks, fallback := Blocks(m)
	msg := &slack.WebhookMessage{Text: fallback, Blocks: &slack.Blocks{BlockSet: blocks}, ReplaceOriginal: true}
	if err := slack.PostWebhookContext(ctx, cb.ResponseURL, msg); err != nil {
		a.logger.Warn("could not update the escalation message", "lead_id", l.ID, "err", err)
	}
	return nil
}

// explain tells the user privately why an action was refused; internal
// errors are returned for the job queue to retry.
func (a *App) explain(ctx context.Context, cb slack.InteractionCallback, err error) error {
	if err == nil {
		return nil
	}
	refusal, ok := bot.Refusal(err)
	if !ok {
		return err
	}
	text := Mrkdwn(refusal)
	if cb.ResponseURL != "" {
		// The response_url reaches the person who clicked wherever the
		// card is, even in a DM they are not a member of.
		return a.respond(ctx, cb.ResponseURL, text)
	}
	dm, _, _, err := a.api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{cb.User.ID}, ReturnIM: true})
	if err != nil {
		return a.chat.Error("conversations.open", err)
	}
	if _, err := a.api.PostEphemeralContext(ctx, dm.ID, cb.User.ID, slack.MsgOptionText(text, false)); err != nil {
		return a.chat.Error("chat.postEphemeral", err)
	}
	return nil
}

// openForm opens the snooze or return form as a modal, once the user may
// act on the lead: a stranger gets the explanation, not a form.
func (a *App) openForm(ctx context.Context, cb slack.InteractionCallback, act bot.Action) error {
	form, err := a.FormFor(ctx, act.Actor, act.LeadID, act.Verb)
	if err != nil {
		return err
	}
	if _, err := a.api.OpenViewContext(ctx, cb.TriggerID, Modal(form)); err != nil {
		if strings.Contains(err.Error(), "trigger") {
			return engine.Errorf(engine.EINVALID, "Slack took too long to open the form: please press the button again.")
		}
		return a.chat.Error("views.open", err)
	}
	return nil
}

// validateView checks a modal before it closes: Slack shows these errors
// under the inputs, and the lead is not touched.
func validateView(cb slack.InteractionCallback) map[string]string {
	return bot.ValidateForm(cb.View.CallbackID, FormValues(cb.View))
}

func (a *App) onViewSubmission(ctx context.Context, cb slack.InteractionCallback, actor engine.Actor) error {
	leadID, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if err != nil || !bot.IsForm(cb.View.CallbackID) {
		return nil
	}
	if validateView(cb) != nil {
		return nil // refused at the acknowledgement already
	}
	_, err = a.Act(ctx, bot.Action{Actor: actor, Verb: cb.View.CallbackID, LeadID: leadID, Inputs: FormValues(cb.View)})
	return a.explain(ctx, cb, err)
}
