package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/slabot/slabot/engine"
)

// TimerMetrics counts what the engine's timers decided: reminders by
// outcome and reason, breaches by rule and kind, and breach actions by
// result. It is the engine's TimerObserver.
type TimerMetrics struct {
	reminders *prometheus.CounterVec
	breaches  *prometheus.CounterVec
	actions   *prometheus.CounterVec
}

// NewTimerMetrics registers the timers' metrics on reg (none when nil).
func NewTimerMetrics(reg prometheus.Registerer) *TimerMetrics {
	m := &TimerMetrics{
		reminders: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "slabot", Subsystem: "timers",
			Name: "reminders_total", Help: "Reminders whose time came, by outcome (sent, deferred, dropped) and reason."},
			[]string{"outcome", "reason"}),
		breaches: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "slabot", Subsystem: "timers",
			Name: "breaches_total", Help: "SLA breaches recorded, by rule and kind."}, []string{"rule", "kind"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "slabot", Subsystem: "timers",
			Name: "breach_actions_total", Help: "Breach actions from on_breach, by rule, action and result (done, skipped)."},
			[]string{"rule", "action", "result"}),
	}
	if reg != nil {
		reg.MustRegister(m.reminders, m.breaches, m.actions)
	}
	return m
}

// ReminderDecided implements engine.TimerObserver.
func (m *TimerMetrics) ReminderDecided(dec engine.ReminderDecision) {
	outcome := "dropped"
	switch {
	case dec.Send:
		outcome = "sent"
	case !dec.At.IsZero():
		outcome = "deferred"
	}
	m.reminders.WithLabelValues(outcome, dec.Reason).Inc()
}

// BreachHandled implements engine.TimerObserver.
func (m *TimerMetrics) BreachHandled(out *engine.BreachOutcome) {
	m.breaches.WithLabelValues(out.Breach.Rule, string(out.Breach.Kind)).Inc()
	for _, a := range out.Actions {
		result := "done"
		if !a.Done {
			result = "skipped"
		}
		m.actions.WithLabelValues(out.Breach.Rule, string(a.Action), result).Inc()
	}
}
