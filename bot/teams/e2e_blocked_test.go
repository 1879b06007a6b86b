package teams_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/teams/teamsfake"
	"github.com/slabot/slabot/engine"
)

// writesTo counts the connector's writes (posts and updates, refused or
// not) to a conversation among calls.
func writesTo(calls []teamsfake.Call, conversationID string) (all, refused int) {
	for _, c := range calls {
		if c.ConversationID != conversationID || (c.Method != http.MethodPost && c.Method != http.MethodPut) {
			continue
		}
		all++
		if c.Status == http.StatusForbidden {
			refused++
		}
	}
	return all, refused
}

// graphInstalls counts the Graph installs slabot asked for among calls.
func graphInstalls(calls []teamsfake.Call) int {
	n := 0
	for _, c := range calls {
		if c.Method == http.MethodPost && strings.HasSuffix(c.Path, "/teamwork/installedApps") {
			n++
		}
	}
	return n
}

// alertAbout waits for the alert in a channel that the lead's owner
// cannot be reached, and returns its text.
func alertAbout(t *testing.T, fake *teamsfake.Server, channel string, l *engine.Lead, within time.Duration) string {
	t.Helper()
	var alert string
	if err := fake.WaitFor(ctxTimeout(t, within), func() bool {
		for _, r := range fake.Activities(channel) {
			if isUnreachableAlert(r, l) {
				alert = text(r.Activity.Cards()[0])
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("no alert about %s in the escalation channel within %v: %v", l.DisplayName(), within, err)
	}
	return alert
}

func isUnreachableAlert(r teamsfake.Recorded, l *engine.Lead) bool {
	return strings.Contains(r.Activity.Summary, l.DisplayName()) && strings.Contains(r.Activity.Summary, "cannot be reached") &&
		len(r.Activity.Cards()) > 0
}

// TestARepWhoBlockedSlabotIsReportedAndLeftAlone: ana blocked slabot
// (Teams refuses writes with MessageWritesBlocked while Graph says the app
// is installed). Her lead is reported in the team's escalation channel,
// her chat gets one refused write for it and none for the reminder,
// breach and home card that follow, across a restart; once she writes to
// slabot again, her next lead reaches her.
func TestARepWhoBlockedSlabotIsReportedAndLeftAlone(t *testing.T) {
	t.Parallel()
	clk := &movingClock{}
	policy := withPolicy(timerPolicy("[notify_manager]"))
	e := newTeamsEnv(t, policy, withClock(clk))
	sales := e.addBotToSales()
	escalations := sales.ChannelID("Escalations")
	e.typed(ana, "help") // slabot knows her chat
	conv := e.personal(ana)
	// The fake logs a call once it has answered it.
	if err := e.fake.WaitFor(ctxTimeout(t, waitLimit), func() bool { return len(postsTo(e.fake.Calls(), conv)) == 1 }); err != nil {
		t.Fatal(err)
	}
	e.fake.SetBlocked(ana, true)

	before := e.fake.Calls()
	l := e.handOff(demoLead("crm-blocked"))
	// Within the 30 s a first touch cannot wait for.
	alert := alertAbout(t, e.fake, escalations, l, 30*time.Second)
	mustSay(t, "the alert", alert, "Dana Ruiz", ana, "blocked slabot")
	// The reminder and the breach come and go.
	e.advance(clk, remindAfter)
	e.advance(clk, breachAfter)
	e.waitFor("the breach", func() bool { return countEvents(e.events(l.ID), engine.EventBreach) > 0 })
	settle(time.Now().Add(2 * time.Second))

	calls := e.fake.Calls()[len(before):]
	all, refused := writesTo(calls, conv)
	if all == 0 || all != refused || all > 2 {
		// The hand-off card is refused; a home card refreshed before the
		// mark may be too. Nothing after it.
		t.Errorf("%d writes to ana's chat (%d refused), want 1 or 2, all refused", all, refused)
	}
	if n := graphInstalls(calls); n != 1 {
		t.Errorf("%d Graph installs, want the one that found slabot installed", n)
	}
	person, _ := e.fake.Person(ana)
	if reason, err := e.db.UnreachableReason(context.Background(), engine.PlatformTeams, person.AADObjectID); err != nil || reason == "" {
		t.Fatalf("ana is not remembered as unreachable: %q, %v", reason, err)
	}
	alerts := 0
	for _, r := range e.fake.Activities(escalations) {
		if isUnreachableAlert(r, l) {
			alerts++
		}
	}
	if alerts != 1 {
		t.Errorf("%d alerts about the lead in the escalation channel, want 1", alerts)
	}

	// A restart remembers: another lead is reported without a write to her.
	e.stop()
	again := newTeamsEnv(t, policy, withClock(clk), func(c *envConfig) { c.db, c.fake = e.db, e.fake })
	before = e.fake.Calls()
	second := demoLead("crm-blocked-2")
	second.Contact.Name = "Sam Second"
	l2 := again.handOff(second)
	mustSay(t, "the second alert", alertAbout(t, e.fake, escalations, l2, 30*time.Second), "Sam Second", "blocked slabot")
	settle(time.Now().Add(time.Second))
	calls = e.fake.Calls()[len(before):]
	if all, _ := writesTo(calls, conv); all != 0 {
		t.Errorf("%d writes to ana's chat after the restart, want none", all)
	}
	if n := graphInstalls(calls); n != 0 {
		t.Errorf("%d Graph installs after the restart, want none", n)
	}

	// She unblocks slabot and writes to it: she is answered, and her next
	// lead reaches her.
	e.fake.SetBlocked(ana, false)
	mustSay(t, "the answer once she writes again", text(again.typed(ana, "help")), "status")
	third := demoLead("crm-unblocked")
	third.Contact.Name = "Tia Third"
	again.card(ana, again.handOff(third))
}

// TestAChannelSlabotIsNoLongerInIsReportedNotRetried: slabot was removed
// from the Sales team without hearing of it. Its post to Sales/Escalations
// is refused with BotNotInConversationRoster once; the channels are
// forgotten, the manager is told, and the post is not retried.
func TestAChannelSlabotIsNoLongerInIsReportedNotRetried(t *testing.T) {
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
	escalations := sales.ChannelID("Escalations")
	e.fake.LoseBotFromTeam(sales.ID)
	before := len(e.fake.Calls())

	// Dee is in no directory: the alert about her lead goes to the
	// escalation channel, which refuses it.
	h := demoLead("crm-roster")
	h.OwnerEmail = "dee@example.com"
	e.handOff(h)
	var told string
	if err := e.fake.WaitFor(ctxTimeout(t, waitLimit), func() bool {
		for _, r := range e.fake.Activities(e.personal(maria)) {
			if strings.Contains(r.Activity.Summary, "Sales/Escalations") {
				told = r.Activity.Summary
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("the manager was not told that the escalation channel is gone: %v", err)
	}
	mustSay(t, "what the manager is told", told, "is gone", "no longer in the team")
	settle(time.Now().Add(3 * time.Second)) // a retry would come within seconds
	all, refused := writesTo(e.fake.Calls()[before:], escalations)
	if all != 1 || refused != 1 {
		t.Errorf("%d writes to the channel (%d refused), want the one refused post", all, refused)
	}
	if _, err := e.db.ChatChannelByName(context.Background(), engine.PlatformTeams, "Sales", "Escalations"); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("the channel slabot is no longer in is still known: %v", err)
	}
}

// TestARepWhoBlocksSlabotAfterTheirCardIsReportedWithTheirOpenLeads: ana
// got her card, then blocked slabot. The reminder that follows is
// refused; the team's escalation channel is told which open leads of hers
// slabot can no longer remind her of, and her chat gets nothing more.
func TestARepWhoBlocksSlabotAfterTheirCardIsReportedWithTheirOpenLeads(t *testing.T) {
	t.Parallel()
	clk := &movingClock{}
	e := newTeamsEnv(t, withPolicy(timerPolicy("[notify_manager]")), withClock(clk))
	sales := e.addBotToSales()
	escalations := sales.ChannelID("Escalations")
	l := e.handOff(demoLead("crm-blocks-later"))
	post := e.card(ana, l)
	conv := post.ConversationID
	if err := e.fake.WaitFor(ctxTimeout(t, waitLimit), func() bool { return len(postsTo(e.fake.Calls(), conv)) > 0 }); err != nil {
		t.Fatal(err)
	}
	e.fake.SetBlocked(ana, true)
	before := len(e.fake.Calls())
	e.advance(clk, remindAfter)

	var alert string
	if err := e.fake.WaitFor(ctxTimeout(t, waitLimit), func() bool {
		for _, r := range e.fake.Activities(escalations) {
			if strings.Contains(r.Activity.Summary, ana) && strings.Contains(r.Activity.Summary, "open lead") {
				alert = r.Activity.Summary
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("the escalation channel was not told that ana blocked slabot: %v", err)
	}
	mustSay(t, "the alert", alert, "blocked slabot", "1 open lead", "Dana Ruiz")
	e.advance(clk, breachAfter)
	e.waitFor("the breach", func() bool { return countEvents(e.events(l.ID), engine.EventBreach) > 0 })
	settle(time.Now().Add(2 * time.Second))
	all, refused := writesTo(e.fake.Calls()[before:], conv)
	if all == 0 || all != refused || all > 3 {
		t.Errorf("%d writes to ana's chat after she blocked slabot (%d refused), want a handful at most, all refused", all, refused)
	}
	if n := graphInstalls(e.fake.Calls()[before:]); n > 1 {
		t.Errorf("%d Graph installs, want at most the one that found slabot installed", n)
	}
}
