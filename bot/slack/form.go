package slack

import (
	"strings"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot/view"
)

// inputAction is the action id of every input of a form's modal; the
// input's id is its block id.
const inputAction = "value"

// Modal renders a form as a modal: its id is the callback id, its subject
// the private metadata, each input a block.
func Modal(f view.Form) slack.ModalViewRequest {
	var blocks []slack.Block
	if len(f.Intro) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(view.ClipBytes(Lines(f.Intro), MaxSectionText)), nil, nil))
	}
	for _, in := range f.Inputs {
		var el slack.BlockElement
		if len(in.Options) > 0 {
			opts := make([]*slack.OptionBlockObject, len(in.Options))
			sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain(in.Placeholder), inputAction)
			for i, o := range in.Options {
				opts[i] = slack.NewOptionBlockObject(o.Value, plain(view.Clip(o.Label, MaxButtonText)), nil)
				if o.Value == in.Initial && in.Initial != "" {
					sel.InitialOption = opts[i]
				}
			}
			sel.Options = opts
			el = sel
		} else if in.Date {
			// Slack's datepicker takes no bounds: slabot checks the date
			// when the form is submitted.
			date := slack.NewDatePickerBlockElement(inputAction)
			date.Placeholder = plain(in.Placeholder)
			date.InitialDate = in.Initial
			el = date
		} else {
			text := slack.NewPlainTextInputBlockElement(plain(in.Placeholder), inputAction)
			text.Multiline = in.Multiline
			text.MaxLength = in.MaxLength
			text.InitialValue = in.Initial
			el = text
		}
		block := slack.NewInputBlock(in.ID, plain(in.Label), nil, el)
		block.Optional = in.Optional
		blocks = append(blocks, block)
	}
	return slack.ModalViewRequest{
		Type: slack.VTModal, Title: plain(view.Clip(f.Title, 24)), Submit: plain(f.Submit), Close: plain("Cancel"),
		CallbackID: f.ID, PrivateMetadata: f.Subject, Blocks: slack.Blocks{BlockSet: blocks},
	}
}

// FormValues reads a submitted modal's values by input id.
func FormValues(v slack.View) map[string]string {
	values := map[string]string{}
	for blockID, actions := range v.State.Values {
		a, ok := actions[inputAction]
		if !ok {
			continue
		}
		switch {
		case a.SelectedOption.Value != "":
			values[blockID] = a.SelectedOption.Value
		case a.SelectedDate != "":
			values[blockID] = a.SelectedDate
		default:
			values[blockID] = strings.TrimSpace(a.Value)
		}
	}
	return values
}
