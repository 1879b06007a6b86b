package engine

import (
	"context"
	"slices"
	"strings"
	"time"
)

// Card feedback: once the rep has made their first touch, the card asks
// "Did the card have what you needed?"; the answer (yes, or what was
// missing) is counted by source, so Marketing learns what to capture.

// EventCardFeedback records the rep's one answer on a lead.
const EventCardFeedback = "card_feedback"

// The answers to "Did the card have what you needed?": yes, or what was
// missing.
const (
	FeedbackYes = "yes"
)

// FeedbackMissing are the things a card may have lacked, in the order the
// card offers them.
var FeedbackMissing = []string{"budget", "timeline", "role", "phone", "other"}

// ValidFeedback reports whether answer is one the card offers.
func ValidFeedback(answer string) bool {
	return answer == FeedbackYes || slices.Contains(FeedbackMissing, answer)
}

// FeedbackOf is the answer given on a lead, from its history; "" when
// nobody answered.
func FeedbackOf(events []Event) string {
	for _, e := range events {
		if e.Kind == EventCardFeedback {
			s, _ := e.Data["answer"].(string)
			return s
		}
	}
	return ""
}

// CardFeedback records whether the card had what the rep needed. Only the
// lead's owner answers, once they have made the first touch, and once per
// lead: a second answer is refused politely and not counted.
func (s *Service) CardFeedback(ctx context.Context, leadID int64, a Actor, answer string) (*Lead, error) {
	answer = strings.ToLower(strings.TrimSpace(answer))
	if !ValidFeedback(answer) {
		return nil, Errorf(EINVALID, "Choose yes, or what the card was missing: %s.", strings.Join(FeedbackMissing, ", "))
	}
	owner := func(l *Lead, a Actor) error {
		if a.System != "" || (a.Email != "" && strings.EqualFold(a.Email, l.OwnerEmail)) {
			return nil
		}
		return Errorf(EFORBIDDEN, "Only %s, who holds %s, can say whether its card had what they needed.", ownerOrNobody(l), l.DisplayName())
	}
	return s.actOnLeadAs(ctx, leadID, a, owner, func(tx Tx, l *Lead, now time.Time) error {
		if l.FirstTouchAt.IsZero() {
			return Errorf(EINVALID, "Log your first touch on %s first; then tell us whether the card had what you needed.", l.DisplayName())
		}
		events, err := tx.Events(ctx, l.ID)
		if err != nil {
			return err
		}
		if given := FeedbackOf(events); given != "" {
			return Errorf(ECONFLICT, "Thanks, you already told us about this card (%s). One answer a lead is counted, so this one was not.", FeedbackLabel(given))
		}
		if err := tx.AppendEvent(ctx, &Event{LeadID: l.ID, At: now.Truncate(time.Microsecond), Kind: EventCardFeedback, Actor: a.String(),
			Data: map[string]any{"answer": answer, "owner": l.OwnerEmail}}); err != nil {
			return err
		}
		return enqueueCardUpdate(ctx, tx, l, now)
	})
}

// FeedbackLabel says an answer in words: "it had what I needed",
// "missing: budget".
func FeedbackLabel(answer string) string {
	if answer == FeedbackYes {
		return "it had what you needed"
	}
	return "missing: " + answer
}
