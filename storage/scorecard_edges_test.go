package storage_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/slabot/slabot/engine"
	"github.com/slabot/slabot/storage"
	"github.com/slabot/slabot/storage/storagetest"
)

// The scorecard's percentiles and MQL counts at the edges where a faster
// formulation could slip: ranks that floating point puts one off, and
// MQLs at the edges of the hours mql_hours sums.

// scorecardAgainstEngine compares db's scorecards by every grouping (and
// with their findings) with the engine's over the same rows.
func scorecardAgainstEngine(t *testing.T, db *storage.DB, p *engine.Policy, period engine.Period, asOf time.Time) engine.Scorecard {
	t.Helper()
	ctx := context.Background()
	facts, err := db.LeadFacts(ctx, period.Start, period.End)
	if err != nil {
		t.Fatal(err)
	}
	mqls, err := db.MQLs(ctx, period.Start, period.End)
	if err != nil {
		t.Fatal(err)
	}
	var bySource engine.Scorecard
	for _, by := range engine.GroupBys {
		want := engine.ComputeScorecard(p, facts, mqls, by, period, asOf, 0)
		got, findings, err := db.ScorecardWithFindings(ctx, p, by, period, asOf, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n := staleCount(t, db); n != 0 {
			t.Fatalf("%d leads' figures are stale: the scorecard was counted in Go, not in SQL", n)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("by %s, %s as of %s: scorecards differ (-engine +SQL):\n%s", by, period.Label, asOf.Format(time.RFC3339), diff)
		}
		wantFindings := engine.SlowerOnBetterLeads(p, engine.ComputeScorecard(p, facts, mqls, engine.ByScore, period, asOf, 0),
			engine.ComputeScorecard(p, facts, mqls, engine.ByRule, period, asOf, 0))
		if diff := cmp.Diff(wantFindings, findings); diff != "" {
			t.Errorf("by %s: findings differ (-engine +SQL):\n%s", by, diff)
		}
		if by == engine.BySource {
			bySource = got
		}
	}
	return bySource
}

func TestScorecardPercentilesAreByNearestRankInIntegers(t *testing.T) {
	t.Parallel()
	db := storagetest.NewDB(t)
	policy, probs := engine.ParsePolicy([]byte(casesPolicyYAML), at("2026-11-01 00:00"))
	if err := probs.Err(); err != nil {
		t.Fatal(err)
	}
	// One source per size; its leads touched 1, 2, … n business minutes
	// after assignment, written in reverse so that lead order is not
	// time order. Sizes at, just under and just over multiples of 10 (and
	// odd and even ones for the median) are where a rank worked out
	// another way (a float product, floor, rounding, from 0) lands one
	// off; the ranks here are ⌈n/2⌉ and ⌈9n/10⌉ in integers.
	sizes := []int{1, 2, 3, 9, 10, 11, 19, 20, 21, 29, 30, 50, 109, 110, 111, 290}
	var cases []caseLead
	for _, n := range sizes {
		for k := n; k >= 1; k-- {
			// Monday 16 November from 9:00, inside business hours.
			received := at("2026-11-16 09:00").Add(time.Duration(k%7) * time.Minute)
			lead := engine.Lead{OwnerEmail: "ana@example.com", Team: "sdr-east", Rule: "default", Source: fmt.Sprintf("size-%03d", n),
				State: engine.StateWorking, HandedOffAt: received, ReceivedAt: received, AssignedAt: received}
			cases = append(cases, caseLead{lead: lead, touches: []time.Time{received.Add(time.Duration(k) * time.Minute)}})
		}
	}
	writeCases(t, db, cases)
	sc := scorecardAgainstEngine(t, db, policy, engine.MonthPeriod(2026, time.November, casesLoc), at("2026-12-02 09:00"))
	seen := 0
	for _, r := range sc.Rows {
		var n int
		if _, err := fmt.Sscanf(r.Group, "size-%d", &n); err != nil {
			t.Fatalf("unexpected group %q", r.Group)
		}
		seen++
		median, p90 := time.Duration((n+1)/2)*time.Minute, time.Duration((9*n+9)/10)*time.Minute
		if r.TimeToFirstTouch.Count != n || r.TimeToFirstTouch.Median != median || r.TimeToFirstTouch.P90 != p90 {
			t.Errorf("%d leads touched after 1…%d minutes: %+v, want the median at rank ⌈n/2⌉ (%v) and p90 at ⌈9n/10⌉ (%v)",
				n, n, r.TimeToFirstTouch, median, p90)
		}
	}
	if seen != len(sizes) {
		t.Errorf("%d groups, want %d", seen, len(sizes))
	}
}

func TestScorecardMQLsAddWholeHoursAndTheEdges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.NewDB(t)
	// Half an hour off UTC: the month starts and ends mid-hour in UTC.
	policy, probs := engine.ParsePolicy([]byte(strings.Replace(casesPolicyYAML, "America/New_York", "Asia/Kolkata", 1)), at("2026-11-01 00:00"))
	if err := probs.Err(); err != nil {
		t.Fatal(err)
	}
	month := engine.MonthPeriod(2026, time.November, policy.Location)
	start, end := month.Start.UTC(), month.End.UTC()
	if start.Minute() != 30 {
		t.Fatalf("November starts at %s UTC, not mid-hour", start)
	}
	writeCases(t, db, []caseLead{
		{lead: engine.Lead{Source: "webinar", State: engine.StateNew, HandedOffAt: start.Add(time.Hour), ReceivedAt: start.Add(time.Hour)}},
		{lead: engine.Lead{Source: "Ebook ", State: engine.StateNew, HandedOffAt: start.Add(50 * time.Hour), ReceivedAt: start.Add(50 * time.Hour)}},
	})
	// MQLs on both sides of every edge: the month's, the whole hours',
	// and the nows' below.
	ms := time.Microsecond
	var ats []time.Time
	for _, edge := range []time.Time{start, start.Add(30 * time.Minute), start.Add(90 * time.Minute), start.Add(50*time.Hour + 30*time.Minute),
		end.Add(-30 * time.Minute), end} {
		ats = append(ats, edge.Add(-ms), edge, edge.Add(ms), edge.Add(20*time.Minute))
	}
	insert := func(prefix string, ats []time.Time) {
		t.Helper()
		var rows []string
		for i, a := range ats {
			source := []string{"webinar", "ebook", " EBOOK", ""}[i%4]
			rows = append(rows, fmt.Sprintf("('%s-%d', '%s', 'smb', '%s')", prefix, i, source, a.Format(time.RFC3339Nano)))
		}
		if _, err := db.Pool().Exec(ctx, `INSERT INTO mqls (external_id, source, segment, at) VALUES `+strings.Join(rows, ", ")); err != nil {
			t.Fatal(err)
		}
	}
	insert("batch", ats)
	// One at a time too, as the API records them, a duplicate ignored.
	for i, a := range []time.Time{start.Add(2 * time.Hour), start.Add(2 * time.Hour), end.Add(-time.Hour)} {
		m := engine.MQL{ExternalID: fmt.Sprintf("one-%d", i%2), Source: "webinar", At: a}
		if _, err := db.AddMQL(ctx, &m); err != nil {
			t.Fatal(err)
		}
	}
	nows := []time.Time{start.Add(10 * time.Minute), start.Add(30 * time.Minute), start.Add(90 * time.Minute), start.Add(90*time.Minute + ms),
		start.Add(50*time.Hour + 30*time.Minute), end.Add(-30 * time.Minute), end.Add(-ms), end, end.Add(time.Hour)}
	check := func(what string, wantAll func(now time.Time) int) {
		t.Helper()
		for _, now := range nows {
			sc := scorecardAgainstEngine(t, db, policy, month, now)
			if want := wantAll(now); sc.All.MQLs != want {
				t.Errorf("%s, as of %s: %d MQLs, want %d", what, now.Format(time.RFC3339Nano), sc.All.MQLs, want)
			}
		}
	}
	inMonth := func(now time.Time) int {
		n := 0
		all, err := db.MQLs(ctx, month.Start, month.End)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range all {
			if month.Contains(m.At) && !m.At.After(now) {
				n++
			}
		}
		return n
	}
	check("inserted", inMonth)
	// Moved, re-sourced and deleted MQLs leave the hours right.
	for _, stmt := range []string{
		`UPDATE mqls SET at = at + interval '7 hours' WHERE external_id LIKE 'batch-1%'`,
		`UPDATE mqls SET source = 'partner' WHERE external_id LIKE 'batch-2%'`,
		`DELETE FROM mqls WHERE external_id IN ('batch-3', 'batch-5', 'one-1')`,
	} {
		if _, err := db.Pool().Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	check("after updates and deletes", inMonth)
	if _, err := db.Pool().Exec(ctx, `TRUNCATE mqls`); err != nil {
		t.Fatal(err)
	}
	insert("again", ats[:5])
	check("truncated and inserted again", inMonth)
	var hours int
	if err := db.Pool().QueryRow(ctx, `SELECT coalesce(sum(mqls), 0) FROM mql_hours`).Scan(&hours); err != nil {
		t.Fatal(err)
	}
	if hours != 5 {
		t.Errorf("mql_hours holds %d MQLs after a truncate and 5 new ones", hours)
	}
}
