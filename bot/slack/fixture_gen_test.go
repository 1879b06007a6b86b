//go:build fixture

package slack_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/slabot/slabot/engine"
)

// TestWriteReleaseFixture records what a release writes (its tables and
// the Slack messages it posted) into testdata, for the upgrade test of the
// next release. Run it on the release being frozen:
//
//	scripts/pg.sh run -- go test -tags fixture -run TestWriteReleaseFixture ./bot/
func TestWriteReleaseFixture(t *testing.T) {
	out := os.Getenv("FIXTURE_OUT")
	if out == "" {
		out = "testdata/release-1.json"
	}
	e := newEnv(t)
	ctx := context.Background()
	waiting := e.handOff(demoLead("crm-release-1"))
	card := e.card(ana, waiting)
	e.waitFor("the card to be recorded", func() bool { return e.lead(waiting.ID).State == engine.StateNotified })
	h := demoLead("crm-release-2")
	h.OwnerEmail = "bo@example.com"
	h.Contact.Email = "kim@globex.test"
	acked := e.handOff(h)
	boCard := e.card(bo, acked)
	if _, err := e.fake.ClickButton(ctxTimeout(t, 10e9), bo, boCard, "lead.ack", ""); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the acknowledgement", func() bool { return e.lead(acked.ID).State == engine.StateAcknowledged })
	e.stop()

	fixture := map[string]json.RawMessage{}
	for _, table := range []string{"teams", "reps", "leads", "lead_aliases", "touches", "lead_events", "mqls",
		"lead_messages", "scheduled_runs", "rep_events"} {
		var rows json.RawMessage
		if err := e.db.Pool().QueryRow(ctx, `SELECT COALESCE(json_agg(t), '[]') FROM `+table+` t`).Scan(&rows); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		fixture[table] = rows
	}
	var jobs json.RawMessage
	if err := e.db.Pool().QueryRow(ctx, `SELECT COALESCE(json_agg(j), '[]') FROM river_job j
		WHERE state IN ('available', 'scheduled', 'retryable')`).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	fixture["river_job"] = jobs
	var slackMessages []any
	for _, m := range []any{card, boCard} {
		slackMessages = append(slackMessages, m)
	}
	raw, _ := json.Marshal(slackMessages)
	fixture["slack_messages"] = raw
	body, err := json.MarshalIndent(fixture, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, body, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", out)
}
