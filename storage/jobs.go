package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/slabot/slabot/engine"
)

// Durable work runs on River (riverqueue.com): its river_job table lives
// beside slabot's own, so a job is inserted in the same transaction as the
// state change that caused it, and River's rescuer, cleaner and leader
// election replace a hand-made lease and pruning.

// storedJob is how every engine job is stored in River: the engine's typed
// args, nested, beside the lead the job is about and its unique key. Only
// the key counts for uniqueness, so a job is added once per key, as the
// engine asks.
type storedJob struct {
	kind   string
	LeadID int64           `json:"lead_id,omitempty"`
	Key    string          `json:"key,omitempty" river:"unique"`
	Args   json.RawMessage `json:"args,omitempty"`
	// At is when the job is due, when River was asked to make it available
	// a little earlier (see insertParams).
	At time.Time `json:"at,omitzero"`
}

// Kind implements river.JobArgs.
func (j storedJob) Kind() string { return j.kind }

// uniqueInEveryState keeps a key unique for as long as River keeps the job:
// a cancelled reminder or a delivery given up on is not queued again.
var uniqueInEveryState = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted,
	rivertype.JobStateDiscarded, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// jobRetention is how long River keeps finished jobs, and so how long a
// unique key keeps a job from being queued twice (Slack redelivers events
// within minutes; timers are keyed by assignment).
const jobRetention = 7 * 24 * time.Hour

// newInsertClient returns the River client that queues jobs. It runs no
// jobs: a Worker does, with a client of its own.
func newInsertClient(db *DB, schema string) (*river.Client[pgx.Tx], error) {
	c, err := river.NewClient(riverpgxv5.New(db.pool), &river.Config{
		Logger:              db.logger.With("component", "river"),
		Schema:              schema,
		JobInsertMiddleware: []rivertype.JobInsertMiddleware{&dueOnTime{}},
		// An insert wakes the workers at most once per this long per queue;
		// River's default (100 ms) leaves a job inserted just after another
		// waiting for the next poll.
		FetchCooldown: 10 * time.Millisecond,
		// Each job takes its attempts from its queue (insertParams).
		MaxAttempts: defaultQueue.MaxAttempts,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: unable to create the job client: %w", err)
	}
	return c, nil
}

// dueOnTimeTag marks the jobs dueOnTime makes available with their time.
const dueOnTimeTag = "due_on_time"

// earlyBy is how long before it is due a job leaves River's "scheduled"
// state: a little more than River's scheduler interval (5 s).
const earlyBy = 6 * time.Second

// dueOnTime inserts a job that is due within earlyBy as "available" with its time,
// rather than as "scheduled". River's workers fetch only available jobs
// whose time has come, polling every second (and at once on an insert),
// while scheduled jobs wait for the leader's scheduler, which runs every
// five seconds: a reminder set for two minutes before a deadline should
// not be five seconds late. Uses River's public insert middleware.
type dueOnTime struct {
	river.JobInsertMiddlewareDefaults
}

func (dueOnTime) InsertMany(ctx context.Context, many []*rivertype.JobInsertParams,
	doInner func(context.Context) ([]*rivertype.JobInsertResult, error)) ([]*rivertype.JobInsertResult, error) {
	for _, p := range many {
		if p.State == rivertype.JobStateScheduled && slices.Contains(p.Tags, dueOnTimeTag) {
			p.State = rivertype.JobStateAvailable
		}
	}
	return doInner(ctx)
}

// insertParams turns an engine job into River's args and options.
func insertParams(j engine.Job) (storedJob, *river.InsertOpts, error) {
	if j.Args == nil {
		return storedJob{}, nil, fmt.Errorf("storage: a job without args cannot be queued")
	}
	encoded, err := json.Marshal(j.Args)
	if err != nil {
		return storedJob{}, nil, fmt.Errorf("storage: unable to encode a %s job: %w", j.Kind(), err)
	}
	args := storedJob{kind: j.Kind(), LeadID: j.LeadID, Key: j.UniqueKey, Args: encoded}
	opts := &river.InsertOpts{Queue: j.Args.Queue(), MaxAttempts: queueOf(j.Args.Queue()).MaxAttempts}
	schedule(&args, opts, j.RunAt)
	if j.UniqueKey != "" {
		opts.UniqueOpts = river.UniqueOpts{ByArgs: true, ByState: uniqueInEveryState}
	}
	return args, opts, nil
}

// schedule sets when a job becomes available to the workers.
func schedule(args *storedJob, opts *river.InsertOpts, runAt time.Time) {
	switch now := time.Now(); {
	case !runAt.After(now):
		// Due now: straight in, for the workers to fetch at once.
	case runAt.Sub(now) <= earlyBy:
		// Due within a few seconds: "available" with its time (dueOnTime).
		opts.ScheduledAt = runAt
		opts.Tags = []string{dueOnTimeTag}
	default:
		// Due later: "scheduled" for River's scheduler, which makes jobs
		// available every few seconds, so it is woken early by that much
		// and the worker waits out the rest. Keeping far-off timers out of
		// "available" keeps the workers' fetches cheap.
		opts.ScheduledAt = runAt.Add(-earlyBy)
		args.At = runAt
	}
}

// Enqueue adds a job unless one with the same unique key exists. Inside a
// transaction the job commits or vanishes with it.
func (q *queries) Enqueue(ctx context.Context, j engine.Job) (bool, error) {
	args, opts, err := insertParams(j)
	if err != nil {
		return false, err
	}
	var res *rivertype.JobInsertResult
	if tx, ok := q.db.(pgx.Tx); ok {
		res, err = q.jobs.InsertTx(ctx, tx, args, opts)
	} else {
		res, err = q.jobs.Insert(ctx, args, opts)
	}
	if err != nil {
		return false, mapError(err, "queue a %s job", j.Kind())
	}
	return !res.UniqueSkippedAsDuplicate, nil
}

// EnqueueAll adds jobs in one round trip, each unless its unique key
// exists; inside a transaction they commit or vanish with it.
func (q *queries) EnqueueAll(ctx context.Context, jobs []engine.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, 0, len(jobs))
	for _, j := range jobs {
		args, opts, err := insertParams(j)
		if err != nil {
			return err
		}
		params = append(params, river.InsertManyParams{Args: args, InsertOpts: opts})
	}
	var err error
	if tx, ok := q.db.(pgx.Tx); ok {
		_, err = q.jobs.InsertManyTx(ctx, tx, params)
	} else {
		_, err = q.jobs.InsertMany(ctx, params)
	}
	return mapError(err, "queue %d jobs", len(jobs))
}

// waitingStates are the states of a job that has not started.
const waitingStates = `('available', 'scheduled', 'retryable', 'pending')`

// CancelJobs cancels a lead's jobs that have not started yet, of the given
// kinds (all kinds when none given). A job already running finishes.
func (q *queries) CancelJobs(ctx context.Context, leadID int64, kinds ...string) (int, error) {
	// FOR UPDATE keeps River's fetch (which skips locked rows) off these
	// jobs until this transaction ends, and drops any it fetched meanwhile:
	// a job that started running is left to finish, not cancelled midway.
	rows, err := q.db.Query(ctx, `SELECT id FROM river_job
		WHERE args->'lead_id' = to_jsonb($1::bigint) AND state IN `+waitingStates+`
		  AND (COALESCE(cardinality($2::text[]), 0) = 0 OR kind = ANY($2))
		FOR UPDATE`, leadID, kinds)
	if err != nil {
		return 0, mapError(err, "find the jobs of lead %d", leadID)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, mapError(err, "find the jobs of lead %d", leadID)
	}
	tx, inTx := q.db.(pgx.Tx)
	for _, id := range ids {
		if inTx {
			_, err = q.jobs.JobCancelTx(ctx, tx, id)
		} else {
			_, err = q.jobs.JobCancel(ctx, id)
		}
		if err != nil {
			return 0, mapError(err, "cancel job %d of lead %d", id, leadID)
		}
	}
	return len(ids), nil
}

// JobCounts returns how many jobs are in each of River's states, for metrics.
func (db *DB) JobCounts(ctx context.Context) (map[string]int, error) {
	rows, err := db.pool.Query(ctx, `SELECT state::text, count(*) FROM river_job GROUP BY state`)
	if err != nil {
		return nil, mapError(err, "count jobs")
	}
	counts := map[string]int{}
	var state string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&state, &n}, func() error { counts[state] = n; return nil })
	return counts, mapError(err, "count jobs")
}

// JobInfo describes a stored job, for operators and tests.
type JobInfo struct {
	ID        int64
	Kind      string
	Queue     string
	LeadID    int64
	UniqueKey string
	// Args is the job's typed args as stored (JSON).
	Args        json.RawMessage
	State       string
	Attempts    int
	MaxAttempts int
	RunAt       time.Time
	CreatedAt   time.Time
	// LastError is the error of the latest failed attempt ("" for none).
	LastError string
}

// JobFilter selects jobs to list. The zero value lists every job.
type JobFilter struct {
	LeadID int64
	// States keeps jobs in one of these River states (available,
	// scheduled, running, retryable, completed, cancelled, discarded).
	States []string
	// Limit caps the listing (default 100).
	Limit int
}

// ListJobs lists jobs, newest first.
func (db *DB) ListJobs(ctx context.Context, f JobFilter) ([]JobInfo, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	var lead any
	if f.LeadID != 0 {
		lead = f.LeadID
	}
	rows, err := db.pool.Query(ctx, `SELECT id, kind, queue, COALESCE((args->>'lead_id')::bigint, 0),
			COALESCE(args->>'key', ''), COALESCE(args->'args', '{}'::jsonb), state::text, attempt, max_attempts,
			COALESCE((args->>'at')::timestamptz, scheduled_at), created_at, COALESCE(errors[cardinality(errors)]->>'error', '')
		FROM river_job
		WHERE ($1::bigint IS NULL OR args->'lead_id' = to_jsonb($1::bigint))
		  AND (COALESCE(cardinality($2::text[]), 0) = 0 OR state::text = ANY($2))
		ORDER BY id DESC LIMIT $3`, lead, f.States, f.Limit)
	if err != nil {
		return nil, mapError(err, "list jobs")
	}
	jobs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (JobInfo, error) {
		var j JobInfo
		err := row.Scan(&j.ID, &j.Kind, &j.Queue, &j.LeadID, &j.UniqueKey, &j.Args, &j.State, &j.Attempts,
			&j.MaxAttempts, &j.RunAt, &j.CreatedAt, &j.LastError)
		return j, err
	})
	return jobs, mapError(err, "list jobs")
}

// JobsOfLead lists a lead's jobs in the order they were queued.
func (db *DB) JobsOfLead(ctx context.Context, leadID int64) ([]JobInfo, error) {
	jobs, err := db.ListJobs(ctx, JobFilter{LeadID: leadID, Limit: 10_000})
	for i, j := 0, len(jobs)-1; i < j; i, j = i+1, j-1 {
		jobs[i], jobs[j] = jobs[j], jobs[i]
	}
	return jobs, err
}

// RetryJob makes a failed, cancelled or waiting job available to run now,
// for an operator who fixed what made it fail.
func (db *DB) RetryJob(ctx context.Context, id int64) error {
	if _, err := db.jobs.JobRetry(ctx, id); err != nil {
		return mapError(err, "retry job %d", id)
	}
	return nil
}

// carryOverLegacyJobs moves the jobs of the queue slabot kept before River
// (the jobs table) that were still to run into River, keeping their unique
// keys, so an upgrade loses no timer or message. Its payloads were written
// with the same field names the typed args use.
func carryOverLegacyJobs(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], logger *slog.Logger) error {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('jobs') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		return err
	}
	// Replicas of the previous release may still be queueing: hold the
	// table until it is dropped, so none of their jobs commits unseen.
	if _, err := tx.Exec(ctx, `LOCK TABLE jobs IN EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("lock the previous queue: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT kind, COALESCE(lead_id, 0), payload, COALESCE(unique_key, ''), run_at
		FROM jobs WHERE state IN ('pending', 'running') ORDER BY id`)
	if err != nil {
		return fmt.Errorf("read the previous queue: %w", err)
	}
	type legacy struct {
		kind, key string
		leadID    int64
		payload   json.RawMessage
		runAt     time.Time
	}
	old, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (legacy, error) {
		var l legacy
		err := row.Scan(&l.kind, &l.leadID, &l.payload, &l.key, &l.runAt)
		return l, err
	})
	if err != nil {
		return fmt.Errorf("read the previous queue: %w", err)
	}
	for _, l := range old {
		args := storedJob{kind: l.kind, LeadID: l.leadID, Key: l.key, Args: l.payload}
		opts := &river.InsertOpts{Queue: legacyQueue(l.kind), MaxAttempts: queueOf(legacyQueue(l.kind)).MaxAttempts}
		schedule(&args, opts, l.runAt)
		if l.key != "" {
			opts.UniqueOpts = river.UniqueOpts{ByArgs: true, ByState: uniqueInEveryState}
		}
		if _, err := jobs.InsertTx(ctx, tx, args, opts); err != nil {
			return fmt.Errorf("carry a %s job over: %w", l.kind, err)
		}
	}
	if len(old) > 0 {
		logger.Info("carried jobs over from the previous queue", "jobs", len(old))
	}
	return nil
}

// legacyQueue is the queue of a job kind of the previous release.
func legacyQueue(kind string) string {
	switch {
	case strings.HasPrefix(kind, "timer."):
		return engine.QueueTimers
	case strings.HasPrefix(kind, "notify."):
		return engine.QueueSend
	case strings.HasPrefix(kind, "report."):
		return engine.QueueReports
	}
	return engine.QueuePeople
}

// errorText makes an error fit to store: valid UTF-8 without NUL (which
// PostgreSQL refuses in jsonb), cut at a character boundary.
func errorText(s string, limit int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
