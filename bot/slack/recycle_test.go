package slack_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot/slack/slackfake"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
)

// recyclePolicy sends returning contacts back to their previous owner. Bo
// comes first in the round robin, so a lead that reaches Ana without
// naming her went there because she had the contact before.
const recyclePolicy = `
timezone: UTC
report:
  channel: "#smarketing"
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

func withWorkerClock(now func() time.Time) envOption {
	return func(c *envConfig) { c.workerNow = now }
}

// recycleEnv is the bot with the recycle policy, a #smarketing channel
// and a clock the test moves.
func recycleEnv(t *testing.T) (*env, *movingClock) {
	fake := newFakeSlack(t)
	fake.AddChannel("C0SMK", "smarketing")
	clk := &movingClock{}
	return newEnv(t, withFake(fake), withPolicy(recyclePolicy), withClock(clk.Now), withWorkerClock(clk.Now)), clk
}

// recycleJob is the lead's revisit job.
func (e *env) recycleJob(leadID int64) storage.JobInfo {
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
	e.t.Fatalf("lead %d has no %s job among %d", leadID, engine.JobRecycleDue, len(jobs))
	return storage.JobInfo{}
}

// releaseDueJobs makes the lead's jobs that are due by the engine's clock
// available now: River schedules by the wall clock, which the test's
// jump of a month leaves behind.
func (e *env) releaseDueJobs(leadID int64, now time.Time) {
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

func countKind(events []engine.Event, kind string) int {
	n := 0
	for _, e := range events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

func TestANotNowContactComesBackWithItsHistoryToItsPreviousOwner(t *testing.T) {
	e, clk := recycleEnv(t)
	ctx := ctxTimeout(t, 60*time.Second)
	first := e.handOff(demoLead("crm-nurture"))
	card := e.card(ana, first)
	for _, kind := range []string{"call", "email", "call"} {
		if _, err := e.fake.ClickButton(ctx, ana, card, "lead.touch", kind); err != nil {
			t.Fatal(err)
		}
	}
	var touches []engine.Touch
	e.waitFor("three touches", func() bool {
		var err error
		touches, err = e.db.Touches(ctx, first.ID)
		return err == nil && len(touches) == 3
	})
	// The clicks are worked in parallel: the last touch is whichever
	// landed last.
	last := touches[0]
	for _, t := range touches {
		if t.At.After(last.At) {
			last = t
		}
	}

	// The return form asks for a date to revisit, a quarter ahead by default.
	if _, err := e.fake.ClickButton(ctx, ana, card, "lead.return", ""); err != nil {
		t.Fatal(err)
	}
	form := e.openedView(ana, "lead.return")
	today := clk.Now().UTC()
	var picker *slack.DatePickerBlockElement
	for _, b := range form.Blocks.BlockSet {
		if in, ok := b.(*slack.InputBlock); ok && in.BlockID == "return_revisit" {
			picker, _ = in.Element.(*slack.DatePickerBlockElement)
		}
	}
	if picker == nil {
		raw, _ := json.Marshal(form)
		t.Fatalf("the return form has no date picker for the revisit:\n%s", raw)
	}
	if want := today.AddDate(0, 0, 90).Format(time.DateOnly); picker.InitialDate != want {
		t.Errorf("the revisit date offered is %s, want %s (a quarter ahead)", picker.InitialDate, want)
	}

	// A date in the past is refused, saying what to enter; the lead stays.
	if _, err := e.fake.SubmitView(ctx, ana, form, map[string]map[string]any{
		"return_code": {"value": "not_now"}, "return_revisit": {"value": today.AddDate(0, 0, -1).Format(time.DateOnly)}}); err != nil {
		t.Fatal(err)
	}
	e.waitMessage(e.fake.DMChannel(ana), "the refusal of a past date", func(m slackfake.Message) bool {
		return m.Ephemeral && m.ContainsText("is not in the future: choose a date to revisit between")
	})
	if got := e.lead(first.ID); !got.State.Open() {
		t.Fatalf("a past revisit date returned the lead: %s", got.State)
	}

	revisit := today.AddDate(0, 0, 30)
	if _, err := e.fake.ClickButton(ctx, ana, card, "lead.return", ""); err != nil {
		t.Fatal(err)
	}
	form = e.openedView(ana, "lead.return")
	if _, err := e.fake.SubmitView(ctx, ana, form, map[string]map[string]any{
		"return_code": {"value": "not_now"}, "return_details": {"value": "budget opens in Q1"},
		"return_revisit": {"value": revisit.Format(time.DateOnly)}}); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the return", func() bool { return e.lead(first.ID).State == engine.StateReturned })
	if got := e.lead(first.ID).ReturnReason; got != "Interested, but not now (nurture): budget opens in Q1" {
		t.Errorf("return reason %q", got)
	}

	// The revisit comes due at 09:00 (the team's clock runs 24×7, so the
	// morning is 09:00 in the policy's zone) on the date, or the Monday
	// after a weekend.
	job := e.recycleJob(first.ID)
	due := time.Date(revisit.Year(), revisit.Month(), revisit.Day(), 9, 0, 0, 0, time.UTC)
	for due.Weekday() == time.Saturday || due.Weekday() == time.Sunday {
		due = due.AddDate(0, 0, 1)
	}
	if !job.RunAt.Equal(due) || job.State != "scheduled" {
		t.Fatalf("the revisit job is %s for %v, want scheduled for %v", job.State, job.RunAt, due)
	}

	// On the day: Marketing's channel hears it once, however often the
	// job runs.
	clk.Advance(due.Sub(clk.Now()) + time.Minute)
	if err := e.db.RetryJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	notice := e.waitMessage("C0SMK", "the revisit notice", func(m slackfake.Message) bool {
		return m.ContainsText("Time to revisit Dana Ruiz (Acme Corp)")
	})
	text := cardText(notice)
	for _, want := range []string{"Returned to Marketing by ana@example.com", "to revisit on " + revisit.Format(time.DateOnly),
		"budget opens in Q1", "2× call, 1× email", "hand them off again"} {
		if !strings.Contains(text, want) {
			t.Errorf("the notice does not say %q:\n%s", want, text)
		}
	}
	e.waitFor("the revisit job to finish", func() bool { return e.recycleJob(first.ID).State == "completed" })
	if err := e.db.RetryJob(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the repeated revisit job to finish", func() bool {
		j := e.recycleJob(first.ID)
		return j.State == "completed" && j.Attempts >= 2
	})
	if n := countKind(e.events(first.ID), engine.EventRecycleDue); n != 1 {
		t.Errorf("%d recycle_due events after two runs, want 1", n)
	}
	n := 0
	for _, m := range e.fake.Messages("C0SMK") {
		if m.ContainsText("Time to revisit") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d revisit notices in #smarketing, want 1", n)
	}

	// Marketing hands the contact off again under a new id, naming nobody:
	// Bo's turn in the round robin, but the lead goes back to Ana.
	again := demoLead("crm-nurture-2")
	again.OwnerEmail = ""
	again.Contact.Email = strings.ToUpper(first.Contact.Email)
	res, err := e.service.HandOff(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	second := res.Lead
	if second.OwnerEmail != "ana@example.com" || res.Routing.Reason != engine.RoutedPreviousOwner {
		t.Fatalf("the returning contact went to %q (%s), want back to ana@example.com", second.OwnerEmail, res.Routing.Reason)
	}
	e.releaseDueJobs(second.ID, clk.Now())
	newCard := e.card(ana, second)
	text = cardText(newCard)
	for _, want := range []string{"*Seen before*: returned to Marketing by ana@example.com on " + today.Format("Jan 2, 2006"),
		"Interested, but not now (nurture): budget opens in Q1", "(revisit on " + revisit.Format(time.DateOnly) + ")",
		"Touches then: 2× call, 1× email; last touch " + string(last.Kind) + " on " + today.Format("Jan 2, 2006") + " by ana@example.com",
		"Back with ana@example.com, who had it before"} {
		if !strings.Contains(text, want) {
			t.Errorf("the new card does not say %q:\n%s", want, text)
		}
	}
}

func TestAReturningContactWhosePreviousOwnerIsAwayIsRoutedAsUsualAndTheCardSaysWhy(t *testing.T) {
	e, _ := recycleEnv(t)
	ctx := ctxTimeout(t, 30*time.Second)
	first := e.handOff(demoLead("crm-away"))
	if _, err := e.service.ReturnNotNow(ctx, first.ID, engine.Actor{Email: "ana@example.com"}, e.service.Now().AddDate(0, 1, 0).Format(time.DateOnly), ""); err != nil {
		t.Fatal(err)
	}
	until := e.service.Now().Add(10 * 24 * time.Hour)
	if _, err := e.service.SetAvailability(ctx, engine.Actor{Email: "ana@example.com"}, "ana@example.com", true, until); err != nil {
		t.Fatal(err)
	}
	again := demoLead("crm-away-2")
	again.OwnerEmail, again.Contact.Email = "", first.Contact.Email
	res, err := e.service.HandOff(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	if res.Lead.OwnerEmail != "bo@example.com" {
		t.Fatalf("with Ana away the returning contact went to %q, want bo@example.com by the round robin", res.Lead.OwnerEmail)
	}
	text := cardText(e.card(bo, res.Lead))
	want := "Not sent back to its previous owner: ana@example.com is away until " + until.UTC().Format("Jan 2") + ", so it was routed as usual."
	if !strings.Contains(text, want) || !strings.Contains(text, "Seen before") {
		t.Errorf("the card does not say %q:\n%s", want, text)
	}
}
