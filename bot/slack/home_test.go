package slack_test

// End-to-end tests of /sla and the App Home through the Slack fake, on a
// fixed data set whose figures are worked out by hand (bottest.SeedCommands).

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/slabot/slabot/bot/bottest"
	"github.com/slabot/slabot/bot/slack/slackfake"
	"github.com/slabot/slabot/engine"
)

var commandsPolicy = bottest.CommandsPolicy("2027-06-30")

// fixedNow is Wednesday of ISO week 47 (Nov 16–22), day 18 of November.
var fixedNow = bottest.CommandsNow(2026)

// newEnvAt is newEnv with the service's clock stopped at now.
func newEnvAt(t *testing.T, now time.Time, policyYAML string) *env {
	t.Helper()
	fake := newFakeSlack(t)
	fake.AddChannel("C0SMK", "smarketing")
	return newEnv(t, withFake(fake), withPolicy(policyYAML), withClock(func() time.Time { return now }))
}

// seed stores the fixed data set of bottest.SeedCommands, whose comment
// works out its figures by hand, and returns the leads by id.
func (e *env) seed() map[string]*engine.Lead {
	e.t.Helper()
	leads, err := bottest.SeedCommands(context.Background(), e.db, e.service.Policy(), 2026)
	if err != nil {
		e.t.Fatal(err)
	}
	return leads
}

// sla runs a slash command as user and returns the answer posted to its
// response_url.
func (e *env) sla(user, text string) slackfake.ResponseURLPost {
	e.t.Helper()
	res, err := e.fake.SlashCommand(ctxTimeout(e.t, 10*time.Second), user, "C0OPS", "/sla", text)
	if err != nil || !res.Acked {
		e.t.Fatalf("/sla %s was not acknowledged: %v", text, err)
	}
	var post slackfake.ResponseURLPost
	e.waitFor("the answer to /sla "+text, func() bool {
		for _, p := range e.fake.ResponseURLPosts() {
			if p.URL == res.ResponseURL {
				post = p
				return true
			}
		}
		return false
	})
	if post.Status != 200 {
		e.t.Fatalf("Slack refused the answer to /sla %s: %d %s", text, post.Status, post.Body)
	}
	return post
}

// answerText is everything a person reads in an answer: its text and
// every text in its blocks.
func answerText(raw json.RawMessage) string {
	var v any
	_ = json.Unmarshal(raw, &v)
	var b strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if s, ok := x["text"].(string); ok {
				b.WriteString(s + "\n")
			}
			for k, e := range x {
				if k != "text" {
					walk(e)
				} else if _, ok := e.(string); !ok {
					walk(e)
				}
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}

func mustSay(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("%s does not say %q:\n%s", what, w, text)
		}
	}
}

// TestSlashCommands is /sla on Slack's protocol: private and shared
// answers, buttons on an ephemeral answer, the report posted after the
// answer. What each command says is the core's test
// (bot/commands_flow_test.go, over the same hand-computed data set).
func TestSlashCommands(t *testing.T) {
	t.Parallel()
	e := newEnvAt(t, fixedNow, commandsPolicy)
	leads := e.seed()

	t.Run("HelpAndUnknownWords", func(t *testing.T) {
		for _, text := range []string{"", "help"} {
			p := e.sla(ana, text)
			mustSay(t, "help", answerText(p.Body), "/sla status", "/sla leads", "/sla funnel", "/sla plan revenue=5000", "/sla policy", "/sla away", "/sla back", "/sla report", "share")
			if p.ResponseType != "ephemeral" {
				t.Errorf("help is %q, want ephemeral", p.ResponseType)
			}
		}
		mustSay(t, "a typo's answer", answerText(e.sla(ana, "stauts").Body), "I don't know \"stauts\"", "Did you mean `/sla status", "/sla leads")
	})

	t.Run("ShareAndOtherPeriods", func(t *testing.T) {
		p := e.sla(maria, "status team month share")
		if p.ResponseType != "in_channel" {
			t.Errorf("a shared status is %q, want in_channel", p.ResponseType)
		}
		mustSay(t, "the month's status", answerText(p.Body), "November 2026", "*SQLs received:* 7")
		mustSay(t, "ana's quarter", answerText(e.sla(ana, "status quarter").Body), "Q4 2026", "*SQLs received:* 5")
	})

	// A person picked as Slack offers them (<@U…|name>) is the rep whose
	// Slack account that is.
	t.Run("AMentionNamesTheRep", func(t *testing.T) {
		mustSay(t, "bo's status", answerText(e.sla(maria, "status <@"+bo+"|bo>").Body), "SLA status: bo@example.com", "*SQLs received:* 1", "*Open leads:* 1")
	})

	t.Run("LeadsByDeadlineWithWorkingButtons", func(t *testing.T) {
		p := e.sla(ana, "leads")
		text := answerText(p.Body)
		mustSay(t, "ana's leads", text, "Your open leads (4)", "First touch due in 3 h", "Cadence: 5 more touches needed")
		order := []string{"Contact l4", "Contact l3", "Contact l1", "Contact l2"}
		last := -1
		for _, name := range order {
			i := strings.Index(text, name)
			if i < last {
				t.Errorf("%s is out of deadline order:\n%s", name, text)
			}
			last = i
		}
		if strings.Contains(text, "Contact l5") || strings.Contains(text, "Contact l6") {
			t.Errorf("closed or other reps' leads are listed:\n%s", text)
		}
		msg, err := e.fake.WaitForMessage(ctxTimeout(t, 5*time.Second), func(m slackfake.Message) bool {
			return m.Ephemeral && m.To == ana && m.Via == "response_url" && m.ContainsText("Your open leads")
		})
		if err != nil {
			t.Fatal(err)
		}
		if !msg.ContainsText(fmt.Sprintf("lead:%d", leads["l4"].ID)) {
			t.Fatal("the leads answer has no card block id for l4")
		}
		// l4 comes first, so its Acknowledge button is the first one.
		if _, err := e.fake.ClickButton(ctxTimeout(t, 10*time.Second), ana, msg, "lead.ack", ""); err != nil {
			t.Fatal(err)
		}
		e.waitFor("l4 to be acknowledged", func() bool { return e.lead(leads["l4"].ID).State == engine.StateAcknowledged })
		mustSay(t, "bo's leads for maria", answerText(e.sla(maria, "leads").Body), "not a rep")
		mustSay(t, "sharing leads", answerText(e.sla(ana, "leads share").Body), "cannot be shared")
	})

	t.Run("Report", func(t *testing.T) {
		mustSay(t, "a rep asking for the report", answerText(e.sla(ana, "report").Body), "Only a team's manager")
		var posted atomic.Int32
		e.bot.SetReportPoster(func(context.Context) error { posted.Add(1); return nil })
		defer e.bot.SetReportPoster(nil)
		mustSay(t, "the report", answerText(e.sla(maria, "report").Body), "The weekly report is being posted to #smarketing")
		e.waitFor("the report to be posted", func() bool { return posted.Load() == 1 })
	})

}

func TestAppHome(t *testing.T) {
	t.Parallel()
	e := newEnvAt(t, fixedNow, commandsPolicy)
	leads := e.seed()
	ctx := ctxTimeout(t, 30*time.Second)

	home := func(user string) (slack.View, string) {
		t.Helper()
		before, _ := e.fake.HomeView(user)
		if _, err := e.fake.AppHomeOpened(ctx, user); err != nil {
			t.Fatal(err)
		}
		var v slack.View
		e.waitFor("the Home tab of "+user, func() bool {
			var ok bool
			v, ok = e.fake.HomeView(user)
			return ok && v.Hash != before.Hash
		})
		raw, _ := e.fake.HomeViewBlocks(user)
		return v, answerText(raw)
	}

	t.Run("ARepSeesTheirLeadsAndWeek", func(t *testing.T) {
		_, text := home(ana)
		mustSay(t, "ana's Home", text, "Your SLA dashboard", "First touch on time: 67%* (2 of 3)",
			"last 4 weeks: — → — → — → 67%", "*Open leads:* 4", "Your open leads (4)")
		if strings.Index(text, "Contact l4") > strings.Index(text, "Contact l2") {
			t.Errorf("leads are not by deadline:\n%s", text)
		}
		raw, _ := e.fake.HomeViewBlocks(ana)
		if !strings.Contains(string(raw), fmt.Sprintf(`"lead:%d"`, leads["l3"].ID)) {
			t.Errorf("the Home tab has no card block id for l3")
		}
	})

	t.Run("ClickingAButtonOnHomeActsOnTheLead", func(t *testing.T) {
		v, _ := home(ana)
		if _, err := e.fake.ClickViewButton(ctx, ana, v, "lead.touch", "email"); err != nil {
			t.Fatal(err)
		}
		// The first touch select belongs to l4, the lead due first.
		e.waitFor("l4's touch", func() bool {
			ts, _ := e.db.Touches(context.Background(), leads["l4"].ID)
			return len(ts) == 1
		})
		_, text := home(ana)
		if !strings.Contains(text, "3 of 4") {
			t.Errorf("after the touch the Home tab does not count l4 as on time:\n%s", text)
		}
	})

	t.Run("AManagerSeesTheTeamTable", func(t *testing.T) {
		_, text := home(maria)
		mustSay(t, "maria's Home", text, "Team sdr-east's week", "Team sdr-east this week",
			"*ana@example.com*: 75% on time · 4 open · 1 breach", "*bo@example.com*: 100% on time · 1 open · 0 breaches")
	})

	t.Run("SomeoneElseIsToldWhatSlabotIs", func(t *testing.T) {
		_, text := home(stranger)
		mustSay(t, "a stranger's Home", text, "not a rep or a manager", "/sla help")
	})

	t.Run("GoingAwayShowsOnHome", func(t *testing.T) {
		e.sla(ana, "away")
		e.waitFor("ana's Home to say she is away", func() bool {
			raw, _ := e.fake.HomeViewBlocks(ana)
			return strings.Contains(answerText(raw), "You are away")
		})
	})
}

func TestAHomeTabWithManyLeadsStaysWithinSlacksLimit(t *testing.T) {
	t.Parallel()
	e := newEnvAt(t, fixedNow, commandsPolicy)
	ctx := context.Background()
	err := e.db.InTx(ctx, func(tx engine.Tx) error {
		for i := range 70 {
			assigned := fixedNow.Add(-time.Duration(i) * time.Minute)
			l := &engine.Lead{ExternalID: fmt.Sprintf("many-%d", i), Contact: engine.Contact{Name: fmt.Sprintf("Buyer %d", i)},
				OwnerEmail: "ana@example.com", Team: "sdr-east", Rule: "default", State: engine.StateNotified,
				HandedOffAt: assigned, ReceivedAt: assigned, AssignedAt: assigned, FirstTouchDue: assigned.Add(4 * time.Hour)}
			if err := tx.CreateLead(ctx, l); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.AppHomeOpened(ctxTimeout(t, 10*time.Second), ana); err != nil {
		t.Fatal(err)
	}
	e.waitFor("ana's Home tab", func() bool { _, ok := e.fake.HomeView(ana); return ok })
	raw, _ := e.fake.HomeViewBlocks(ana)
	var blocks []any
	_ = json.Unmarshal(raw, &blocks)
	if len(blocks) > 100 {
		t.Errorf("%d blocks in the Home tab, Slack allows 100", len(blocks))
	}
	text := answerText(raw)
	mustSay(t, "a long Home tab", text, "Your open leads (70)", "Buyer 69", "more with later deadlines")
	mustSay(t, "a long leads answer", answerText(e.sla(ana, "leads").Body), "Your open leads (70)", "…and 50 more")
}
