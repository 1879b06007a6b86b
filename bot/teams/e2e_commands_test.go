package teams_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/teams/teamsfake"
	"github.com/slabot/slabot/engine"
)

// Commands typed to slabot in Teams, the home card, and the endpoint's
// token check.

func TestCommandsTypedToSlabot(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	// One lead touched on time, one left waiting: the team's first touch
	// is on time for 1 of 1 decided leads.
	onTime := e.handOff(demoLead("crm-on-time"))
	e.click(ana, e.card(ana, onTime), "lead.touch", map[string]any{"touch_kind": "call"})
	waiting := demoLead("crm-waiting")
	waiting.OwnerEmail, waiting.Contact.Name = bo, "Wes Waiting"
	e.card(bo, e.handOff(waiting))
	if _, err := e.db.RefreshLeadFacts(context.Background(), e.service.Policy(), 0); err != nil {
		t.Fatal(err)
	}

	t.Run("AManagersTeamStatus", func(t *testing.T) {
		for _, typed := range []string{"<at>slabot</at> status team week", "sla status team week", "/sla status team week"} {
			answer := text(e.typed(maria, typed))
			mustSay(t, "the team's status for "+typed, answer, "SLA status: team sdr-east", "First touch on time: 100%", "(1 of 1)")
		}
	})

	t.Run("ARepAskingForAnotherRepIsRefused", func(t *testing.T) {
		answer := text(e.typed(ana, "status bo@example.com"))
		mustSay(t, "ana asking for bo", answer, "for them and their manager (maria@example.com) only", "status team sdr-east")
		if strings.Contains(answer, "SLA status: bo@example.com") {
			t.Errorf("ana was shown bo's figures:\n%s", answer)
		}
	})

	t.Run("Plan", func(t *testing.T) {
		mustSay(t, "the plan", text(e.typed(ana, "plan revenue=5000 deal=100 win=0.5")), "= 50 deals a month", "= 100 SQLs a month")
	})

	// Ana's leads list has a form under each lead. Teams (the fake) takes
	// the list only because each row's inputs have ids of their own; a
	// touch logged in the second row lands on the second lead only.
	t.Run("AClickInAListOfLeadsActsOnItsOwnRowAndAnswersWithTheList", func(t *testing.T) {
		second := demoLead("crm-second")
		second.Contact.Name = "Sam Second"
		l := e.handOff(second)
		e.card(ana, l)
		listPost := e.typedAnswer(ana, "leads") // the fake refuses a card whose input ids repeat
		list := listPost.Activity.Cards()[0]
		mustSay(t, "ana's leads", text(list), "Your open leads (2)", "Sam Second")
		touches := func(id int64) []engine.Touch {
			ts, err := e.db.Touches(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			return ts
		}
		before := len(touches(onTime.ID))
		row := fmt.Sprintf("lead:%d", l.ID)
		res, err := e.fake.ClickRow(ctxTimeout(t, waitLimit), ana, listPost.ConversationID, listPost.Activity.ID, "lead.touch", row,
			map[string]any{"touch_kind@" + row: "call"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Type != "application/vnd.microsoft.card.adaptive" {
			t.Fatalf("the touch in the list was answered %s %q", res.Type, res.Message)
		}
		mustSay(t, "the redrawn list", text(res.Card), "Your open leads (2)")
		if got := touches(l.ID); len(got) != 1 || got[0].Kind != "call" {
			t.Errorf("the second lead's touches %+v, want one call", got)
		}
		if got := touches(onTime.ID); len(got) != before {
			t.Errorf("the first lead got touches %+v from the second row's form", got[before:])
		}
		// Every input of the list (and of its redrawn form) has an id of its own.
		for _, card := range []map[string]any{list, res.Card} {
			ids := teamsfake.InputIDs(card)
			if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != len(ids) {
				t.Errorf("input ids repeat: %v", ids)
			}
		}
		res = e.click(ana, listPost, "lead.ack", nil)
		mustSay(t, "the answer to a click in the list", text(res.Card), "Your open leads (2)", "Sam Second")
	})

	t.Run("Home", func(t *testing.T) {
		mustSay(t, "ana's home", text(e.typed(ana, "home")), "Your SLA dashboard", "Dana Ruiz")
	})

	t.Run("AnAnswerGoesToTheAskersChatOnly", func(t *testing.T) {
		for _, c := range e.fake.Conversations() {
			if c == e.personal(stranger) {
				t.Errorf("eve, who asked nothing, got %d messages", len(e.fake.Activities(c)))
			}
		}
	})
}

func TestInstallingTheAppPostsTheHomeCardOnce(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	l := e.handOff(demoLead("crm-home"))
	e.card(ana, l)
	// Teams sends conversationUpdate and installationUpdate, each of which
	// asks for the home card.
	if _, err := e.fake.Install(ctxTimeout(t, waitLimit), ana); err != nil {
		t.Fatal(err)
	}
	homes := func() []teamsfake.Recorded { return e.posts(e.personal(ana), "Your SLA dashboard", nil) }
	if err := e.fake.WaitFor(ctxTimeout(t, waitLimit), func() bool { return len(homes()) > 0 }); err != nil {
		t.Fatal("no home card after the install")
	}
	settle(time.Now().Add(time.Second))
	got := homes()
	if len(got) != 1 {
		t.Fatalf("%d home cards after one install, want 1", len(got))
	}
	mustSay(t, "the home card", text(got[0].Activity.Cards()[0]), "Your SLA dashboard", "Dana Ruiz")
	// A button on the home card acts on its lead and answers with the
	// home card, not the lead's card in its place.
	res := e.click(ana, got[0], "lead.ack", nil)
	mustSay(t, "the answer to a click on the home card", text(res.Card), "Your SLA dashboard")
	if e.lead(l.ID).State != engine.StateAcknowledged {
		t.Errorf("the home card's button left the lead %s", e.lead(l.ID).State)
	}
	// The change redraws the home card in place for everyone.
	if err := e.fake.WaitFor(ctxTimeout(t, waitLimit), func() bool {
		h := homes()
		return len(h) == 1 && len(h[0].Updates) > 0
	}); err != nil {
		t.Errorf("the home card was not updated in place after a click: %d home cards", len(homes()))
	}
}

func TestAForgedTokenIsRefusedAndRecordsNothing(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	a, err := e.fake.MessageActivity(ana, "help")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.fake.Send(ctxTimeout(t, waitLimit), a, teamsfake.WithForeignKey())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 401 {
		t.Errorf("a forged token was answered %d, want 401", resp.Status)
	}
	// Nothing learnt about who sent it, no job queued to answer it.
	if _, err := e.db.ChatIdentityByEmail(context.Background(), engine.PlatformTeams, ana); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("slabot recorded the forger's identity: %v", err)
	}
	settle(time.Now().Add(time.Second))
	if n := len(e.fake.Activities(e.personal(ana))); n != 0 {
		t.Errorf("slabot answered a forged message with %d messages", n)
	}
	// The same activity, signed by Teams, is answered.
	if resp, err := e.fake.Send(ctxTimeout(t, waitLimit), a); err != nil || resp.Status/100 != 2 {
		t.Fatalf("the genuine activity: %v %+v", err, resp)
	}
	if _, err := e.fake.WaitActivities(ctxTimeout(t, waitLimit), e.personal(ana), 1); err != nil {
		t.Error(err)
	}
}

func TestAMentionInAChannelIsAnsweredInTheAskersChatOrSharedInTheChannel(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	sales := e.addBotToSales()
	general := sales.ChannelID("General")
	before := len(e.fake.Activities(general))
	resp, err := e.fake.TypeInChannel(ctxTimeout(t, waitLimit), maria, general, "sla status team week")
	if err != nil || resp.Status/100 != 2 {
		t.Fatalf("maria's mention: %v %+v", err, resp)
	}
	recs, err := e.fake.WaitActivities(ctxTimeout(t, waitLimit), e.personal(maria), 1)
	if err != nil {
		t.Fatal(err)
	}
	mustSay(t, "the answer in maria's chat", text(recs[0].Activity.Cards()[0]), "SLA status: team sdr-east")

	resp, err = e.fake.TypeInChannel(ctxTimeout(t, waitLimit), maria, general, "status team week share")
	if err != nil || resp.Status/100 != 2 {
		t.Fatalf("maria's shared mention: %v %+v", err, resp)
	}
	shared, err := e.fake.WaitActivities(ctxTimeout(t, waitLimit), general, before+1)
	if err != nil {
		t.Fatal(err)
	}
	mustSay(t, "the shared answer", text(shared[before].Activity.Cards()[0]), "SLA status: team sdr-east")
	if n := len(e.fake.Activities(e.personal(maria))); n != 1 {
		t.Errorf("maria's chat holds %d answers, want the unshared one only", n)
	}
}

func TestAPersonWhoRemovedSlabotIsNotChasedWithTheirHomeCard(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	l := e.handOff(demoLead("crm-removed"))
	post := e.card(ana, l)
	if _, err := e.fake.Install(ctxTimeout(t, waitLimit), ana); err != nil {
		t.Fatal(err)
	}
	if err := e.fake.WaitFor(ctxTimeout(t, waitLimit), func() bool {
		return len(e.posts(e.personal(ana), "Your SLA dashboard", nil)) == 1
	}); err != nil {
		t.Fatal("no home card after the install")
	}
	if _, err := e.fake.Uninstall(ctxTimeout(t, waitLimit), ana); err != nil {
		t.Fatal(err)
	}
	// A change to ana's leads asks for her home card again; the manager
	// acknowledges, as ana has no chat with slabot to click in any more.
	if res := e.clickAs(maria, post, "lead.ack"); res.Type != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("the manager's acknowledgement: %s %q", res.Type, res.Message)
	}
	forbidden := func() int {
		n := 0
		for _, c := range e.fake.Calls() {
			if c.ConversationID == e.personal(ana) && c.Status == http.StatusForbidden {
				n++
			}
		}
		return n
	}
	// The lead card's redraw and the home card's are refused once each;
	// the home card is not posted again in its place (Teams would refuse
	// that too).
	if err := e.fake.WaitFor(ctxTimeout(t, waitLimit), func() bool { return forbidden() >= 2 }); err != nil {
		t.Fatalf("the cards were not redrawn after the change (%d refusals)", forbidden())
	}
	// The job retries a failure after about a second: none comes.
	settle(time.Now().Add(3 * time.Second))
	if n := forbidden(); n != 2 {
		t.Errorf("%d writes refused in ana's chat; slabot should give up after the card's redraw and the home card's (2)", n)
	}
	if p, _ := e.fake.Person(ana); p.Installed {
		t.Error("slabot installed itself again to show a home card")
	}
}

func TestAStoppedAppRefusesActivitiesItCouldNoLongerFinish(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	e.cancel()
	e.done.Wait() // Run returned: it waited for the work in flight
	resp, err := e.fake.Type(ctxTimeout(t, waitLimit), ana, "help")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusServiceUnavailable {
		t.Errorf("an activity after Run stopped was answered %d, want 503: slabot is stopping", resp.Status)
	}
	if _, err := e.db.ChatIdentityByEmail(context.Background(), engine.PlatformTeams, ana); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("a stopped app recorded who wrote: %v", err)
	}
}

func TestSomeoneTheDirectoryDoesNotKnowIsAnsweredWhereTheyWrote(t *testing.T) {
	t.Parallel()
	e := newTeamsEnv(t)
	ghost := "ghost@example.com"
	e.fake.AddPerson(teamsfake.Person{Email: ghost, Name: "Gus Ghost", Installed: true, NotInDirectory: true})
	answer := text(e.typed(ghost, "leads"))
	mustSay(t, "the answer to someone the directory does not know", answer, "cannot find that account", "Microsoft 365 directory")
}
