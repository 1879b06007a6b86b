package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slabot/slabot/engine"
)

// The scorecard file: the contract's columns in order, a row per group and
// (all), each cell the engine's over the same leads.
func TestReportScorecardWritesTheContractsColumns(t *testing.T) {
	t.Parallel()
	e := newImportEnv(t)
	ctx := context.Background()
	loc := time.UTC
	may := func(day, hour, minute int) time.Time { return time.Date(2026, 5, day, hour, minute, 0, 0, loc) }
	// webinar: touched after 10 min, won 1200.5 on 20 June; touched after
	// 3 h 10 min; demo_request: returned untouched; an April lead.
	for _, l := range []struct {
		ext, source, state string
		received           time.Time
		touch, closed      time.Time
		amount             float64
		reason             string
	}{
		{"a", "webinar", "won", may(4, 10, 0), may(4, 10, 10), time.Date(2026, 6, 20, 12, 0, 0, 0, loc), 1200.5, ""},
		{"b", "webinar", "working", may(5, 10, 0), may(5, 13, 10), time.Time{}, 0, ""},
		{"c", "demo_request", "returned_to_marketing", may(6, 10, 0), time.Time{}, may(6, 11, 0), 0, "student"},
		{"d", "webinar", "working", time.Date(2026, 4, 30, 10, 0, 0, 0, loc), time.Time{}, time.Time{}, 0, ""},
	} {
		var id int64
		if err := e.db.Pool().QueryRow(ctx, `INSERT INTO leads (external_id, source, owner_email, team, rule, state, handed_off_at,
			received_at, assigned_at, closed_at, amount, return_reason) VALUES ($1, $2, 'ana@example.com', 'sdr', 'default', $3, $4, $4, $4, $5, $6, $7)
			RETURNING id`, l.ext, l.source, l.state, l.received, orNull(l.closed), l.amount, l.reason).Scan(&id); err != nil {
			t.Fatal(err)
		}
		// a was accepted; c was rejected as a student, not our buyer.
		switch l.ext {
		case "a":
			if _, err := e.db.Pool().Exec(ctx, `UPDATE leads SET acknowledged_at = $2 WHERE id = $1`, id, l.received.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		case "c":
			if _, err := e.db.Pool().Exec(ctx, `INSERT INTO lead_events (lead_id, at, kind, actor, data)
				VALUES ($1, $2, 'rejected', 'ana@example.com', '{"category": "not_our_buyer", "detail": "student"}')`, id, l.closed); err != nil {
				t.Fatal(err)
			}
		}
		if !l.touch.IsZero() {
			if _, err := e.db.Pool().Exec(ctx, `INSERT INTO touches (lead_id, kind, at) VALUES ($1, 'call', $2)`, id, l.touch); err != nil {
				t.Fatal(err)
			}
		}
	}
	file := filepath.Join(e.dir, "may.csv")
	out, err := e.command("report", "--month", "2026-05", "--by", "source", "--csv", file).CombinedOutput()
	if err != nil {
		t.Fatalf("slabot report: %v\n%s", err, out)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	want := [][]string{
		strings.Split("group,sqls,first_touch_on_time,first_touch_late,first_touch_pending,first_touch_median_s,first_touch_p90_s,cadence_met,cadence_missed,returned,opportunities,won,lost,won_amount,"+
			"accepted,rejected,accepted_share,accepted_target,top_rejection,card_missing,contested_upheld,contested_overturned", ","),
		// 24×7 policy, 4 h first touch: 600 s and 11400 s, both on time;
		// cadence 6 in 14 days missed by both by now. a accepted; b
		// awaiting a decision (its touch is in touches only).
		{"webinar", "2", "2", "0", "0", "600", "11400", "0", "2", "0", "1", "1", "0", "1200.5", "1", "0", "1.0000", "0.9", "", "0", "0", "0"},
		// Returned untouched before its deadline: neither on time, late nor
		// pending; rejected as not our buyer.
		{"demo_request", "1", "0", "0", "0", "", "", "0", "0", "1", "0", "0", "0", "0", "0", "1", "0.0000", "0.9", "not_our_buyer", "0", "0", "0"},
		{"(all)", "3", "2", "0", "0", "600", "11400", "0", "2", "1", "1", "1", "0", "1200.5", "1", "1", "0.5000", "0.9", "not_our_buyer", "0", "0", "0"},
	}
	if !slices.EqualFunc(want, records, slices.Equal) {
		t.Errorf("CSV:\n%s\nwant %q", data, want)
	}

	// As of 31 May the win had not happened; as JSON, the same fields.
	out, err = e.command("report", "--month=2026-05", "--as-of", "2026-05-31", "--json").Output()
	if err != nil {
		t.Fatalf("slabot report --json: %v\n%s", err, out)
	}
	var rows []map[string]any
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rows) != 3 || rows[2]["group"] != engine.AllGroup || rows[2]["won"] != float64(0) || rows[2]["opportunities"] != float64(0) ||
		rows[1]["first_touch_median_s"] != nil || len(rows[0]) != len(want[0]) {
		t.Errorf("JSON as of May 31: %s", out)
	}

	for _, bad := range [][]string{{"--month", "2026-13"}, {"--month", "2026-05", "--by", "colour"}, {"--month", "2026-05", "--json", "--csv", "-"}} {
		if out, err := e.command(append([]string{"report"}, bad...)...).CombinedOutput(); err == nil {
			t.Errorf("report %v was accepted:\n%s", bad, out)
		}
	}
}

// orNull is nil for the zero time, for a nullable column.
func orNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
