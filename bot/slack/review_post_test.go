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

// reviewPosts are the review packs posted to the report channel.
func reviewPosts(fake *slackfake.Server) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range fake.Messages(reportChannel) {
		if m.Metadata != nil && m.Metadata.EventType == "slabot_review" {
			out = append(out, m)
		}
	}
	return out
}

// TestTheReviewPackIsPostedOnce14DaysBeforeTheReviewDate: two replicas
// start their schedules ten days before review_by (past the post's
// morning): between them they claim the post once and one message goes
// out. A replica started later, and a check on a later morning, post
// nothing more. Before the post's morning, and after the review date,
// nothing is claimed.
func TestTheReviewPackIsPostedOnce14DaysBeforeTheReviewDate(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	reviewBy := now.AddDate(0, 0, 10).Format(time.DateOnly)
	// Thresholds no breach meets: Ana's breaches are concentrated, and a
	// pack for a channel does not name her.
	policy := strings.NewReplacer(`review_by: "2027-06-30"`, `review_by: "`+reviewBy+`"`,
		"capacity_open_leads: 2", "capacity_open_leads: 50", "routing_delay: 10m", "routing_delay: 1h").
		Replace(fmt.Sprintf(bottest.ReviewPolicy, "#smarketing"))
	e := newReportEnv(t, policy, nil, nil)
	if _, err := bottest.SeedReviewHistory(context.Background(), e.db, now); err != nil {
		t.Fatal(err)
	}
	a, b := e.newBot(nil), e.newBot(nil)
	// Before the morning of the post, and the day after the review date:
	// nothing to claim.
	slot := e.policy.ReviewBy.AddDate(0, 0, -14).Add(9 * time.Hour)
	for _, at := range []time.Time{slot.Add(-time.Second), e.policy.ReviewBy.AddDate(0, 0, 1)} {
		if claimed, err := a.ClaimReviewPost(context.Background(), at, "early-or-late"); err != nil || claimed {
			t.Fatalf("at %s: claimed %v, %v", at, claimed, err)
		}
	}

	stopA := runSchedule(t, a, "replica-a")
	stopB := runSchedule(t, b, "replica-b")
	e.runWorker(a)
	e.runWorker(b)
	deadline := time.Now().Add(patience)
	for len(reviewPosts(e.fake)) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no review pack was posted in %v", patience)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopA()
	stopB()
	runs, err := e.db.ScheduledRuns(context.Background(), "agreement-review")
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[slot.UTC()] == "" {
		t.Errorf("claims %v, want one for %s", runs, slot.UTC())
	}
	// A replica started later, and the next mornings' checks, find the
	// claim taken.
	stopC := runSchedule(t, e.newBot(nil), "replica-c")
	for _, at := range []time.Time{slot, slot.AddDate(0, 0, 1), slot.AddDate(0, 0, 13)} {
		if claimed, err := a.ClaimReviewPost(context.Background(), at, "replica-a"); err != nil || claimed {
			t.Errorf("a second claim at %s: %v, %v", at, claimed, err)
		}
	}
	settle(time.Now().Add(time.Second))
	stopC()
	posts := reviewPosts(e.fake)
	if len(posts) != 1 {
		t.Fatalf("%d review packs posted, want 1", len(posts))
	}
	text := posts[0].Text + "\n" + answerText(posts[0].Blocks)
	mustSay(t, "the review pack", text, "Review of the agreement", "The agreement is due for review on",
		"Breaches by likely cause", "*Concentrated: 3 (100%)*", "mostly 1 rep: a coaching matter", "slabot policy simulate")
	if strings.Contains(text, "ana@example.com: a coaching matter") {
		t.Errorf("the channel's pack names reps:\n%s", text)
	}
}
