package teams_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/teams"
	"github.com/slabot/slabot/bot/teams/teamsfake"
	"github.com/slabot/slabot/engine"
)

func TestUnderRateLimitsEveryCardArrivesOnceAtThePacedRate(t *testing.T) {
	t.Parallel()
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
		// The pacer spaces writes to a conversation 1 s apart when it
		// releases them; the fake stamps them on arrival, which a loaded
		// machine delays by tens of milliseconds. Unpaced writes arrive
		// milliseconds apart, so half the interval tells the two apart
		// without timing the machine (the pacer's own test checks the
		// exact spacing on an injected clock).
		if gap := e.fake.MinGap(conv); gap < 500*time.Millisecond {
			t.Errorf("%s got two writes %v apart, want them paced about 1 s apart", conv, gap)
		}
	}
	t.Logf("%d calls answered 429", rateLimited)
}

// newestPostIn is the newest activity slabot posted in a conversation.
// The test reads the connector base each activity was posted to rather
// than the newest call: a redraw of an older card may still be under way
// through the base it was fetched with, and may come last.
func (e *teamsEnv) newestPostIn(conversationID string) teamsfake.Recorded {
	e.t.Helper()
	recs := e.fake.Activities(conversationID)
	if len(recs) == 0 {
		e.t.Fatalf("nothing was posted in %s", conversationID)
	}
	return recs[len(recs)-1]
}

func TestAMovedServiceURLIsFollowedFromTheNextActivity(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	sales := e.addBotToSales()
	old := e.fake.ServiceURL()
	first := e.handOff(demoLead("crm-before-move"))
	e.card(ana, first)
	moved := e.fake.MoveServiceURL()

	// Ana writes from the new region: her chat is served there from now on.
	if got := e.typedAnswer(ana, "help").ServiceURL; got != moved {
		t.Errorf("the answer went to %s, want the new %s (was %s)", got, moved, old)
	}
	second := demoLead("crm-after-move")
	second.Contact.Name = "Mo Moved"
	if got := e.card(ana, e.handOff(second)).ServiceURL; got != moved {
		t.Errorf("the next card went to %s, want %s", got, moved)
	}

	// Maria writes in a channel of the Sales team: the team's channels are
	// served from the new region too.
	if resp, err := e.fake.TypeInChannel(ctxTimeout(t, waitLimit), maria, sales.ChannelID("General"), "help"); err != nil || resp.Status/100 != 2 {
		t.Fatalf("maria's mention: %v %+v", err, resp)
	}
	if err := e.app.PostWeeklyReport(ctxTimeout(t, reportLimit), lastWeek(t)); err != nil {
		t.Fatal(err)
	}
	if got := e.newestPostIn(sales.ChannelID("Reports")).ServiceURL; got != moved {
		t.Errorf("the report went to %s, want %s", got, moved)
	}
}

func lastWeek(t *testing.T) engine.Period {
	y, w := time.Now().AddDate(0, 0, -7).ISOWeek()
	return engine.WeekPeriod(y, w, time.UTC)
}
