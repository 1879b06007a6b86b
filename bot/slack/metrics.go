package slack

import "github.com/prometheus/client_golang/prometheus"

// metrics are Socket Mode's: what arrived, how fast it was acknowledged,
// and what could not be recorded. Chat counts what was sent.
type metrics struct {
	envelopes  *prometheus.CounterVec
	ackLatency prometheus.Histogram
	unrecorded prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		envelopes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "slabot", Subsystem: "slack",
			Name: "envelopes_total", Help: "Socket Mode envelopes received, by type."}, []string{"type"}),
		ackLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "slabot", Subsystem: "slack",
			Name: "ack_seconds", Help: "Time from receiving an envelope to acknowledging it (Slack allows 3 s).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 3, 5}}),
		unrecorded: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "slabot", Subsystem: "slack",
			Name: "unrecorded_total", Help: "Clicks and commands the database could not record in time; the person was asked to try again."}),
	}
	if reg != nil {
		reg.MustRegister(m.envelopes, m.ackLatency, m.unrecorded)
	}
	return m
}
