package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/benchgen"
	"github.com/slabot/slabot/storage/storagetest"
)

// simulateNow is the end of the generated history, a Thursday afternoon in
// New York; the last full quarter before it is Q3 2026.
var simulateNow = time.Date(2026, 11, 19, 19, 30, 0, 0, time.UTC)

// tableDigests is every table of the database with a digest of its rows,
// to tell that nothing was written.
func tableDigests(t *testing.T, db *storage.DB) map[string]string {
	t.Helper()
	ctx := context.Background()
	rows, err := db.Pool().Query(ctx, `SELECT quote_ident(table_name) FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tables, "river_job") || !slices.Contains(tables, "leads") {
		t.Fatalf("the tables do not include the job queue and the leads: %v", tables)
	}
	out := map[string]string{}
	for _, table := range tables {
		var n int
		var digest *string
		if err := db.Pool().QueryRow(ctx, `SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM `+table+` t`).
			Scan(&n, &digest); err != nil {
			t.Fatal(err)
		}
		d := ""
		if digest != nil {
			d = *digest
		}
		out[table] = fmt.Sprintf("%d rows, digest %s", n, d)
	}
	return out
}

func TestPolicySimulate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	cfg := benchgen.Config{Leads: 1000, Months: 5, Teams: 5, RepsPerTeam: 4, Now: simulateNow}
	if _, err := benchgen.Generate(ctx, db, cfg, t.Logf); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	live := filepath.Join(dir, "slabot.yaml")
	liveYAML := benchgen.PolicyYAML(cfg)
	if err := os.WriteFile(live, []byte(liveYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	// The demo-request rule's first touch from 15 to 30 minutes.
	const demo = "  - name: demo-request\n    match: {source: [demo_request, contact_sales]}\n    first_touch: 15m\n"
	if !strings.Contains(liveYAML, demo) {
		t.Fatal("the generated policy no longer has the demo-request rule this test changes")
	}
	proposed := filepath.Join(dir, "proposed.yaml")
	if err := os.WriteFile(proposed, []byte(strings.Replace(liveYAML, demo, strings.Replace(demo, "15m", "30m", 1), 1)), 0o600); err != nil {
		t.Fatal(err)
	}

	// A new rule for webinars, before the content rule that takes them now.
	const content = "  - name: content\n"
	newRule := "  - name: webinar-fast\n    match: {source: webinar}\n    first_touch: 2h\n    on_breach: [notify_manager]\n"
	if !strings.Contains(liveYAML, content) {
		t.Fatal("the generated policy no longer has the content rule this test puts a rule before")
	}
	withRule := filepath.Join(dir, "webinar.yaml")
	if err := os.WriteFile(withRule, []byte(strings.Replace(liveYAML, content, newRule+content, 1)), 0o600); err != nil {
		t.Fatal(err)
	}

	run := func(opt simulateOptions) (string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := simulate(ctx, opt, db, simulateNow, &stdout, &stderr); code != 0 {
			t.Fatalf("simulate %+v: exit %d: %s", opt, code, stderr.String())
		}
		return stdout.String(), stderr.String()
	}

	before := tableDigests(t, db)
	first, notice := run(simulateOptions{current: live, proposed: proposed, json: true})
	second, _ := run(simulateOptions{current: live, proposed: proposed, json: true})
	table, _ := run(simulateOptions{current: live, proposed: proposed})
	same, _ := run(simulateOptions{current: live, proposed: live, json: true})
	added, _ := run(simulateOptions{current: live, proposed: withRule, json: true})
	addedTable, _ := run(simulateOptions{current: live, proposed: withRule})
	if diff := cmpMaps(before, tableDigests(t, db)); diff != "" {
		t.Errorf("simulating wrote to the database:\n%s", diff)
	}

	t.Run("TwoRunsAreByteIdentical", func(t *testing.T) {
		if first != second {
			t.Errorf("two runs differ:\n%s\n---\n%s", first, second)
		}
	})

	t.Run("TheJSONContract", func(t *testing.T) {
		var raw map[string]any
		if err := json.Unmarshal([]byte(first), &raw); err != nil {
			t.Fatal(err)
		}
		if got := sortedKeys(raw); !reflect.DeepEqual(got, []string{"from", "leads", "rules", "to"}) {
			t.Errorf("top-level keys %v", got)
		}
		if raw["from"] != "2026-07-01" || raw["to"] != "2026-09-30" {
			t.Errorf("period %v to %v, want the last full quarter, 2026-07-01 to 2026-09-30", raw["from"], raw["to"])
		}
		rules, _ := raw["rules"].([]any)
		if len(rules) != 5 {
			t.Fatalf("%d rules, want the policy's 5", len(rules))
		}
		for _, r := range rules {
			rule := r.(map[string]any)
			if got := sortedKeys(rule); !reflect.DeepEqual(got, []string{"current", "proposed", "rule"}) {
				t.Errorf("rule keys %v", got)
			}
			fig := rule["current"].(map[string]any)
			want := []string{"breaches", "late", "leads", "median_s", "on_time", "p90_s", "pending", "reassigned", "reminders", "returned"}
			if got := sortedKeys(fig); !reflect.DeepEqual(got, want) {
				t.Errorf("figure keys %v", got)
			}
		}
	})

	t.Run("OnlyTheChangedRuleMoves", func(t *testing.T) {
		var s simulation
		if err := json.Unmarshal([]byte(first), &s); err != nil {
			t.Fatal(err)
		}
		if s.Leads < 500 {
			t.Fatalf("only %d leads in the quarter", s.Leads)
		}
		for _, r := range s.Rules {
			if r.Current == nil || r.Proposed == nil {
				t.Fatalf("rule %s is missing a side", r.Rule)
			}
			changed := !reflect.DeepEqual(r.Current, r.Proposed)
			if r.Rule == "demo-request" {
				// Twice the time for the first touch: fewer first-touch
				// breaches. (On time may go either way: a lead reassigned
				// at 15 minutes was then judged by its new owner's clock.)
				if !changed || r.Proposed.Breaches["first_touch"] >= r.Current.Breaches["first_touch"] ||
					r.Proposed.Leads != r.Current.Leads {
					t.Errorf("demo-request: %+v → %+v", *r.Current, *r.Proposed)
				}
				continue
			}
			if changed {
				t.Errorf("rule %s changed though the proposal left it alone: %+v → %+v", r.Rule, *r.Current, *r.Proposed)
			}
		}
	})

	t.Run("TheSamePolicyOnBothSides", func(t *testing.T) {
		var s simulation
		if err := json.Unmarshal([]byte(same), &s); err != nil {
			t.Fatal(err)
		}
		for _, r := range s.Rules {
			if !reflect.DeepEqual(r.Current, r.Proposed) {
				t.Errorf("rule %s: %+v → %+v", r.Rule, *r.Current, *r.Proposed)
			}
		}
	})

	t.Run("ANewRuleTakesLeadsFromAnother", func(t *testing.T) {
		var raw struct {
			Rules []map[string]json.RawMessage `json:"rules"`
		}
		if err := json.Unmarshal([]byte(added), &raw); err != nil {
			t.Fatal(err)
		}
		var s simulation
		if err := json.Unmarshal([]byte(added), &s); err != nil {
			t.Fatal(err)
		}
		if len(s.Rules) != 6 || s.Rules[5].Rule != "webinar-fast" || string(raw.Rules[5]["current"]) != "null" || s.Rules[5].Proposed == nil {
			t.Fatalf("the new rule is not last with a null current: %s", added)
		}
		// The record names each lead's rule: the content leads from
		// webinars received in the quarter move.
		var moved int
		if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM leads WHERE rule = 'content' AND source = 'webinar'
			AND received_at >= '2026-07-01T00:00:00-04:00' AND received_at < '2026-10-01T00:00:00-04:00'`).Scan(&moved); err != nil {
			t.Fatal(err)
		}
		if moved == 0 || s.Rules[5].Proposed.Leads != moved || s.Rules[3].Rule != "content" ||
			s.Rules[3].Current.Leads-s.Rules[3].Proposed.Leads != moved {
			t.Errorf("%d webinar leads should move from content to webinar-fast: %+v, %+v", moved, s.Rules[3], s.Rules[5])
		}
		if want := fmt.Sprintf("%d from content to webinar-fast", moved); !strings.Contains(addedTable, want) {
			t.Errorf("the table does not say %q:\n%s", want, addedTable)
		}
	})

	t.Run("ItSaysItIsAReplay", func(t *testing.T) {
		for _, out := range []string{table, notice} {
			if !strings.Contains(out, "not a forecast") {
				t.Errorf("no word that this is a replay, not a forecast:\n%s", out)
			}
		}
		if !strings.Contains(table, "The most open leads one rep held at once in the period: ") {
			t.Errorf("the table does not say how many open leads a rep held at most:\n%s", table)
		}
		if !strings.Contains(table, "demo-request") || !strings.Contains(table, "→") {
			t.Errorf("the table shows no change:\n%s", table)
		}
	})
}

func TestPolicySimulateCommandLine(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := cmdPolicySimulate(context.Background(), nil, &stdout, &stderr); code != 2 {
		t.Errorf("no file: exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "simulate PROPOSED.yaml") {
		t.Errorf("no usage: %q", stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	opt := simulateOptions{current: "../../slabot.yaml", proposed: "../../engine/testdata/policy-broken.yaml"}
	if code := simulate(context.Background(), opt, nil, simulateNow, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "the proposed policy ../../engine/testdata/policy-broken.yaml has problems") || stdout.Len() > 0 {
		t.Errorf("a broken proposal: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	loc, _ := time.LoadLocation("America/New_York")
	p, err := simulationPeriod("2026-08-01", "2026-08-31", loc, simulateNow)
	if err != nil || !p.Start.Equal(time.Date(2026, 8, 1, 0, 0, 0, 0, loc)) || !p.End.Equal(time.Date(2026, 9, 1, 0, 0, 0, 0, loc)) {
		t.Errorf("August: %v %v", p, err)
	}
	if _, err := simulationPeriod("2026-08-31", "2026-08-01", loc, simulateNow); err == nil {
		t.Error("a period that ends before it starts was taken")
	}
	if _, err := simulationPeriod("August", "", loc, simulateNow); err == nil {
		t.Error("a date that is not one was taken")
	}
}

func sortedKeys(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func cmpMaps(a, b map[string]string) string {
	var out strings.Builder
	for k, v := range a {
		if b[k] != v {
			out.WriteString(k + ": " + v + " → " + b[k] + "\n")
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			out.WriteString(k + ": new, " + v + "\n")
		}
	}
	return out.String()
}
