package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/engine"
)

// Modal callback ids and their input blocks.
const (
	viewSnooze = "lead.snooze"
	viewReturn = "lead.return"

	blockSnoozeLength  = "snooze_length"
	blockSnoozeReason  = "snooze_reason"
	blockReturnCode    = "return_code"
	blockReturnDetails = "return_details"
	inputAction        = "value"
)

var snoozeLengths = []struct {
	Value, Label string
	D            time.Duration
}{
	{"30m", "30 minutes", 30 * time.Minute}, {"1h", "1 hour", time.Hour}, {"2h", "2 hours", 2 * time.Hour},
	{"4h", "4 hours", 4 * time.Hour}, {"1d", "1 day", 24 * time.Hour}, {"3d", "3 days", 72 * time.Hour},
}

// returnReasons are the reason codes Marketing hears back, reported weekly.
var returnReasons = []struct{ Value, Label string }{
	{"not_a_fit", "Not a fit (size, industry, region)"},
	{"no_budget", "No budget or no project"},
	{"bad_contact", "Wrong or missing contact details"},
	{"duplicate", "Duplicate of a lead or customer"},
	{"not_a_buyer", "Student, competitor or job seeker"},
	{"not_now", "Interested, but not now (nurture)"},
	{"other", "Other (say why below)"},
}

func returnReasonLabel(code string) string {
	for _, r := range returnReasons {
		if r.Value == code {
			return r.Label
		}
	}
	return ""
}

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
	var err error
	switch a.ActionID {
	case actionAck:
		_, err = b.service.Acknowledge(ctx, leadID, actor)
	case actionTouch:
		kind := engine.TouchKind(a.SelectedOption.Value)
		// The action's timestamp makes a redelivered click log one touch.
		key := fmt.Sprintf("slack:%s:%s:%s", cb.User.ID, a.ActionTs, kind)
		_, _, err = b.service.LogTouch(ctx, leadID, actor, engine.TouchInput{Kind: kind, Origin: "slack", Key: key})
	case actionSnooze, actionReturn:
		err = b.openLeadModal(ctx, cb, leadID, a.ActionID, actor)
	default:
		return nil
	}
	return b.explain(ctx, cb, err)
}

// explain tells the user privately why an action was refused; internal
// errors are returned for the job queue to retry.
func (b *Bot) explain(ctx context.Context, cb slack.InteractionCallback, err error) error {
	if err == nil {
		return nil
	}
	switch engine.ErrorCode(err) {
	case engine.EFORBIDDEN, engine.EINVALID, engine.ENOTFOUND, engine.ECONFLICT:
	default:
		return err
	}
	text := ":no_entry_sign: " + engine.ErrorMessage(err)
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

// openLeadModal opens the snooze or return modal, after checking that the
// user may act on the lead: a stranger gets the explanation, not a form.
func (b *Bot) openLeadModal(ctx context.Context, cb slack.InteractionCallback, leadID int64, action string, actor engine.Actor) error {
	l, err := b.store.LeadByID(ctx, leadID)
	if err != nil {
		return err
	}
	if err := b.service.Authorize(l, actor); err != nil {
		return err
	}
	if !l.State.Open() {
		return engine.Errorf(engine.EINVALID, "%s is already %s.", l.DisplayName(), l.State.Label())
	}
	view := snoozeModal(l)
	if action == actionReturn {
		view = returnModal(l)
	}
	if _, err := b.api.OpenViewContext(ctx, cb.TriggerID, view); err != nil {
		if strings.Contains(err.Error(), "trigger") {
			return engine.Errorf(engine.EINVALID, "Slack took too long to open the form: please press the button again.")
		}
		return b.slackError("views.open", err)
	}
	return nil
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func snoozeModal(l *engine.Lead) slack.ModalViewRequest {
	var opts []*slack.OptionBlockObject
	for _, s := range snoozeLengths {
		opts = append(opts, slack.NewOptionBlockObject(s.Value, plain(s.Label), nil))
	}
	length := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("How long?"), inputAction, opts...)
	length.InitialOption = opts[1]
	reason := slack.NewPlainTextInputBlockElement(plain("e.g. buyer asked to call back Monday"), inputAction)
	reason.MaxLength = 300
	return slack.ModalViewRequest{
		Type: slack.VTModal, Title: plain("Snooze reminders"), Submit: plain("Snooze"), Close: plain("Cancel"),
		CallbackID: viewSnooze, PrivateMetadata: strconv.FormatInt(l.ID, 10),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(mrkdwn(clipBytes(fmt.Sprintf("*%s*\nSnoozing silences reminders for a while. The SLA clock keeps running: the first-touch deadline does not move.", esc(l.DisplayName())), maxSectionText)), nil, nil),
			slack.NewInputBlock(blockSnoozeLength, plain("For"), nil, length),
			slack.NewInputBlock(blockSnoozeReason, plain("Why"), nil, reason),
		}},
	}
}

func returnModal(l *engine.Lead) slack.ModalViewRequest {
	var opts []*slack.OptionBlockObject
	for _, r := range returnReasons {
		opts = append(opts, slack.NewOptionBlockObject(r.Value, plain(r.Label), nil))
	}
	code := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose a reason"), inputAction, opts...)
	details := slack.NewPlainTextInputBlockElement(plain("What should Marketing know?"), inputAction)
	details.Multiline = true
	details.MaxLength = 1000
	detailsBlock := slack.NewInputBlock(blockReturnDetails, plain("Details"), nil, details)
	detailsBlock.Optional = true
	return slack.ModalViewRequest{
		Type: slack.VTModal, Title: plain("Return to Marketing"), Submit: plain("Return lead"), Close: plain("Cancel"),
		CallbackID: viewReturn, PrivateMetadata: strconv.FormatInt(l.ID, 10),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(mrkdwn(clipBytes(fmt.Sprintf("*%s* goes back to Marketing and leaves your queue. The reason is reported to both teams every week.", esc(l.DisplayName())), maxSectionText)), nil, nil),
			slack.NewInputBlock(blockReturnCode, plain("Reason"), nil, code),
			detailsBlock,
		}},
	}
}

// viewValue reads an input's value from a submitted modal.
func viewValue(cb slack.InteractionCallback, block string) string {
	a, ok := cb.View.State.Values[block][inputAction]
	if !ok {
		return ""
	}
	if a.SelectedOption.Value != "" {
		return a.SelectedOption.Value
	}
	return strings.TrimSpace(a.Value)
}

// validateView checks a modal before it closes: Slack shows these errors
// under the inputs, and the lead is not touched.
func validateView(cb slack.InteractionCallback) map[string]string {
	errs := map[string]string{}
	switch cb.View.CallbackID {
	case viewSnooze:
		if viewValue(cb, blockSnoozeReason) == "" {
			errs[blockSnoozeReason] = "Say why, so your manager knows the lead is in hand."
		}
		if snoozeFor(viewValue(cb, blockSnoozeLength)) == 0 {
			errs[blockSnoozeLength] = "Choose how long to snooze."
		}
	case viewReturn:
		code := viewValue(cb, blockReturnCode)
		switch {
		case returnReasonLabel(code) == "":
			errs[blockReturnCode] = "Choose a reason: Marketing needs it to send better leads."
		case code == "other" && viewValue(cb, blockReturnDetails) == "":
			errs[blockReturnDetails] = "Say why you return the lead."
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func snoozeFor(v string) time.Duration {
	for _, s := range snoozeLengths {
		if s.Value == v {
			return s.D
		}
	}
	return 0
}

func (b *Bot) onViewSubmission(ctx context.Context, cb slack.InteractionCallback, actor engine.Actor) error {
	leadID, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if err != nil {
		return nil
	}
	if errs := validateView(cb); errs != nil {
		return nil // refused at the acknowledgement already
	}
	switch cb.View.CallbackID {
	case viewSnooze:
		_, err = b.service.Snooze(ctx, leadID, actor, snoozeFor(viewValue(cb, blockSnoozeLength)), viewValue(cb, blockSnoozeReason))
	case viewReturn:
		reason := returnReasonLabel(viewValue(cb, blockReturnCode))
		if details := viewValue(cb, blockReturnDetails); details != "" {
			reason += ": " + details
		}
		_, err = b.service.ReturnToMarketing(ctx, leadID, actor, reason)
	default:
		return nil
	}
	return b.explain(ctx, cb, err)
}
