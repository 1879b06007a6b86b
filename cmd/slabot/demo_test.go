package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/storage/storagetest"
)

// demoTestHistoryLeads is the size of the history the demo tests seed: a
// tenth of the demo's, enough for every figure and chart the story shows
// (TestDemoHistoryIsPlausible checks the demo's own).
const demoTestHistoryLeads = demoHistoryLeads / 10

// playDemo plays the demo at demoTestSpeed, with args, in a database of
// the test's own with a small history, and returns its transcript.
func playDemo(t *testing.T, settings demoSettings, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	settings.databaseURL, settings.historyLeads = storagetest.NewDatabase(t), demoTestHistoryLeads
	// The demo's webhook secret goes in an environment variable that this
	// test's demo alone reads.
	settings.webhookSecretEnv = "SLABOT_DEMO_WEBHOOK_SECRET_" + strings.ToUpper(strings.TrimPrefix(t.Name(), "Test"))
	args = append(args, "--speed", strconv.Itoa(demoTestSpeed), "--color", "never")
	code := runDemo(ctx, args, &out, &errOut, settings)
	text := out.String()
	t.Log(text)
	if code != 0 {
		t.Fatalf("demo exited %d: %s", code, errOut.String())
	}
	return text
}

// TestDemoPlaysEveryPartOfTheStory runs the demo faster than its normal
// pace, as `make demo` would (in a test database, with a smaller history),
// and checks that its transcript shows what it promises.
func TestDemoPlaysEveryPartOfTheStory(t *testing.T) {
	t.Parallel()
	chart := filepath.Join(t.TempDir(), "chart.png")
	text := playDemo(t, demoSettings{}, "--chart", chart)
	for _, want := range []string{
		"posts to Ana's DM", "New lead: Dana Ruiz (Acme Corp)", // a hand-off
		"Accepted by ana@example.com",                  // an acknowledgement
		"Card feedback: it had what you needed",        // the card's question, answered
		"Misrouted lead: Ravi Shah",                    // a rejection as wrong owner…
		"New lead: Ravi Shah (Umbrella Ltd)",           // … re-routed to Chen
		"intake answers 200",                           // a repeat
		"Returned to Marketing",                        // a return
		"First touch due",                              // a reminder …
		"posts to Bo's DM\n    │ ⏰",                    // … in the rep's DM
		"SLA breach: Sam Okafor (Initech)",             // a breach, escalated
		"Seen before",                                  // a recycled contact's card …
		"Back with ana@example.com, who had it before", // … back with its previous owner
		"posts to #sales-ops",
		"posts to Maria (manager)'s DM",
		"the lead's new owner, taps Accept", // the reassignment
		"Moved on: Sam Okafor",
		"Only ana@example.com (the owner) or their manager", // a stranger's click
		"/sla status team",                                  // the manager asks
		"First touch on time",                               // … and is answered
		"/sla sources last 90d", "Scorecard by source",      // the scorecard
		"/sla speed last 90d", "Speed to lead", "the speed chart",
		"posts to #smarketing", // the weekly report
		"the report's chart",
		"receives webhook touch.logged for crm-1001 (signature verified)", // the CRM loop: a webhook…
		"HubSpot", "records a call on contact", // … and a HubSpot engagement
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the transcript does not show %q", want)
		}
	}
	f, err := os.Open(chart)
	if err != nil {
		t.Fatalf("the chart was not written: %v", err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("the chart is not a PNG: %v", err)
	}
}

// TestDemoPlaysOnTeams runs the same story on the Teams simulator. Teams
// lets a conversation have a message a second; the story's time runs
// demoTestSpeed times faster, and so does the pace of its conversations
// here, or the cards of a busy chat would trail the story.
func TestDemoPlaysOnTeams(t *testing.T) {
	t.Parallel()
	chart := filepath.Join(t.TempDir(), "chart.png")
	text := playDemo(t, demoSettings{teamsPace: time.Second / demoTestSpeed}, "--chat", "teams", "--chart", chart)
	for _, want := range []string{
		"Your SLA dashboard", // the home card on install
		"posts to Ana's chat\n    │ New lead: Dana Ruiz (Acme Corp)", // a hand-off in the 1:1 chat
		"Accepted by ana@example.com",                                // a click, redrawn
		"posts to Sales/Sales ops",                                   // a Team/Channel of the policy
		"SLA breach: Sam Okafor (Initech)",                           // a breach, escalated
		"posts to Chen's chat\n    │ New lead: Sam Okafor",           // installed for Chen through Graph
		"Choose a reason",                                            // a form's check, answered on the card
		"Misrouted lead: Ravi Shah",                                  // a rejection as wrong owner, re-routed
		"Seen before",                                                // a recycled contact's card
		"posts to Sales/Smarketing",                                  // the weekly report
		"came with the report",                                       // … with its chart
		"HubSpot", "receives webhook touch.logged",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the transcript does not show %q", want)
		}
	}
	if _, err := os.Stat(chart); err != nil {
		t.Errorf("the chart was not written: %v", err)
	}
}
