package main

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/slabot/slabot/engine"
)

func TestJobsListsWhatFailedAndRunsItAgain(t *testing.T) {
	e := newImportEnv(t)
	ctx := context.Background()
	err := e.db.InTx(ctx, func(tx engine.Tx) error {
		_, err := tx.Enqueue(ctx, engine.Job{Args: engine.OpsAlertArgs{Team: "sdr", Text: "hello"}, UniqueKey: "ops:jobs-test"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := e.db.Pool().QueryRow(ctx, `UPDATE river_job SET state = 'discarded', attempt = 40, finalized_at = now(),
			errors = ARRAY['{"at": "2026-11-30T10:00:00Z", "attempt": 40, "error": "chat.postMessage: channel_not_found"}'::jsonb]
		RETURNING id`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DATABASE_URL", e.dbURL)
	t.Setenv("SLABOT_LOG_LEVEL", "error")

	code, out, errOut := runMain(t, "jobs")
	if code != 0 {
		t.Fatalf("slabot jobs exited %d: %s", code, errOut)
	}
	for _, want := range []string{strconv.FormatInt(id, 10), "notify.ops", "discarded", "40/40", "channel_not_found"} {
		if !strings.Contains(out, want) {
			t.Errorf("slabot jobs does not show %q:\n%s", want, out)
		}
	}
	code, out, errOut = runMain(t, "jobs", "--retry", strconv.FormatInt(id, 10))
	if code != 0 || !strings.Contains(out, "will run again") {
		t.Fatalf("slabot jobs --retry exited %d: %s %s", code, out, errOut)
	}
	var state string
	if err := e.db.Pool().QueryRow(ctx, `SELECT state::text FROM river_job WHERE id = $1`, id).Scan(&state); err != nil || state != "available" {
		t.Errorf("after --retry the job is %q (%v), want available", state, err)
	}
	code, out, _ = runMain(t, "jobs")
	if code != 0 || !strings.Contains(out, "No jobs retryable, discarded, running") {
		t.Errorf("with nothing failing, slabot jobs says (%d):\n%s", code, out)
	}
	if code, _, errOut := runMain(t, "jobs", "--retry", "999999"); code != 1 || !strings.Contains(errOut, "could not be retried") {
		t.Errorf("retrying an unknown job: exit %d, %s", code, errOut)
	}
}
