package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/slabot/slabot/engine"
)

// WorkerOptions tune a Worker; zero values take the defaults.
type WorkerOptions struct {
	// ID names this process among the workers (host and process, say).
	ID string
	// Concurrency, when set, is how many jobs of each queue run at once
	// (default: 8 for people's clicks, 4 for sends, timers and CRM calls, 1 for reports).
	Concurrency int
	// JobTimeout bounds one attempt (default 1 minute).
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before it is taken to
	// belong to a worker that died, and run again (default 2 minutes).
	RescueAfter time.Duration
	// StopTimeout is how long the jobs in hand may take to finish once the
	// worker is told to stop, before they are cancelled (default 10s).
	StopTimeout time.Duration
	// Poll is the longest a queue waits for work without a wake-up (default 250 ms).
	Poll   time.Duration
	Logger *slog.Logger
	// OnDone, if set, is told how every attempt went (for metrics): err is
	// nil when it succeeded; retried says whether it will run again.
	OnDone func(kind string, err error, retried bool)
}

var defaultConcurrency = map[string]int{
	engine.QueuePeople: 8, engine.QueueSend: 4, engine.QueueTimers: 4, engine.QueueReports: 1,
	// CRM calls wait on other people's servers: a queue of their own keeps
	// a slow CRM from holding up cards, clicks and timers.
	engine.QueueCRM: 4,
}

// Worker runs due jobs with the registered handlers.
type Worker struct {
	db     *DB
	client *river.Client[pgx.Tx]
	opts   WorkerOptions
}

// NewWorker returns a worker for the given handlers, one per job kind,
// working the queues those handlers name.
func (db *DB) NewWorker(handlers []engine.JobHandler, opts WorkerOptions) (*Worker, error) {
	if opts.JobTimeout <= 0 {
		opts.JobTimeout = time.Minute
	}
	if opts.RescueAfter <= 0 {
		opts.RescueAfter = 2 * time.Minute
	}
	opts.RescueAfter = max(opts.RescueAfter, opts.JobTimeout+time.Second)
	if opts.Poll <= 0 {
		// Most jobs are fetched at once on the insert's notification; some
		// (about one in ten in BenchmarkIntakeToDM) wait for this poll.
		opts.Poll = 250 * time.Millisecond
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Worker{db: db, opts: opts}
	workers := river.NewWorkers()
	queues := map[string]river.QueueConfig{}
	for _, h := range handlers {
		// AddWorkerArgs registers a kind known at run time: every kind is
		// stored as a storedJob and decoded into its typed args by h.
		if err := addWorker(workers, h, w); err != nil {
			return nil, err
		}
		n := opts.Concurrency
		if n <= 0 {
			n = max(defaultConcurrency[h.Queue], 1)
		}
		queues[h.Queue] = river.QueueConfig{MaxWorkers: n}
	}
	client, err := river.NewClient(riverpgxv5.New(db.pool), &river.Config{
		ID:                   opts.ID,
		Logger:               opts.Logger.With("component", "river"),
		Schema:               db.schema,
		Queues:               queues,
		Workers:              workers,
		JobTimeout:           opts.JobTimeout,
		RescueStuckJobsAfter: opts.RescueAfter,
		FetchPollInterval:    opts.Poll,
		// River waits this long after a wake-up before it fetches, to gather
		// a burst into one fetch; its default (100 ms) would be most of a
		// click's answer time.
		FetchCooldown:               min(10*time.Millisecond, opts.Poll),
		CompletedJobRetentionPeriod: jobRetention,
		CancelledJobRetentionPeriod: jobRetention,
		DiscardedJobRetentionPeriod: 4 * jobRetention,
		MaxAttempts:                 maxAttempts,
		RetryPolicy:                 retryPolicy{},
	})
	if err != nil {
		return nil, fmt.Errorf("storage: unable to create the job worker: %w", err)
	}
	w.client = client
	return w, nil
}

func addWorker(workers *river.Workers, h engine.JobHandler, w *Worker) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("storage: unable to register the %s handler: %v", h.Kind, r)
		}
	}()
	river.AddWorkerArgs(workers, storedJob{kind: h.Kind}, river.WorkFunc(func(ctx context.Context, job *river.Job[storedJob]) error {
		return w.work(ctx, h, job)
	}))
	return nil
}

// work runs one attempt and turns the engine's answer into River's.
func (w *Worker) work(ctx context.Context, h engine.JobHandler, job *river.Job[storedJob]) error {
	ej := engine.Job{ID: job.ID, LeadID: job.Args.LeadID, UniqueKey: job.Args.Key,
		RunAt: job.ScheduledAt, Attempts: job.Attempt}
	if at := job.Args.At; !at.IsZero() {
		// Woken early (see insertParams): wait for the time it is due.
		ej.RunAt = at
		if wait := time.Until(at); wait > maxInlineWait {
			return river.JobSnooze(wait)
		} else if !sleep(ctx, wait) {
			return river.JobSnooze(0)
		}
	}
	err := h.Run(ctx, ej, job.Args.Args)
	// A short wait (Slack's usual Retry-After of a second) is waited out
	// here: a snoozed job waits for River's scheduler, which runs only every
	// few seconds.
	var re *engine.RetryError
	for inline := 0; inline < maxInlineWaits && errors.As(err, &re) && re.After <= maxInlineWait; inline++ {
		if w.opts.OnDone != nil {
			w.opts.OnDone(h.Kind, err, true)
		}
		if !sleep(ctx, re.After) {
			return river.JobSnooze(0)
		}
		err = h.Run(ctx, ej, job.Args.Args)
	}
	retried := err != nil && job.Attempt < job.MaxAttempts
	switch {
	case err == nil:
	case errors.As(err, &re):
		retried = true
		err = river.JobSnooze(max(re.After, 0))
	case engine.IsDropped(err):
		retried = false
		w.opts.Logger.Warn("job given up", "job", job.ID, "kind", h.Kind, "lead_id", job.Args.LeadID, "err", err)
		err = river.JobCancel(errors.New(errorText(err.Error(), 2000)))
	default:
		level := slog.LevelWarn
		if !retried {
			level = slog.LevelError
		}
		w.opts.Logger.Log(ctx, level, "job failed", "job", job.ID, "kind", h.Kind, "lead_id", job.Args.LeadID,
			"attempt", job.Attempt, "will_retry", retried, "err", err)
		// River records the message in jsonb, which refuses NUL and
		// invalid UTF-8: what failed must not fail to be recorded.
		err = errors.New(errorText(err.Error(), 2000))
	}
	if w.opts.OnDone != nil {
		w.opts.OnDone(h.Kind, err, retried)
	}
	return err
}

// sleep waits for d (nothing when d <= 0); false when ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// A job asked to retry within maxInlineWait is retried in place, up to
// maxInlineWaits times, before it is snoozed.
const (
	maxInlineWait  = 2 * time.Second
	maxInlineWaits = 3
)

// Run works jobs until ctx is done, then lets the jobs in hand finish for a
// while before cancelling them. A database that is down when it starts is
// waited for.
func (w *Worker) Run(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		// The jobs' contexts derive from Start's: a stop must let the jobs
		// in hand finish (Stop below), not cancel them with the run.
		err := w.client.Start(context.WithoutCancel(ctx))
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		wait := backoff(min(attempt+1, 6))
		w.opts.Logger.Warn("the job worker cannot start yet; waiting for the database", "retry_in", wait, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), w.opts.StopTimeout)
	defer cancel()
	if err := w.client.Stop(stopCtx); err != nil {
		w.opts.Logger.Warn("jobs in hand did not finish in time; cancelling them", "err", err)
		cancelCtx, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel2()
		_ = w.client.StopAndCancel(cancelCtx)
	}
	return nil
}

// maxAttempts with retryPolicy's backoff covers about two hours of a Slack
// or database outage before a job is given up.
const maxAttempts = 40

// retryPolicy retries soon at first (a Slack or database hiccup passes in
// seconds) and then every few minutes.
type retryPolicy struct{}

func (retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(backoff(job.Attempt))
}

// backoff grows exponentially from one second to five minutes, with jitter
// so that many failed jobs do not retry in lockstep.
func backoff(attempt int) time.Duration {
	d := time.Second << min(max(attempt-1, 0), 9)
	d = min(d, 5*time.Minute)
	return d/2 + rand.N(d/2+1)
}
