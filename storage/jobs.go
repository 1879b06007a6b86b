package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
)

// jobsChannel is the LISTEN/NOTIFY channel that wakes workers when a job is
// added. The notification is delivered at commit, so a worker never sees a
// job whose transaction rolled back.
const jobsChannel = "slabot_jobs"

// Enqueue adds a job unless one with the same unique key exists.
func (q *queries) Enqueue(ctx context.Context, j engine.Job) (bool, error) {
	var key, leadID any
	if j.UniqueKey != "" {
		key = j.UniqueKey
	}
	if j.LeadID != 0 {
		leadID = j.LeadID
	}
	payload := j.Payload
	if payload == nil {
		payload = map[string]any{}
	}
	runAt := j.RunAt
	var id int64
	err := q.db.QueryRow(ctx, `INSERT INTO jobs (kind, lead_id, payload, unique_key, run_at)
		VALUES ($1, $2, $3, $4, COALESCE($5, now())) ON CONFLICT (unique_key) DO NOTHING RETURNING id`,
		j.Kind, leadID, payload, key, nullTime(runAt)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, mapError(err, "queue %s", j.Kind)
	}
	if _, err := q.db.Exec(ctx, `SELECT pg_notify($1, $2)`, jobsChannel, j.Kind); err != nil {
		return false, mapError(err, "wake the workers")
	}
	return true, nil
}

// CancelJobs cancels a lead's pending jobs of the given kinds (all kinds when none given).
func (q *queries) CancelJobs(ctx context.Context, leadID int64, kinds ...string) (int, error) {
	tag, err := q.db.Exec(ctx, `UPDATE jobs SET state = 'cancelled', finished_at = now()
		WHERE lead_id = $1 AND state = 'pending' AND (COALESCE(cardinality($2::text[]), 0) = 0 OR kind = ANY($2))`,
		leadID, kinds)
	if err != nil {
		return 0, mapError(err, "cancel jobs of lead %d", leadID)
	}
	return int(tag.RowsAffected()), nil
}

// ClaimJobs takes up to limit due jobs for this worker and leases them for
// lease. A job whose worker died (lease expired while running) is due again.
// SKIP LOCKED lets several replicas claim side by side without waiting.
// With kinds, only jobs of those kinds are claimed (a worker claims what it
// has handlers for).
func (db *DB) ClaimJobs(ctx context.Context, worker string, limit int, lease time.Duration, kinds ...string) ([]engine.Job, error) {
	rows, err := db.pool.Query(ctx, `UPDATE jobs SET state = 'running', attempts = attempts + 1,
			locked_by = $1, locked_until = now() + $3::interval
		WHERE id IN (
			SELECT id FROM jobs
			WHERE ((state = 'pending' AND run_at <= now())
			   OR (state = 'running' AND locked_until < now() AND attempts < max_attempts))
			  AND (COALESCE(cardinality($4::text[]), 0) = 0 OR kind = ANY($4))
			ORDER BY run_at, id
			LIMIT $2
			FOR UPDATE SKIP LOCKED)
		RETURNING id, kind, COALESCE(lead_id, 0), payload, run_at, COALESCE(unique_key, ''), attempts`,
		worker, limit, lease, kinds)
	if err != nil {
		return nil, mapError(err, "claim jobs")
	}
	jobs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (engine.Job, error) {
		var j engine.Job
		err := row.Scan(&j.ID, &j.Kind, &j.LeadID, &j.Payload, &j.RunAt, &j.UniqueKey, &j.Attempts)
		return j, err
	})
	return jobs, mapError(err, "claim jobs")
}

// CompleteJob marks a job done, provided this worker still holds it.
func (db *DB) CompleteJob(ctx context.Context, id int64, worker string) error {
	_, err := db.pool.Exec(ctx, `UPDATE jobs SET state = 'done', finished_at = now(), locked_until = NULL
		WHERE id = $1 AND locked_by = $2 AND state = 'running'`, id, worker)
	return mapError(err, "complete job %d", id)
}

// RetryJob puts a failed job back for a later attempt, or marks it failed
// for good when it has used up its attempts. It reports whether it will retry.
func (db *DB) RetryJob(ctx context.Context, id int64, worker string, after time.Duration, cause error) (bool, error) {
	var state string
	err := db.pool.QueryRow(ctx, `UPDATE jobs SET
			state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'pending' END,
			finished_at = CASE WHEN attempts >= max_attempts THEN now() END,
			run_at = now() + $3::interval, last_error = $4, locked_until = NULL
		WHERE id = $1 AND locked_by = $2 AND state = 'running' RETURNING state`,
		id, worker, after, truncate(cause.Error(), 2000)).Scan(&state)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, mapError(err, "reschedule job %d", id)
	}
	return state == "pending", nil
}

// PruneJobs deletes finished jobs older than keep (failed ones are kept four
// times as long, for diagnosis), and fails jobs whose worker died on their
// last attempt. It returns how many jobs it deleted.
func (db *DB) PruneJobs(ctx context.Context, keep time.Duration) (int64, error) {
	if _, err := db.pool.Exec(ctx, `UPDATE jobs SET state = 'failed', finished_at = now(),
			last_error = 'the worker stopped during the last attempt'
		WHERE state = 'running' AND locked_until < now() AND attempts >= max_attempts`); err != nil {
		return 0, mapError(err, "fail abandoned jobs")
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM jobs WHERE
		(state IN ('done', 'cancelled') AND finished_at < now() - $1::interval) OR
		(state = 'failed' AND finished_at < now() - 4 * $1::interval)`, keep)
	if err != nil {
		return 0, mapError(err, "prune finished jobs")
	}
	return tag.RowsAffected(), nil
}

// JobCounts returns how many jobs are in each state, for metrics.
func (db *DB) JobCounts(ctx context.Context) (map[string]int, error) {
	rows, err := db.pool.Query(ctx, `SELECT state, count(*) FROM jobs GROUP BY state`)
	if err != nil {
		return nil, mapError(err, "count jobs")
	}
	counts := map[string]int{}
	var state string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&state, &n}, func() error { counts[state] = n; return nil })
	return counts, mapError(err, "count jobs")
}

// ListenForJobs blocks until a job is enqueued, timeout passes or ctx ends.
// It keeps one connection for as long as the listener lives.
type JobListener struct {
	conn *pgx.Conn
}

// NewJobListener opens a dedicated connection listening for new jobs.
func (db *DB) NewJobListener(ctx context.Context) (*JobListener, error) {
	c, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("storage: unable to connect to listen for jobs: %w", err)
	}
	conn := c.Hijack()
	if _, err := conn.Exec(ctx, "LISTEN "+jobsChannel); err != nil {
		_ = conn.Close(ctx)
		return nil, fmt.Errorf("storage: unable to listen for jobs: %w", err)
	}
	return &JobListener{conn: conn}, nil
}

// Wait returns when a job was added or after timeout, whichever is first.
func (l *JobListener) Wait(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := l.conn.WaitForNotification(ctx)
	if err != nil && ctx.Err() != nil {
		return nil // timed out or cancelled: the caller polls anyway
	}
	return err
}

// Close closes the listener's connection.
func (l *JobListener) Close(ctx context.Context) error { return l.conn.Close(ctx) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// JobInfo describes a stored job, for tests and operators.
type JobInfo struct {
	engine.Job
	State     string
	LastError string
}

// JobsOfLead lists a lead's jobs in the order they were queued.
func (db *DB) JobsOfLead(ctx context.Context, leadID int64) ([]JobInfo, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, kind, COALESCE(lead_id, 0), payload, run_at, COALESCE(unique_key, ''),
		attempts, state, last_error FROM jobs WHERE lead_id = $1 ORDER BY id`, leadID)
	if err != nil {
		return nil, mapError(err, "list jobs of lead %d", leadID)
	}
	jobs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (JobInfo, error) {
		var j JobInfo
		err := row.Scan(&j.ID, &j.Kind, &j.LeadID, &j.Payload, &j.RunAt, &j.UniqueKey, &j.Attempts, &j.State, &j.LastError)
		return j, err
	})
	return jobs, mapError(err, "list jobs of lead %d", leadID)
}
