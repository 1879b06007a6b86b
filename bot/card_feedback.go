package bot

import (
	"errors"
	"strconv"
	"strings"

	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// The card's one-tap feedback: once the rep has made the first touch, the
// card asks whether it had what they needed, in a row of its own
// ("fb:42"): a Yes button, and a choice of what was missing.
const (
	actionFeedback = "lead.feedback"
	feedbackPfx    = "fb:"
)

// feedbackMissingLabels are the choices of what a card was missing.
var feedbackMissingLabels = map[string]string{
	"budget": "Budget", "timeline": "Timeline", "role": "Their role", "phone": "A phone number", "other": "Something else",
}

// feedbackBlocks are the question and its controls, while the card's
// owner has touched the lead and not answered yet; after an answer, a
// line saying what they answered. Nil when there is nothing to show.
func feedbackBlocks(d cardData) []view.Block {
	l := d.Lead
	if l.FirstTouchAt.IsZero() || (d.Viewer != "" && d.Viewer != l.OwnerEmail) {
		return nil
	}
	if given := engine.FeedbackOf(d.Events); given != "" {
		return []view.Block{view.Context{Lines: []view.Text{view.T("Card feedback: " + engine.FeedbackLabel(given) + ". Thank you.")}}}
	}
	id := strconv.FormatInt(l.ID, 10)
	missing := view.Choice{Action: actionFeedback, Placeholder: "Something was missing…"}
	for _, what := range engine.FeedbackMissing {
		missing.Options = append(missing.Options, view.Option{Value: what, Label: feedbackMissingLabels[what]})
	}
	return []view.Block{
		view.Section{Lines: []view.Text{view.T(view.B("Did the card have what you needed?"), " One tap tells Marketing what to capture.")}},
		view.Actions{ID: feedbackPfx + id, Aside: true, Controls: []view.Control{
			view.Button{Action: actionFeedback, Value: engine.FeedbackYes, Label: "Yes, it did", Style: view.Primary},
			missing,
		}},
	}
}

// feedbackAction reads a press in a card's feedback row.
func feedbackAction(actor engine.Actor, row, verb, value string) (Action, bool) {
	s, ok := strings.CutPrefix(row, feedbackPfx)
	if !ok || verb != actionFeedback {
		return Action{}, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return Action{}, false
	}
	return Action{Actor: actor, Verb: actionFeedback, LeadID: id, Value: value}, true
}

// politeRefusal is a refusal that only reminds: an answer already given.
// The person reads it as a thank-you, not as an error.
type politeRefusal struct{ err error }

func (p politeRefusal) Error() string { return p.err.Error() }
func (p politeRefusal) Unwrap() error { return p.err }

// politeIfConflict marks a conflict (something already recorded) as a
// polite refusal.
func politeIfConflict(err error) error {
	if engine.ErrorCode(err) == engine.ECONFLICT {
		return politeRefusal{err}
	}
	return err
}

func isPolite(err error) bool {
	var p politeRefusal
	return errors.As(err, &p)
}
