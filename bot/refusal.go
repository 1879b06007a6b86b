package bot

import (
	"errors"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// This file words what slabot refuses. The engine's errors carry a plain
// sentence (engine.Error's Message) and the engine knows no more: it
// cannot import bot/view, which belongs to the chat side, and it has
// nothing to say that needs more than words. The core's own refusals
// often show a command to type, which must be a code span with the
// command's name as it was typed: they are built with refuse, which keeps
// the words as view.Text beside the plain message.

// refusalError is a refusal the core words itself: an engine.Error (for
// its code, and its plain message wherever text is all that fits), and
// the same words as view.Text.
type refusalError struct {
	err  *engine.Error
	text view.Text
}

func (e *refusalError) Error() string { return e.err.Error() }
func (e *refusalError) Unwrap() error { return e.err }

// refuse is a refusal with a code, worded from view.T's parts: a command
// to type is a commandExample, never a backtick in a string.
func refuse(code string, parts ...any) error {
	text := view.T(parts...)
	return &refusalError{err: &engine.Error{Code: code, Message: text.Plain()}, text: text}
}

// reasonOf is what err says to a person, as text: a refusal's own words,
// or an engine error's message.
func reasonOf(err error) view.Text {
	var r *refusalError
	if errors.As(err, &r) {
		return r.text
	}
	return view.T(engine.ErrorMessage(err))
}

// Refusal is the line for a person whose command or action slabot
// refused, and true: Refused when it is not theirs to do, Warning when
// there is something to fix (a typo, a lead that moved on), each with the
// reason. It is false for an error that is not theirs to fix: a job
// retries it, a command apologises (Bot.failure).
func Refusal(err error) (view.Text, bool) {
	if isPolite(err) {
		return marked(view.Done, reasonOf(err)), true
	}
	switch engine.ErrorCode(err) {
	case engine.EFORBIDDEN:
		return marked(view.Refused, reasonOf(err)), true
	case engine.EINVALID, engine.ENOTFOUND, engine.ECONFLICT:
		return marked(view.Warning, reasonOf(err)), true
	}
	return nil, false
}

// marked is text after a marker and a space; plain text at its start
// joins the space, so a line reads as one span where it can.
func marked(m view.Marker, text view.Text) view.Text {
	line := view.T(m, " ")
	if len(text) > 0 && text[0] == (view.Span{Text: text[0].Text}) {
		line[1].Text += text[0].Text
		text = text[1:]
	}
	return append(line, text...)
}
