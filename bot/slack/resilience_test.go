package slack_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	slackui "github.com/slabot/slabot/bot/slack"
	"github.com/slabot/slabot/bot/slack/slackfake"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage/storagetest"
)

// cardsFor counts the hand-off cards of a lead in a DM.
func (e *env) cardsFor(userID string, leadID int64) int {
	n := 0
	for _, m := range e.fake.Messages(e.fake.DMChannel(userID)) {
		if m.Metadata != nil && fmt.Sprint(m.Metadata.EventPayload["lead_id"]) == fmt.Sprint(leadID) {
			n++
		}
	}
	return n
}

// stormLeads is how many hand-offs TestUnderRateLimitsEveryHandOffYieldsExactlyOneDMAtThePacedRate
// makes: SLABOT_STORM_LEADS, else 60. Thirty posts to each rep's DM are
// enough for the injected 429s to hit many of them, and for a sender that
// ignored the pace to post more in a second than it allows.
func stormLeads(t *testing.T) int {
	n := 60
	if s := os.Getenv("SLABOT_STORM_LEADS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			t.Fatalf("SLABOT_STORM_LEADS=%q is not a number of leads", s)
		}
	}
	return n
}

func TestUnderRateLimitsEveryHandOffYieldsExactlyOneDMAtThePacedRate(t *testing.T) {
	t.Parallel()
	// Ten posts a second, slower than the bot posts to one DM unpaced
	// under the race detector (20-30 a second on a 2-core machine), so
	// the pacing check below fails when the pace is not kept.
	const (
		every = 100 * time.Millisecond
		burst = 3
	)
	leads := stormLeads(t)
	fake := newFakeSlack(t)
	fake.InjectRateLimitRatio(0.3, 0, 42)
	e := newEnv(t, withFake(fake), withPace(every, burst))
	var ids []int64
	for i := range leads {
		h := demoLead(fmt.Sprintf("storm-%d", i))
		h.OwnerEmail = "" // round robin over both reps
		ids = append(ids, e.handOff(h).ID)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		sent := 0
		for _, u := range []string{ana, bo} {
			for _, m := range fake.Messages(fake.DMChannel(u)) {
				if m.Metadata != nil {
					sent++
				}
			}
		}
		if sent >= leads {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d hand-off DMs arrived", sent, leads)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Let retries that are still in flight finish, then count again.
	e.waitFor("every job to finish", func() bool {
		var pending int
		_ = e.db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = $1 AND state <> 'completed'`, engine.JobHandOff).Scan(&pending)
		return pending == 0
	})
	for _, id := range ids {
		if n := e.cardsFor(ana, id) + e.cardsFor(bo, id); n != 1 {
			t.Errorf("lead %d has %d hand-off DMs, want exactly 1", id, n)
		}
	}
	if len(fake.Calls("chat.postMessage")) <= leads {
		t.Errorf("no postMessage was rate limited; the test injected 30%% 429s")
	}
	for _, u := range []string{ana, bo} {
		ch := fake.DMChannel(u)
		window := 10 * every
		if got, max := fake.MaxPostsInWindow(ch, window), burst+10+1; got > max {
			t.Errorf("%s got %d posts within %v; pacing allows at most %d", u, got, window, max)
		}
	}
}

func TestEnvelopesSurviveRefreshesAndDroppedConnections(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := ctxTimeout(t, 60*time.Second)
	l := e.handOff(demoLead("crm-socket"))
	msg := e.card(ana, l)
	clicks := 0
	click := func(n int) {
		var wg sync.WaitGroup
		for range n {
			clicks++
			wg.Go(func() {
				if res, err := e.fake.ClickButton(ctx, ana, msg, "lead.touch", "call"); err != nil || !res.Acked {
					t.Errorf("click not acknowledged: %v", err)
				}
			})
		}
		wg.Wait()
	}
	click(10)
	before := e.fake.ConnectCount()
	e.fake.Disconnect("refresh_requested")
	click(10)
	e.fake.DropConnections()
	click(10)
	if e.fake.ConnectCount() <= before {
		t.Errorf("the bot never reconnected (connections %d → %d)", before, e.fake.ConnectCount())
	}
	e.waitFor("every click to be processed", func() bool {
		touches, _ := e.db.Touches(context.Background(), l.ID)
		return len(touches) >= clicks
	})
	// A duplicate would be one more delivery job: wait until every one ran.
	e.waitFor("every delivery to be handled", func() bool {
		var open int
		_ = e.db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = $1 AND state IN ('available', 'scheduled', 'retryable', 'running')`, slackui.JobInteraction).Scan(&open)
		return open == 0
	})
	if touches, _ := e.db.Touches(context.Background(), l.ID); len(touches) != clicks {
		t.Errorf("%d touches recorded for %d clicks", len(touches), clicks)
	}
	for _, a := range e.fake.Acks() {
		if a.Duplicate || a.Late || !a.Known {
			t.Errorf("ack %+v is a duplicate, late or unknown", a)
		}
	}
}

func TestARedeliveredEventIsHandledOnce(t *testing.T) {
	t.Parallel()
	fake := addPeople(t, slackfake.New(slackfake.WithRedelivery(2)))
	e := newEnv(t, withFake(fake))
	res, err := fake.AppHomeOpened(ctxTimeout(t, 10*time.Second), ana)
	if err != nil || !res.Acked {
		t.Fatalf("app_home_opened not acknowledged: %v", err)
	}
	e.waitFor("the delivery to be recorded", func() bool {
		var n int
		_ = e.db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE args->>'key' = $1`, "event:"+res.EventID).Scan(&n)
		return n == 1
	})
	// Send the same event again as Slack's retry would: same event id.
	if _, err := fake.SendEnvelope(ctxTimeout(t, 10*time.Second), "events_api", res.Envelope.Payload, false); err != nil {
		t.Fatal(err)
	}
	var n int
	_ = e.db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE kind = $1`, slackui.JobInteraction).Scan(&n)
	if n != 1 {
		t.Errorf("%d delivery jobs for one event, want 1", n)
	}
}

// crashLease bounds one attempt of a job in TestACrashBetweenPostingAndRecordingLeavesOneDM:
// River's rescuer takes a job running longer than that (and a second) to be a
// dead worker's, so it is short; long enough, though, for a hand-off to be
// sent on a busy machine with the tests running in parallel.
const crashLease = 3 * time.Second

func TestACrashBetweenPostingAndRecordingLeavesOneDM(t *testing.T) {
	t.Parallel()
	db := storagetest.NewDB(t)
	fake := newFakeSlack(t)
	crashed := make(chan int64, 1)
	first := newEnv(t, withDB(db), withFake(fake), withLease(crashLease), withAfterPost(func(leadID int64) {
		crashed <- leadID
		runtime.Goexit() // the process dies here: nothing after the post runs
	}))
	l := first.handOff(demoLead("crm-crash"))
	select {
	case <-crashed:
	case <-time.After(patience):
		t.Fatal("the card was never posted")
	}
	first.stop()
	if n := first.cardsFor(ana, l.ID); n != 1 {
		t.Fatalf("%d cards before the restart, want 1", n)
	}

	// River's rescuer runs in whichever process leads; it takes a job
	// running longer than its own setting to be a dead worker's.
	second := newEnv(t, withDB(db), withFake(fake), withLease(crashLease))
	// The job the dead worker held is rescued once the new process leads
	// the cluster (River elects a leader within seconds), then retried.
	deadline := time.Now().Add(45 * time.Second)
	for {
		msgs, _ := db.LeadMessages(context.Background(), l.ID, "card")
		if len(msgs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the restarted bot never recorded the card")
		}
		time.Sleep(100 * time.Millisecond)
	}
	second.waitFor("the lead to be marked notified", func() bool { return second.lead(l.ID).State == engine.StateNotified })
	if n := second.cardsFor(ana, l.ID); n != 1 {
		t.Errorf("%d hand-off DMs after the restart, want exactly 1", n)
	}
	if len(fake.Calls("conversations.history")) == 0 {
		t.Error("the restarted sender did not check the DM's history before resending")
	}
}

// TestASlackOutageDelaysCardsButLosesAndDoublesNone has the Web API answer
// every call with a 500 for a while, as during a Slack incident: the
// hand-offs made meanwhile arrive once Slack is back, each exactly once.
func TestASlackOutageDelaysCardsButLosesAndDoublesNone(t *testing.T) {
	t.Parallel()
	fake := newFakeSlack(t)
	e := newEnv(t, withFake(fake))
	fake.InjectServerErrorRatio(1, 500, 7)
	var ids []int64
	for i := range 5 {
		ids = append(ids, e.handOff(demoLead(fmt.Sprintf("crm-outage-%d", i))).ID)
	}
	// Slack is down: every send fails and is retried.
	e.waitFor("every hand-off to fail and be tried again", func() bool {
		for _, id := range ids {
			jobs, err := e.db.JobsOfLead(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			retried := false
			for _, j := range jobs {
				if j.Kind == engine.JobHandOff && j.Attempts >= 2 && strings.Contains(j.LastError, "500") {
					retried = true
				}
			}
			if !retried {
				return false
			}
		}
		return true
	})
	for _, id := range ids {
		if n := e.cardsFor(ana, id); n != 0 {
			t.Fatalf("a card arrived while every Web API call failed (%d)", n)
		}
	}
	fake.ClearFaults()
	deadline := time.Now().Add(90 * time.Second)
	for {
		arrived := 0
		for _, id := range ids {
			switch n := e.cardsFor(ana, id); {
			case n == 1:
				arrived++
			case n > 1:
				t.Fatalf("lead %d has %d cards after the outage, want 1", id, n)
			}
		}
		if arrived == len(ids) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d cards arrived after the outage", arrived, len(ids))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
