package engine

import (
	"context"
	"log/slog"
)

// TimerObserver hears what each timer decided, for metrics.
type TimerObserver interface {
	// ReminderDecided is told about every reminder whose time came.
	ReminderDecided(ReminderDecision)
	// BreachHandled is told about every breach recorded and what was done.
	BreachHandled(*BreachOutcome)
}

// TimerHandlers are the durable jobs the engine runs itself when their time
// comes: a reminder coming due, and the first-touch and cadence deadline
// checks. They decide, record and queue what is to be sent; a chat adapter
// sends it. obs may be nil.
func (s *Service) TimerHandlers(obs TimerObserver) []JobHandler {
	return []JobHandler{
		Handle(func(ctx context.Context, job Job, _ ReminderArgs) error {
			dec, err := s.FireReminder(ctx, job)
			if err == nil && obs != nil {
				obs.ReminderDecided(dec)
			}
			return err
		}),
		Handle(func(ctx context.Context, job Job, _ FirstTouchDueArgs) error {
			out, err := s.FireFirstTouchDue(ctx, job)
			s.breachHandled(ctx, out, obs)
			return err
		}),
		Handle(func(ctx context.Context, job Job, _ AcceptDueArgs) error {
			out, err := s.FireAcceptDue(ctx, job)
			s.breachHandled(ctx, out, obs)
			return err
		}),
		Handle(func(ctx context.Context, job Job, _ CadenceDueArgs) error {
			out, err := s.FireCadenceDue(ctx, job)
			s.breachHandled(ctx, out, obs)
			return err
		}),
		Handle(func(ctx context.Context, job Job, _ RecycleDueArgs) error {
			fired, err := s.FireRecycleDue(ctx, job)
			if fired {
				s.logger.LogAttrs(ctx, slog.LevelInfo, "lead due for a revisit", slog.Int64("lead_id", job.LeadID))
			}
			return err
		}),
	}
}

// breachHandled logs a breach (without who it was about: that is in the
// lead's history) and tells the observer.
func (s *Service) breachHandled(ctx context.Context, out *BreachOutcome, obs TimerObserver) {
	if out == nil {
		return
	}
	actions := make([]string, 0, len(out.Actions))
	for _, a := range out.Actions {
		result := string(a.Action)
		if !a.Done {
			result += " (skipped)"
		}
		actions = append(actions, result)
	}
	s.logger.LogAttrs(ctx, slog.LevelInfo, "SLA breach", slog.Int64("lead_id", out.Breach.LeadID),
		slog.String("kind", string(out.Breach.Kind)), slog.String("rule", out.Breach.Rule), slog.Any("actions", actions))
	if obs != nil {
		obs.BreachHandled(out)
	}
}
