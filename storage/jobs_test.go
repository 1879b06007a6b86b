package storage_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage/storagetest"
)

// testArgs are job args of a kind only these tests use.
type testArgs struct {
	Note string `json:"note"`
}

func (testArgs) Kind() string  { return "test.job" }
func (testArgs) Queue() string { return engine.QueueSend }

type otherArgs struct{}

func (otherArgs) Kind() string  { return "test.other" }
func (otherArgs) Queue() string { return engine.QueueTimers }

func TestJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)

	t.Run("AUniqueKeyIsQueuedOnce", func(t *testing.T) {
		for i, want := range []bool{true, false} {
			inTx(t, db, func(tx engine.Tx) error {
				added, err := tx.Enqueue(ctx, engine.Job{Args: testArgs{Note: "x"}, UniqueKey: "handoff:1"})
				if added != want {
					t.Errorf("enqueue #%d added = %v, want %v", i+1, added, want)
				}
				return err
			})
		}
	})

	t.Run("AKeyStaysTakenAfterItsJobWasCancelled", func(t *testing.T) {
		l := sampleLead("crm-cancelled-key")
		inTx(t, db, func(tx engine.Tx) error {
			if err := tx.CreateLead(ctx, l); err != nil {
				return err
			}
			_, err := tx.Enqueue(ctx, engine.Job{Args: testArgs{}, LeadID: l.ID, UniqueKey: "reminder:once", RunAt: time.Now().Add(time.Hour)})
			return err
		})
		inTx(t, db, func(tx engine.Tx) error {
			_, err := tx.CancelJobs(ctx, l.ID)
			return err
		})
		inTx(t, db, func(tx engine.Tx) error {
			added, err := tx.Enqueue(ctx, engine.Job{Args: testArgs{}, LeadID: l.ID, UniqueKey: "reminder:once"})
			if added {
				t.Error("a cancelled reminder's key was queued again")
			}
			return err
		})
	})

	t.Run("JobsWithoutAKeyAreAllQueued", func(t *testing.T) {
		for range 2 {
			inTx(t, db, func(tx engine.Tx) error {
				added, err := tx.Enqueue(ctx, engine.Job{Args: otherArgs{}})
				if !added {
					t.Error("a job without a key was not queued")
				}
				return err
			})
		}
	})

	t.Run("AJobRolledBackWithItsTransactionIsGone", func(t *testing.T) {
		err := db.InTx(ctx, func(tx engine.Tx) error {
			if _, err := tx.Enqueue(ctx, engine.Job{Args: testArgs{}, UniqueKey: "rolled-back"}); err != nil {
				return err
			}
			return engine.Errorf(engine.EINVALID, "changed my mind")
		})
		if engine.ErrorCode(err) != engine.EINVALID {
			t.Fatalf("InTx = %v", err)
		}
		inTx(t, db, func(tx engine.Tx) error {
			added, err := tx.Enqueue(ctx, engine.Job{Args: testArgs{}, UniqueKey: "rolled-back"})
			if !added {
				t.Error("the key of a rolled-back job is taken")
			}
			return err
		})
	})

	t.Run("ArgsAreStoredTypedWithTheirLeadAndQueue", func(t *testing.T) {
		l := sampleLead("crm-args")
		at := time.Now().Add(2 * time.Hour).Truncate(time.Microsecond)
		inTx(t, db, func(tx engine.Tx) error {
			if err := tx.CreateLead(ctx, l); err != nil {
				return err
			}
			_, err := tx.Enqueue(ctx, engine.Job{Args: testArgs{Note: "hello"}, LeadID: l.ID, RunAt: at, UniqueKey: "args:1"})
			return err
		})
		jobs, err := db.JobsOfLead(ctx, l.ID)
		if err != nil || len(jobs) != 1 {
			t.Fatalf("JobsOfLead = %v, %v", jobs, err)
		}
		j := jobs[0]
		var args testArgs
		if err := json.Unmarshal(j.Args, &args); err != nil || args.Note != "hello" {
			t.Errorf("args = %s (%v)", j.Args, err)
		}
		if j.Kind != "test.job" || j.Queue != engine.QueueSend || j.UniqueKey != "args:1" || j.State != "scheduled" || !j.RunAt.Equal(at) {
			t.Errorf("job = %+v", j)
		}
	})

	t.Run("CancellingALeadsTimersLeavesItsOtherJobs", func(t *testing.T) {
		l := sampleLead("crm-jobs")
		inTx(t, db, func(tx engine.Tx) error {
			if err := tx.CreateLead(ctx, l); err != nil {
				return err
			}
			for _, args := range []engine.JobArgs{testArgs{}, testArgs{}, otherArgs{}} {
				if _, err := tx.Enqueue(ctx, engine.Job{Args: args, LeadID: l.ID, RunAt: time.Now().Add(time.Hour)}); err != nil {
					return err
				}
			}
			n, err := tx.CancelJobs(ctx, l.ID, "test.job")
			if n != 2 {
				t.Errorf("cancelled %d jobs, want 2", n)
			}
			return err
		})
		jobs, err := db.JobsOfLead(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		states := map[string]string{}
		for _, j := range jobs {
			states[j.Kind] += j.State + " "
		}
		if states["test.job"] != "cancelled cancelled " || states["test.other"] != "scheduled " {
			t.Errorf("states after cancelling = %v", states)
		}
	})

	t.Run("CancellingWithoutKindsCancelsEveryWaitingJobOfTheLead", func(t *testing.T) {
		l := sampleLead("crm-cancel-all")
		inTx(t, db, func(tx engine.Tx) error {
			if err := tx.CreateLead(ctx, l); err != nil {
				return err
			}
			for _, args := range []engine.JobArgs{testArgs{}, otherArgs{}} {
				if _, err := tx.Enqueue(ctx, engine.Job{Args: args, LeadID: l.ID, RunAt: time.Now().Add(time.Hour)}); err != nil {
					return err
				}
			}
			n, err := tx.CancelJobs(ctx, l.ID)
			if n != 2 {
				t.Errorf("cancelled %d jobs, want both", n)
			}
			return err
		})
	})

	t.Run("SeveralJobsAtOnceKeepTheirKeys", func(t *testing.T) {
		l := sampleLead("crm-all-at-once")
		inTx(t, db, func(tx engine.Tx) error {
			if err := tx.CreateLead(ctx, l); err != nil {
				return err
			}
			if _, err := tx.Enqueue(ctx, engine.Job{Args: testArgs{}, LeadID: l.ID, UniqueKey: "all:1"}); err != nil {
				return err
			}
			return tx.EnqueueAll(ctx, []engine.Job{
				{Args: testArgs{Note: "again"}, LeadID: l.ID, UniqueKey: "all:1"}, // taken: not added
				{Args: testArgs{Note: "new"}, LeadID: l.ID, UniqueKey: "all:2"},
				{Args: otherArgs{}, LeadID: l.ID, RunAt: time.Now().Add(time.Hour)},
			})
		})
		jobs, err := db.JobsOfLead(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, j := range jobs {
			keys = append(keys, j.Kind+"/"+j.UniqueKey+"/"+j.State)
		}
		want := []string{"test.job/all:1/available", "test.job/all:2/available", "test.other//scheduled"}
		if diff := cmp.Diff(want, keys); diff != "" {
			t.Errorf("jobs after EnqueueAll (-want +got):\n%s", diff)
		}
	})

	t.Run("AJobWithoutArgsIsRefused", func(t *testing.T) {
		err := db.InTx(ctx, func(tx engine.Tx) error {
			_, err := tx.Enqueue(ctx, engine.Job{UniqueKey: "nothing"})
			return err
		})
		if err == nil {
			t.Error("a job without args was queued")
		}
	})
}
