package bot

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	envelopes   *prometheus.CounterVec
	ackLatency  prometheus.Histogram
	sent        *prometheus.CounterVec
	rateLimited prometheus.Counter
	unrecorded  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		envelopes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "slabot", Subsystem: "slack",
			Name: "envelopes_total", Help: "Socket Mode envelopes received, by type."}, []string{"type"}),
		ackLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: "slabot", Subsystem: "slack",
			Name: "ack_seconds", Help: "Time from receiving an envelope to acknowledging it (Slack allows 3 s).",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2, 3, 5}}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "slabot", Subsystem: "slack",
			Name: "messages_total", Help: "Slack messages posted or updated, by kind."}, []string{"kind"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "slabot", Subsystem: "slack",
			Name: "rate_limited_total", Help: "Web API calls Slack answered with 429; each is retried after Retry-After."}),
		unrecorded: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "slabot", Subsystem: "slack",
			Name: "unrecorded_total", Help: "Clicks and commands the database could not record in time; the person was asked to try again."}),
	}
	if reg != nil {
		reg.MustRegister(m.envelopes, m.ackLatency, m.sent, m.rateLimited, m.unrecorded)
	}
	return m
}
