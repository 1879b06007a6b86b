package slack_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slabot/slabot/bot"
	slackui "github.com/slabot/slabot/bot/slack"
	"github.com/slabot/slabot/bot/slack/slackfake"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
)

// manifestEvents reads the bot events the Slack app manifest subscribes to.
func manifestEvents(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../manifests/slack-app.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Settings struct {
			Events struct {
				Bot []string `yaml:"bot_events"`
			} `yaml:"event_subscriptions"`
		} `yaml:"settings"`
	}
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("the manifest is not YAML: %v", err)
	}
	return m.Settings.Events.Bot
}

// answers are slabot's answers to typed commands in ch.
func (e *env) answers(ch string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range e.fake.Messages(ch) {
		if m.Metadata != nil && m.Metadata.EventType == "slabot_answer" {
			out = append(out, m)
		}
	}
	return out
}

// TestCommandsTypedInSlabotsDMAreAnswered installs the app as its manifest
// says (its scopes and event subscriptions), and has people type to
// slabot in its Messages tab: each command gets one answer in the DM, with
// the grammar of /sla; slabot's own posts, which Slack delivers back to
// it, and an edited message get none.
func TestCommandsTypedInSlabotsDMAreAnswered(t *testing.T) {
	t.Parallel()
	fake := addPeople(t, slackfake.New(slackfake.WithBotScopes(manifestScopes(t)...),
		slackfake.WithEvents(manifestEvents(t)...)))
	e := newEnv(t, withFake(fake))
	ctx := ctxTimeout(t, 60*time.Second)
	l := e.handOff(demoLead("crm-typed"))
	e.card(ana, l)
	anaDM := fake.DMChannel(ana)

	typed := 0
	say := func(user, text string) slackfake.Message {
		t.Helper()
		// Counted before typing: the answer may come before TypeInDM returns.
		dm := fake.DMChannel(user)
		want := len(e.answers(dm)) + 1
		res, m, err := fake.TypeInDM(ctx, user, text)
		if err != nil || !res.Acked {
			t.Fatalf("typing %q: %+v, %v", text, res, err)
		}
		typed++
		e.waitFor("the answer to "+text, func() bool { return len(e.answers(dm)) >= want })
		return m
	}
	check := func(user, text string, wants ...string) {
		t.Helper()
		say(user, text)
		dm := fake.DMChannel(user)
		got := cardText(e.answers(dm)[len(e.answers(dm))-1])
		for _, w := range wants {
			if !strings.Contains(got, w) {
				t.Errorf("the answer to %q does not say %q:\n%s", text, w, got)
			}
		}
	}
	check(ana, "help", "sla leads", "sla away")
	check(ana, "leads", "Dana Ruiz")
	check(ana, "sla status", "first touch")
	check(ana, "<@"+slackfake.BotUserID+"> home", "Dana Ruiz")
	check(ana, "hlep", "I don't know")
	check(maria, "status team week", "sdr-east")
	check(ana, "away", "away")
	if rep, err := e.db.RepByEmail(ctx, "ana@example.com"); err != nil || rep.Status != engine.RepAway {
		t.Errorf("after typing away ana is %+v (%v)", rep, err)
	}
	check(ana, "back", "back")
	if rep, err := e.db.RepByEmail(ctx, "ana@example.com"); err != nil || rep.Status == engine.RepAway {
		t.Errorf("after typing back ana is %+v (%v)", rep, err)
	}

	// An edit is not a new command; slabot's own posts echoed back are
	// not commands either: a message typed after both gets the next
	// answer, and no other answer appears.
	first := say(ana, "policy")
	if _, err := fake.EditInDM(ctx, ana, first, "leads"); err != nil {
		t.Fatal(err)
	}
	check(ana, "funnel")
	check(ana, "plan revenue=5000 deal=100 win=0.5")
	time.Sleep(300 * time.Millisecond)
	if n, want := len(e.answers(anaDM))+len(e.answers(fake.DMChannel(maria))), typed; n != want {
		t.Errorf("%d answers to %d typed commands", n, want)
	}
	jobs, err := e.db.ListJobs(ctx, storage.JobFilter{Limit: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	recorded := 0
	for _, j := range jobs {
		if j.Kind == slackui.JobInteraction {
			recorded++
		}
	}
	if recorded != typed {
		t.Errorf("%d Slack deliveries recorded for %d typed commands: slabot's own posts or the edit were recorded", recorded, typed)
	}
}

func TestDMCommandText(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"leads", "leads"},
		{"  sla   status team week ", "status team week"},
		{"/sla away until friday", "away until friday"},
		{"SLA help", "help"},
		{"<@UBOT> leads", "leads"},
		{"<@UBOT|slabot> sla status <@U0BO>", "status " + bot.PersonToken("U0BO", "")},
		{"<@U0BO> status", bot.PersonToken("U0BO", "") + " status"},
		{"slabot leads", "slabot leads"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := slackui.DMCommandText(tt.in, "UBOT"); got != tt.want {
			t.Errorf("DMCommandText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
