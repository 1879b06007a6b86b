package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An import carries each lead's outcome at the CRM's time: a backfilled
// history counts its wins in the month they happened.
func TestImportRecordsOutcomesAtTheirTime(t *testing.T) {
	t.Parallel()
	e := newImportEnv(t)
	csv := "external_id,contact.email,outcome,outcome.amount,outcome.at,outcome.opportunity_at\n" +
		"w1,a@buyer.test,won,1200.5,2026-06-20T14:00:00Z,2026-06-02T10:00:00Z\n" +
		"o1,b@buyer.test,opportunity,,2026-06-05T09:00:00Z,\n" +
		"n1,c@buyer.test,,,,\n" +
		"x1,d@buyer.test,maybe,,,\n" +
		"x2,e@buyer.test,,,2026-06-05T09:00:00Z,\n"
	path := filepath.Join(e.dir, "history.csv")
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	for run := range 2 {
		var out, errOut bytes.Buffer
		cmd := e.command("import", path)
		cmd.Stdout, cmd.Stderr = &out, &errOut
		_ = cmd.Run()
		if !strings.Contains(errOut.String(), "line 5: skipped: outcome: \"maybe\" is not an outcome") ||
			!strings.Contains(errOut.String(), "line 6: skipped: outcome.amount, outcome.at or outcome.opportunity_at without an outcome") {
			t.Errorf("run %d: stderr does not name the bad outcomes:\n%s", run, errOut.String())
		}
		var state string
		var closed time.Time
		var amount float64
		if err := e.db.Pool().QueryRow(context.Background(), `SELECT state, closed_at, amount FROM leads WHERE external_id = 'w1'`).Scan(&state, &closed, &amount); err != nil {
			t.Fatal(err)
		}
		if state != "won" || !closed.Equal(time.Date(2026, 6, 20, 14, 0, 0, 0, time.UTC)) || amount != 1200.5 {
			t.Errorf("run %d: w1 is %s, closed %s, amount %g", run, state, closed, amount)
		}
		// The opportunity events carry the CRM's times, once each.
		if n := e.count(t, `SELECT count(*) FROM lead_events e JOIN leads l ON l.id = e.lead_id WHERE e.kind = 'opportunity'
			AND ((l.external_id = 'w1' AND (e.data->>'at')::timestamptz = '2026-06-02T10:00:00Z')
			  OR (l.external_id = 'o1' AND (e.data->>'at')::timestamptz = '2026-06-05T09:00:00Z'))`); n != 2 {
			t.Errorf("run %d: %d opportunity events at the CRM's times, want 2", run, n)
		}
		if n := e.count(t, `SELECT count(*) FROM lead_events WHERE kind IN ('opportunity', 'won')`); n != 3 {
			t.Errorf("run %d: %d outcome events, want 3 (a second run records none)", run, n)
		}
		if n := e.count(t, `SELECT count(*) FROM leads WHERE external_id = 'n1' AND state NOT IN ('won', 'lost', 'opportunity')`); n != 1 {
			t.Errorf("run %d: the lead without an outcome changed", run)
		}
	}
}
