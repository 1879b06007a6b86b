package teams_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/teams"
	"github.com/slabot/slabot/engine"
)

func TestUnderRateLimitsEveryCardArrivesOnceAtThePacedRate(t *testing.T) {
	e := newTeamsEnv(t, withPacer(teams.NewPacer(teams.PacerOptions{}))) // Teams' own limits
	e.fake.SetRateLimit(0.3, time.Second)
	var leads []*engine.Lead
	for i := range 10 {
		h := demoLead(fmt.Sprintf("crm-paced-%d", i))
		h.Contact.Name = fmt.Sprintf("Paced %d", i)
		if i%2 == 1 {
			h.OwnerEmail = bo
		}
		leads = append(leads, e.handOff(h))
	}
	for _, l := range leads {
		e.waitPost(e.personal(l.OwnerEmail), summaryCard, l)
	}
	rateLimited := 0
	for _, c := range e.fake.Calls() {
		if c.Status == http.StatusTooManyRequests {
			rateLimited++
		}
	}
	if rateLimited == 0 {
		t.Fatal("no call was rate limited; the test proves nothing")
	}
	// Let retries of calls that were answered 429 run out before counting.
	settle(time.Now().Add(2 * time.Second))
	for _, l := range leads {
		if n := len(e.posts(e.personal(l.OwnerEmail), summaryCard, l)); n != 1 {
			t.Errorf("lead %d: %d cards, want exactly 1", l.ID, n)
		}
	}
	for _, conv := range e.fake.Conversations() {
		// The fake stamps on arrival, so allow a little network jitter.
		if gap := e.fake.MinGap(conv); gap < 950*time.Millisecond {
			t.Errorf("%s got two writes %v apart, want at least 1 s", conv, gap)
		}
	}
	t.Logf("%d calls answered 429", rateLimited)
}
