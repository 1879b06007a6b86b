package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

func TestPolicyCheckOnTeamsSaysWhereEachChannelIsPinnedAndRefusesAnAmbiguousName(t *testing.T) {
	dbURL := storagetest.NewDatabase(t)
	ctx := context.Background()
	db, err := storage.Open(ctx, dbURL, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tenant := "6f1c2a44-0000-4000-8000-00000000abcd"
	save := func(id, team, teamName, name string) {
		t.Helper()
		if err := db.SaveChatChannel(ctx, &engine.ChatChannel{Platform: engine.PlatformTeams, ID: id, Name: name,
			TeamID: team, TeamName: teamName, TenantID: tenant}); err != nil {
			t.Fatal(err)
		}
	}
	save("19:reports@thread.tacv2", "19:sales@thread.tacv2", "Sales", "Reports")
	save("19:esc@thread.tacv2", "19:sales@thread.tacv2", "Sales", "Escalations")
	dir := t.TempDir()
	policy := filepath.Join(dir, "slabot.yaml")
	if err := os.WriteFile(policy, []byte(`
timezone: UTC
report: {channel: "Sales/Reports", schedule: "0 9 * * MON"}
teams:
  - name: sdr-east
    manager: maria@example.com
    escalation_channel: "Sales/Escalations"
    reps: [ana@example.com]
rules:
  - name: default
    first_touch: 4h
`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SLABOT_CHAT", "teams")
	t.Setenv("DATABASE_URL", dbURL)
	t.Setenv("TEAMS_TENANT_ID", strings.ToUpper(tenant))

	code, out, errOut := runMain(t, "policy", "check", policy)
	if code != 0 {
		t.Fatalf("policy check exited %d: %s", code, errOut)
	}
	for _, want := range []string{"Sales/Reports: the one channel by that name is 19:reports@thread.tacv2",
		"Sales/Escalations: the one channel by that name is 19:esc@thread.tacv2"} {
		if !strings.Contains(out, want) {
			t.Errorf("policy check does not say %q:\n%s", want, out)
		}
	}
	if _, err := db.PinChatChannel(ctx, engine.PlatformTeams, "sales/reports", "19:reports@thread.tacv2"); err != nil {
		t.Fatal(err)
	}
	// Someone creates another team called Sales with an Escalations
	// channel and adds slabot to it.
	save("19:other-esc@thread.tacv2", "19:other@thread.tacv2", "Sales", "Escalations")
	save("19:other-reports@thread.tacv2", "19:other@thread.tacv2", "Sales", "Reports")
	code, out, errOut = runMain(t, "policy", "check", policy)
	if code != 1 {
		t.Fatalf("policy check of an ambiguous name exited %d, want 1:\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "Sales/Reports: pinned to channel 19:reports@thread.tacv2") {
		t.Errorf("the pinned name is not reported as pinned:\n%s", out)
	}
	for _, want := range []string{"Sales/Escalations", "19:esc@thread.tacv2", "19:other-esc@thread.tacv2", "19:other@thread.tacv2", "by its id"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("the refusal does not say %q:\n%s", want, errOut)
		}
	}

	// The pinned Reports channel goes (slabot left the team): the name is
	// not moved to the look-alike team's Reports, and says how to move it.
	if _, err := db.ForgetChatChannels(ctx, engine.PlatformTeams, []string{"19:reports@thread.tacv2"}); err != nil {
		t.Fatal(err)
	}
	_, out, _ = runMain(t, "policy", "check", policy)
	if !strings.Contains(out, "Sales/Reports") || !strings.Contains(out, "which is gone") || strings.Contains(out, "19:other-reports@thread.tacv2") {
		t.Errorf("a name pinned to a channel that is gone:\n%s", out)
	}
	code, out, errOut = runMain(t, "policy", "unpin", "Sales/Reports")
	if code != 0 || !strings.Contains(out, "no longer pinned to channel 19:reports@thread.tacv2") {
		t.Fatalf("policy unpin exited %d:\n%s\n%s", code, out, errOut)
	}
	if _, err := db.ChatChannelPin(ctx, engine.PlatformTeams, "sales/reports"); engine.ErrorCode(err) != engine.ENOTFOUND {
		t.Errorf("the pin after slabot policy unpin: %v; want none", err)
	}
	_, out, _ = runMain(t, "policy", "check", policy)
	if !strings.Contains(out, "Sales/Reports: the one channel by that name is 19:other-reports@thread.tacv2") {
		t.Errorf("after unpinning, the name is not resolved afresh:\n%s", out)
	}
	if code, out, _ = runMain(t, "policy", "unpin", "Sales/Reports"); code != 0 || !strings.Contains(out, "not pinned") {
		t.Errorf("unpinning a name not pinned: exit %d, %s", code, out)
	}
}
