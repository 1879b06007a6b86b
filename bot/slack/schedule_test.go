package slack_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slabot/slabot/bot"
	slackui "github.com/slabot/slabot/bot/slack"
	"github.com/slabot/slabot/storage"
)

// everySecondPolicy posts the report every second, so a test sees several
// slots in a few seconds.
var everySecondPolicy = strings.Replace(reportPolicy, `schedule: "0 9 * * MON"`, `schedule: "* * * * * *"`, 1)

// runSchedule runs a bot's report schedule until the returned stop is called.
func runSchedule(t *testing.T, b *slackui.App, id string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := b.RunReportSchedule(ctx, bot.ScheduleOptions{ID: id}); err != nil {
			t.Errorf("the schedule of %s stopped: %v", id, err)
		}
	})
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// waitForSlots waits until n slots are claimed.
func waitForSlots(t *testing.T, db *storage.DB, n int) map[time.Time]string {
	t.Helper()
	deadline := time.Now().Add(patience)
	for {
		runs, err := db.ScheduledRuns(context.Background(), "weekly-report")
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) >= n {
			return runs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d slots claimed after %v, want %d", len(runs), patience, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// reportPatience is how long a test waits for reports before giving up:
// a chart takes a fraction of a second to draw, but several seconds under
// the race detector on a busy 2-core machine, and three may be drawn at
// once. It bounds a wait; it asserts nothing about speed.
const reportPatience = 90 * time.Second

// waitForReports waits until every claimed slot has its report and chart,
// then checks that no slot has two: exactly one report per slot.
func waitForReports(t *testing.T, e *reportEnv, runs map[time.Time]string) {
	t.Helper()
	deadline := time.Now().Add(reportPatience)
	for {
		perSlot := map[string]int{}
		for _, m := range reportMessages(e.fake) {
			perSlot[fmt.Sprint(m.Metadata.EventPayload["slot"])]++
		}
		charts := 0
		for _, f := range e.fake.Files() {
			if f.Completed {
				charts++
			}
		}
		missing := 0
		for slot := range runs {
			if perSlot[slot.Format(time.RFC3339)] == 0 {
				missing++
			}
		}
		if missing == 0 && charts >= len(runs) {
			for slot, n := range perSlot {
				if n != 1 {
					t.Errorf("slot %s was reported %d times", slot, n)
				}
				if ts, err := time.Parse(time.RFC3339, slot); err != nil || runs[ts] == "" {
					t.Errorf("a report for slot %s, which nobody claimed", slot)
				}
			}
			if len(perSlot) != len(runs) || charts != len(runs) {
				t.Errorf("%d slots claimed, %d reported, %d charts", len(runs), len(perSlot), charts)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v, %d of %d claimed slots have no report (%d charts)", reportPatience, missing, len(runs), charts)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTwoSchedulersOnOneDatabasePostOneReportPerSlot(t *testing.T) {
	t.Parallel()
	e := newReportEnv(t, everySecondPolicy, nil, nil)
	seedReportData(t, e.db)
	// Two replicas: each has its own bot, scheduler and worker, on one
	// database and one Slack.
	a, b := e.newBot(nil), e.newBot(nil)
	e.runWorker(a)
	e.runWorker(b)
	stopA := runSchedule(t, a, "replica-a")
	stopB := runSchedule(t, b, "replica-b")
	waitForSlots(t, e.db, 3)
	stopA()
	stopB()
	runs, err := e.db.ScheduledRuns(context.Background(), "weekly-report")
	if err != nil {
		t.Fatal(err)
	}
	waitForReports(t, e, runs)
	for slot := range runs {
		if slot.Nanosecond() != 0 {
			t.Errorf("slot %v is not a whole second of the schedule", slot)
		}
	}
}

func TestAClaimedSlotIsPostedAfterItsClaimantDies(t *testing.T) {
	t.Parallel()
	e := newReportEnv(t, everySecondPolicy, nil, nil)
	// A replica claims slots and dies before any worker posts them.
	stop := runSchedule(t, e.newBot(nil), "doomed")
	waitForSlots(t, e.db, 1)
	stop()
	if n := len(reportMessages(e.fake)); n != 0 {
		t.Fatalf("%d reports without a worker", n)
	}
	runs, err := e.db.ScheduledRuns(context.Background(), "weekly-report")
	if err != nil {
		t.Fatal(err)
	}
	// Another replica's worker finds the durable jobs and posts them.
	e.runWorker(e.newBot(nil))
	waitForReports(t, e, runs)
}

// forgetfulStore loses the record of the first report message it is told
// about, as a crash between Slack's answer and the database's would.
type forgetfulStore struct {
	*storage.DB
	forgot atomic.Bool
}

func (s *forgetfulStore) SaveRunProgress(ctx context.Context, job string, slot time.Time, key, value string) error {
	if key == "ts" && !s.forgot.Swap(true) {
		return errors.New("the process died before recording the message")
	}
	return s.DB.SaveRunProgress(ctx, job, slot, key, value)
}

func TestAReportPostedJustBeforeACrashIsNotPostedAgain(t *testing.T) {
	t.Parallel()
	e := newReportEnv(t, everySecondPolicy, nil, nil)
	store := &forgetfulStore{DB: e.db}
	b := e.newBot(store)
	stop := runSchedule(t, b, "replica")
	runs := waitForSlots(t, e.db, 1)
	stop()
	runs, err := e.db.ScheduledRuns(context.Background(), "weekly-report")
	if err != nil {
		t.Fatal(err)
	}
	e.runWorker(b)
	waitForReports(t, e, runs)
	if !store.forgot.Load() {
		t.Fatal("the crash was never simulated")
	}
	// The retry looked for the message before posting (by the channel's
	// name, as the policy gives it).
	if len(e.fake.Calls("conversations.history")) == 0 {
		t.Error("the retry did not look for the message that went out")
	}
}
