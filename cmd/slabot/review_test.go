package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/bot/bottest"
)

// `slabot review`: the pack as text and as JSON, the same on every run,
// and a wrong --months refused before the database is touched.
func TestReviewCommandPrintsThePack(t *testing.T) {
	t.Parallel()
	e := newImportEnv(t)
	if err := os.WriteFile(e.policy, []byte(fmt.Sprintf(bottest.ReviewPolicy, "#smarketing")), 0o600); err != nil {
		t.Fatal(err)
	}
	labels, err := bottest.SeedReviewHistory(context.Background(), e.db, time.Date(2026, 11, 14, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}

	out, err := e.command("review", "--months", "3", "--as-of", "2026-11-14", "--json").Output()
	if err != nil {
		t.Fatalf("slabot review --json: %v\n%s", err, out)
	}
	var got struct {
		From, To string
		Months   []struct {
			Month      string
			MQLs, SQLs int
		}
		Commitments []struct {
			Commitment      string
			Missed, Flagged []bool
		}
		Breaches struct {
			Total   int
			ByCause map[string]int `json:"by_cause"`
		}
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var months []string
	for _, m := range got.Months {
		months = append(months, fmt.Sprintf("%s %d/%d", m.Month, m.MQLs, m.SQLs))
	}
	if got.From != "2026-08-01" || got.To != "2026-10-31" || !slices.Equal(months, []string{"2026-08 2/3", "2026-09 2/3", "2026-10 2/3"}) {
		t.Errorf("span %s to %s, months (MQLs/SQLs) %v", got.From, got.To, months)
	}
	flags := map[string][]bool{}
	for _, c := range got.Commitments {
		flags[c.Commitment] = c.Flagged
	}
	if !slices.Equal(flags["mqls"], []bool{false, false, true}) || !slices.Equal(flags["sqls"], []bool{false, false, false}) ||
		!slices.Equal(flags["first_touch_on_time"], []bool{false, false, true}) {
		t.Errorf("flags %v", flags)
	}
	if got.Breaches.Total != 3 || got.Breaches.ByCause["routing"] != 1 || got.Breaches.ByCause["capacity"] != 2 {
		t.Errorf("breaches %+v", got.Breaches)
	}

	text, err := e.command("review", "--months=3", "--as-of=2026-11-14").Output()
	if err != nil {
		t.Fatalf("slabot review: %v\n%s", err, text)
	}
	for _, want := range []string{
		"Review of the agreement · " + labels[0] + " – " + labels[2],
		"Marketing: MQLs: missed 3 months running",
		"Routing: 1 (33%)", "Capacity: 2 (67%)",
		"slabot policy simulate proposed.yaml",
		// The agreement in plain words keeps its cron schedule as written:
		// a terminal has no markup to eat the asterisks.
		`on the schedule "0 9 * * MON"`,
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("slabot review does not say %q:\n%s", want, text)
		}
	}
	again, err := e.command("review", "--months=3", "--as-of=2026-11-14").Output()
	if err != nil || !bytes.Equal(text, again) {
		t.Errorf("two runs differ (%v):\n%s\n---\n%s", err, text, again)
	}

	var exit *exec.ExitError
	if out, err := e.command("review", "--months", "0").CombinedOutput(); !errors.As(err, &exit) || exit.ExitCode() != 2 ||
		!strings.Contains(string(out), "--months must be from 1 to 24") {
		t.Errorf("--months 0: %v\n%s", err, out)
	}
}
