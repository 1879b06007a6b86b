package teams_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

// TestAFailingPostIsRetriedByTheQueueAndCounted: Teams answers the
// escalation channel's post 502 twice. The job fails and the job queue
// tries it again with its backoff, each try counted as one of the job's
// attempts (not waited out inside one attempt every 2 s), and the alert
// is posted once.
func TestAFailingPostIsRetriedByTheQueueAndCounted(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t, withPolicy(`
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "Sales/Escalations"
    reps: [dee@example.com, ana@example.com]
rules:
  - name: default
    first_touch: 4h
`))
	sales := e.addBotToSales()
	escalations := sales.ChannelID("Escalations")
	e.fake.FailNextIn(escalations, http.StatusBadGateway, 2)

	h := demoLead("crm-retried")
	h.OwnerEmail = "dee@example.com" // in no directory: the alert goes to the channel
	l := e.handOff(h)
	if err := e.fake.WaitFor(ctxTimeout(t, waitLimit), func() bool {
		return len(e.fake.Activities(escalations)) > 0
	}); err != nil {
		t.Fatalf("no alert after the 502s: %v", err)
	}
	settle(time.Now().Add(time.Second))
	if n := len(e.fake.Activities(escalations)); n != 1 {
		t.Errorf("%d posts in the escalation channel, want the alert once", n)
	}
	failed := 0
	for _, c := range e.fake.Calls() {
		if c.ConversationID == escalations && c.Status == http.StatusBadGateway {
			failed++
		}
	}
	if failed != 2 {
		t.Errorf("%d posts answered 502, want 2", failed)
	}
	jobs, err := e.db.JobsOfLead(context.Background(), l.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.Kind != engine.JobHandOff {
			continue
		}
		if j.Attempts != 3 || !strings.Contains(j.LastError, "502") {
			t.Errorf("the hand-off job took %d attempts (last error %q); want 3, two failed with 502", j.Attempts, j.LastError)
		}
		return
	}
	t.Errorf("no hand-off job among %+v", jobs)
}
