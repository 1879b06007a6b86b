package storage

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/engine"
)

// Calendar schedules (the weekly report) run in every replica, so each
// firing must be claimed before it acts. A claim is a row keyed by the
// job's name and its slot, the scheduled instant: inserting it with ON
// CONFLICT DO NOTHING lets exactly one replica win per slot, where a lock
// held only while the job runs (gocron's Locker) would let a replica whose
// timer fires a little later run the slot again.

// ClaimSlot claims the run of job at slot for the replica named by, and in
// the same transaction queues work (when its Kind is set), so a claimed
// slot always has its durable job: a replica that dies after claiming
// leaves the work to whichever worker picks it up. It reports whether this
// call made the claim; false means another replica has it.
func (db *DB) ClaimSlot(ctx context.Context, job string, slot time.Time, by string, work engine.Job) (bool, error) {
	claimed := false
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO scheduled_runs (job, slot, claimed_by) VALUES ($1, $2, $3)
			ON CONFLICT (job, slot) DO NOTHING`, job, slot, by)
		if err != nil {
			return mapError(err, "claim the %s run of %s", job, slot.Format(time.RFC3339))
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		claimed = true
		if work.Args == nil {
			return nil
		}
		_, err = (&queries{db: tx, jobs: db.jobs}).Enqueue(ctx, work)
		return err
	})
	if err != nil {
		return false, err
	}
	return claimed, nil
}

// RunProgress returns what the run of job at slot recorded so far; an
// empty map when it recorded nothing, and an ENOTFOUND error when the slot
// was never claimed.
func (db *DB) RunProgress(ctx context.Context, job string, slot time.Time) (map[string]string, error) {
	progress := map[string]string{}
	err := db.pool.QueryRow(ctx, `SELECT progress FROM scheduled_runs WHERE job = $1 AND slot = $2`, job, slot).Scan(&progress)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, engine.Errorf(engine.ENOTFOUND, "the %s run of %s was never claimed", job, slot.Format(time.RFC3339))
	}
	if err != nil {
		return nil, mapError(err, "read the %s run of %s", job, slot.Format(time.RFC3339))
	}
	return progress, nil
}

// SaveRunProgress records one step of the run of job at slot, keeping the
// steps recorded before.
func (db *DB) SaveRunProgress(ctx context.Context, job string, slot time.Time, key, value string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE scheduled_runs SET progress = progress || jsonb_build_object($3::text, $4::text)
		WHERE job = $1 AND slot = $2`, job, slot, key, value)
	if err != nil {
		return mapError(err, "record the %s run of %s", job, slot.Format(time.RFC3339))
	}
	if tag.RowsAffected() == 0 {
		return engine.Errorf(engine.ENOTFOUND, "the %s run of %s was never claimed", job, slot.Format(time.RFC3339))
	}
	return nil
}

// ScheduledRuns maps each claimed slot of job (in UTC) to the replica that
// claimed it: for tests and operators.
func (db *DB) ScheduledRuns(ctx context.Context, job string) (map[time.Time]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT slot, claimed_by FROM scheduled_runs WHERE job = $1 ORDER BY slot`, job)
	if err != nil {
		return nil, mapError(err, "list the runs of %s", job)
	}
	runs := map[time.Time]string{}
	var slot time.Time
	var by string
	_, err = pgx.ForEachRow(rows, []any{&slot, &by}, func() error { runs[slot.UTC()] = by; return nil })
	return runs, mapError(err, "list the runs of %s", job)
}
