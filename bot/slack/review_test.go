package slack_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/bottest"
	"github.com/slabot/slabot/bot/slack/slackfake"
)

// TestSlaReviewOnSlack: /sla review end to end through Socket Mode and a
// response_url: a rep is refused, a manager and an owner who manages no
// team get the pack, with the months, the flag on MQLs missed three
// months running, the breaches by cause and how to try a change.
func TestSlaReviewOnSlack(t *testing.T) {
	t.Parallel()
	fake := newFakeSlack(t)
	fake.AddUser(slackfake.User{ID: "U0SAM", Name: "sam", RealName: "Sam Owner", Email: "sam@example.com", TZ: "UTC"})
	e := newEnv(t, withFake(fake), withPolicy(fmt.Sprintf(bottest.ReviewPolicy, "#sales-ops")))
	labels, err := bottest.SeedReviewHistory(context.Background(), e.db, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	refused := answerText(e.sla(ana, "review").Body)
	mustSay(t, "a rep asking for the review", refused, "for the teams' managers and the agreement's owners")
	if strings.Contains(refused, "Breaches by likely cause") {
		t.Errorf("a rep was shown the review:\n%s", refused)
	}
	mustSay(t, "a bad month count", answerText(e.sla(maria, "review months 40").Body), "from 1 to 24")

	for _, who := range []string{maria, "U0SAM"} {
		text := answerText(e.sla(who, "review months 3").Body)
		mustSay(t, "the review", text,
			"Review of the agreement · "+labels[0]+" – "+labels[2],
			"*"+labels[0]+"*", "*"+labels[2]+"*",
			"MQLs 2 of 5 :rotating_light:", "SQLs 3 of 2 :large_green_circle:",
			"on time 67% of 75% :rotating_light:",
			"*Marketing: MQLs*: missed 3 months running (target 5 a month)",
			"*Sales: first touch on time*: missed 3 months running (target 75%)",
			"3 breaches of these months' leads",
			"*Routing: 1 (33%)*", "*Capacity: 2 (67%)*", "*Concentrated: 0 (0%)*",
			"*demo-request*: 3 breaches · routing 1, capacity 2\n",
			"Acceptance by source",
			"Score check",
			"The agreement in plain words",
			"slabot policy simulate proposed.yaml")
	}
}
