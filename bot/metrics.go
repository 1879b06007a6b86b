package bot

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	envelopes  *prometheus.CounterVec
	ackLatency prometheus.Histogram
	// sent counts posts made outside the chat port (it counts its own).
	sent       sentCounter
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
