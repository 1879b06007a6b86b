package storage

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// QueueMetrics exposes the job queue to Prometheus: jobs by state, read from
// the database at each scrape, and job attempts by kind and result, counted
// by this process's worker (wire Observe into WorkerOptions.OnDone).
type QueueMetrics struct {
	db       *DB
	depth    *prometheus.Desc
	attempts *prometheus.CounterVec
	rescued  prometheus.Counter
}

// NewQueueMetrics registers the queue's metrics on reg.
func NewQueueMetrics(db *DB, reg prometheus.Registerer) *QueueMetrics {
	m := &QueueMetrics{
		db: db,
		depth: prometheus.NewDesc("slabot_jobs", "Jobs in the durable queue by River state (scheduled: timers not yet due; retryable: failed, to run again; discarded: given up).",
			[]string{"state"}, nil),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "slabot", Name: "job_attempts_total",
			Help: "Job attempts by kind and result (done, retry, failed)."}, []string{"kind", "result"}),
		rescued: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "slabot", Name: "jobs_rescued_total",
			Help: "Jobs this process ran again because the worker holding them died, or they ran well past their queue's timeout."}),
	}
	reg.MustRegister(m, m.attempts, m.rescued)
	return m
}

// Describe implements prometheus.Collector.
func (m *QueueMetrics) Describe(ch chan<- *prometheus.Desc) { ch <- m.depth }

// Collect implements prometheus.Collector.
func (m *QueueMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := m.db.JobCounts(ctx)
	if err != nil {
		return // a scrape without queue figures beats a failed scrape
	}
	for _, state := range []string{"available", "scheduled", "running", "retryable", "completed", "cancelled", "discarded"} {
		ch <- prometheus.MustNewConstMetric(m.depth, prometheus.GaugeValue, float64(counts[state]), state)
	}
}

// Observe counts one job attempt; it fits WorkerOptions.OnDone.
func (m *QueueMetrics) Observe(kind string, err error, retried bool) {
	result := "done"
	switch {
	case err != nil && retried:
		result = "retry"
	case err != nil:
		result = "failed"
	}
	m.attempts.WithLabelValues(kind, result).Inc()
}

// Rescued counts jobs made available again; it fits WorkerOptions.OnRescue.
func (m *QueueMetrics) Rescued(n int) { m.rescued.Add(float64(n)) }
