package storage_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

func TestWorkerRunsJobsRetriesFailuresAndCountsThem(t *testing.T) {
	db := storagetest.NewDB(t)
	reg := prometheus.NewRegistry()
	metrics := storage.NewQueueMetrics(db, reg)
	var calls atomic.Int32
	done := make(chan struct{})
	handlers := map[string]storage.JobHandler{
		"flaky": func(ctx context.Context, j engine.Job) error {
			if calls.Add(1) == 1 {
				return engine.RetryAfter(10*time.Millisecond, errors.New("slack said 429"))
			}
			close(done)
			return nil
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := db.NewWorker(handlers, storage.WorkerOptions{Poll: 50 * time.Millisecond, OnDone: metrics.Observe})
	stopped := make(chan error, 1)
	go func() { stopped <- w.Run(ctx) }()
	inTx(t, db, func(tx engine.Tx) error {
		_, err := tx.Enqueue(ctx, engine.Job{Kind: "flaky"})
		return err
	})
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the job never succeeded")
	}
	cancel()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	want := `
# HELP slabot_job_attempts_total Job attempts by kind and result (done, retry, failed).
# TYPE slabot_job_attempts_total counter
slabot_job_attempts_total{kind="flaky",result="done"} 1
slabot_job_attempts_total{kind="flaky",result="retry"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "slabot_job_attempts_total"); err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(reg, "slabot_jobs"); err != nil || n != 5 {
		t.Errorf("slabot_jobs has %d series (%v), want one per state", n, err)
	}
}
