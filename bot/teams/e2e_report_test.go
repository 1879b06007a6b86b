package teams_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slabot/slabot/bot"
	"github.com/slabot/slabot/bot/teams/teamsfake"
)

// The weekly report on Teams: one activity in the policy's Team/Channel
// with the card and the chart beside it, once per slot across replicas.

// runSchedule runs a replica's report schedule until the returned stop.
func runSchedule(t *testing.T, e *teamsEnv, id string) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := e.app.RunReportSchedule(ctx, bot.ScheduleOptions{ID: id}); err != nil {
			t.Errorf("the schedule of %s stopped: %v", id, err)
		}
	})
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

func TestTheWeeklyReportIsOneActivityPerSlotWithItsChart(t *testing.T) {
	t.Parallel()
	everySecond := withPolicy(strings.Replace(e2ePolicy, `schedule: "0 9 * * MON"`, `schedule: "* * * * * *"`, 1))
	one := newTeamsEnv(t, everySecond)
	two := newTeamsEnv(t, everySecond, asReplicaOf(one))
	sales := one.addBotToSales()
	channel := sales.ChannelID("Reports")
	one.click(ana, one.card(ana, one.handOff(demoLead("crm-report"))), "lead.touch", map[string]any{"touch_kind": "call"})

	stopOne, stopTwo := runSchedule(t, one, "replica-one"), runSchedule(t, two, "replica-two")
	var slots int
	one.waitFor("two report slots to be claimed", func() bool {
		runs, err := one.db.ScheduledRuns(context.Background(), "weekly-report")
		slots = len(runs)
		return err == nil && slots >= 2
	})
	stopOne()
	stopTwo()
	runs, err := one.db.ScheduledRuns(context.Background(), "weekly-report")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := one.fake.WaitActivities(ctxTimeout(t, reportLimit), channel, len(runs)); err != nil {
		t.Fatalf("%d slots claimed: %v", len(runs), err)
	}
	settle(time.Now().Add(time.Second))
	reports := one.fake.Activities(channel)
	if len(reports) != len(runs) {
		t.Errorf("%d reports for %d claimed slots, want one each", len(reports), len(runs))
	}
	for _, r := range reports {
		checkReportActivity(t, r.Activity)
	}
	// The report went to Sales/Reports only.
	if n := len(one.fake.Activities(sales.ChannelID("General"))); n != 0 {
		t.Errorf("%d posts in General", n)
	}
}

// checkReportActivity checks one report: a 1.5 card within 80 KB saying
// what the report says, and the chart beside it as a PNG data: URL at
// most 1024 px wide.
func checkReportActivity(t *testing.T, a teamsfake.Activity) {
	t.Helper()
	var cards, images int
	for _, att := range a.Attachments {
		switch att.ContentType {
		case "application/vnd.microsoft.card.adaptive":
			cards++
			if len(att.Content) > 80*1024 {
				t.Errorf("the report's card is %d bytes, over 80 KB", len(att.Content))
			}
			var card teamsfake.Card
			if err := json.Unmarshal(att.Content, &card); err != nil {
				t.Fatal(err)
			}
			if card["version"] != "1.5" {
				t.Errorf("card version %v", card["version"])
			}
			mustSay(t, "the report", text(card), "Smarketing report")
		case "image/png":
			images++
			data, ok := strings.CutPrefix(att.ContentURL, "data:image/png;base64,")
			if !ok {
				t.Fatalf("the chart's contentUrl is not a PNG data: URL: %.60s", att.ContentURL)
			}
			raw, err := base64.StdEncoding.DecodeString(data)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("the chart is not a PNG: %v", err)
			}
			if cfg.Width > 1024 || cfg.Width < 600 {
				t.Errorf("the chart is %d×%d px; Teams takes at most 1024 px wide", cfg.Width, cfg.Height)
			}
		default:
			t.Errorf("an attachment of type %s", att.ContentType)
		}
	}
	if cards != 1 || images != 1 {
		t.Errorf("the report has %d cards and %d images, want one of each in one activity", cards, images)
	}
}

func TestAChannelCreatedAfterSlabotJoinedTheTeamCanBeNamed(t *testing.T) {
	t.Parallel()
	policy := strings.Replace(e2ePolicy, `channel: "Sales/Reports"`, `channel: "Sales/Weekly"`, 1)
	e := newTeamsEnv(t, withPolicy(policy))
	sales := e.addBotToSales()
	weekly, resp, err := e.fake.AddChannel(ctxTimeout(t, waitLimit), sales.ID, "Weekly", maria)
	if err != nil || resp == nil || resp.Status/100 != 2 {
		t.Fatalf("creating the channel: %v %+v", err, resp)
	}
	if err := e.app.PostWeeklyReport(ctxTimeout(t, reportLimit), lastWeek(t)); err != nil {
		t.Fatalf("the report for a channel created after slabot joined: %v", err)
	}
	recs, err := e.fake.WaitActivities(ctxTimeout(t, waitLimit), weekly.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkReportActivity(t, recs[0].Activity)
}
