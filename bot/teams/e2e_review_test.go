package teams_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/bottest"
	"github.com/slabot/slabot/bot/teams/teamsfake"
)

// TestSlaReviewOnTeams: the review typed in a 1:1 chat, answered with an
// Adaptive Card: refused to a rep, shown to a manager and to an owner of
// the agreement who manages no team.
func TestSlaReviewOnTeams(t *testing.T) {
	t.Parallel()
	fake := newFakeTeams(t)
	fake.AddPerson(teamsfake.Person{Email: "sam@example.com", Name: "Sam Owner", Installed: true})
	e := newTeamsEnv(t, withPolicy(fmt.Sprintf(bottest.ReviewPolicy, "Sales/Reports")), func(c *envConfig) { c.fake = fake })
	labels, err := bottest.SeedReviewHistory(context.Background(), e.db, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	refused := text(e.typed(ana, "review"))
	mustSay(t, "a rep asking for the review", refused, "for the teams' managers and the agreement's owners")
	if strings.Contains(refused, "Breaches by likely cause") {
		t.Errorf("a rep was shown the review:\n%s", refused)
	}
	for _, who := range []string{maria, "sam@example.com"} {
		answer := text(e.typed(who, "sla review 3 months"))
		mustSay(t, who+"'s review", answer,
			"Review of the agreement · "+labels[0]+" – "+labels[2],
			labels[0], labels[1], labels[2],
			"MQLs 2 of 5", "SQLs 3 of 2", "on time 67% of 75%",
			"Marketing: MQLs**: missed 3 months running",
			"Routing: 1 (33%)**", "Capacity: 2 (67%)**",
			"Acceptance by source", "Score check", "The agreement in plain words",
			"slabot policy simulate proposed.yaml")
	}
}
