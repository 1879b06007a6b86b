package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/slabot/slabot/engine"
)

// WorkerOptions tune a Worker; zero values take the defaults.
type WorkerOptions struct {
	// ID names this process among the workers (host and process, say).
	ID string
	// Concurrency, when set, is how many jobs of each queue run at once
	// (default: each queue's own, see queues).
	Concurrency int
	// JobTimeout, when set, bounds one attempt of every queue (default:
	// each queue's own timeout: 30 s for sends, clicks and timers).
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before River's own
	// rescuer, the last resort, takes it to belong to a worker that died
	// (default: the longest timeout and a minute). The jobs of a worker
	// whose heartbeat stopped are rescued long before (DeadAfter).
	RescueAfter time.Duration
	// Heartbeat is how often the worker records that it is alive and
	// looks for workers that are not (default 2 s).
	Heartbeat time.Duration
	// DeadAfter is how long a worker may go unheard before the jobs it
	// holds are run again by the others (default 10 s).
	DeadAfter time.Duration
	// StopTimeout is how long the jobs in hand may take to finish once the
	// worker is told to stop, before they are cancelled (default 10s).
	StopTimeout time.Duration
	// Poll is the longest a queue waits for work without a wake-up (default 250 ms).
	Poll time.Duration
	// Now is the clock a job woken early waits on: the clock its handler
	// decides with (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
	// OnDone, if set, is told how every attempt went (for metrics): err is
	// nil when it succeeded; retried says whether it will run again.
	OnDone func(kind string, err error, retried bool)
	// OnRescue, if set, is told how many jobs of dead workers, or stuck
	// past their queue's timeout, this worker made available again.
	OnRescue func(n int)
}

// Worker runs due jobs with the registered handlers.
type Worker struct {
	db     *DB
	client *river.Client[pgx.Tx]
	opts   WorkerOptions
	live   *liveness
}

// NewWorker returns a worker for the given handlers, one per job kind,
// working the queues those handlers name.
func (db *DB) NewWorker(handlers []engine.JobHandler, opts WorkerOptions) (*Worker, error) {
	// stuck is, per queue, how long a job may run before it is taken to be
	// stuck: its timeout and a minute, or RescueAfter when set.
	longest := longestTimeout()
	if opts.JobTimeout > 0 {
		longest = opts.JobTimeout
	}
	stuck := map[string]time.Duration{}
	for name, q := range queues {
		if opts.JobTimeout > 0 {
			q.Timeout = opts.JobTimeout
		}
		stuck[name] = q.stuckAfter()
	}
	if opts.RescueAfter > 0 {
		// River refuses a rescue sooner than a job may run.
		opts.RescueAfter = max(opts.RescueAfter, longest+time.Second)
		for name := range stuck {
			stuck[name] = opts.RescueAfter
		}
	} else {
		opts.RescueAfter = longest + stuckGrace
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 2 * time.Second
	}
	if opts.DeadAfter <= 0 {
		opts.DeadAfter = 10 * time.Second
	}
	// A missed beat or two (a slow database) is not a death.
	opts.DeadAfter = max(opts.DeadAfter, 3*opts.Heartbeat)
	if opts.Now == nil {
		opts.Now = time.Now
	}
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
	queueConfigs := map[string]river.QueueConfig{}
	for _, h := range handlers {
		q := queueOf(h.Queue)
		timeout := q.Timeout
		if opts.JobTimeout > 0 {
			timeout = opts.JobTimeout
		}
		if err := addWorker(workers, &queueWorker{w: w, h: h, timeout: timeout}); err != nil {
			return nil, err
		}
		n := opts.Concurrency
		if n <= 0 {
			n = max(q.Workers, 1)
		}
		queueConfigs[h.Queue] = river.QueueConfig{MaxWorkers: n}
	}
	jobTimeout := longest
	client, err := river.NewClient(riverpgxv5.New(db.pool), &river.Config{
		ID:                   opts.ID,
		Logger:               opts.Logger.With("component", "river"),
		Schema:               db.schema,
		Queues:               queueConfigs,
		Workers:              workers,
		JobTimeout:           jobTimeout,
		RescueStuckJobsAfter: opts.RescueAfter,
		FetchPollInterval:    opts.Poll,
		// River waits this long after a wake-up before it fetches, to gather
		// a burst into one fetch; its default (100 ms) would be most of a
		// click's answer time.
		FetchCooldown:               min(10*time.Millisecond, opts.Poll),
		CompletedJobRetentionPeriod: jobRetention,
		CancelledJobRetentionPeriod: jobRetention,
		DiscardedJobRetentionPeriod: 4 * jobRetention,
		MaxAttempts:                 defaultQueue.MaxAttempts,
		RetryPolicy:                 retryPolicy{},
	})
	if err != nil {
		return nil, fmt.Errorf("storage: unable to create the job worker: %w", err)
	}
	w.client = client
	w.live = &liveness{db: db, id: client.ID(), incarnation: newIncarnation(),
		deadAfter: opts.DeadAfter, stuckAfter: stuck, otherStuckAfter: opts.RescueAfter, onRescue: opts.OnRescue}
	return w, nil
}

// queueWorker runs the jobs of one kind, each attempt bounded by its
// queue's timeout (River's per-worker Timeout, which its rescuer honours
// as well).
type queueWorker struct {
	river.WorkerDefaults[storedJob]
	w       *Worker
	h       engine.JobHandler
	timeout time.Duration
}

func (q *queueWorker) Work(ctx context.Context, job *river.Job[storedJob]) error {
	return q.w.work(ctx, q.h, job)
}

func (q *queueWorker) Timeout(*river.Job[storedJob]) time.Duration { return q.timeout }

func addWorker(workers *river.Workers, qw *queueWorker) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("storage: unable to register the %s handler: %v", qw.h.Kind, r)
		}
	}()
	river.AddWorkerArgs(workers, storedJob{kind: qw.h.Kind}, river.Worker[storedJob](qw))
	return nil
}

// work runs one attempt and turns the engine's answer into River's.
func (w *Worker) work(ctx context.Context, h engine.JobHandler, job *river.Job[storedJob]) error {
	ej := engine.Job{ID: job.ID, LeadID: job.Args.LeadID, UniqueKey: job.Args.Key,
		RunAt: job.ScheduledAt, Attempts: job.Attempt}
	if at := job.Args.At; !at.IsZero() {
		// Woken early (see insertParams): wait until the clock the handler
		// decides with says it is due. A sleep measures elapsed time, which
		// a wall clock adjustment does not move, so the clock is read again.
		ej.RunAt = at
		for wait := at.Sub(w.opts.Now()); wait > 0; wait = at.Sub(w.opts.Now()) {
			if wait > maxInlineWait {
				return river.JobSnooze(wait)
			}
			if !sleep(ctx, wait) {
				return river.JobSnooze(0)
			}
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
// waited for. While it runs it beats its heartbeat and runs again the
// jobs of workers that died (see liveness).
func (w *Worker) Run(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		// Registered before it takes any job, so that every job it holds
		// belongs to a worker the others can see die.
		err := w.live.register(ctx)
		if err == nil {
			// The jobs' contexts derive from Start's: a stop must let the
			// jobs in hand finish (Stop below), not cancel them with the run.
			err = w.client.Start(context.WithoutCancel(ctx))
		}
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
	// The heartbeat outlives ctx until the jobs in hand are done: a worker
	// finishing its jobs is not dead.
	beatCtx, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
	beating := make(chan struct{})
	go func() {
		defer close(beating)
		w.heartbeat(beatCtx)
	}()
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), w.opts.StopTimeout)
	defer cancel()
	err := w.client.Stop(stopCtx)
	if err != nil {
		w.opts.Logger.Warn("jobs in hand did not finish in time; cancelling them", "err", err)
		cancelCtx, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel2()
		_ = w.client.StopAndCancel(cancelCtx)
	}
	stopBeat()
	<-beating
	if err != nil {
		// A job may still be marked running: the heartbeat stops, so the
		// others take this worker for dead and run it again.
		return nil
	}
	unregCtx, cancel3 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel3()
	if err := w.live.unregister(unregCtx); err != nil {
		w.opts.Logger.Warn("could not unregister the job worker; the others will take it for dead", "err", err)
	}
	return nil
}

// heartbeat beats every Heartbeat and rescues the jobs of dead workers,
// until ctx ends.
func (w *Worker) heartbeat(ctx context.Context) {
	t := time.NewTicker(w.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		alive, err := w.live.beat(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			w.opts.Logger.Warn("could not record the job worker's heartbeat", "err", err)
			continue
		case !alive:
			w.opts.Logger.Warn("the job worker was not heard from for a while and was taken for dead; the jobs it held may run again elsewhere",
				"dead_after", w.opts.DeadAfter)
		}
		n, err := w.live.rescueDead(ctx)
		if err != nil && ctx.Err() == nil {
			w.opts.Logger.Warn("could not look for the jobs of dead workers", "err", err)
		}
		if n > 0 {
			w.opts.Logger.Info("ran again the jobs of a worker that died or of jobs stuck past their timeout", "jobs", n)
		}
	}
}
