package storage_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

// TestTheJobsOfAWorkerThatDiedAreRunAgainOnce stands for a kill -9: jobs
// left "running" by a worker whose heartbeat stopped, by one alive, and
// one stuck far past its queue's timeout. A worker started next runs the
// dead worker's job and the stuck one again, each exactly once, long
// before River's rescuer would, and leaves the live worker's job alone.
func TestTheJobsOfAWorkerThatDiedAreRunAgainOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	var mu sync.Mutex
	runs := map[string]int{}
	done := make(chan string, 10)
	handler := engine.Handle(func(ctx context.Context, j engine.Job, args testArgs) error {
		mu.Lock()
		runs[args.Note]++
		mu.Unlock()
		done <- args.Note
		return nil
	})
	// Three jobs, as the worker that fetched them left them.
	held := map[string]struct {
		worker    string
		runningBy time.Duration // how long ago the attempt started
	}{
		"of-the-dead":   {"dead-worker", 5 * time.Second},
		"of-the-live":   {"live-worker", 5 * time.Second},
		"stuck-forever": {"live-worker", 3 * time.Hour},
	}
	pool := db.Pool()
	if _, err := pool.Exec(ctx, `INSERT INTO slabot_workers (id, incarnation, seen_at) VALUES
		('dead-worker', 'a', now() - interval '1 minute'), ('live-worker', 'b', now() + interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for note, h := range held {
		var id int64
		inTx(t, db, func(tx engine.Tx) error {
			_, err := tx.Enqueue(ctx, engine.Job{Args: testArgs{Note: note}, UniqueKey: "held:" + note})
			return err
		})
		err := pool.QueryRow(ctx, `UPDATE river_job SET state = 'running', attempt = 1,
				attempted_at = now() - make_interval(secs => $2), attempted_by = ARRAY[$3]
			WHERE args->>'key' = $1 RETURNING id`, "held:"+note, h.runningBy.Seconds(), h.worker).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		ids[note] = id
	}
	var rescued sync.WaitGroup
	rescued.Add(1)
	var once sync.Once
	runWorker(t, db, storage.WorkerOptions{Heartbeat: 100 * time.Millisecond, DeadAfter: 300 * time.Millisecond,
		OnRescue: func(int) { once.Do(rescued.Done) }}, handler)
	for range 2 {
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Fatalf("the held jobs were not run again: %v", runs)
		}
	}
	rescued.Wait()
	// River records a job's completion a moment after its handler returns.
	stateOf := func(id int64) (state string, attempt int) {
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if err := pool.QueryRow(ctx, `SELECT state::text, attempt FROM river_job WHERE id = $1`, id).Scan(&state, &attempt); err != nil {
				t.Fatal(err)
			}
			if state != "running" || id == ids["of-the-live"] || time.Now().After(deadline) {
				return state, attempt
			}
		}
	}
	for note, id := range ids {
		state, attempt := stateOf(id)
		mu.Lock()
		n := runs[note]
		mu.Unlock()
		switch note {
		case "of-the-live":
			if state != "running" || n != 0 {
				t.Errorf("the live worker's job is %s and ran %d times here, want left running", state, n)
			}
		default:
			if state != "completed" || attempt != 2 || n != 1 {
				t.Errorf("the %s job is %s after attempt %d, run %d times here; want completed on its second attempt, run once", note, state, attempt, n)
			}
		}
	}
	var deadLeft int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM slabot_workers WHERE id = 'dead-worker'`).Scan(&deadLeft); err != nil || deadLeft != 0 {
		t.Errorf("the dead worker is still registered (%d, %v)", deadLeft, err)
	}
}

// TestARestartUnderTheSameIDRunsWhatItsPredecessorHeld: a container
// restarted in place comes back with the same host name and process id,
// so the same worker id, before its predecessor's heartbeat is stale. The
// predecessor is dead all the same: its jobs run again at once.
func TestARestartUnderTheSameIDRunsWhatItsPredecessorHeld(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	pool := db.Pool()
	if _, err := pool.Exec(ctx, `INSERT INTO slabot_workers (id, incarnation, seen_at) VALUES ('slabot-0-1', 'before', now())`); err != nil {
		t.Fatal(err)
	}
	inTx(t, db, func(tx engine.Tx) error {
		_, err := tx.Enqueue(ctx, engine.Job{Args: testArgs{Note: "held"}, UniqueKey: "held:same-id"})
		return err
	})
	if _, err := pool.Exec(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now(),
		attempted_by = ARRAY['slabot-0-1'] WHERE args->>'key' = 'held:same-id'`); err != nil {
		t.Fatal(err)
	}
	ran := make(chan string, 2)
	runWorker(t, db, storage.WorkerOptions{ID: "slabot-0-1"}, engine.Handle(func(ctx context.Context, j engine.Job, args testArgs) error {
		ran <- args.Note
		return nil
	}))
	select {
	case note := <-ran:
		if note != "held" {
			t.Fatalf("ran %q", note)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the predecessor's job was not run again")
	}
	var incarnation string
	if err := pool.QueryRow(ctx, `SELECT incarnation FROM slabot_workers WHERE id = 'slabot-0-1'`).Scan(&incarnation); err != nil || incarnation == "before" {
		t.Errorf("the worker's registration is %q (%v), want its own", incarnation, err)
	}
}
