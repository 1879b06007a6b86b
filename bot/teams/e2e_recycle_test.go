package teams_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
)

// recyclePolicy sends returning contacts back to their previous owner. Bo
// comes first in the round robin, so a lead that reaches Ana without
// naming her went there because she had the contact before.
const recyclePolicy = `
timezone: UTC
report:
  channel: "Sales/Reports"
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [bo@example.com, ana@example.com]
rules:
  - name: default
    first_touch: 4h
recycle: {route_to: previous_owner, within: 180d}
`

// movingClock is a test clock that starts now and jumps when told.
type movingClock struct{ offset atomic.Int64 }

func (c *movingClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *movingClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// withClocks runs the service and the job worker on clock.
func withClocks(clock func() time.Time) envOption {
	return func(c *envConfig) { c.now, c.workerNow = clock, clock }
}

// recycleJob is the lead's revisit job.
func (e *teamsEnv) recycleJob(leadID int64) storage.JobInfo {
	e.t.Helper()
	jobs, err := e.db.JobsOfLead(context.Background(), leadID)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, j := range jobs {
		if j.Kind == engine.JobRecycleDue {
			return j
		}
	}
	e.t.Fatalf("lead %d has no %s job", leadID, engine.JobRecycleDue)
	return storage.JobInfo{}
}

// releaseDueJobs makes the lead's jobs that are due by the engine's clock
// available now: River schedules by the wall clock, which the test's
// jump of a month leaves behind.
func (e *teamsEnv) releaseDueJobs(leadID int64, now time.Time) {
	e.t.Helper()
	jobs, err := e.db.JobsOfLead(context.Background(), leadID)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, j := range jobs {
		if j.State == "scheduled" && !j.RunAt.After(now) {
			if err := e.db.RetryJob(context.Background(), j.ID); err != nil {
				e.t.Fatal(err)
			}
		}
	}
}

// revisitNotices are the revisit notices in the Reports channel.
func (e *teamsEnv) revisitNotices(channelID string) []string {
	var out []string
	for _, r := range e.fake.Activities(channelID) {
		if strings.HasPrefix(r.Activity.Summary, "Time to revisit") {
			out = append(out, text(r.Activity.Cards()[0]))
		}
	}
	return out
}

func TestANotNowContactComesBackWithItsHistoryToItsPreviousOwnerOnTeams(t *testing.T) {
	t.Parallel()
	clk := &movingClock{}
	e := newTeamsEnv(t, withPolicy(recyclePolicy), withClocks(clk.Now))
	sales := e.addBotToSales()
	reports := sales.ChannelID("Reports")
	first := e.handOff(demoLead("crm-nurture"))
	card := e.card(ana, first)
	e.click(ana, card, "lead.touch", map[string]any{"touch_kind": "call"})
	e.click(ana, card, "lead.touch", map[string]any{"touch_kind": "meeting"})

	// The card's return form holds a date input, a quarter ahead by
	// default, from tomorrow to a year ahead.
	today := clk.Now().UTC()
	raw, _ := json.Marshal(e.seen(ana, card))
	for _, want := range []string{`"type":"Input.Date"`, `"id":"return_revisit"`,
		`"value":"` + today.AddDate(0, 0, 90).Format(time.DateOnly) + `"`,
		`"min":"` + today.AddDate(0, 0, 1).Format(time.DateOnly) + `"`,
		`"max":"` + today.AddDate(0, 0, 365).Format(time.DateOnly) + `"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("the return form lacks %s:\n%s", want, raw)
		}
	}

	// An unparsable date and a past one are refused, saying what to enter.
	for _, bad := range []struct{ date, says string }{
		{"next spring", "That is not a date: choose one from tomorrow to a year ahead, written YYYY-MM-DD."},
		{today.AddDate(0, 0, -3).Format(time.DateOnly), "is not in the future: choose a date to revisit between"},
	} {
		res := e.click(ana, card, "lead.return", map[string]any{"return_code": "not_now", "return_revisit": bad.date})
		if res.Type != "application/vnd.microsoft.activity.message" || !strings.Contains(res.Message, bad.says) {
			t.Errorf("revisit %q was answered %s %q, want a refusal saying %q", bad.date, res.Type, res.Message, bad.says)
		}
	}
	if got := e.lead(first.ID); !got.State.Open() {
		t.Fatalf("a bad revisit date returned the lead: %s", got.State)
	}

	revisit := today.AddDate(0, 0, 30)
	res := e.click(ana, card, "lead.return", map[string]any{"return_code": "not_now", "return_details": "budget opens in Q1",
		"return_revisit": revisit.Format(time.DateOnly)})
	mustSay(t, "the redrawn card", text(res.Card), "Returned to Marketing", "Interested, but not now (nurture): budget opens in Q1")

	// On the date's morning the Reports channel hears it, once.
	job := e.recycleJob(first.ID)
	clk.Advance(job.RunAt.Sub(clk.Now()) + time.Minute)
	if err := e.db.RetryJob(ctxTimeout(t, waitLimit), job.ID); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the revisit notice", func() bool { return len(e.revisitNotices(reports)) > 0 })
	mustSay(t, "the revisit notice", e.revisitNotices(reports)[0], "Time to revisit Dana Ruiz (Acme Corp)",
		"Returned to Marketing by ana@example.com", "to revisit on "+revisit.Format(time.DateOnly), "1× call, 1× meeting")
	e.waitFor("the revisit job to finish", func() bool { return e.recycleJob(first.ID).State == "completed" })
	if err := e.db.RetryJob(ctxTimeout(t, waitLimit), job.ID); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the repeated revisit job to finish", func() bool {
		j := e.recycleJob(first.ID)
		return j.State == "completed" && j.Attempts >= 2
	})
	if n := len(e.revisitNotices(reports)); n != 1 {
		t.Errorf("%d revisit notices after two runs of the job, want 1", n)
	}
	if n := countEvents(e.events(first.ID), engine.EventRecycleDue); n != 1 {
		t.Errorf("%d recycle_due events after two runs, want 1", n)
	}

	// Handed off again under a new id, naming nobody: back to Ana, with
	// the history on the card.
	again := demoLead("crm-nurture-2")
	again.OwnerEmail, again.Contact.Email = "", first.Contact.Email
	second := e.handOff(again)
	if second.OwnerEmail != ana {
		t.Fatalf("the returning contact went to %q, want back to %s", second.OwnerEmail, ana)
	}
	e.releaseDueJobs(second.ID, clk.Now())
	newCard := e.card(ana, second)
	mustSay(t, "the new card", text(newCard.Activity.Cards()[0]),
		"Seen before", "returned to Marketing by ana@example.com on "+today.Format("Jan 2, 2006"),
		"Interested, but not now (nurture): budget opens in Q1", "(revisit on "+revisit.Format(time.DateOnly)+")",
		"Touches then: 1× call, 1× meeting; last touch meeting on "+today.Format("Jan 2, 2006")+" by ana@example.com",
		"Back with ana@example.com, who had it before")
}
