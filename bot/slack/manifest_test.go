package slack_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/slabot/slabot/bot/slack/slackfake"
	"github.com/slabot/slabot/engine"
)

// manifestScopes reads the bot scopes the Slack app manifest grants.
func manifestScopes(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../../manifests/slack-app.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		OAuth struct {
			Scopes struct {
				Bot []string `yaml:"bot"`
			} `yaml:"scopes"`
		} `yaml:"oauth_config"`
	}
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("the manifest is not YAML: %v", err)
	}
	if len(m.OAuth.Scopes.Bot) == 0 {
		t.Fatal("the manifest grants no bot scopes")
	}
	return m.OAuth.Scopes.Bot
}

// TestTheManifestGrantsEveryScopeTheBotUses runs the bot with exactly the
// manifest's scopes through the paths that call the most methods: a
// hand-off sent on a retry (history check), an ops alert, a click, a
// slash command and the weekly report with its chart.
func TestTheManifestGrantsEveryScopeTheBotUses(t *testing.T) {
	t.Parallel()
	fake := addPeople(t, slackfake.New(slackfake.WithBotScopes(manifestScopes(t)...)))
	fake.AddChannel("C0SMK", "smarketing")
	// The first send fails in a way that leaves it unclear whether it was
	// posted (a 429 is clear: it was not), so the retry reads the DM's history.
	fake.InjectError("chat.postMessage", "internal_error", 1)
	e := newEnv(t, withFake(fake), withPolicy(e2ePolicy+"report: {channel: \"#smarketing\"}\n"))
	ctx := ctxTimeout(t, 60*time.Second)

	if err := e.db.UpdateRep(ctx, &engine.Rep{Email: "bo@example.com", Status: engine.RepAway}); err != nil {
		t.Fatal(err)
	}
	h := demoLead("crm-scopes")
	h.OwnerEmail = "bo@example.com" // away: the lead goes to ana and ops are told
	l := e.handOff(h)
	msg := e.card(ana, l)
	if _, err := fake.ClickButton(ctx, ana, msg, "lead.ack", ""); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the acknowledgement", func() bool { return !e.lead(l.ID).AcknowledgedAt.IsZero() })
	if _, err := fake.SlashCommand(ctx, maria, "C0OPS", "/sla", "status team"); err != nil {
		t.Fatal(err)
	}
	week, err := engine.PeriodContaining("week", time.Now(), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.bot.PostWeeklyReport(ctx, week); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the ops alert", func() bool {
		for _, m := range fake.Messages("C0OPS") {
			if strings.Contains(m.Text, "bo@example.com is away") {
				return true
			}
		}
		return false
	})
	if len(fake.Calls("conversations.history")) == 0 {
		t.Error("the retried send never read the DM's history, so the test did not reach that path")
	}
	for _, c := range fake.Calls("") {
		if c.Error == "missing_scope" {
			t.Errorf("%s needs a scope the manifest does not grant: %s", c.Method, c.Response)
		}
	}
}

// TestWithoutHistoryScopesAHandOffIsStillSent covers an app installed from
// an older manifest: the resend check cannot read the DM, and the card goes
// out all the same.
func TestWithoutHistoryScopesAHandOffIsStillSent(t *testing.T) {
	t.Parallel()
	var scopes []string
	for _, s := range manifestScopes(t) {
		if !strings.HasSuffix(s, ":history") {
			scopes = append(scopes, s)
		}
	}
	fake := addPeople(t, slackfake.New(slackfake.WithBotScopes(scopes...)))
	fake.InjectError("chat.postMessage", "internal_error", 1)
	e := newEnv(t, withFake(fake))
	l := e.handOff(demoLead("crm-old-install"))
	e.card(ana, l)
	call, err := fake.WaitForCall(ctxTimeout(t, 30*time.Second), "conversations.history", nil)
	if err != nil || call.Error != "missing_scope" {
		t.Errorf("history call = %+v, %v; want it refused for a missing scope", call, err)
	}
}
