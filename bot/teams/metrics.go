package teams

import (
	"errors"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/slabot/slabot/engine"
)

// metrics are the Teams side's: what Teams sent, how fast slabot answered
// a click, what slabot sent, and how often Teams asked it to slow down.
type metrics struct {
	activities  *prometheus.CounterVec
	clicks      prometheus.Histogram
	sent        *prometheus.CounterVec
	rateLimited prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		activities: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "slabot", Subsystem: "teams",
			Name: "activities_total", Help: "Activities Teams sent to /api/messages with a valid token, by type."}, []string{"type"}),
		clicks: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "slabot", Subsystem: "teams",
			Name: "click_seconds", Help: "Time from a card click's arrival to its answer (the redrawn card or a refusal).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 4, 8}}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "slabot", Subsystem: "teams",
			Name: "messages_total", Help: "Teams messages posted or updated, by kind."}, []string{"kind"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "slabot", Subsystem: "teams",
			Name: "rate_limited_total", Help: "Connector calls Teams answered with 429 or slabot's pacer held back; each is retried later."}),
	}
	if reg != nil {
		reg.MustRegister(m.activities, m.clicks, m.sent, m.rateLimited)
	}
	return m
}

// sendResult counts a post or an update and its outcome.
func (m *metrics) sendResult(kind string, err error) {
	if m == nil {
		return
	}
	var retry *engine.RetryError
	var apiErr *APIError
	switch {
	case err == nil:
		m.sent.WithLabelValues(kind).Inc()
	case errors.As(err, &retry), errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests:
		m.rateLimited.Inc()
	}
}
