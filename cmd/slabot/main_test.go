package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestHelpListsEveryCommandAndSetting(t *testing.T) {
	code, out, _ := runMain(t, "help")
	if code != 0 {
		t.Fatalf("slabot help exited %d", code)
	}
	for _, c := range commands() {
		if !strings.Contains(out, "  "+c.Name+" ") {
			t.Errorf("help does not list the %q command", c.Name)
		}
	}
	for _, name := range []string{"DATABASE_URL", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_API_URL",
		"SLABOT_POLICY_FILE", "SLABOT_HTTP_ADDR", "SLABOT_INTAKE_TOKEN", "SLABOT_LOG_LEVEL"} {
		if !strings.Contains(out, name) {
			t.Errorf("help does not list the setting %s", name)
		}
	}
	for _, def := range []string{"https://slack.com/api/", "slabot.yaml", ":8080", "default: info"} {
		if !strings.Contains(out, def) {
			t.Errorf("help does not show the default %q", def)
		}
	}
}

func TestUnknownCommandSaysWhatToDo(t *testing.T) {
	code, _, errOut := runMain(t, "frobnicate")
	if code != 2 || !strings.Contains(errOut, "slabot help") {
		t.Errorf("exit %d, stderr %q; want 2 and a pointer to `slabot help`", code, errOut)
	}
}

func TestRunWithoutSettingsNamesEachMissingOneAndWhereToGetIt(t *testing.T) {
	for _, name := range []string{"DATABASE_URL", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLABOT_INTAKE_TOKEN", "SLACK_API_URL", "SLABOT_LOG_LEVEL"} {
		t.Setenv(name, "")
	}
	code, _, errOut := runMain(t, "run")
	if code != 2 {
		t.Fatalf("slabot run exited %d, want 2", code)
	}
	for _, want := range []string{
		"DATABASE_URL is not set",
		"SLACK_BOT_TOKEN is not set", "OAuth & Permissions",
		"SLACK_APP_TOKEN is not set", "App-Level Tokens", "connections:write",
		"SLABOT_INTAKE_TOKEN is not set",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not say %q:\n%s", want, errOut)
		}
	}
}

func TestRunRejectsTokensOfTheWrongKind(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://localhost/slabot")
	t.Setenv("SLACK_BOT_TOKEN", "xapp-1-oops")
	t.Setenv("SLACK_APP_TOKEN", "xoxb-oops")
	t.Setenv("SLABOT_INTAKE_TOKEN", goodIntakeToken)
	t.Setenv("SLABOT_LOG_LEVEL", "chatty")
	code, _, errOut := runMain(t, "run")
	if code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	for _, want := range []string{"SLACK_BOT_TOKEN does not start with xoxb-", "SLACK_APP_TOKEN does not start with xapp-", `SLABOT_LOG_LEVEL "chatty"`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not say %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "oops") {
		t.Errorf("stderr repeats a token's value:\n%s", errOut)
	}
}

func TestPolicyCheck(t *testing.T) {
	t.Run("AValidFileIsPrintedInPlainWords", func(t *testing.T) {
		code, out, errOut := runMain(t, "policy", "check", "../../slabot.yaml")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"first touch within 15 business minutes", "at least 8 touches within 15 days",
			"the manager is told and the lead is reassigned", "does not stop the SLA clock", "reviewed by"} {
			if !strings.Contains(out, want) {
				t.Errorf("summary does not say %q:\n%s", want, out)
			}
		}
	})
	t.Run("ABrokenFileListsEveryProblemWithItsLine", func(t *testing.T) {
		code, _, errOut := runMain(t, "policy", "check", "../../engine/testdata/policy-broken.yaml")
		if code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		for _, want := range []string{"line 1: timezone", "line 12: targets.revenu", "did you mean \"revenue\"", "rules[1]: this rule can never match", "warning: "} {
			if !strings.Contains(errOut, want) {
				t.Errorf("stderr does not say %q:\n%s", want, errOut)
			}
		}
	})
	t.Run("AMissingFileSaysSo", func(t *testing.T) {
		code, _, errOut := runMain(t, "policy", "check", "no-such-file.yaml")
		if code != 1 || !strings.Contains(errOut, "no-such-file.yaml") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
}

func TestPlan(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"FromRevenue", []string{"--revenue", "5000", "--deal-size", "100", "--win-rate", "0.5"}, []string{"= 50 deals", "= 100 SQLs"}},
		{"FromRevenueWithMQLRate", []string{"--revenue", "5000", "--deal-size", "100", "--win-rate", "0.5", "--mql-to-sql", "0.25"}, []string{"= 400 MQLs"}},
		{"FromMQLsRoundingUp", []string{"--mqls", "1800", "--mql-to-sql", "0.25", "--sql-to-won", "0.15"}, []string{"= 450 SQLs", "= 68 deals"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runMain(t, append([]string{"plan"}, c.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not say %q:\n%s", w, out)
				}
			}
		})
	}
	t.Run("FromThePolicyTargets", func(t *testing.T) {
		t.Setenv("SLABOT_POLICY_FILE", "../../slabot.yaml")
		code, out, _ := runMain(t, "plan")
		if code != 0 || !strings.Contains(out, "= 100 SQLs") || !strings.Contains(out, "= 400 MQLs") {
			t.Errorf("exit %d, output:\n%s", code, out)
		}
	})
	t.Run("BadNumbersGetAnExample", func(t *testing.T) {
		code, _, errOut := runMain(t, "plan", "--revenue", "5000", "--deal-size", "0", "--win-rate", "0.5")
		if code != 2 || !strings.Contains(errOut, "for example") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})
}

func TestRunRefusesAChatPlatformItDoesNotServe(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://localhost/slabot")
	t.Setenv("SLACK_BOT_TOKEN", "xoxb-1")
	t.Setenv("SLACK_APP_TOKEN", "xapp-1")
	t.Setenv("SLABOT_INTAKE_TOKEN", goodIntakeToken)
	t.Setenv("SLABOT_CHAT", "discord")
	code, _, errOut := runMain(t, "run")
	if want := `SLABOT_CHAT "discord" is not a chat platform`; code != 2 || !strings.Contains(errOut, want) {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, want)
	}
}

func TestRunOnTeamsNamesEachTeamsSettingToFixAndNeedsNoSlackOnes(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://localhost/slabot")
	t.Setenv("SLABOT_INTAKE_TOKEN", goodIntakeToken)
	t.Setenv("SLABOT_CHAT", "teams")
	t.Setenv("TEAMS_APP_ID", "not-a-guid")
	t.Setenv("TEAMS_TENANT_ID", "")
	t.Setenv("TEAMS_APP_PASSWORD", "")
	t.Setenv("TEAMS_GRAPH_URL", "graph.example")
	code, _, errOut := runMain(t, "run")
	for _, want := range []string{
		`TEAMS_APP_ID must be a GUID`, "TEAMS_TENANT_ID is required", "TEAMS_APP_PASSWORD is required",
		"TEAMS_GRAPH_URL must be an absolute http or https URL", "Where to get it: Entra ID",
	} {
		if code != 2 || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, want)
		}
	}
	if strings.Contains(errOut, "SLACK_") {
		t.Errorf("a Teams deployment is asked for Slack settings:\n%s", errOut)
	}
}
