package teams_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/teams/teamsfake"
	"github.com/slabot/slabot/engine"
)

// Breaches, escalations and unreachable owners on Teams. Reminders and
// more time are the core's stories (bot/timers_flow_test.go) and Slack's,
// and so is accepting a lead in time (the Accept button is TestCardActions').

// TestABreachTellsTheManagerAndTheChannelWhereTheManagerReassigns is the
// timer story on Teams: the reminder, the breach in the manager's chat and
// in the escalation channel, a rep's press on the manager's buttons
// refused, and the manager's press in the channel, which redraws every
// copy in place. Automatic reassignment and the other decisions are the
// core's stories (bot/timers_flow_test.go).
func TestABreachTellsTheManagerAndTheChannelWhereTheManagerReassigns(t *testing.T) {
	t.Parallel()
	clk := &movingClock{}
	e := newTeamsEnv(t, withPolicy(timerPolicy("[notify_manager]")), withClock(clk))
	sales := e.addBotToSales()
	l := e.handOff(demoLead("crm-by-hand"))
	anaCard := e.card(ana, l)
	e.advance(clk, remindAfter)
	e.waitPost(e.personal(ana), summaryReminder, l)
	e.advance(clk, breachAfter)

	dm := e.waitPost(e.personal(maria), summaryEscalation, l)
	mustSay(t, "the manager's message", text(dm.Activity.Cards()[0]), "SLA breach: Dana Ruiz (Acme Corp)", ana, "has not touched", "was due")
	if verbs := teamsfake.CardVerbs(dm.Activity.Cards()[0]); !slices.Equal(verbs, []string{"esc.reassign", "esc.return", "esc.more_time"}) {
		t.Errorf("the manager's buttons: %v", verbs)
	}
	post := e.waitPost(sales.ChannelID("Escalations"), summaryEscalation, l)
	mustSay(t, "the channel post", text(post.Activity.Cards()[0]), ana, "only maria@example.com")
	if n := countEvents(e.events(l.ID), engine.EventBreach); n != 1 {
		t.Errorf("%d breach events, want 1", n)
	}

	t.Run("ARepPressingTheManagersButtonsIsRefused", func(t *testing.T) {
		due := e.lead(l.ID).FirstTouchDue
		res := e.clickAs(bo, post, "esc.more_time")
		if res.Type != "application/vnd.microsoft.activity.message" || !strings.Contains(res.Message, maria) {
			t.Errorf("bo was answered %s %q; want a refusal naming the manager", res.Type, res.Message)
		}
		if got := e.lead(l.ID); !got.FirstTouchDue.Equal(due) {
			t.Errorf("a rep's press on the manager's button moved the deadline from %v to %v", due, got.FirstTouchDue)
		}
		for _, ev := range e.events(l.ID) {
			if ev.Actor == bo {
				t.Errorf("bo's press was recorded: %s", ev.Kind)
			}
		}
	})

	res := e.click(maria, post, "esc.reassign", nil)
	if res.Type != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("the manager was answered %s %q", res.Type, res.Message)
	}
	mustSay(t, "the redrawn escalation", text(res.Card), "maria@example.com reassigned it to bo@example.com")
	if got := e.lead(l.ID); got.OwnerEmail != bo {
		t.Fatalf("the lead is %s's", got.OwnerEmail)
	}
	boCard := e.card(bo, l)
	if s := text(boCard.Activity.Cards()[0]); !strings.Contains(s, "First touch due in") || strings.Contains(s, "overdue") {
		t.Errorf("bo's card is not fresh:\n%s", s)
	}
	// The copy in the manager's chat says so too, without its buttons.
	if err := e.fake.WaitFor(ctxTimeout(t, waitLimit), func() bool {
		card := e.seen(maria, dm)
		return strings.Contains(text(card), "reassigned it to bo@example.com") && len(teamsfake.CardVerbs(card)) == 0
	}); err != nil {
		t.Errorf("the manager's own copy was not redrawn:\n%s", text(e.seen(maria, dm)))
	}
	// Ana's card is redrawn in place: the lead moved on.
	if err := e.fake.WaitFor(ctxTimeout(t, waitLimit), func() bool {
		s := text(e.seen(ana, anaCard))
		return strings.Contains(s, "Moved on") && strings.Contains(s, bo)
	}); err != nil {
		t.Errorf("ana's card never said the lead moved on:\n%s", text(e.seen(ana, anaCard)))
	}
}

func TestAnOwnerWithoutTheAppGetsItInstalledThenTheCard(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t, withPolicy(`
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "Sales/Escalations"
    reps: [cy@example.com, ana@example.com]
rules:
  - name: default
    first_touch: 4h
`))
	e.addBotToSales()
	h := demoLead("crm-install")
	h.OwnerEmail = "cy@example.com"
	l := e.handOff(h)
	if e.personal("cy@example.com") != "" {
		t.Fatal("cy has a chat with slabot before the hand-off")
	}
	if err := e.fake.WaitFor(ctxTimeout(t, waitLimit), func() bool { return e.personal("cy@example.com") != "" }); err != nil {
		t.Fatal("slabot never installed itself for cy")
	}
	post := e.card("cy@example.com", l)
	if p, _ := e.fake.Person("cy@example.com"); !p.Installed {
		t.Error("cy got a card without the app installed")
	}
	var installs int
	for _, c := range e.fake.Calls() {
		if c.Method == "POST" && strings.HasSuffix(c.Path, "/teamwork/installedApps") && c.Status == 201 {
			installs++
		}
	}
	if installs != 1 {
		t.Errorf("%d installs through Graph, want 1", installs)
	}
	// The card works like any other.
	e.click("cy@example.com", post, "lead.ack", nil)
	if got := e.lead(l.ID).State; got != engine.StateAcknowledged {
		t.Errorf("after cy's click the lead is %s", got)
	}
}

func TestAnOwnerUnknownToMicrosoft365IsReportedInTheEscalationChannel(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t, withPolicy(`
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "Sales/Escalations"
    reps: [dee@example.com, ana@example.com]
rules:
  - name: default
    first_touch: 4h
`))
	sales := e.addBotToSales()
	h := demoLead("crm-unknown")
	h.OwnerEmail = "dee@example.com"
	l := e.handOff(h)
	channel := sales.ChannelID("Escalations")
	var alert string
	if err := e.fake.WaitFor(ctxTimeout(t, waitLimit), func() bool {
		for _, r := range e.fake.Activities(channel) {
			if strings.Contains(r.Activity.Summary, "dee@example.com") {
				alert = strings.Join(teamsfake.CardTexts(r.Activity.Cards()[0]), "\n")
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("no alert in Sales/Escalations: %v", err)
	}
	mustSay(t, "the alert", alert, "Dana Ruiz", "dee@example.com", "cannot be reached", "Microsoft 365")
	if l.OwnerEmail != "dee@example.com" {
		t.Errorf("the lead went to %s", l.OwnerEmail)
	}
}

func TestADeactivatedRepIsFoundAndTheirLeadEscalated(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	sales := e.addBotToSales()
	l := e.handOff(demoLead("crm-gone"))
	e.card(ana, l)
	e.fake.SetDisabled(ana, true)
	ctx := ctxTimeout(t, waitLimit)
	for range 2 { // a second check, or another replica's, changes nothing
		if err := e.app.SyncDirectory(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if rep, err := e.db.RepByEmail(ctx, ana); err != nil || rep.Status != engine.RepInactive {
		t.Fatalf("ana is %v (%v), want inactive", rep, err)
	}
	dm := e.waitPost(e.personal(maria), summaryOrphan, l)
	mustSay(t, "the escalation", text(dm.Activity.Cards()[0]), ana, "disabled")
	e.waitPost(sales.ChannelID("Escalations"), summaryOrphan, l)
	if n := len(e.posts(e.personal(maria), summaryOrphan, l)); n != 1 {
		t.Errorf("%d escalations to the manager, want 1", n)
	}
	// New leads skip ana now.
	if got := e.handOff(demoLead("crm-after-gone")); got.OwnerEmail != bo {
		t.Errorf("a new lead went to %s", got.OwnerEmail)
	}
	// The manager reassigns the orphaned lead.
	e.click(maria, dm, "esc.reassign", nil)
	if got := e.lead(l.ID); got.OwnerEmail != bo {
		t.Errorf("the orphaned lead is %s's", got.OwnerEmail)
	}
	// The account is enabled again: the next check brings ana back.
	e.fake.SetDisabled(ana, false)
	if err := e.app.SyncDirectory(ctx); err != nil {
		t.Fatal(err)
	}
	if rep, _ := e.db.RepByEmail(ctx, ana); rep.Status != engine.RepActive {
		t.Errorf("after her account came back ana is %s, want active", rep.Status)
	}
}

func TestTwoReplicasOnOneDatabaseActOnce(t *testing.T) {
	t.Parallel()
	clk := &movingClock{}
	policy := withPolicy(timerPolicy("[notify_manager, return_to_marketing]"))
	one := newTeamsEnv(t, policy, withClock(clk))
	two := newTeamsEnv(t, policy, withClock(clk), asReplicaOf(one))
	balanceAcross(t, one, two)
	sales := one.addBotToSales()
	channel := sales.ChannelID("Escalations")
	var leads []*engine.Lead
	for i := range 4 {
		h := demoLead(fmt.Sprintf("crm-two-%d", i))
		h.Contact.Name = fmt.Sprintf("Contact %d", i)
		if i%2 == 1 {
			h.OwnerEmail = bo
		}
		res, err := []*engine.Service{one.service, two.service}[i%2].HandOff(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		leads = append(leads, res.Lead)
	}
	for _, l := range leads {
		one.card(l.OwnerEmail, l)
	}
	one.advance(clk, remindAfter)
	for _, l := range leads {
		one.waitPost(one.personal(l.OwnerEmail), summaryReminder, l)
	}
	one.advance(clk, breachAfter)
	for _, l := range leads {
		one.waitFor("the lead's return", func() bool { return one.lead(l.ID).State == engine.StateReturned })
		one.waitPost(one.personal(maria), summaryEscalation, l)
		one.waitPost(channel, summaryEscalation, l)
	}
	settle(time.Now().Add(500 * time.Millisecond))
	for _, l := range leads {
		events := one.events(l.ID)
		// The card and the reminder, though redrawn since (the lead was
		// returned), are the owner's two posts about it.
		// The owner's home card may list the lead too, as soon as its
		// refresh runs: it is not a post about the lead.
		var about []teamsfake.Recorded
		for _, r := range one.posts(one.personal(l.OwnerEmail), "", l) {
			if r.Activity.Summary != summaryHome {
				about = append(about, r)
			}
		}
		counts := []int{
			len(about),
			countEvents(events, engine.EventBreach), countEvents(events, "returned"),
			len(one.posts(one.personal(maria), summaryEscalation, l)), len(one.posts(channel, summaryEscalation, l)),
		}
		if !slices.Equal(counts, []int{2, 1, 1, 1, 1}) {
			var summaries []string
			for _, r := range about {
				summaries = append(summaries, r.Activity.Summary)
			}
			t.Errorf("lead %d: owner's posts, breaches, returns, manager messages, channel posts = %v, want 2 and one each (owner's posts: %q)", l.ID, counts, summaries)
		}
	}

	// Installing sends two activities, which reach both replicas: one
	// home card.
	if _, err := one.fake.Install(ctxTimeout(t, waitLimit), ana); err != nil {
		t.Fatal(err)
	}
	homes := func() int { return len(one.posts(one.personal(ana), "Your SLA dashboard", nil)) }
	if err := one.fake.WaitFor(ctxTimeout(t, waitLimit), func() bool { return homes() > 0 }); err != nil {
		t.Fatal("no home card after the install")
	}
	settle(time.Now().Add(time.Second))
	if n := homes(); n != 1 {
		t.Errorf("%d home cards from two replicas, want 1", n)
	}
}

func TestARepWhoUninstalledTheAppGetsItBackWithTheNextCard(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	e.card(ana, e.handOff(demoLead("crm-before-uninstall")))
	if _, err := e.fake.Uninstall(ctxTimeout(t, waitLimit), ana); err != nil {
		t.Fatal(err)
	}
	next := demoLead("crm-after-uninstall")
	next.Contact.Name = "Una Installed"
	l := e.handOff(next)
	e.card(ana, l)
	if p, _ := e.fake.Person(ana); !p.Installed {
		t.Error("ana got a card without the app")
	}
}

func TestAnOwnerWhoseAppIsBlockedIsReportedInTheEscalationChannel(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t, withPolicy(`
timezone: UTC
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "Sales/Escalations"
    reps: [fay@example.com, ana@example.com]
rules:
  - name: default
    first_touch: 4h
`))
	e.fake.AddPerson(teamsfake.Person{Email: "fay@example.com", Name: "Fay Blocked", InstallBlocked: true})
	sales := e.addBotToSales()
	h := demoLead("crm-blocked")
	h.OwnerEmail = "fay@example.com"
	e.handOff(h)
	channel := sales.ChannelID("Escalations")
	if err := e.fake.WaitFor(ctxTimeout(t, waitLimit), func() bool {
		for _, r := range e.fake.Activities(channel) {
			if strings.Contains(r.Activity.Summary, "fay@example.com") && strings.Contains(r.Activity.Summary, "cannot be reached") {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("no alert in Sales/Escalations: %v", err)
	}
}
