package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot"
	"github.com/slabot/slabot/bot/bottest"
	"github.com/slabot/slabot/engine"
)

func TestRemindersArriveBeforeTheDeadlineAndNoneAfterAnAcknowledgement(t *testing.T) {
	c := newCore(t, corePolicy)
	l := c.handOff(demoLead("crm-1"))

	c.at(4 * time.Minute)
	diff(t, "reminders before their time", 0, len(c.posts("@"+ana, "reminder")))
	c.at(5 * time.Minute) // 10 minutes before the deadline
	reminders := c.posts("@"+ana, "reminder")
	if len(reminders) != 1 {
		t.Fatalf("%d reminders at their time; want 1", len(reminders))
	}
	diff(t, "the reminder", lines(`:reminder: **First touch due in 10 min** (4:15 AM) for **Dana Ruiz (Acme Corp)**.
Dana Ruiz, VP Ops · +1 555 0100 · crm-1@acme.test
Reach out now, then log the touch here or on the lead's card.
`+cardButtons), lines(bottest.Render(reminders[0].Last())))

	c.press("ana@example.com", reminders[0].Last(), "Accept")
	c.at(13 * time.Minute) // the second reminder's time
	diff(t, "reminders after the acknowledgement", 1, len(c.posts("@"+ana, "reminder")))
	c.at(16 * time.Minute) // past the deadline, untouched
	if n := breaches(c.events(l.ID), engine.BreachFirstTouch); n != 1 {
		t.Errorf("%d first-touch breaches; an accepted lead not touched in time has one", n)
	}
}

func TestABreachTellsTheManagerAndTheChannelThenReassigns(t *testing.T) {
	c := newCore(t, corePolicy)
	l := c.handOff(demoLead("crm-1"))
	c.at(5 * time.Minute)
	c.at(13 * time.Minute)
	c.at(16 * time.Minute)

	escalation := func(to string) string {
		return `# SLA breach: Dana Ruiz (Acme Corp)
:alarm: **ana@example.com** has not touched **Dana Ruiz (Acme Corp)** yet: the first touch was due 1 min ago, at ` + to + `.
slabot reassigned to bo@example.com, next in sdr-east's round robin.
It now belongs to bo@example.com.
> SLA: demo-request · demo request · score 87 · value $25,000 · only maria@example.com (the manager) can use these buttons
[Reassign](esc.reassign=1898846160000000) [Return to marketing](esc.return=1898846160000000) [Give more time](esc.more_time=1898846160000000) [Open in CRM](https://crm.example/leads/crm-1)
`
	}
	diff(t, "the manager's escalation", []string{escalation("4:15 AM")}, texts(c.posts("@"+maria, "escalation")))
	diff(t, "the channel's escalation", []string{escalation("9:15 AM")}, texts(c.posts("#sales-ops", "escalation")))

	got := c.lead(l.ID)
	if got.OwnerEmail != "bo@example.com" || got.Reassignments != 1 || !got.AssignedAt.After(l.AssignedAt) {
		t.Fatalf("after the breach the lead is %s's (%d reassignments, assigned %v)", got.OwnerEmail, got.Reassignments, got.AssignedAt)
	}
	if n := breaches(c.events(l.ID), engine.BreachFirstTouch); n != 1 {
		t.Errorf("%d first-touch breaches recorded for one missed deadline; want 1", n)
	}
	diff(t, "bo's fresh card", lines(`# New lead: Dana Ruiz (Acme Corp)
**First touch due in 15 min** — 10:31 AM
Cadence: 0/8 touches, 15 days left: 8 more needed
`+cardBody+cardButtons), lines(bottest.Render(c.card(bo, l).Last())))
	movedOn := `# Moved on: Dana Ruiz (Acme Corp)
**This lead now belongs to bo@example.com.** Nothing more to do here.
` + cardBody + `[Open in CRM](https://crm.example/leads/crm-1)
`
	diff(t, "ana's card", lines(movedOn), lines(bottest.Render(c.card(ana, l).Last())))
	quiet := ":next: **Moved on: Dana Ruiz (Acme Corp).** It now belongs to bo@example.com. Nothing more to do here.\n"
	diff(t, "ana's reminders", []string{quiet, quiet}, texts(c.posts("@"+ana, "reminder")))

	// Bo breaches too: the manager hears again, but the lead is reassigned
	// automatically only once.
	c.at(32 * time.Minute)
	if n := len(c.posts("@"+maria, "escalation")); n != 2 {
		t.Errorf("%d escalations to the manager after two breaches; want 2", n)
	}
	if got := c.lead(l.ID); got.OwnerEmail != "bo@example.com" || got.Reassignments != 1 {
		t.Errorf("after the second breach the lead is %s's (%d reassignments)", got.OwnerEmail, got.Reassignments)
	}
	if n := breaches(c.events(l.ID), engine.BreachFirstTouch); n != 2 {
		t.Errorf("%d first-touch breaches recorded after two missed deadlines; want 2", n)
	}
}

func TestTheManagerDecidesOnTheSecondBreachAndTheFirstEscalationGoesQuiet(t *testing.T) {
	c := newCore(t, corePolicy)
	l := c.handOff(demoLead("crm-1"))
	c.at(16 * time.Minute) // ana breaches: bo has it
	c.at(32 * time.Minute) // bo breaches: the lead stays
	escalations := c.posts("@"+maria, "escalation")
	if len(escalations) != 2 {
		t.Fatalf("%d escalations to the manager after two breaches; want 2", len(escalations))
	}
	first, second := escalations[0], escalations[1]
	diff(t, "the second escalation", lines(`# SLA breach: Dana Ruiz (Acme Corp)
:alarm: **bo@example.com** has not touched **Dana Ruiz (Acme Corp)** yet: the first touch was due 1 min ago, at 4:31 AM.
slabot did not reassign it: it was reassigned automatically once already, so it stays with bo@example.com until the manager decides.
> SLA: demo-request · demo request · score 87 · value $25,000 · only maria@example.com (the manager) can use these buttons
[Reassign](esc.reassign=1898846160000000) [Return to marketing](esc.return=1898846160000000) [Give more time](esc.more_time=1898846160000000) [Open in CRM](https://crm.example/leads/crm-1)
`), lines(bottest.Render(second.Last())))
	if got := c.lead(l.ID); got.OwnerEmail != "bo@example.com" || got.Reassignments != 1 {
		t.Errorf("after the second breach the lead is %s's (%d reassignments)", got.OwnerEmail, got.Reassignments)
	}

	_, refusal := c.press("bo@example.com", second.Last(), "Give more time")
	diff(t, "the rep's press", ":refused: Only maria@example.com (sdr-east's manager) can decide what happens to Dana Ruiz (Acme Corp) after a breach.", refusal)
	if got := c.lead(l.ID); got.FirstTouchDue.After(c.Clock.Now()) {
		t.Error("a rep gave themselves more time")
	}

	if _, refusal := c.press("maria@example.com", second.Last(), "Reassign"); refusal != "" {
		t.Fatalf("the manager was refused: %s", refusal)
	}
	if got := c.lead(l.ID); got.OwnerEmail != "ana@example.com" || got.Reassignments != 1 {
		t.Errorf("after the manager's reassignment: %s, %d automatic", got.OwnerEmail, got.Reassignments)
	}
	if n := len(c.posts("@"+ana, "card")); n != 2 {
		t.Errorf("ana has %d cards of the lead; want her first and a fresh one", n)
	}
	redrawn, ok, err := c.bot.EscalationView(context.Background(), c.lead(l.ID), lastBreach(c, l.ID))
	if err != nil || !ok {
		t.Fatalf("the escalation's redraw: %v %v", ok, err)
	}
	// Redrawn where the manager pressed, in no one's zone.
	diff(t, "the decided escalation", lines(`# SLA breach: Dana Ruiz (Acme Corp)
:alarm: **bo@example.com** has not touched **Dana Ruiz (Acme Corp)** yet: the first touch was due 1 min ago, at 9:31 AM.
:done: maria@example.com reassigned it to ana@example.com, who has a fresh card and a fresh first-touch clock.
> SLA: demo-request · demo request · score 87 · value $25,000
[Open in CRM](https://crm.example/leads/crm-1)
`), lines(bottest.Render(redrawn)))
	// The first escalation lost its buttons when the lead moved on; a
	// press from a client still showing them changes nothing.
	first = c.posts("@"+maria, "escalation")[0]
	if got := bottest.Render(first.Last()); strings.Contains(got, "esc.") {
		t.Errorf("the first escalation still has its buttons:\n%s", got)
	}
	_, refusal = c.press("maria@example.com", first.Versions[0], "Reassign")
	diff(t, "a press on the old escalation", ":warning: Dana Ruiz (Acme Corp) has moved on since this message: it now belongs to ana@example.com.", refusal)
	if got := c.lead(l.ID); got.OwnerEmail != "ana@example.com" {
		t.Errorf("a press on an old escalation moved the lead to %s", got.OwnerEmail)
	}
}

func TestGiveMoreTimeMovesTheDeadline(t *testing.T) {
	c := newCore(t, notifyPolicy)
	l := c.handOff(demoLead("crm-1"))
	c.at(16 * time.Minute)
	esc := c.posts("@"+maria, "escalation")
	if len(esc) != 1 {
		t.Fatalf("%d escalations; want 1", len(esc))
	}
	c.press("maria@example.com", esc[0].Last(), "Give more time")
	got := c.lead(l.ID)
	if !got.FirstTouchDue.After(c.Clock.Now()) {
		t.Fatalf("more time left the deadline at %v (now %v)", got.FirstTouchDue, c.Clock.Now())
	}
	if kinds := c.eventKinds(l.ID); !strings.Contains(strings.Join(kinds, " "), engine.EventDeadlineMoved) {
		t.Errorf("no deadline moved among %v", kinds)
	}
	redrawn, _, err := c.bot.EscalationView(context.Background(), got, lastBreach(c, l.ID))
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "the decision", ":done: maria@example.com gave more time: the first touch is now due 9:31 AM.", lines(bottest.Render(redrawn))[2])
	if strings.Contains(bottest.Render(redrawn), "esc.") {
		t.Errorf("the decided escalation still has its buttons:\n%s", bottest.Render(redrawn))
	}
	// The new window has its own reminders, then its own breach.
	before := len(c.posts("@"+ana, "reminder"))
	c.Clock.Set(got.FirstTouchDue.Add(-2 * time.Minute))
	c.runDue()
	if n := len(c.posts("@"+ana, "reminder")); n <= before {
		t.Errorf("no reminder for the new deadline (%d before, %d after)", before, n)
	}
	c.Clock.Set(got.FirstTouchDue.Add(time.Minute))
	c.runDue()
	diff(t, "escalations after the new deadline", 2, len(c.posts("@"+maria, "escalation")))
}

func TestTheManagerReturnsALeadFromTheChannel(t *testing.T) {
	c := newCore(t, notifyPolicy)
	l := c.handOff(demoLead("crm-1"))
	c.at(16 * time.Minute)
	esc := c.posts("#sales-ops", "escalation")
	if len(esc) != 1 {
		t.Fatalf("%d escalations in the channel; want 1", len(esc))
	}
	c.press("maria@example.com", esc[0].Last(), "Return to marketing")
	if got := c.lead(l.ID); got.State != engine.StateReturned {
		t.Errorf("the manager's return left the lead %s", got.State)
	}
	redrawn, _, err := c.bot.EscalationView(context.Background(), c.lead(l.ID), lastBreach(c, l.ID))
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "the decision", ":done: maria@example.com returned it to Marketing (SLA breached).", lines(bottest.Render(redrawn))[2])
}

// notifyPolicy tells the manager of a breach and leaves the lead where it is.
const notifyPolicy = `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "#sales-ops"
    reps: [ana@example.com, bo@example.com]
rules:
  - name: demo-request
    first_touch: 15m
    remind_before: [10m, 2m]
    on_breach: [notify_manager]
`

func TestABreachCanSendTheLeadBackToMarketing(t *testing.T) {
	c := newCore(t, corePolicy)
	h := demoLead("crm-1")
	h.Source = "webinar" // the default rule: 4 h, then back to Marketing
	l := c.handOff(h)
	c.at(4*time.Hour + time.Minute)
	got := c.lead(l.ID)
	if got.State != engine.StateReturned {
		t.Fatalf("after the breach the lead is %s", got.State)
	}
	diff(t, "the return reason", "SLA breached", got.ReturnReason)
}

func TestALeadNotAcceptedInTimeIsRemindedThenBreached(t *testing.T) {
	c := newCore(t, acceptPolicy)
	l := c.handOff(demoLead("crm-1"))
	diff(t, "the card asks to accept", "**Accept by 4:05 AM** — in 5 min",
		lines(bottest.Render(c.card(ana, l).Last()))[1])
	c.at(2 * time.Minute)
	diff(t, "the reminder to accept", []string{":reminder: **Accept Dana Ruiz (Acme Corp) by 4:05 AM** (in 3 min)."},
		firstLines(c.posts("@"+ana, "reminder")))
	c.at(6 * time.Minute)
	if n := breaches(c.events(l.ID), engine.BreachAccept); n != 1 {
		t.Errorf("%d accept breaches; want 1", n)
	}
	if n := breaches(c.events(l.ID), engine.BreachFirstTouch); n != 0 {
		t.Errorf("%d first-touch breaches before the first touch was due", n)
	}
	diff(t, "the manager's escalation", []string{`# SLA breach: Dana Ruiz (Acme Corp)
:alarm: **ana@example.com** has not accepted **Dana Ruiz (Acme Corp)**: accepting was due 1 min ago, at 4:05 AM.
> SLA: fast · demo request · score 87 · value $25,000 · only maria@example.com (the manager) can use these buttons
[Reassign](esc.reassign=1898845200000000) [Return to marketing](esc.return=1898845200000000) [Give more time](esc.more_time=1898845200000000) [Open in CRM](https://crm.example/leads/crm-1)
`}, texts(c.posts("@"+maria, "escalation")))
	diff(t, "the card once accepting is overdue", ":alarm: **Accepting is overdue** — it was due 1 min ago (4:05 AM)", lines(bottest.Render(c.card(ana, l).Last()))[1])
	c.press("ana@example.com", c.card(ana, l).Last(), "Accept")
	diff(t, "the card accepted late", "> Accepted by ana@example.com at 4:06 AM", lines(bottest.Render(c.card(ana, l).Last()))[9])
	if got := c.lead(l.ID); got.OwnerEmail != "ana@example.com" || got.State != engine.StateAcknowledged {
		t.Errorf("after the late accept the lead is %s's, %s", got.OwnerEmail, got.State)
	}
}

func TestALeadAcceptedInTimeHasNoAcceptBreach(t *testing.T) {
	c := newCore(t, acceptPolicy)
	l := c.handOff(demoLead("crm-1"))
	c.at(time.Minute)
	c.press("ana@example.com", c.card(ana, l).Last(), "Accept")
	if card := bottest.Render(c.card(ana, l).Last()); strings.Contains(card, "Accept by") || strings.Contains(card, "[Accept]") ||
		!strings.Contains(card, "Accepted by ana@example.com") {
		t.Errorf("the accepted card:\n%s", card)
	}
	c.at(6 * time.Minute)
	if n := breaches(c.events(l.ID), engine.BreachAccept); n != 0 {
		t.Errorf("%d accept breaches on a lead accepted in time", n)
	}
	diff(t, "the manager hears nothing", 0, len(c.posts("@"+maria, "")))
}

// acceptPolicy gives the rep 5 minutes to accept a lead, with a reminder
// 3 minutes before that.
const acceptPolicy = `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "#sales-ops"
    reps: [ana@example.com, bo@example.com]
rules:
  - name: fast
    first_touch: 10m
    accept_within: 5m
    remind_before: [3m]
    on_breach: [notify_manager]
`

func TestAnOwnerTheChatCannotReachIsReportedInTheEscalationChannel(t *testing.T) {
	c := newCore(t, corePolicy)
	c.Chat.Unreachable("ana@example.com", "no active account: it is deactivated")
	l := c.handOff(demoLead("crm-1"))
	diff(t, "the alert", []string{":warning: Lead **Dana Ruiz (Acme Corp)** was routed to ana@example.com, who cannot be reached in chat (no active account: it is deactivated). Reassign it in your CRM or fix the team in the policy file.\n"},
		texts(c.posts("#sales-ops", "")))
	diff(t, "posts to ana", 0, len(c.posts("@"+ana, "")))
	if got := c.lead(l.ID); got.State == engine.StateNotified {
		t.Errorf("a lead whose card reached nobody is %s", got.State)
	}
}

func TestASlowDownIsRetriedAndTheCardPostedOnce(t *testing.T) {
	c := newCore(t, corePolicy)
	c.Chat.SlowDown(2 * time.Second)
	res, err := c.Service.HandOff(context.Background(), demoLead("crm-1"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Jobs.RunDue(context.Background())
	var retry *engine.RetryError
	if !errors.As(err, &retry) || retry.After != 2*time.Second {
		t.Fatalf("the card's job answered %v; want the platform's RetryAfter of 2s", err)
	}
	c.runDue()
	c.card(ana, res.Lead) // exactly one
}

func TestAGoneCardIsNothingToRedraw(t *testing.T) {
	c := newCore(t, corePolicy)
	l := c.handOff(demoLead("crm-1"))
	card := c.card(ana, l)
	c.Chat.Gone(card.Ref)
	c.press("ana@example.com", card.Last(), "Accept") // runs the redraw, which must not fail
	if got := c.lead(l.ID); got.State != engine.StateAcknowledged {
		t.Errorf("the lead is %s", got.State)
	}
}

// lastBreach is the id of the lead's latest breach event.
func lastBreach(c *core, leadID int64) int64 {
	var id int64
	for _, e := range c.events(leadID) {
		if _, ok := engine.BreachFromEvent(e); ok {
			id = e.ID
		}
	}
	return id
}

func breaches(events []engine.Event, kind engine.BreachKind) int {
	n := 0
	for _, e := range events {
		if b, ok := engine.BreachFromEvent(e); ok && b.Kind == kind {
			n++
		}
	}
	return n
}

// firstLines is the first line of each post as it reads now.
func firstLines(posts []bottest.Post) []string {
	out := make([]string, len(posts))
	for i, p := range posts {
		out[i] = lines(bottest.Render(p.Last()))[0]
	}
	return out
}

func TestAnAwayRepReceivesNoNewLeads(t *testing.T) {
	c := newCore(t, corePolicy)
	c.answer(maria, "away "+bot.PersonToken(bo, "bo")+" until 2030-03-06")
	for i := range 3 {
		h := demoLead(fmt.Sprintf("crm-away-%d", i))
		h.OwnerEmail = ""
		if i == 2 {
			h.OwnerEmail = "bo@example.com" // named, but away
		}
		if l := c.handOff(h); l.OwnerEmail != "ana@example.com" {
			t.Errorf("lead %d went to %s while bo is away", i, l.OwnerEmail)
		}
	}
	diff(t, "posts to bo", 0, len(c.posts("@"+bo, "")))
	if alerts := texts(c.posts("#sales-ops", "")); len(alerts) == 0 || !strings.Contains(alerts[0], "bo@example.com is away") {
		t.Errorf("the team's alerts: %q", alerts)
	}
}

func TestADeactivatedRepLeavesTheRotationAndTheirLeadIsEscalated(t *testing.T) {
	c := newCore(t, corePolicy)
	ctx := context.Background()
	l := c.handOff(demoLead("crm-1"))
	disabled := map[string]bool{"ana@example.com": true}
	dir := bot.Directory{Name: "the test's directory", LeftBecause: "their account was deactivated",
		Account: func(_ context.Context, r engine.Rep) (bot.Account, error) {
			if disabled[r.Email] {
				return bot.AccountDisabled, nil
			}
			return bot.AccountActive, nil
		}}
	for range 2 { // a second check, or another replica's, changes nothing
		if err := c.bot.SyncDirectory(ctx, dir); err != nil {
			t.Fatal(err)
		}
		c.runDue()
	}
	if rep, err := c.DB.RepByEmail(ctx, "ana@example.com"); err != nil || rep.Status != engine.RepInactive {
		t.Fatalf("ana is %v (%v), want inactive", rep, err)
	}
	esc := c.posts("@"+maria, "escalation")
	if len(esc) != 1 {
		t.Fatalf("%d escalations to the manager; want 1", len(esc))
	}
	orphan := `# Lead without an owner: Dana Ruiz (Acme Corp)
:team: **ana@example.com** can no longer work **Dana Ruiz (Acme Corp)**: their account was deactivated. Choose who takes it.
> SLA: demo-request · demo request · score 87 · value $25,000 · only maria@example.com (the manager) can use these buttons
[Reassign](esc.reassign=1898845200000000) [Return to marketing](esc.return=1898845200000000) [Give more time](esc.more_time=1898845200000000) [Open in CRM](https://crm.example/leads/crm-1)
`
	diff(t, "the escalation", orphan, bottest.Render(esc[0].Last()))
	diff(t, "the channel", []string{
		":warning: ana@example.com no longer receives leads: their account was deactivated. Their open lead follows, for the manager to give to someone else.\n",
		orphan}, texts(c.posts("#sales-ops", "")))
	if got := c.handOff(demoLead("crm-after")); got.OwnerEmail != "bo@example.com" {
		t.Errorf("a new lead went to %s", got.OwnerEmail)
	}
	c.at(time.Minute)
	c.press("maria@example.com", esc[0].Last(), "Reassign")
	if got := c.lead(l.ID); got.OwnerEmail != "bo@example.com" {
		t.Errorf("the manager's reassignment left the lead with %s", got.OwnerEmail)
	}
	c.card(bo, l)

	disabled["ana@example.com"] = false
	if err := c.bot.SyncDirectory(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if rep, _ := c.DB.RepByEmail(ctx, "ana@example.com"); rep.Status != engine.RepActive {
		t.Errorf("after her account came back ana is %s, want active", rep.Status)
	}
}

func TestACadenceNotKeptUpIsEscalated(t *testing.T) {
	c := newCore(t, `
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [ana@example.com, bo@example.com]
rules:
  - name: default
    first_touch: 4h
    touches: {count: 3, within: 1d}
    on_breach: [notify_manager]
`)
	l := c.handOff(demoLead("crm-1"))
	c.at(time.Hour)
	c.pick("ana@example.com", c.card(ana, l).Last(), "Log touch…", "Call")
	c.at(25 * time.Hour)
	if n := breaches(c.events(l.ID), engine.BreachCadence); n != 1 {
		t.Errorf("%d cadence breaches; want 1", n)
	}
	diff(t, "the escalation", []string{`# SLA breach: Dana Ruiz (Acme Corp)
:alarm: **ana@example.com** did not keep up the touch cadence on **Dana Ruiz (Acme Corp)**: the window closed 1 h ago, at 4:00 AM (1/3 touches: the window closed 2 short).
> SLA: default · demo request · score 87 · value $25,000 · only maria@example.com (the manager) can use these buttons
[Reassign](esc.reassign=1898845200000000) [Return to marketing](esc.return=1898845200000000) [Open in CRM](https://crm.example/leads/crm-1)
`}, texts(c.posts("@"+maria, "escalation")))
}
