package crm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slabot/slabot/crm"
	"github.com/slabot/slabot/crm/webhook"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

// newRecycleLoop is newLoop with the engine's timers, and a worker that
// waits on the test's clock: a revisit a month ahead comes due when the
// clock is moved there.
func newRecycleLoop(t *testing.T, hooksYAML string) *loop {
	t.Helper()
	l, _ := startRecycleLoop(t, storagetest.NewDB(t), &clock{}, hooksYAML)
	return l
}

// startRecycleLoop starts slabot's CRM side and timers on db, as one run
// of the process; stop ends it.
func startRecycleLoop(t *testing.T, db *storage.DB, clk *clock, hooksYAML string) (*loop, func()) {
	t.Helper()
	policy, problems := engine.ParsePolicy([]byte(loopPolicy+hooksYAML), time.Now())
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	if err := db.SyncTeams(context.Background(), policy.Teams); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	svc := engine.NewService(db, policy, clk.Now, logger)
	router := &crm.Router{Store: db, Policy: svc.Policy, Now: clk.Now, Logger: logger}
	deliverer := &webhook.Deliverer{Store: db, Now: clk.Now, Logger: logger,
		Backoff: func(int) time.Duration { return 20 * time.Millisecond },
		Secret:  crm.WebhookSecrets(svc.Policy)}
	w, err := db.NewWorker(append([]engine.JobHandler{router.Handler(), deliverer.Handler()}, svc.TimerHandlers(nil)...),
		storage.WorkerOptions{Poll: 50 * time.Millisecond, Logger: logger, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- w.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-stopped; err != nil {
				t.Error(err)
			}
		})
	}
	t.Cleanup(stop)
	return &loop{db: db, svc: svc, clock: clk, deliver: deliverer}, stop
}

// A revisit date is kept in the database with the return: a slabot
// started afresh (a restart, a deploy) still announces it.
func TestARevisitDateSurvivesARestart(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, nil)
	db, clk := storagetest.NewDB(t), &clock{}
	hooks := hooksFor(ep.URL, "lead.recycle_due")
	before, stop := startRecycleLoop(t, db, clk, hooks)
	lead := before.handOff(t, "crm-restart", "restart@acme.test")
	revisit := clk.Now().UTC().AddDate(0, 0, 45).Format(time.DateOnly)
	if _, err := before.svc.ReturnNotNow(context.Background(), lead.ID, ana, revisit, ""); err != nil {
		t.Fatal(err)
	}
	stop()

	after, _ := startRecycleLoop(t, db, clk, hooks)
	jobs, err := after.db.JobsOfLead(context.Background(), lead.ID)
	if err != nil {
		t.Fatal(err)
	}
	var job storage.JobInfo
	for _, j := range jobs {
		if j.Kind == engine.JobRecycleDue {
			job = j
		}
	}
	if job.ID == 0 || job.State != "scheduled" {
		t.Fatalf("after the restart the revisit job is %+v, want one scheduled", job)
	}
	clk.Advance(job.RunAt.Sub(clk.Now()) + time.Minute)
	if err := after.db.RetryJob(context.Background(), job.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "lead.recycle_due after the restart", func() bool { return len(ep.delivered()) == 1 })
	if r := ep.requests()[0]; r.Type != engine.CRMLeadRecycleDue || r.Data["revisit_on"] != revisit {
		t.Errorf("got %s with revisit_on %v, want %s with %s", r.Type, r.Data["revisit_on"], engine.CRMLeadRecycleDue, revisit)
	}
}

// A lead returned "not now" publishes its revisit date with the return,
// and lead.recycle_due on that date, signed as the others, exactly once
// however often its job runs.
func TestRecycleDueArrivesSignedOnTheRevisitDateOnce(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, nil)
	l := newRecycleLoop(t, hooksFor(ep.URL, "lead.returned", "lead.recycle_due"))
	ctx := context.Background()
	lead := l.handOff(t, "crm-later", "later@acme.test")
	revisit := l.clock.Now().UTC().AddDate(0, 0, 30).Format(time.DateOnly)
	if _, err := l.svc.ReturnNotNow(ctx, lead.ID, ana, revisit, "budget in Q1"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the return's delivery", func() bool { return len(ep.delivered()) == 1 })
	if r := ep.requests()[0]; r.Type != "lead.returned" || r.Data["revisit_on"] != revisit {
		t.Errorf("the return was published as %s with revisit_on %v, want lead.returned with %s", r.Type, r.Data["revisit_on"], revisit)
	}

	var job storage.JobInfo
	jobs, err := l.db.JobsOfLead(ctx, lead.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.Kind == engine.JobRecycleDue {
			job = j
		}
	}
	if job.ID == 0 {
		t.Fatal("no revisit job")
	}
	jobState := func() storage.JobInfo {
		jobs, err := l.db.JobsOfLead(ctx, lead.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs {
			if j.ID == job.ID {
				return j
			}
		}
		t.Fatalf("job %d is gone", job.ID)
		return storage.JobInfo{}
	}
	recycleEvents := func() int {
		events, err := l.db.Events(ctx, lead.ID)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range events {
			if e.Kind == engine.EventRecycleDue {
				n++
			}
		}
		return n
	}
	// Not yet: a run before the date (an operator's retry) waits for it.
	if err := l.db.RetryJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the early run to wait again", func() bool { return jobState().State == "scheduled" })
	if n := recycleEvents(); n != 0 {
		t.Fatalf("a run before the date recorded %d recycle_due events", n)
	}

	l.clock.Advance(job.RunAt.Sub(l.clock.Now()) + time.Minute)
	if err := l.db.RetryJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "lead.recycle_due", func() bool { return len(ep.delivered()) == 2 })
	r := ep.requests()[1]
	if err := verifySignature(testSecret, r.Header, r.Body, l.clock.Now()); err != nil {
		t.Errorf("lead.recycle_due: the signature does not verify: %v", err)
	}
	want := map[string]string{"external_id": "crm-later", "owner": "ana@example.com", "revisit_on": revisit,
		"reason": "Interested, but not now (nurture): budget in Q1", "returned_by": "ana@example.com", "by": "", "origin": "chat"}
	if r.Type != engine.CRMLeadRecycleDue {
		t.Errorf("type %s, want %s", r.Type, engine.CRMLeadRecycleDue)
	}
	for k, v := range want {
		if got := fmt.Sprint(r.Data[k]); got != v {
			t.Errorf("data.%s = %q, want %q", k, got, v)
		}
	}

	// Run again (a redelivered job, a second replica): nothing new.
	eventually(t, "the revisit job to finish", func() bool { return jobState().State == "completed" })
	attempts := jobState().Attempts
	if err := l.db.RetryJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the repeated run to finish", func() bool {
		j := jobState()
		return j.State == "completed" && j.Attempts > attempts
	})
	if n := recycleEvents(); n != 1 {
		t.Errorf("%d recycle_due events after two runs on the date, want 1", n)
	}
	if got := ep.delivered(); len(got) != 2 {
		t.Errorf("after a second run the endpoint got %v, want the return and one lead.recycle_due", got)
	}
}

// Two replicas that run the same revisit at the same moment (a job taken
// over from a worker thought dead) record it, and publish it, once.
func TestTwoReplicasRunningOneRevisitAtOnceRecordItOnce(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, nil)
	db, clk := storagetest.NewDB(t), &clock{}
	hooks := hooksFor(ep.URL, "lead.recycle_due")
	first, _ := startRecycleLoop(t, db, clk, hooks)
	second, _ := startRecycleLoop(t, db, clk, hooks)
	ctx := context.Background()
	lead := first.handOff(t, "crm-twice", "twice@acme.test")
	if _, err := first.svc.ReturnNotNow(ctx, lead.ID, ana, clk.Now().UTC().AddDate(0, 0, 10).Format(time.DateOnly), ""); err != nil {
		t.Fatal(err)
	}
	jobs, err := db.JobsOfLead(ctx, lead.ID)
	if err != nil {
		t.Fatal(err)
	}
	var job engine.Job
	for _, j := range jobs {
		if j.Kind == engine.JobRecycleDue {
			var args engine.RecycleDueArgs
			if err := json.Unmarshal(j.Args, &args); err != nil {
				t.Fatal(err)
			}
			job = engine.Job{ID: j.ID, LeadID: lead.ID, Args: args, Attempts: 1}
			clk.Advance(j.RunAt.Sub(clk.Now()) + time.Minute)
		}
	}
	if job.ID == 0 {
		t.Fatal("no revisit job")
	}
	var fired atomic.Int32
	var wg sync.WaitGroup
	for _, svc := range []*engine.Service{first.svc, second.svc} {
		wg.Go(func() {
			ok, err := svc.FireRecycleDue(ctx, job)
			if err != nil {
				t.Error(err)
			}
			if ok {
				fired.Add(1)
			}
		})
	}
	wg.Wait()
	if n := fired.Load(); n != 1 {
		t.Errorf("%d replicas recorded the revisit, want 1", n)
	}
	eventually(t, "lead.recycle_due", func() bool { return len(ep.delivered()) >= 1 })
	events, err := db.Events(ctx, lead.ID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range events {
		if e.Kind == engine.EventRecycleDue {
			n++
		}
	}
	if n != 1 || len(ep.delivered()) != 1 {
		t.Errorf("%d recycle_due events and deliveries %v, want one of each", n, ep.delivered())
	}
}
