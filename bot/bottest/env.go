package bottest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

// Clock is a test's clock: it reads what the test set, and moves only when
// the test moves it. It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now is the time the clock reads.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Start is when an Env's clock starts: a Monday, 09:00 UTC, years after
// any wall clock that runs these tests (see Jobs for why it must be).
var Start = time.Date(2030, time.March, 4, 9, 0, 0, 0, time.UTC)

// Env is the core as it runs, without a platform: a fresh database of its
// own (storagetest.NewDB), the engine on a Clock the test moves, an
// in-memory Chat, and the queued jobs run by Jobs in the test's goroutine.
// The test builds the bot.Bot on these (bottest does not import bot, so
// the bot's own tests may use it) and hands its handlers to Jobs.
//
// The clock stands still until the test moves it. Move it between two
// changes of one lead's owner: jobs are keyed by the assignment's instant,
// so two assignments at one instant would share their jobs' keys, which
// never happens on a running clock.
type Env struct {
	DB      *storage.DB
	Service *engine.Service
	Chat    *Chat
	Clock   *Clock
	Jobs    *Jobs
	Logger  *slog.Logger
}

// NewEnv builds an Env on the agreement policyYAML, its teams stored as
// slabot run stores them, with a Chat on platform that knows people.
func NewEnv(t testing.TB, platform, policyYAML string, people ...engine.ChatIdentity) *Env {
	t.Helper()
	clock := NewClock(Start)
	if !Start.After(time.Now().Add(24 * time.Hour)) {
		t.Fatalf("bottest.Start (%s) must run ahead of the wall clock, or River loses the due times of timers", Start)
	}
	policy, problems := engine.ParsePolicy([]byte(policyYAML), clock.Now())
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatalf("the test's policy has problems: %v", errs)
	}
	db := storagetest.NewDB(t)
	if err := db.SyncTeams(context.Background(), policy.Teams); err != nil {
		t.Fatalf("store the policy's teams: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	service := engine.NewService(db, policy, clock.Now, logger)
	return &Env{DB: db, Service: service, Chat: NewChat(platform, people...), Clock: clock,
		Jobs: &Jobs{db: db, now: clock.Now}, Logger: logger}
}

// testWriter routes a logger to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Jobs runs the jobs a test database has queued, when a test's clock says
// they are due, one at a time in the caller's goroutine, with the handlers
// slabot run would give its worker.
//
// It reads River's table and calls each job's engine.JobHandler itself
// rather than driving a River worker: River fetches by the wall clock, in
// goroutines of its own, and polls, so a test of a reminder due in ten
// minutes would wait or race. What River adds around a handler (fetching,
// snoozing, backing off, rescuing) is storage's to test, and its tests do.
//
// River stores a job's due time by the wall clock: one due now is stored
// as inserted now, and only one due more than a few seconds ahead keeps
// its exact time. The test's clock must therefore run ahead of the wall
// clock (Start does), so that every timer keeps its time and every job
// due at once is due by the test's clock too.
type Jobs struct {
	db       *storage.DB
	now      func() time.Time
	handlers map[string]engine.JobHandler
}

// Serve sets the handlers that run the jobs, one per kind, replacing any
// set before.
func (j *Jobs) Serve(handlers ...engine.JobHandler) {
	j.handlers = map[string]engine.JobHandler{}
	for _, h := range handlers {
		j.handlers[h.Kind] = h
	}
}

// Ran is a job Jobs ran.
type Ran struct {
	Kind   string
	LeadID int64
	RunAt  time.Time
}

// maxRuns bounds one RunDue: jobs that keep queueing each other are a bug
// to report, not to wait out.
const maxRuns = 1000

// RunDue runs the jobs that are due by the clock, oldest due first, and
// those they queue that are due too, until none is. A job that succeeds is
// completed; a job that asks to be dropped is cancelled; a job that fails
// stops the run: it stays queued with its attempt counted, as River would
// retry it, and its error is returned for the test to look at.
func (j *Jobs) RunDue(ctx context.Context) ([]Ran, error) {
	var ran []Ran
	for range maxRuns {
		job, encoded, found, err := j.nextDue(ctx)
		if err != nil || !found {
			return ran, err
		}
		h, ok := j.handlers[job.Kind()]
		if !ok {
			h = engine.JobHandler{Kind: job.Kind()}
		}
		if job.Args == nil {
			job.Args = unknownArgs(h.Kind)
		}
		err = h.Run(ctx, job, encoded)
		ran = append(ran, Ran{Kind: h.Kind, LeadID: job.LeadID, RunAt: job.RunAt})
		state := "completed"
		switch {
		case engine.IsDropped(err):
			state = "cancelled"
		case err != nil:
			state = "available"
		}
		if serr := j.finish(ctx, job.ID, state); serr != nil {
			return ran, serr
		}
		if err != nil && !engine.IsDropped(err) {
			return ran, fmt.Errorf("job %d (%s, lead %d, attempt %d): %w", job.ID, h.Kind, job.LeadID, job.Attempts, err)
		}
	}
	return ran, fmt.Errorf("jobs kept queueing jobs: %d ran, and more are due", maxRuns)
}

// unknownArgs stands for the args of a kind no handler serves, so that
// the job is given up as River's worker gives it up.
type unknownArgs string

func (k unknownArgs) Kind() string  { return string(k) }
func (k unknownArgs) Queue() string { return "" }

// waitingStates are River's states of a job that has not run.
var waitingStates = []string{"available", "scheduled", "retryable", "pending"}

// nextDue is the waiting job due first, if it is due by the clock.
func (j *Jobs) nextDue(ctx context.Context) (engine.Job, []byte, bool, error) {
	var (
		job     engine.Job
		kind    string
		encoded json.RawMessage
	)
	err := j.db.Pool().QueryRow(ctx, `SELECT id, kind, COALESCE((args->>'lead_id')::bigint, 0), COALESCE(args->>'key', ''),
			args->'args', attempt, COALESCE((args->>'at')::timestamptz, scheduled_at) AS due
		FROM river_job WHERE state::text = ANY($1)
		ORDER BY due, id LIMIT 1`, waitingStates).
		Scan(&job.ID, &kind, &job.LeadID, &job.UniqueKey, &encoded, &job.Attempts, &job.RunAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return engine.Job{}, nil, false, nil
	}
	if err != nil {
		return engine.Job{}, nil, false, fmt.Errorf("bottest: find the next job: %w", err)
	}
	if job.RunAt.After(j.now()) {
		return engine.Job{}, nil, false, nil
	}
	job.Attempts++
	job.Args = unknownArgs(kind)
	return job, encoded, true, nil
}

// finish records a run of job id: its attempt, and its new state.
func (j *Jobs) finish(ctx context.Context, id int64, state string) error {
	_, err := j.db.Pool().Exec(ctx, `UPDATE river_job SET attempt = attempt + 1, attempted_at = now(), state = $2::river_job_state,
			finalized_at = CASE WHEN $2 IN ('completed', 'cancelled') THEN now() END
		WHERE id = $1`, id, state)
	if err != nil {
		return fmt.Errorf("bottest: record the run of job %d: %w", id, err)
	}
	return nil
}

// Waiting lists the kinds of the jobs still waiting, due or not, with
// their due times, for a test that checks what is planned.
func (j *Jobs) Waiting(ctx context.Context, leadID int64) ([]Ran, error) {
	jobs, err := j.db.ListJobs(ctx, storage.JobFilter{LeadID: leadID, States: waitingStates, Limit: 10_000})
	if err != nil {
		return nil, err
	}
	out := make([]Ran, len(jobs))
	for i, job := range jobs {
		out[len(jobs)-1-i] = Ran{Kind: job.Kind, LeadID: job.LeadID, RunAt: job.RunAt}
	}
	return out, nil
}
