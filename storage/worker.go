package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
)

// JobHandler does one job. A nil error completes it; an error retries it
// with backoff, or after the delay of an *engine.RetryError.
type JobHandler func(ctx context.Context, job engine.Job) error

// WorkerOptions tune a Worker; zero values take the defaults.
type WorkerOptions struct {
	// ID names this worker in the jobs table (host and process, say).
	ID string
	// Concurrency is how many jobs run at once (default 4).
	Concurrency int
	// Lease is how long a claimed job is this worker's before another may
	// take it over, should this one die (default 1 minute).
	Lease time.Duration
	// Poll is the longest the worker sleeps without a wake-up (default 1s).
	Poll   time.Duration
	Logger *slog.Logger
	// OnDone, if set, is told how every attempt went (for metrics).
	OnDone func(kind string, err error, retried bool)
}

// Worker runs due jobs with the registered handlers until its context ends.
type Worker struct {
	db       *DB
	handlers map[string]JobHandler
	kinds    []string // the kinds this worker claims: those it has handlers for
	opts     WorkerOptions
}

// NewWorker returns a worker for the given handlers, keyed by job kind.
func (db *DB) NewWorker(handlers map[string]JobHandler, opts WorkerOptions) *Worker {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.Lease <= 0 {
		opts.Lease = time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.ID == "" {
		opts.ID = fmt.Sprintf("worker-%d", rand.Int64())
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	kinds := slices.Sorted(maps.Keys(handlers))
	return &Worker{db: db, handlers: handlers, kinds: kinds, opts: opts}
}

// Run claims and runs jobs until ctx is done, then waits for the jobs in
// hand to finish.
func (w *Worker) Run(ctx context.Context) error {
	listener, err := w.db.NewJobListener(ctx)
	if err != nil {
		return err
	}
	defer listener.Close(context.Background())
	sem := make(chan struct{}, w.opts.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	lastPrune := time.Time{}
	for ctx.Err() == nil {
		if time.Since(lastPrune) > time.Hour {
			lastPrune = time.Now()
			if n, err := w.db.PruneJobs(ctx, 7*24*time.Hour); err != nil {
				w.opts.Logger.Warn("pruning finished jobs failed", "err", err)
			} else if n > 0 {
				w.opts.Logger.Debug("pruned finished jobs", "jobs", n)
			}
		}
		free := w.opts.Concurrency - len(sem)
		var jobs []engine.Job
		if free > 0 {
			jobs, err = w.db.ClaimJobs(ctx, w.opts.ID, free, w.opts.Lease, w.kinds...)
			if err != nil && ctx.Err() == nil {
				w.opts.Logger.Warn("claiming jobs failed", "err", err)
			}
		}
		for _, job := range jobs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				w.runJob(ctx, job)
			})
		}
		if len(jobs) == free && free > 0 {
			continue // there may be more due right now
		}
		if err := listener.Wait(ctx, w.nextWait(ctx)); err != nil && ctx.Err() == nil {
			w.opts.Logger.Warn("waiting for jobs failed; reconnecting", "err", err)
			listener.Close(context.Background())
			if listener, err = w.db.NewJobListener(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// nextWait sleeps until the next pending job is due, at most Poll.
func (w *Worker) nextWait(ctx context.Context) time.Duration {
	var wait *time.Duration
	err := w.db.pool.QueryRow(ctx, `SELECT GREATEST(min(run_at) - now(), '0'::interval) FROM jobs
		WHERE state = 'pending' AND kind = ANY($1)`, w.kinds).Scan(&wait)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) || wait == nil || *wait > w.opts.Poll {
		return w.opts.Poll
	}
	return max(*wait, 5*time.Millisecond)
}

func (w *Worker) runJob(ctx context.Context, job engine.Job) {
	handler, ok := w.handlers[job.Kind]
	var err error
	if !ok {
		err = fmt.Errorf("no handler for job kind %q", job.Kind)
	} else {
		// A job in hand finishes even while the worker shuts down: cutting a
		// send between Slack's answer and the record of it would only cause
		// a retry. The lease bounds how long that may take.
		jobCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.opts.Lease)
		err = safeRun(jobCtx, handler, job)
		cancel()
	}
	// Finishing must happen even as the worker shuts down.
	finishCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err == nil {
		if cerr := w.db.CompleteJob(finishCtx, job.ID, w.opts.ID); cerr != nil {
			w.opts.Logger.Error("completing a job failed", "job", job.ID, "kind", job.Kind, "err", cerr)
		}
		if w.opts.OnDone != nil {
			w.opts.OnDone(job.Kind, nil, false)
		}
		return
	}
	delay := backoff(job.Attempts)
	var re *engine.RetryError
	if errors.As(err, &re) {
		delay = re.After
	}
	retried, rerr := w.db.RetryJob(finishCtx, job.ID, w.opts.ID, delay, err)
	if rerr != nil {
		w.opts.Logger.Error("rescheduling a job failed", "job", job.ID, "kind", job.Kind, "err", rerr)
	}
	level := slog.LevelWarn
	if !retried {
		level = slog.LevelError
	}
	w.opts.Logger.Log(ctx, level, "job failed", "job", job.ID, "kind", job.Kind, "lead_id", job.LeadID,
		"attempt", job.Attempts, "retry_in", delay, "will_retry", retried, "err", err)
	if w.opts.OnDone != nil {
		w.opts.OnDone(job.Kind, err, retried)
	}
}

func safeRun(ctx context.Context, h JobHandler, job engine.Job) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("job handler panicked: %v", r)
		}
	}()
	return h(ctx, job)
}

// backoff grows exponentially from one second to five minutes, with jitter
// so that many failed jobs do not retry in lockstep.
func backoff(attempt int) time.Duration {
	d := time.Second << min(max(attempt-1, 0), 9)
	d = min(d, 5*time.Minute)
	return d/2 + rand.N(d/2+1)
}
