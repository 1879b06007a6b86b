package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/bottest"
	"github.com/slabot/slabot/bot/view"
	"github.com/slabot/slabot/engine"
)

// TestTheHomeViewIsPublishedAndKeptUpToDate: opening the home publishes
// it; a touch on a lead refreshes the home of its owner and their manager.
func TestTheHomeViewIsPublishedAndKeptUpToDate(t *testing.T) {
	c, leads := newCommandsCore(t)
	ctx := context.Background()
	for _, who := range []string{ana, maria, stranger} {
		if err := c.bot.OpenHome(ctx, who); err != nil {
			t.Fatal(err)
		}
	}
	c.runDue()
	var b strings.Builder
	for _, who := range []string{ana, maria, stranger} {
		homes := c.Chat.Homes(who)
		if len(homes) != 1 {
			t.Fatalf("%d home views published to %s; want 1", len(homes), names[who])
		}
		fmt.Fprintf(&b, "── %s's home\n%s\n", names[who], bottest.Render(homes[0]))
	}
	golden(t, "home", b.String())

	// The first touch select on ana's home belongs to l4, the lead due first.
	c.pick("ana@example.com", c.Chat.Homes(ana)[0], "Log touch…", "Email")
	if touches, err := c.DB.Touches(ctx, leads["l4"].ID); err != nil || len(touches) != 1 {
		t.Fatalf("l4's touches: %v %v", touches, err)
	}
	for _, who := range []string{ana, maria} {
		homes := c.Chat.Homes(who)
		if len(homes) != 2 {
			t.Fatalf("%d home views published to %s after the touch; want 2", len(homes), names[who])
		}
	}
	diff(t, "ana's week after the touch", ":warning: **First touch on time: 75%** (3 of 4) · target 90%",
		lines(bottest.Render(c.Chat.Homes(ana)[1]))[2])
}

// TestTheWeeklyReportIsPostedWithItsChart: /sla report's default poster,
// on the fixed data set; the report, with its chart inline on a platform
// that carries pictures, goes to the report channel.
func TestTheWeeklyReportIsPostedWithItsChart(t *testing.T) {
	c, _ := newCommandsCore(t)
	c.answer(maria, "report")
	posts := c.posts("#smarketing", "")
	if len(posts) != 1 {
		t.Fatalf("%d posts in the report channel; want 1", len(posts))
	}
	report := posts[0].Last()
	golden(t, "report", bottest.Render(report))
	var images int
	for _, b := range report.Blocks {
		if img, ok := b.(view.Image); ok && len(img.PNG) > 0 {
			images++
		}
	}
	diff(t, "charts in the report", 1, images)
	if strings.Contains(report.Summary, "`") || report.Summary == "" {
		t.Errorf("the report's summary %q", report.Summary)
	}
}

// reviewCore is the bot on bottest.ReviewPolicy, three months after the
// history bottest.SeedReviewHistory writes, with review_by as given.
func reviewCore(t *testing.T, reviewBy string) (*core, []string) {
	policy := strings.NewReplacer(`review_by: "2027-06-30"`, `review_by: "`+reviewBy+`"`).
		Replace(fmt.Sprintf(bottest.ReviewPolicy, "#smarketing"))
	c := newCore(t, policy)
	c.Chat.AddPerson(engine.ChatIdentity{UserID: "U0SAM", Email: "sam@example.com", Name: "Sam Owner", TimeZone: "UTC"})
	labels, err := bottest.SeedReviewHistory(context.Background(), c.DB, c.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c, labels
}

func TestSlaReview(t *testing.T) {
	c, _ := reviewCore(t, "2030-06-30")
	golden(t, "review", c.ask([2]string{ana, "review"}, [2]string{maria, "review months 40"},
		[2]string{maria, "review months 3"}, [2]string{"U0SAM", "review months 3 share"}))
}

// TestTheReviewPackIsPostedOnce14DaysBeforeTheReviewDate: claimed on the
// morning 14 days before review_by, once; its job posts the pack.
func TestTheReviewPackIsPostedOnce14DaysBeforeTheReviewDate(t *testing.T) {
	// bottest.Start is Mon Mar 4, 2030: the pack's morning is Mar 10.
	c, _ := reviewCore(t, "2030-03-24")
	ctx := context.Background()
	slot := time.Date(2030, time.March, 10, 9, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{slot.Add(-time.Second), time.Date(2030, time.March, 25, 0, 0, 0, 0, time.UTC)} {
		if claimed, err := c.bot.ClaimReviewPost(ctx, at, "early-or-late"); err != nil || claimed {
			t.Fatalf("at %s: claimed %v, %v", at, claimed, err)
		}
	}
	c.Clock.Set(slot)
	for i, by := range []string{"replica-a", "replica-b"} {
		claimed, err := c.bot.ClaimReviewPost(ctx, slot, by)
		if err != nil || claimed != (i == 0) {
			t.Fatalf("claim %d by %s: %v, %v", i, by, claimed, err)
		}
	}
	c.runDue()
	if claimed, err := c.bot.ClaimReviewPost(ctx, slot.AddDate(0, 0, 1), "replica-a"); err != nil || claimed {
		t.Errorf("a claim the next morning: %v, %v", claimed, err)
	}
	c.runDue()
	posts := c.posts("#smarketing", "")
	if len(posts) != 1 {
		t.Fatalf("%d review packs posted; want 1", len(posts))
	}
	golden(t, "review_pack", bottest.Render(posts[0].Last()))
}
