package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	slackui "github.com/slabot/slabot/bot/slack"
	"github.com/slabot/slabot/engine"
)

// This file reads Slack's clicks and modal submissions into Actions.

// onInteraction handles a button press, a menu choice or a modal submission.
func (b *Bot) onInteraction(ctx context.Context, cb slack.InteractionCallback) error {
	email, err := b.emailOf(ctx, cb.User.ID)
	if err != nil {
		return err
	}
	actor := engine.Actor{Email: email}
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		for _, a := range cb.ActionCallback.BlockActions {
			if err := b.onAction(ctx, cb, a, actor); err != nil {
				return err
			}
		}
	case slack.InteractionTypeViewSubmission:
		return b.onViewSubmission(ctx, cb, actor)
	}
	return nil
}

func (b *Bot) onAction(ctx context.Context, cb slack.InteractionCallback, a *slack.BlockAction, actor engine.Actor) error {
	if isEscalationAction(a.ActionID) {
		return b.explain(ctx, cb, b.onEscalationAction(ctx, cb, a, actor))
	}
	leadID, ok := leadIDFromBlock(a.BlockID)
	if !ok {
		leadID, _ = strconv.ParseInt(a.Value, 10, 64)
	}
	if leadID == 0 || a.ActionID == actionOpenCRM {
		return nil
	}
	act := Action{Actor: actor, Verb: a.ActionID, LeadID: leadID}
	switch a.ActionID {
	case actionAck:
	case actionTouch:
		act.Value = a.SelectedOption.Value
		// The action's timestamp makes a redelivered click log one touch.
		act.Key = fmt.Sprintf("slack:%s:%s:%s", cb.User.ID, a.ActionTs, act.Value)
	case actionSnooze, actionReturn:
		return b.explain(ctx, cb, b.openLeadModal(ctx, cb, leadID, a.ActionID, actor))
	default:
		return nil
	}
	_, err := b.Act(ctx, act)
	return b.explain(ctx, cb, err)
}

// explain tells the user privately why an action was refused; internal
// errors are returned for the job queue to retry.
func (b *Bot) explain(ctx context.Context, cb slack.InteractionCallback, err error) error {
	if err == nil {
		return nil
	}
	refusal, ok := Refusal(err)
	if !ok {
		return err
	}
	text := slackui.Mrkdwn(refusal)
	if cb.ResponseURL != "" {
		// The response_url reaches the person who clicked wherever the
		// card is, even in a DM they are not a member of.
		return b.respond(ctx, cb.ResponseURL, text)
	}
	dm, derr := b.openDM(ctx, cb.User.ID)
	if derr != nil {
		return derr
	}
	if _, perr := b.api.PostEphemeralContext(ctx, dm, cb.User.ID, slack.MsgOptionText(text, false)); perr != nil {
		return b.slackError("chat.postEphemeral", perr)
	}
	return nil
}

// openLeadModal opens the snooze or return form as a modal, after checking
// that the user may act on the lead: a stranger gets the explanation, not
// a form.
func (b *Bot) openLeadModal(ctx context.Context, cb slack.InteractionCallback, leadID int64, verb string, actor engine.Actor) error {
	form, err := b.FormFor(ctx, actor, leadID, verb)
	if err != nil {
		return err
	}
	if _, err := b.api.OpenViewContext(ctx, cb.TriggerID, slackui.Modal(form)); err != nil {
		if strings.Contains(err.Error(), "trigger") {
			return engine.Errorf(engine.EINVALID, "Slack took too long to open the form: please press the button again.")
		}
		return b.slackError("views.open", err)
	}
	return nil
}

// validateView checks a modal before it closes: Slack shows these errors
// under the inputs, and the lead is not touched.
func validateView(cb slack.InteractionCallback) map[string]string {
	return validateForm(cb.View.CallbackID, slackui.FormValues(cb.View))
}

func (b *Bot) onViewSubmission(ctx context.Context, cb slack.InteractionCallback, actor engine.Actor) error {
	leadID, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if err != nil {
		return nil
	}
	if cb.View.CallbackID != formSnooze && cb.View.CallbackID != formReturn {
		return nil
	}
	if validateView(cb) != nil {
		return nil // refused at the acknowledgement already
	}
	_, err = b.Act(ctx, Action{Actor: actor, Verb: cb.View.CallbackID, LeadID: leadID, Inputs: slackui.FormValues(cb.View)})
	return b.explain(ctx, cb, err)
}
