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

// runWorker runs a worker with handlers until the test ends.
func runWorker(t *testing.T, db *storage.DB, opts storage.WorkerOptions, handlers ...engine.JobHandler) {
	t.Helper()
	if opts.Poll == 0 {
		opts.Poll = 50 * time.Millisecond
	}
	w, err := db.NewWorker(handlers, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-stopped; err != nil {
			t.Error(err)
		}
	})
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(15 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestWorkerRunsJobsRetriesFailuresAndCountsThem(t *testing.T) {
	t.Parallel()
	db := storagetest.NewDB(t)
	reg := prometheus.NewRegistry()
	metrics := storage.NewQueueMetrics(db, reg)
	var calls atomic.Int32
	done := make(chan struct{})
	var got atomic.Value
	runWorker(t, db, storage.WorkerOptions{OnDone: metrics.Observe},
		engine.Handle(func(ctx context.Context, j engine.Job, args testArgs) error {
			switch calls.Add(1) {
			case 1:
				return engine.RetryAfter(10*time.Millisecond, errors.New("slack said 429"))
			case 2:
				return errors.New("slack said 500")
			}
			got.Store(args.Note)
			close(done)
			return nil
		}))
	inTx(t, db, func(tx engine.Tx) error {
		_, err := tx.Enqueue(context.Background(), engine.Job{Args: testArgs{Note: "typed"}})
		return err
	})
	waitClosed(t, done, "the job to succeed")
	if got.Load() != "typed" {
		t.Errorf("the handler got %v, want the typed args", got.Load())
	}
	want := `
# HELP slabot_job_attempts_total Job attempts by kind and result (done, retry, failed).
# TYPE slabot_job_attempts_total counter
slabot_job_attempts_total{kind="test.job",result="done"} 1
slabot_job_attempts_total{kind="test.job",result="retry"} 2
`
	// The handler returns before the worker counts its attempt: wait for
	// the count rather than read it at once.
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err = testutil.GatherAndCompare(reg, strings.NewReader(want), "slabot_job_attempts_total"); err == nil {
			break
		}
	}
	if err != nil {
		t.Error(err)
	}
	if n, err := testutil.GatherAndCount(reg, "slabot_jobs"); err != nil || n != 7 {
		t.Errorf("slabot_jobs has %d series (%v), want one per state", n, err)
	}
}

func TestAnErrorWithNULAndBrokenUTF8IsRecordedCutAtACharacter(t *testing.T) {
	t.Parallel()
	db := storagetest.NewDB(t)
	failed := make(chan struct{})
	var once atomic.Bool
	runWorker(t, db, storage.WorkerOptions{},
		engine.Handle(func(ctx context.Context, j engine.Job, _ testArgs) error {
			if once.CompareAndSwap(false, true) {
				defer close(failed)
			}
			return errors.New("pasted \x00 from a PDF \xff: " + strings.Repeat("é", 3000))
		}))
	l := sampleLead("crm-bad-error")
	inTx(t, db, func(tx engine.Tx) error {
		if err := tx.CreateLead(context.Background(), l); err != nil {
			return err
		}
		_, err := tx.Enqueue(context.Background(), engine.Job{Args: testArgs{}, LeadID: l.ID})
		return err
	})
	waitClosed(t, failed, "the job to fail")
	deadline := time.Now().Add(10 * time.Second)
	for {
		jobs, err := db.JobsOfLead(context.Background(), l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 1 && jobs[0].LastError != "" {
			msg := jobs[0].LastError
			if !strings.HasPrefix(msg, "pasted  from a PDF \uFFFD: ééé") || !strings.HasSuffix(msg, "é…") {
				t.Errorf("recorded error %.60q…%q", msg, msg[max(0, len(msg)-10):])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the failure was never recorded: %+v", jobs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestADroppedJobIsNotRetried(t *testing.T) {
	t.Parallel()
	db := storagetest.NewDB(t)
	var calls atomic.Int32
	runWorker(t, db, storage.WorkerOptions{},
		engine.Handle(func(ctx context.Context, j engine.Job, _ testArgs) error {
			calls.Add(1)
			return engine.DropJob(errors.New("the lead's args cannot be read"))
		}))
	l := sampleLead("crm-dropped")
	inTx(t, db, func(tx engine.Tx) error {
		if err := tx.CreateLead(context.Background(), l); err != nil {
			return err
		}
		_, err := tx.Enqueue(context.Background(), engine.Job{Args: testArgs{}, LeadID: l.ID})
		return err
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		jobs, _ := db.JobsOfLead(context.Background(), l.ID)
		if len(jobs) == 1 && jobs[0].State == "cancelled" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job was not given up: %+v", jobs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("the handler ran %d times, want once", n)
	}
}

func TestAClickIsWorkedWhileTheSendQueueIsBusy(t *testing.T) {
	t.Parallel()
	db := storagetest.NewDB(t)
	release := make(chan struct{})
	clicked := make(chan struct{})
	runWorker(t, db, storage.WorkerOptions{Concurrency: 1},
		engine.Handle(func(ctx context.Context, j engine.Job, _ testArgs) error { // the send queue
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		}),
		engine.Handle(func(ctx context.Context, j engine.Job, _ clickArgs) error {
			close(clicked)
			return nil
		}))
	t.Cleanup(func() { close(release) })
	inTx(t, db, func(tx engine.Tx) error {
		for range 3 {
			if _, err := tx.Enqueue(context.Background(), engine.Job{Args: testArgs{}}); err != nil {
				return err
			}
		}
		_, err := tx.Enqueue(context.Background(), engine.Job{Args: clickArgs{}})
		return err
	})
	waitClosed(t, clicked, "the click to be worked while sends are stuck")
}

type clickArgs struct{}

func (clickArgs) Kind() string  { return "test.click" }
func (clickArgs) Queue() string { return engine.QueuePeople }

// TestAJobDueLaterRunsOnTimeNotEarly covers a timer due beyond River's
// scheduler interval: it waits as "scheduled", is woken a little early,
// and the worker holds it until it is due by the clock its handler
// decides with. That clock here is a replica's, 300 ms behind the
// database's and this machine's, and read without a monotonic reading, as
// a due time decoded from the database is: the test compares what the
// worker compares.
func TestAJobDueLaterRunsOnTimeNotEarly(t *testing.T) {
	t.Parallel()
	db := storagetest.NewDB(t)
	clock := func() time.Time { return time.Now().Round(0).Add(-300 * time.Millisecond) }
	ran := make(chan time.Time, 1)
	var got atomic.Value
	runWorker(t, db, storage.WorkerOptions{Now: clock},
		engine.Handle(func(ctx context.Context, j engine.Job, _ testArgs) error {
			got.Store(j.RunAt)
			ran <- clock()
			return nil
		}))
	l := sampleLead("crm-due-later")
	// Due 7.5 s from now by the worker's clock, 7.2 s by the database's:
	// beyond earlyBy (6 s), so stored "scheduled", with time to spare for
	// a slow insert.
	due := clock().Add(7500 * time.Millisecond)
	inTx(t, db, func(tx engine.Tx) error {
		if err := tx.CreateLead(context.Background(), l); err != nil {
			return err
		}
		_, err := tx.Enqueue(context.Background(), engine.Job{Args: testArgs{}, LeadID: l.ID, RunAt: due})
		return err
	})
	jobs, err := db.JobsOfLead(context.Background(), l.ID)
	if err != nil || len(jobs) != 1 || jobs[0].State != "scheduled" || !engine.SameInstant(jobs[0].RunAt, due) {
		t.Fatalf("a job due in 7.5 s is stored as %+v (%v); want scheduled, due %v", jobs, err, due)
	}
	select {
	case at := <-ran:
		if at.Before(due) {
			t.Errorf("the job ran %v before it was due by the worker's clock", due.Sub(at))
		}
		if runAt, _ := got.Load().(time.Time); !engine.SameInstant(runAt, due) {
			t.Errorf("the handler saw RunAt %v, want the due time %v", runAt, due)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the job never ran")
	}
}
