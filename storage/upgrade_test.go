package storage_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

// migrateUpTo leaves the database as the release whose last migration is
// version left it.
func migrateUpTo(t *testing.T, db *storage.DB, version int) {
	t.Helper()
	if _, err := db.MigrateTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
}

// TestAnUpgradeCarriesWaitingJobsIntoRiver upgrades a database of the
// release before River, with timers and a message still waiting in its own
// queue: each arrives in River with its kind, lead, key, time and args; the
// finished ones do not; the old table is gone; and a key carried over
// still keeps its job from being queued twice.
func TestAnUpgradeCarriesWaitingJobsIntoRiver(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	migrateUpTo(t, db, 3)
	pool := db.Pool()
	due := time.Now().Add(3 * time.Hour).UTC().Truncate(time.Microsecond)
	if _, err := pool.Exec(ctx, `INSERT INTO leads (external_id, source, contact, company, owner_email, team, rule, state,
			handed_off_at, received_at, assigned_at, first_touch_due)
		VALUES ('crm-old', 'web', '{"name": "Lee"}', '{"name": "Acme"}', 'ana@example.com', 'sdr', 'default', 'notified',
			now(), now(), '2026-11-30T10:00:00Z', $1)`, due); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO jobs (kind, lead_id, payload, unique_key, run_at, state) VALUES
		('timer.first_touch', 1, '{"assigned_at": "2026-11-30T10:00:00Z"}', 'timer.first_touch:1:old', $1, 'pending'),
		('notify.escalation', 1, '{"target": "manager", "event_id": "7", "rep": "ana@example.com"}', 'notify.escalation:manager:1:7', now(), 'running'),
		('notify.handoff', 1, '{}', 'notify.handoff:1:old', now(), 'done')`, due); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var gone bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('jobs') IS NULL`).Scan(&gone); err != nil || !gone {
		t.Errorf("the old jobs table is still there (%v)", err)
	}
	jobs, err := db.JobsOfLead(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 {
		t.Fatalf("%d jobs carried over, want the 2 still waiting: %+v", len(jobs), jobs)
	}
	timer, esc := jobs[0], jobs[1]
	if timer.Kind != engine.JobFirstTouchDue || timer.Queue != engine.QueueTimers || timer.UniqueKey != "timer.first_touch:1:old" ||
		!timer.RunAt.Equal(due) {
		t.Errorf("the deadline check arrived as %+v", timer)
	}
	var ft engine.FirstTouchDueArgs
	if err := json.Unmarshal(timer.Args, &ft); err != nil || !ft.AssignedAt.Equal(time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("the deadline check's args = %s (%v)", timer.Args, err)
	}
	var ea engine.EscalationArgs
	if err := json.Unmarshal(esc.Args, &ea); err != nil || ea.EventID != 7 || ea.Target != engine.EscalateToManager || esc.Queue != engine.QueueSend {
		t.Errorf("the escalation arrived as %+v with args %s (%v)", esc, esc.Args, err)
	}
	err = db.InTx(ctx, func(tx engine.Tx) error {
		added, err := tx.Enqueue(ctx, engine.Job{Args: engine.FirstTouchDueArgs{}, LeadID: 1, UniqueKey: "timer.first_touch:1:old"})
		if added {
			t.Error("a key carried over from the old queue was queued again")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAnUpgradeKeepsOneIdentityPerSlackUser covers a Slack id held by two
// reps in the previous release (an email changed in Slack and then in the
// policy): the migration keeps it for the rep updated last, and succeeds.
func TestAnUpgradeKeepsOneIdentityPerSlackUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.Open(t)
	migrateUpTo(t, db, 6)
	if _, err := db.Pool().Exec(ctx, `INSERT INTO teams (name) VALUES ('sdr');
		INSERT INTO reps (email, team, slack_user_id, time_zone, updated_at) VALUES
			('ana.old@example.com', 'sdr', 'U1', 'UTC', '2026-01-01Z'),
			('ana@example.com', 'sdr', 'U1', 'Europe/Berlin', '2026-06-01Z'),
			('bo@example.com', 'sdr', 'U2', 'UTC', '2026-01-01Z')`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("the upgrade failed on a Slack id held twice: %v", err)
	}
	id, err := db.ChatIdentityByUserID(ctx, engine.PlatformSlack, "U1")
	if err != nil || id.Email != "ana@example.com" || id.TimeZone != "Europe/Berlin" {
		t.Errorf("U1 is %+v (%v), want the rep updated last", id, err)
	}
	if _, err := db.ChatIdentityByUserID(ctx, engine.PlatformSlack, "U2"); err != nil {
		t.Errorf("bo's identity was lost: %v", err)
	}
}
