package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage/storagetest"
)

func TestJobs(t *testing.T) {
	ctx := context.Background()
	db := storagetest.NewDB(t)

	t.Run("AUniqueKeyIsQueuedOnce", func(t *testing.T) {
		for i, want := range []bool{true, false} {
			inTx(t, db, func(tx engine.Tx) error {
				added, err := tx.Enqueue(ctx, engine.Job{Kind: "send", UniqueKey: "handoff:1"})
				if added != want {
					t.Errorf("enqueue #%d added = %v, want %v", i+1, added, want)
				}
				return err
			})
		}
	})

	t.Run("TwoWorkersNeverClaimTheSameJob", func(t *testing.T) {
		a, err := db.ClaimJobs(ctx, "worker-a", 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		b, err := db.ClaimJobs(ctx, "worker-b", 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != 1 || len(b) != 0 {
			t.Fatalf("worker a claimed %d and b %d jobs, want 1 and 0", len(a), len(b))
		}
		if a[0].Attempts != 1 {
			t.Errorf("attempts = %d, want 1", a[0].Attempts)
		}
		if err := db.CompleteJob(ctx, a[0].ID, "worker-a"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("AJobNotYetDueIsNotClaimed", func(t *testing.T) {
		inTx(t, db, func(tx engine.Tx) error {
			_, err := tx.Enqueue(ctx, engine.Job{Kind: "timer", RunAt: time.Now().Add(time.Hour)})
			return err
		})
		jobs, err := db.ClaimJobs(ctx, "worker-a", 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) != 0 {
			t.Errorf("claimed %d jobs an hour early", len(jobs))
		}
	})

	t.Run("ARetriedJobComesBackAfterItsDelay", func(t *testing.T) {
		inTx(t, db, func(tx engine.Tx) error {
			_, err := tx.Enqueue(ctx, engine.Job{Kind: "send", UniqueKey: "retry-me"})
			return err
		})
		jobs, err := db.ClaimJobs(ctx, "w", 10, time.Minute)
		if err != nil || len(jobs) != 1 {
			t.Fatalf("claim = %v, %v", jobs, err)
		}
		again, err := db.RetryJob(ctx, jobs[0].ID, "w", 50*time.Millisecond, errors.New("slack said 429"))
		if err != nil || !again {
			t.Fatalf("RetryJob = %v, %v; want a retry", again, err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			jobs, err = db.ClaimJobs(ctx, "w", 10, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the retried job never came back")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if jobs[0].Attempts != 2 {
			t.Errorf("attempts = %d, want 2", jobs[0].Attempts)
		}
		_ = db.CompleteJob(ctx, jobs[0].ID, "w")
	})

	t.Run("AJobWhoseWorkerDiedIsClaimedAgain", func(t *testing.T) {
		inTx(t, db, func(tx engine.Tx) error {
			_, err := tx.Enqueue(ctx, engine.Job{Kind: "send", UniqueKey: "orphan"})
			return err
		})
		if jobs, err := db.ClaimJobs(ctx, "dead-worker", 10, 50*time.Millisecond); err != nil || len(jobs) != 1 {
			t.Fatalf("claim = %v, %v", jobs, err)
		}
		time.Sleep(100 * time.Millisecond)
		jobs, err := db.ClaimJobs(ctx, "live-worker", 10, time.Minute)
		if err != nil || len(jobs) != 1 {
			t.Fatalf("after the lease expired, claim = %v, %v; want the orphaned job", jobs, err)
		}
		// The dead worker waking up late must not complete a job it lost.
		if err := db.CompleteJob(ctx, jobs[0].ID, "dead-worker"); err != nil {
			t.Fatal(err)
		}
		counts, err := db.JobCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if counts["running"] != 1 {
			t.Errorf("job counts = %v, want the orphan still running under the live worker", counts)
		}
	})

	t.Run("CancellingALeadsTimers", func(t *testing.T) {
		l := sampleLead("crm-jobs")
		inTx(t, db, func(tx engine.Tx) error {
			if err := tx.CreateLead(ctx, l); err != nil {
				return err
			}
			for _, kind := range []string{"reminder", "breach", "send"} {
				if _, err := tx.Enqueue(ctx, engine.Job{Kind: kind, LeadID: l.ID, RunAt: time.Now().Add(time.Hour)}); err != nil {
					return err
				}
			}
			n, err := tx.CancelJobs(ctx, l.ID, "reminder", "breach")
			if n != 2 {
				t.Errorf("cancelled %d jobs, want 2", n)
			}
			return err
		})
	})
}

func TestAJobWhoseWorkerDiesOnItsLastAttemptFailsAndOldJobsArePruned(t *testing.T) {
	ctx := context.Background()
	db := storagetest.NewDB(t)
	inTx(t, db, func(tx engine.Tx) error {
		_, err := tx.Enqueue(ctx, engine.Job{Kind: "crashes-the-process", UniqueKey: "last-try"})
		return err
	})
	if _, err := db.Pool().Exec(ctx, `UPDATE jobs SET max_attempts = 1`); err != nil {
		t.Fatal(err)
	}
	if jobs, err := db.ClaimJobs(ctx, "dies", 10, 20*time.Millisecond); err != nil || len(jobs) != 1 {
		t.Fatalf("claim = %v, %v", jobs, err)
	}
	time.Sleep(50 * time.Millisecond)
	if jobs, err := db.ClaimJobs(ctx, "next", 10, time.Minute); err != nil || len(jobs) != 0 {
		t.Fatalf("a job that used its last attempt was claimed again: %v, %v", jobs, err)
	}
	if _, err := db.PruneJobs(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if counts, _ := db.JobCounts(ctx); counts["failed"] != 1 {
		t.Fatalf("job counts %v, want the abandoned job failed", counts)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE jobs SET finished_at = now() - interval '10 days'`); err != nil {
		t.Fatal(err)
	}
	n, err := db.PruneJobs(ctx, time.Hour)
	if err != nil || n != 1 {
		t.Errorf("pruned %d jobs (%v), want the old failed one", n, err)
	}
}

func TestCancellingWithoutKindsCancelsEveryPendingJobOfTheLead(t *testing.T) {
	ctx := context.Background()
	db := storagetest.NewDB(t)
	l := sampleLead("crm-cancel-all")
	inTx(t, db, func(tx engine.Tx) error {
		if err := tx.CreateLead(ctx, l); err != nil {
			return err
		}
		for _, kind := range []string{"reminder", "send"} {
			if _, err := tx.Enqueue(ctx, engine.Job{Kind: kind, LeadID: l.ID, RunAt: time.Now().Add(time.Hour)}); err != nil {
				return err
			}
		}
		n, err := tx.CancelJobs(ctx, l.ID)
		if n != 2 {
			t.Errorf("cancelled %d jobs, want both", n)
		}
		return err
	})
}
