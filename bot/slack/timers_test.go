package slack_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/slack/slackfake"
	"github.com/slabot/slabot/engine"
)

// timerPolicy is a seconds-scale agreement: a reminder 1 s after the
// hand-off, the first touch due after 5 s. A reminder that runs after the
// deadline is dropped (engine.ReminderPastDue), so the 4 s between them
// are the room a busy machine has to send it.
func timerPolicy(onBreach string) string {
	return `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "#sales-ops"
    reps: [ana@example.com, bo@example.com]
rules:
  - name: fast
    first_touch: 5s
    remind_before: [4s]
    on_breach: ` + onBreach + `
`
}

// messagesTagged lists the messages in ch whose metadata has this type and
// names the lead.
func (e *env) messagesTagged(ch, metaType string, leadID int64) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range e.fake.Messages(ch) {
		if m.Metadata != nil && m.Metadata.EventType == metaType && fmt.Sprint(m.Metadata.EventPayload["lead_id"]) == fmt.Sprint(leadID) {
			out = append(out, m)
		}
	}
	return out
}

func (e *env) reminders(userID string, leadID int64) []slackfake.Message {
	return e.messagesTagged(e.fake.DMChannel(userID), "slabot_reminder", leadID)
}

func (e *env) escalations(ch string, leadID int64) []slackfake.Message {
	return e.messagesTagged(ch, "slabot_escalation", leadID)
}

// waitMessage waits for a message in ch that satisfies cond.
func (e *env) waitMessage(ch, what string, cond func(slackfake.Message) bool) slackfake.Message {
	e.t.Helper()
	m, err := e.fake.WaitForMessage(ctxTimeout(e.t, 30*time.Second), func(m slackfake.Message) bool { return m.Channel == ch && cond(m) })
	if err != nil {
		e.t.Fatalf("no %s: %v", what, err)
	}
	return m
}

// settle polls until t has passed, so a test can check that nothing more
// happened up to then.
func settle(until time.Time) {
	for time.Now().Before(until) {
		time.Sleep(min(100*time.Millisecond, time.Until(until)+time.Millisecond))
	}
}

func TestADeactivatedRepIsFoundAndTheirLeadEscalated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	l := e.handOff(demoLead("crm-gone"))
	e.card(ana, l)
	e.fake.DeactivateUser(ana)
	ctx := ctxTimeout(t, patience)
	for range 2 { // a second check, or another replica's, changes nothing
		if err := e.bot.SyncDirectory(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if rep, err := e.db.RepByEmail(ctx, "ana@example.com"); err != nil || rep.Status != engine.RepInactive {
		t.Fatalf("ana is %v (%v), want inactive", rep, err)
	}
	managerDM := e.fake.DMChannel(maria)
	e.waitFor("the escalation of ana's lead", func() bool { return len(e.escalations(managerDM, l.ID)) > 0 })
	dm := e.escalations(managerDM, l.ID)[0]
	if text := cardText(dm); !strings.Contains(text, "ana@example.com") || !strings.Contains(text, "deactivated") || !strings.Contains(text, "[Reassign]") {
		t.Errorf("the escalation:\n%s", text)
	}
	e.waitMessage("C0OPS", "the team's alert", func(m slackfake.Message) bool {
		return strings.Contains(m.Text, "ana@example.com no longer receives leads")
	})
	e.waitFor("the channel's escalation", func() bool { return len(e.escalations("C0OPS", l.ID)) == 1 })
	if n := len(e.escalations(managerDM, l.ID)); n != 1 {
		t.Errorf("%d escalations to the manager, want 1", n)
	}
	// New leads skip ana now.
	h := demoLead("crm-after-gone")
	if got := e.handOff(h); got.OwnerEmail != "bo@example.com" {
		t.Errorf("a new lead went to %s", got.OwnerEmail)
	}
	// The manager reassigns the orphaned lead.
	if _, err := e.fake.ClickButton(ctx, maria, dm, "esc.reassign", ""); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the reassignment", func() bool { return e.lead(l.ID).OwnerEmail == "bo@example.com" })
	e.card(bo, l)

	// Slack reactivates ana's account: the next check brings her back.
	u, _ := e.fake.GetUser(ana)
	u.Deleted = false
	e.fake.AddUser(u)
	if err := e.bot.SyncDirectory(ctx); err != nil {
		t.Fatal(err)
	}
	if rep, _ := e.db.RepByEmail(ctx, "ana@example.com"); rep.Status != engine.RepActive {
		t.Errorf("after her account came back ana is %s, want active", rep.Status)
	}
}

func TestALeadRoutedToARepUnknownToSlackIsEscalatedAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withPolicy(`
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "#sales-ops"
    reps: [cy@example.com, ana@example.com]
rules:
  - name: default
    first_touch: 4h
`))
	h := demoLead("crm-unknown")
	h.OwnerEmail = "cy@example.com"
	l := e.handOff(h)
	if l.OwnerEmail != "cy@example.com" {
		t.Fatalf("routed to %s", l.OwnerEmail)
	}
	alert := e.waitMessage("C0OPS", "the alert", func(m slackfake.Message) bool { return strings.Contains(m.Text, "cy@example.com") })
	if !strings.Contains(alert.Text, "Dana Ruiz") || !strings.Contains(alert.Text, "no active Slack account") {
		t.Errorf("alert: %s", alert.Text)
	}
}

func TestATimerPlannedBeforeARestartFiresOnceOnTime(t *testing.T) {
	t.Parallel()
	// The reminder is planned 6 s after the hand-off: room for the first
	// bot to stop and the second to start on a busy machine, with the
	// tests running in parallel.
	policy := withPolicy(`
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: fast
    first_touch: 10s
    remind_before: [4s]
`)
	first := newEnv(t, policy)
	l := first.handOff(demoLead("crm-restart"))
	first.stop()
	planned := l.AssignedAt.Add(6 * time.Second)
	if time.Now().After(planned.Add(-500 * time.Millisecond)) {
		t.Fatalf("the restart took too long to test anything (%v)", time.Since(l.AssignedAt))
	}
	second := newEnv(t, policy, withDB(first.db), withFake(first.fake))
	second.waitFor("the reminder", func() bool { return len(second.reminders(ana, l.ID)) > 0 })
	rem := second.reminders(ana, l.ID)[0]
	if early := planned.Sub(rem.PostedAt); early > 50*time.Millisecond {
		t.Errorf("the reminder came %v before its time", early)
	}
	// In time: the restarted worker ran the timer before the deadline it
	// reminds of, not when River's rescuer got to it minutes later. Its run
	// is timed by the job's first attempt rather than by the post, which
	// waits on Slack and the send queue besides. The bound is the story's
	// (a reminder after its deadline reminds of nothing), not a speed.
	var attempted time.Time
	if err := second.db.Pool().QueryRow(context.Background(), `SELECT attempted_at FROM river_job
		WHERE kind = $1 AND (args->>'lead_id')::bigint = $2`, engine.JobReminder, l.ID).Scan(&attempted); err != nil {
		t.Fatalf("the reminder's job: %v", err)
	}
	if late := attempted.Sub(planned); late < -50*time.Millisecond || !attempted.Before(l.FirstTouchDue) {
		t.Errorf("the reminder's timer ran %v after its time, at or after the deadline it reminds of (%v)", late, l.FirstTouchDue)
	}
	settle(l.FirstTouchDue)
	if n := len(second.reminders(ana, l.ID)); n != 1 {
		t.Errorf("%d reminders, want 1", n)
	}
}

func TestTwoBotsOnOneDatabaseActOnce(t *testing.T) {
	t.Parallel()
	policy := withPolicy(timerPolicy("[notify_manager, return_to_marketing]"))
	one := newEnv(t, policy)
	two := newEnv(t, policy, withDB(one.db), withFake(one.fake))
	var leads []*engine.Lead
	for i := range 5 {
		h := demoLead(fmt.Sprintf("crm-two-%d", i))
		if i%2 == 1 {
			h.OwnerEmail = "bo@example.com"
		}
		res, err := []*engine.Service{one.service, two.service}[i%2].HandOff(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		leads = append(leads, res.Lead)
	}
	for _, l := range leads {
		one.waitFor("the lead's return", func() bool { return one.lead(l.ID).State == engine.StateReturned })
	}
	managerDM := one.fake.DMChannel(maria)
	for _, l := range leads {
		one.waitFor("the escalations", func() bool {
			return len(one.escalations(managerDM, l.ID)) > 0 && len(one.escalations("C0OPS", l.ID)) > 0
		})
	}
	settle(time.Now().Add(500 * time.Millisecond))
	for _, l := range leads {
		owner := ana
		if l.OwnerEmail == "bo@example.com" {
			owner = bo
		}
		var breaches, returns int
		for _, ev := range one.events(l.ID) {
			switch ev.Kind {
			case engine.EventBreach:
				breaches++
			case "returned":
				returns++
			}
		}
		counts := []int{len(one.reminders(owner, l.ID)), breaches, returns, len(one.escalations(managerDM, l.ID)), len(one.escalations("C0OPS", l.ID))}
		if !slices.Equal(counts, []int{1, 1, 1, 1, 1}) {
			t.Errorf("lead %d: reminders, breaches, returns, manager DMs, channel posts = %v, want one each", l.ID, counts)
		}
	}
}

func TestOldButtonsGoQuietWhenTheLeadMovesOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withPolicy(timerPolicy("[notify_manager, reassign]")))
	l := e.handOff(demoLead("crm-quiet"))
	e.waitFor("ana's reminder", func() bool { return len(e.reminders(ana, l.ID)) > 0 })
	anaReminder := e.reminders(ana, l.ID)[0]
	if !anaReminder.PostedAt.Before(l.FirstTouchDue) {
		t.Errorf("the reminder came at %v, after the deadline %v", anaReminder.PostedAt, l.FirstTouchDue)
	}
	text := cardText(anaReminder)
	for _, want := range []string{"First touch due in", "Dana Ruiz", "+1 555 0100", "[Accept]", "[Log touch…]"} {
		if !strings.Contains(text, want) {
			t.Fatalf("the reminder does not show %q to begin with:\n%s", want, text)
		}
	}
	// The breach gives the lead to bo: ana's reminder loses its buttons.
	e.waitCard(anaReminder, "ana's reminder to say the lead moved on", func(m slackfake.Message) bool {
		text := cardText(m)
		return strings.Contains(text, "Moved on: Dana Ruiz") && strings.Contains(text, "bo@example.com") &&
			!strings.Contains(text, "[Accept]") && !strings.Contains(text, "[Log touch…]")
	})

	// Bo misses it too: a second escalation. The manager returns the lead
	// from it; the first escalation, about ana, loses its buttons as well.
	managerDM := e.fake.DMChannel(maria)
	e.waitFor("two escalations", func() bool { return len(e.escalations(managerDM, l.ID)) == 2 })
	first, second := e.escalations(managerDM, l.ID)[0], e.escalations(managerDM, l.ID)[1]
	if text := cardText(first); !strings.Contains(text, "[Reassign]") {
		t.Fatalf("the first escalation lost its buttons before the lead moved on:\n%s", text)
	}
	e.waitFor("bo's reminder", func() bool { return len(e.reminders(bo, l.ID)) > 0 })
	boReminder := e.reminders(bo, l.ID)[0]
	if _, err := e.fake.ClickButton(ctxTimeout(t, 10*time.Second), maria, second, "esc.return", ""); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the return", func() bool { return e.lead(l.ID).State == engine.StateReturned })
	e.waitCard(first, "the first escalation to lose its buttons", func(m slackfake.Message) bool {
		text := cardText(m)
		return !strings.Contains(text, "[Reassign]") && !strings.Contains(text, "[Give more time]") &&
			strings.Contains(text, "maria@example.com returned it to Marketing") && !strings.Contains(text, "can use these buttons")
	})
	e.waitCard(boReminder, "bo's reminder to say where the lead went", func(m slackfake.Message) bool {
		text := cardText(m)
		return strings.Contains(text, "Moved on") && strings.Contains(text, "returned") && !strings.Contains(text, "[Accept]")
	})
	// A button on a quiet message would act on a lead that moved on; there is none.
	for _, m := range []slackfake.Message{first, anaReminder, boReminder} {
		got, _ := e.fake.GetMessage(m.Channel, m.TS)
		for _, button := range []string{"[Accept]", "[Log touch…]", "[Snooze]", "[Return to marketing]", "[Reassign]", "[Give more time]"} {
			if strings.Contains(cardText(got), button) {
				t.Errorf("a quiet message still offers %s:\n%s", button, cardText(got))
			}
		}
	}
}

// TestADeadlineIsEnforcedOnAReplicaWhoseClockIsBehindTheDatabases runs the
// bot on a replica whose clock reads 250 ms behind its database's. A
// deadline job due within a few seconds is fetched when the database's
// clock reaches its time; the breach must still be found and acted on,
// as of the time the job was due, not dropped because the replica's clock
// says it is not due yet.
func TestADeadlineIsEnforcedOnAReplicaWhoseClockIsBehindTheDatabases(t *testing.T) {
	t.Parallel()
	const behind = 250 * time.Millisecond
	e := newEnv(t, withPolicy(timerPolicy("[notify_manager]")), withClock(func() time.Time { return time.Now().Add(-behind) }))
	l := e.handOff(demoLead("crm-clock-behind"))
	e.card(ana, l)
	e.waitFor("the escalation to the manager", func() bool { return len(e.escalations(e.fake.DMChannel(maria), l.ID)) > 0 })
	var breach *engine.Event
	for _, ev := range e.events(l.ID) {
		if ev.Kind == engine.EventBreach {
			breach = &ev
		}
	}
	if breach == nil {
		t.Fatalf("no breach recorded; events: %+v", e.events(l.ID))
	}
	if breach.At.Before(l.FirstTouchDue.Truncate(time.Microsecond)) {
		t.Errorf("the breach was recorded at %v, before the deadline %v", breach.At, l.FirstTouchDue)
	}
}
