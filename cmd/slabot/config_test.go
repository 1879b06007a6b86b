package main

import (
	"bytes"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/slabot/slabot/bot/teams"
)

// goodIntakeToken is long and random enough for problemsForRun.
const goodIntakeToken = "3f9c2a7e51d84b06a1e9c7d2f0b54a8e"

func goodSlackConfig() Config {
	return Config{DatabaseURL: "postgres://localhost/slabot", Chat: "slack",
		SlackBotToken: "xoxb-1", SlackAppToken: "xapp-1", SlackAPIURL: "https://slack.com/api/",
		HubSpotAPIURL: "https://api.hubapi.com/", IntakeToken: goodIntakeToken, LogLevel: "info"}
}

func goodTeamsConfig() Config {
	c := goodSlackConfig()
	c.Chat, c.SlackBotToken, c.SlackAppToken = "teams", "", ""
	c.Teams = teams.Config{AppID: "0c5a8f3e-7d1b-4c2a-9e6f-1b2c3d4e5f60", AppPassword: "pw",
		TenantID: "6f1c2a44-0000-4000-8000-00000000abcd"}
	return c
}

func TestGoodSettingsStartSlabotRun(t *testing.T) {
	for name, c := range map[string]Config{"Slack": goodSlackConfig(), "Teams": goodTeamsConfig()} {
		if problems := c.problemsForRun(); len(problems) > 0 {
			t.Errorf("%s: good settings are refused:\n%s", name, strings.Join(problems, "\n"))
		}
	}
}

func TestRunRefusesEachWeakSettingByName(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		want []string // each in one problem, which also says what to do
	}{
		{"AShortIntakeToken", func(c *Config) { c.IntakeToken = "secret" },
			[]string{"SLABOT_INTAKE_TOKEN is 6 characters long", "at least 32", "openssl rand -hex 32"}},
		{"TheSampleIntakeTokenOfTheKubernetesExample", func(c *Config) { c.IntakeToken = sampleIntakeTokens[0] },
			[]string{"SLABOT_INTAKE_TOKEN is the example value", "openssl rand -hex 32"}},
		{"AnIntakeTokenThatStillSaysChangeMe", func(c *Config) { c.IntakeToken = "change-me-" + goodIntakeToken },
			[]string{"SLABOT_INTAKE_TOKEN still says CHANGE-ME", "openssl rand -hex 32"}},
		{"AnIntakeTokenOfOneRepeatedCharacter", func(c *Config) { c.IntakeToken = strings.Repeat("a", 40) },
			[]string{"SLABOT_INTAKE_TOKEN is one character repeated"}},
		{"SlackAPIURLOverPlainHTTP", func(c *Config) { c.SlackAPIURL = "http://slack.example.com/api/" },
			[]string{"SLACK_API_URL uses http", "must be https", "leave it unset"}},
		{"HubSpotAPIURLOverPlainHTTP", func(c *Config) { c.HubSpotAPIURL = "http://api.hubapi.com/" },
			[]string{"HUBSPOT_API_URL uses http", "must be https"}},
		{"HubSpotAPIURLThatIsNoURL", func(c *Config) { c.HubSpotAPIURL = "api.hubapi.com" },
			[]string{"HUBSPOT_API_URL", "not an absolute https URL"}},
	}
	teamsURLs := map[string]func(*teams.Config, string){
		"TEAMS_LOGIN_URL":           func(t *teams.Config, v string) { t.LoginURL = v },
		"TEAMS_OPENID_METADATA_URL": func(t *teams.Config, v string) { t.OpenIDMetadataURL = v },
		"TEAMS_GRAPH_URL":           func(t *teams.Config, v string) { t.GraphURL = v },
		"TEAMS_SERVICE_URL":         func(t *teams.Config, v string) { t.ServiceURL = v },
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := goodSlackConfig()
			c.edit(&cfg)
			assertOneProblemSays(t, cfg.problemsForRun(), c.want)
		})
	}
	for name, set := range teamsURLs {
		t.Run(name+"OverPlainHTTP", func(t *testing.T) {
			cfg := goodTeamsConfig()
			set(&cfg.Teams, "http://login.example.com/")
			assertOneProblemSays(t, cfg.problemsForRun(), []string{name + " uses http", "must be https"})
		})
	}
	t.Run("LoopbackMayUsePlainHTTP", func(t *testing.T) {
		for _, base := range []string{"http://127.0.0.1:8123/", "http://[::1]:8123/", "http://localhost:8123/", "http://127.0.0.2/"} {
			cfg := goodTeamsConfig()
			for _, set := range teamsURLs {
				set(&cfg.Teams, base)
			}
			// The connector's host must also be one the token may go to.
			u, _ := url.Parse(base)
			cfg.Teams.ServiceURLHosts = []string{u.Hostname()}
			cfg.HubSpotAPIURL = base
			if problems := cfg.problemsForRun(); len(problems) > 0 {
				t.Errorf("%s refused on Teams:\n%s", base, strings.Join(problems, "\n"))
			}
			cfg = goodSlackConfig()
			cfg.SlackAPIURL = base
			if problems := cfg.problemsForRun(); len(problems) > 0 {
				t.Errorf("%s refused on Slack:\n%s", base, strings.Join(problems, "\n"))
			}
		}
	})
	t.Run("AHostThatOnlyStartsLikeLoopbackIsNotLoopback", func(t *testing.T) {
		cfg := goodSlackConfig()
		cfg.SlackAPIURL = "http://localhost.example.com/api/"
		assertOneProblemSays(t, cfg.problemsForRun(), []string{"SLACK_API_URL uses http"})
	})
}

func assertOneProblemSays(t *testing.T, problems []string, want []string) {
	t.Helper()
	for _, p := range problems {
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(p, w)
		}
		if ok {
			return
		}
	}
	t.Errorf("no problem says all of %q; problems:\n%s", want, strings.Join(problems, "\n"))
}

func TestTheIntakeTokenIsTrimmedAndNeverRepeated(t *testing.T) {
	t.Setenv("SLABOT_INTAKE_TOKEN", "\n  "+goodIntakeToken+"  \n")
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.IntakeToken != goodIntakeToken {
		t.Errorf("IntakeToken = %q, want it trimmed to %q", cfg.IntakeToken, goodIntakeToken)
	}

	t.Setenv("DATABASE_URL", "postgres://localhost/slabot")
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-1")
	t.Setenv("SLACK_APP_TOKEN", "xapp-1")
	t.Setenv("SLABOT_INTAKE_TOKEN", "hunter2-hunter2")
	code, _, errOut := runMain(t, "run")
	if code != 2 || !strings.Contains(errOut, "SLABOT_INTAKE_TOKEN is 15 characters long") {
		t.Errorf("exit %d, stderr:\n%s\nwant 2 and the token's length refused", code, errOut)
	}
	if strings.Contains(errOut, "hunter2") {
		t.Errorf("the refusal repeats the token:\n%s", errOut)
	}
}

func TestMetricsListenOnlyOnThisMachineByDefault(t *testing.T) {
	t.Setenv("SLABOT_METRICS_ADDR", "") // restored after the test
	os.Unsetenv("SLABOT_METRICS_ADDR")
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MetricsAddr != "127.0.0.1:9090" {
		t.Errorf("SLABOT_METRICS_ADDR defaults to %q, want 127.0.0.1:9090", cfg.MetricsAddr)
	}
}

func TestReportAsksOnlyForThePlatformItPostsOn(t *testing.T) {
	clear := func() {
		for _, name := range []string{"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "TEAMS_APP_ID", "TEAMS_APP_PASSWORD", "TEAMS_TENANT_ID",
			"TEAMS_LOGIN_URL", "TEAMS_OPENID_METADATA_URL", "TEAMS_GRAPH_URL", "TEAMS_SERVICE_URL", "SLACK_API_URL"} {
			t.Setenv(name, "")
		}
		t.Setenv("DATABASE_URL", "postgres://localhost/slabot")
		t.Setenv("SLABOT_POLICY_FILE", "../../slabot.yaml")
	}
	t.Run("Teams", func(t *testing.T) {
		clear()
		t.Setenv("SLABOT_CHAT", "teams")
		t.Setenv("TEAMS_LOGIN_URL", "http://login.example.com/")
		code, _, errOut := runMain(t, "report")
		if code != 2 {
			t.Fatalf("exit %d, want 2:\n%s", code, errOut)
		}
		for _, want := range []string{"TEAMS_APP_ID is required", "TEAMS_APP_PASSWORD is required", "TEAMS_TENANT_ID is required",
			"TEAMS_LOGIN_URL uses http", "--dry-run"} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr does not say %q:\n%s", want, errOut)
			}
		}
		if strings.Contains(errOut, "SLACK_") {
			t.Errorf("a report on Teams asks for Slack settings:\n%s", errOut)
		}
	})
	t.Run("Slack", func(t *testing.T) {
		clear()
		t.Setenv("SLABOT_CHAT", "slack")
		code, _, errOut := runMain(t, "report")
		if code != 2 || !strings.Contains(errOut, "SLACK_BOT_TOKEN is not set") {
			t.Errorf("exit %d, stderr:\n%s\nwant 2 and SLACK_BOT_TOKEN named", code, errOut)
		}
		// Posting uses the Web API only; Socket Mode's token is not needed.
		for _, unwanted := range []string{"SLACK_APP_TOKEN", "TEAMS_"} {
			if strings.Contains(errOut, unwanted) {
				t.Errorf("a report on Slack asks for %s:\n%s", unwanted, errOut)
			}
		}
	})
}

func TestTheLogOfEveryCommandMasksEmailsAtInfo(t *testing.T) {
	var buf bytes.Buffer
	logger := newLogger(&buf, "info")
	logger.Warn("no Teams user ana@example.com", "err", errors.New("graph: users/bo@example.com: 404"))
	logger.Debug("hidden at info", "who", "ana@example.com")
	out := buf.String()
	if !strings.Contains(out, "…@example.com") || strings.Contains(out, "ana@") || strings.Contains(out, "bo@") {
		t.Errorf("the log does not mask the addresses:\n%s", out)
	}
	if strings.Contains(out, "hidden at info") {
		t.Errorf("a debug line was written at info:\n%s", out)
	}
}
