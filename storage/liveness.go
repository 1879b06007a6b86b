package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// A worker that dies holding jobs (kill -9, a lost node) leaves them
// "running". River's rescuer takes such jobs back only once they have run
// longer than any job may (RescueStuckJobsAfter, and only on the leader,
// every 30 s), which is minutes: a hand-off card would wait that long. So
// each worker says every heartbeat that it is alive (slabot_workers), and
// every worker, every heartbeat, runs again at once the jobs of a worker
// not heard from for DeadAfter, through River's own JobRescueMany. It also
// rescues, per queue, a job running well past its queue's timeout on any
// worker (queueSettings.stuckAfter), which is River's rule with a horizon
// per queue instead of one for all.
//
// River documents no heartbeat of its own yet (riverqueue/river#1256
// proposes one); its rescuer stays on as the last resort.

// liveness is one worker's heartbeat.
type liveness struct {
	db          *DB
	id          string // River's client id
	incarnation string
	deadAfter   time.Duration
	// stuckAfter is, per queue, how long a job may run before it is
	// taken to be stuck; otherStuckAfter for a queue not named.
	stuckAfter      map[string]time.Duration
	otherStuckAfter time.Duration
	onRescue        func(n int)
}

func newIncarnation() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// register records the worker as alive. A row under its id from an
// earlier start (a container restarted as the same host and process id)
// is a worker that died: its jobs are rescued first.
func (l *liveness) register(ctx context.Context) error {
	return pgx.BeginFunc(ctx, l.db.pool, func(tx pgx.Tx) error {
		var earlier string
		err := tx.QueryRow(ctx, `SELECT incarnation FROM slabot_workers WHERE id = $1 FOR UPDATE`, l.id).Scan(&earlier)
		switch {
		case err == nil && earlier != l.incarnation:
			if _, err := l.rescue(ctx, tx, []string{l.id}); err != nil {
				return err
			}
		case err != nil && !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("storage: unable to read the worker's earlier registration: %w", err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO slabot_workers (id, incarnation) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET incarnation = excluded.incarnation, started_at = now(), seen_at = now()`,
			l.id, l.incarnation)
		if err != nil {
			return fmt.Errorf("storage: unable to register the worker: %w", err)
		}
		return nil
	})
}

// beat says the worker is alive. It reports false when the worker's row
// was gone or taken over: it was not heard from for DeadAfter and its jobs
// may have been run again elsewhere; it registers again.
func (l *liveness) beat(ctx context.Context) (bool, error) {
	tag, err := l.db.pool.Exec(ctx, `UPDATE slabot_workers SET seen_at = now() WHERE id = $1 AND incarnation = $2`,
		l.id, l.incarnation)
	if err != nil {
		return false, fmt.Errorf("storage: unable to record the worker's heartbeat: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	return false, l.register(ctx)
}

// unregister removes the worker's row once it stopped cleanly.
func (l *liveness) unregister(ctx context.Context) error {
	_, err := l.db.pool.Exec(ctx, `DELETE FROM slabot_workers WHERE id = $1 AND incarnation = $2`, l.id, l.incarnation)
	if err != nil {
		return fmt.Errorf("storage: unable to unregister the worker: %w", err)
	}
	return nil
}

// rescueDead rescues the jobs of every worker not heard from for
// deadAfter, and jobs stuck past their queue's timeout, and forgets those
// workers. Several replicas may run it at once: the rows it works on are
// locked, and skipped by the others.
func (l *liveness) rescueDead(ctx context.Context) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, l.db.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM slabot_workers
			WHERE seen_at < now() - make_interval(secs => $1) FOR UPDATE SKIP LOCKED`, l.deadAfter.Seconds())
		if err != nil {
			return fmt.Errorf("storage: unable to find dead workers: %w", err)
		}
		dead, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("storage: unable to find dead workers: %w", err)
		}
		if n, err = l.rescue(ctx, tx, dead); err != nil {
			return err
		}
		if len(dead) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM slabot_workers WHERE id = ANY($1)`, dead); err != nil {
				return fmt.Errorf("storage: unable to forget dead workers: %w", err)
			}
		}
		return nil
	})
	return n, err
}

// rescue makes the running jobs last attempted by one of the dead workers,
// or running past their queue's stuckAfter, available to run again at once
// (discarded when they have no attempt left), with River's JobRescueMany,
// which records the rescue in the job's errors and metadata as River's
// rescuer does.
func (l *liveness) rescue(ctx context.Context, tx pgx.Tx, dead []string) (int, error) {
	names := make([]string, 0, len(l.stuckAfter))
	limits := make([]float64, 0, len(l.stuckAfter))
	for name, d := range l.stuckAfter {
		names = append(names, name)
		limits = append(limits, d.Seconds())
	}
	rows, err := tx.Query(ctx, `SELECT j.id, j.attempt, j.max_attempts, now()
		FROM river_job j
		LEFT JOIN unnest($2::text[], $3::float8[]) AS q(name, secs) ON q.name = j.queue
		WHERE j.state = 'running'
		  AND (j.attempted_by[cardinality(j.attempted_by)] = ANY($1::text[])
		       OR j.attempted_at < now() - make_interval(secs => COALESCE(q.secs, $4)))
		ORDER BY j.id
		FOR UPDATE OF j SKIP LOCKED`, dead, names, limits, l.otherStuckAfter.Seconds())
	if err != nil {
		return 0, fmt.Errorf("storage: unable to find the jobs of dead workers: %w", err)
	}
	type held struct {
		id                   int64
		attempt, maxAttempts int
		now                  time.Time
	}
	jobs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (held, error) {
		var h held
		err := row.Scan(&h.id, &h.attempt, &h.maxAttempts, &h.now)
		return h, err
	})
	if err != nil || len(jobs) == 0 {
		if err != nil {
			err = fmt.Errorf("storage: unable to find the jobs of dead workers: %w", err)
		}
		return 0, err
	}
	now := jobs[0].now
	params := &riverdriver.JobRescueManyParams{Schema: l.db.schema, StuckHorizon: now.Add(time.Millisecond)}
	for _, j := range jobs {
		msg, _ := json.Marshal(rivertype.AttemptError{At: now, Attempt: j.attempt,
			Error: "the worker running this job died or the job outran its queue's timeout; run again"})
		state, finalized := rivertype.JobStateAvailable, (*time.Time)(nil)
		if j.attempt >= j.maxAttempts {
			state, finalized = rivertype.JobStateDiscarded, &now
		}
		params.ID = append(params.ID, j.id)
		params.Error = append(params.Error, msg)
		params.FinalizedAt = append(params.FinalizedAt, finalized)
		params.ScheduledAt = append(params.ScheduledAt, now)
		params.State = append(params.State, string(state))
	}
	if _, err := riverpgxv5.New(nil).UnwrapExecutor(tx).JobRescueMany(ctx, params); err != nil {
		return 0, fmt.Errorf("storage: unable to rescue %d jobs: %w", len(jobs), err)
	}
	if l.onRescue != nil {
		l.onRescue(len(jobs))
	}
	return len(jobs), nil
}
