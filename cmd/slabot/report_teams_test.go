package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slabot/slabot/bot/teams/teamsfake"
	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

// `slabot report` with SLABOT_CHAT=teams and no Slack setting at all posts
// the report in the policy's Teams channel, through the Teams simulator.
// slabot runs as a subprocess, its settings in its own environment.
func TestReportPostsOnTeamsWithoutSlackSettings(t *testing.T) {
	t.Parallel()
	dbURL := storagetest.NewDatabase(t)
	ctx := context.Background()
	db, err := storage.Open(ctx, dbURL, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	fake := teamsfake.New(teamsfake.Options{})
	defer fake.Close()
	fake.AddPerson(teamsfake.Person{Email: "maria@example.com", Name: "Maria Lopez", Installed: true})
	team := fake.AddTeam("Sales", "Reports")
	// Nothing runs at /api/messages here: the install only has to reach a
	// server so that the simulator lets slabot post in the team.
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer bot.Close()
	fake.SetBotEndpoint(bot.URL)
	if _, err := fake.AddBotToTeam(ctx, team.ID, "maria@example.com"); err != nil {
		t.Fatal(err)
	}
	reports := team.ChannelID("Reports")
	if err := db.SaveChatChannel(ctx, &engine.ChatChannel{Platform: engine.PlatformTeams, ID: reports, Name: "Reports",
		TeamID: team.ID, TeamName: "Sales", ServiceURL: fake.ServiceURL(), TenantID: fake.TenantID()}); err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(t.TempDir(), "slabot.yaml")
	if err := os.WriteFile(policy, []byte(`
timezone: UTC
report: {channel: "Sales/Reports", schedule: "0 9 * * MON"}
teams:
  - name: sdr-east
    manager: maria@example.com
    reps: [maria@example.com]
rules:
  - name: default
    first_touch: 4h
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "report", "--week", "2026-W47")
	cmd.Env = append(os.Environ(), "SLABOT_TEST_SUBPROCESS=1",
		"SLACK_BOT_TOKEN=", "SLACK_APP_TOKEN=", "SLACK_API_URL=",
		"SLABOT_CHAT=teams",
		"DATABASE_URL="+dbURL,
		"SLABOT_POLICY_FILE="+policy,
		"SLABOT_LOG_LEVEL=error",
		"TEAMS_APP_ID="+fake.AppID(),
		"TEAMS_APP_PASSWORD="+fake.AppPassword(),
		"TEAMS_TENANT_ID="+fake.TenantID(),
		"TEAMS_OPENID_METADATA_URL="+fake.OpenIDMetadataURL(),
		"TEAMS_LOGIN_URL="+fake.LoginURL(),
		"TEAMS_GRAPH_URL="+fake.GraphURL(),
		"TEAMS_SERVICE_URL="+fake.ServiceURL(),
		"TEAMS_SERVICE_URL_HOSTS="+strings.Join(fake.ServiceURLHosts(), ","))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	out := stdout.String()
	if err != nil {
		t.Fatalf("slabot report: %v:\n%s\n%s", err, out, stderr.String())
	}
	if !strings.Contains(out, "Posted the report") {
		t.Errorf("stdout does not say the report was posted:\n%s", out)
	}
	posted := fake.Activities(reports)
	if len(posted) != 1 {
		t.Fatalf("%d activities in Sales/Reports, want the one report", len(posted))
	}
	var card, chart bool
	for _, att := range posted[0].Activity.Attachments {
		card = card || att.ContentType == "application/vnd.microsoft.card.adaptive"
		chart = chart || att.ContentType == "image/png"
	}
	if !card || !chart {
		t.Errorf("the report has card %v, chart %v; want both", card, chart)
	}
}
